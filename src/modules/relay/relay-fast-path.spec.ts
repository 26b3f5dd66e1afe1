import { modelPathKey } from './relay-fast-path';
import { ALL_RELAY_ROUTES, MODEL_PARAM } from './relay.routes';

describe('RelayFastPath', () => {
  describe(modelPathKey.name, () => {
    it('should key a model-naming path by its method with the model replaced', () => {
      expect(modelPathKey('/gemini/v1beta/models/gemini-2.5-pro:generateContent')).toBe(
        '/gemini/v1beta/models/{model}:generateContent',
      );
      expect(modelPathKey('/v1beta/models/tuned:v2:streamGenerateContent')).toBe(
        '/v1beta/models/{model}:streamGenerateContent',
      );
    });

    it('should answer null for paths without a model and a method', () => {
      expect(modelPathKey('/v1/messages')).toBeNull();
      expect(modelPathKey('/v1beta/models/:generateContent')).toBeNull();
      expect(modelPathKey('/v1beta/models/gemini:')).toBeNull();
    });

    it('should find every Gemini route path of the table under its key', () => {
      const keys = new Set(
        ALL_RELAY_ROUTES.flatMap((route) =>
          route.paths.map((path) => `/${path}`.replace(MODEL_PARAM, '{model}:')),
        ),
      );
      for (const prefix of ['/gemini/v1beta', '/gemini/v1', '/v1beta', '/v1'])
        for (const method of ['generateContent', 'streamGenerateContent', 'countTokens'])
          expect(keys).toContain(modelPathKey(`${prefix}/models/gemini-2.5-flash:${method}`));
    });
  });
});
