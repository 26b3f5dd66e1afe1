import { generateSecret, secretHint } from './api-key-secret';

describe('api-key-secret', () => {
  describe('generateSecret', () => {
    it('should be the prefix and 40 base62 characters when generated', () => {
      expect(generateSecret('sk-sy-')).toMatch(/^sk-sy-[0-9A-Za-z]{40}$/);
      expect(generateSecret('')).toMatch(/^[0-9A-Za-z]{40}$/);
    });

    it('should never repeat and use the whole alphabet when many are generated', () => {
      const secrets = Array.from({ length: 2000 }, () => generateSecret('sk-'));
      const characters = new Set(secrets.flatMap((s) => [...s.slice(3)]));

      expect(new Set(secrets).size).toBe(secrets.length);
      expect(characters.size).toBe(62);
    });
  });

  describe('secretHint', () => {
    it('should show the prefix and the last four characters only', () => {
      expect(secretHint('sk-sy-', 'sk-sy-abcdefghijklmnopqrstuvwxyz0123456789ABCD')).toBe(
        'sk-sy-…ABCD',
      );
    });
  });
});
