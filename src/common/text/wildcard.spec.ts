import { matchesWildcard, WildcardPattern, type StepCounter } from './wildcard';

/** The matcher this replaced, as the reference for what a glob means. */
function reference(pattern: string, text: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'is').test(text);
}

/** Deterministic pseudo-random strings over a small alphabet, so stars have work to do. */
function* corpus(seed: number, count: number, alphabet: string): Generator<string> {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state;
  };
  for (let i = 0; i < count; i++) {
    const length = next() % 9;
    let s = '';
    for (let j = 0; j < length; j++) s += alphabet[next() % alphabet.length];
    yield s;
  }
}

describe(WildcardPattern.name, () => {
  describe('matches', () => {
    it('should match what the regular-expression glob matched when given any pattern and text', () => {
      const patterns = [...corpus(7, 300, 'ab*')];
      const texts = [...corpus(11, 300, 'abAB')];
      for (const pattern of patterns) {
        const compiled = new WildcardPattern(pattern);
        for (const text of texts) {
          if (compiled.matches(text) !== reference(pattern, text)) {
            throw new Error(`"${pattern}" vs "${text}": expected ${reference(pattern, text)}`);
          }
        }
      }
    });

    it('should match model names case-insensitively when given the usual patterns', () => {
      expect(matchesWildcard('claude-*-4*', 'Claude-Opus-4-1')).toBe(true);
      expect(matchesWildcard('claude-*-4*', 'claude-3-5-haiku')).toBe(false);
      expect(matchesWildcard('*', '')).toBe(true);
      expect(matchesWildcard('a*a', 'a')).toBe(false);
      expect(matchesWildcard('gpt-4o', 'GPT-4O')).toBe(true);
    });

    it('should do work linear in the text when the name is crafted against the pattern', () => {
      // A backtracking matcher retries every split of the text among the stars.
      const pattern = new WildcardPattern('*a*a*a*a*aaaaaaaab*');
      const steps = (length: number): number => {
        const counter: StepCounter = { steps: 0 };
        expect(pattern.matches('a'.repeat(length), counter)).toBe(false);
        return counter.steps;
      };
      const small = steps(64 * 1024);
      const large = steps(1024 * 1024);
      // Each character is read a bounded number of times: lower-casing plus at most two
      // KMP steps per character and literal.
      expect(large).toBeLessThanOrEqual(3 * 1024 * 1024 * 6);
      expect(large / small).toBeLessThan(17);
    });
  });
});
