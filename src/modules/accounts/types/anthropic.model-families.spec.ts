import { anthropicModelFamily } from './anthropic.model-families';

describe('anthropic model families', () => {
  describe(anthropicModelFamily.name, () => {
    it('should name the family from the model name', () => {
      expect(anthropicModelFamily('claude-opus-4-1-20250805')).toBe('opus');
      expect(anthropicModelFamily('claude-3-7-Sonnet-latest')).toBe('sonnet');
      expect(anthropicModelFamily('claude-3-5-haiku-20241022')).toBe('haiku');
      expect(anthropicModelFamily('gpt-4o')).toBe('other');
    });
  });
});
