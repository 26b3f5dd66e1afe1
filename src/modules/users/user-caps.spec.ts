import type { KeyScope } from 'src/modules/api-keys/api-key.types';
import {
  assertCapsConsistent,
  DEFAULT_USER_CAPS,
  fitKeyToCaps,
  parseCaps,
  patternWithin,
  type UserCaps,
} from './user-caps';
import { UsersException, UsersExceptionCode } from './users.exception';

function caps(overrides: Partial<UserCaps> = {}): UserCaps {
  return { maxKeys: 5, limits: {}, models: null, platforms: null, ...overrides };
}

function scope(overrides: Partial<KeyScope> = {}): KeyScope {
  return { permissions: [], modelPolicy: null, limits: {}, ...overrides };
}

function refusal(fn: () => unknown): { code: string; violations: unknown } {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsersException) {
      return { code: error.code, violations: error.details?.violations };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

describe(fitKeyToCaps.name, () => {
  describe('platforms', () => {
    it('should give a key without platforms the caps platforms', () => {
      expect(fitKeyToCaps(scope(), caps({ platforms: ['claude'] })).permissions).toEqual([
        'claude',
      ]);
      expect(fitKeyToCaps(scope(), caps()).permissions).toEqual([
        'claude',
        'gemini',
        'openai',
        'droid',
      ]);
    });

    it('should refuse a platform outside the caps and name it', () => {
      expect(
        refusal(() =>
          fitKeyToCaps(
            scope({ permissions: ['claude', 'openai'] }),
            caps({ platforms: ['claude'] }),
          ),
        ),
      ).toEqual({
        code: UsersExceptionCode.USER_CAP_EXCEEDED,
        violations: [{ cap: 'platforms', limit: ['claude'], requested: ['openai'] }],
      });
    });

    it('should keep a subset of the caps platforms as the key asked', () => {
      const fitted = fitKeyToCaps(
        scope({ permissions: ['gemini'] }),
        caps({ platforms: ['claude', 'gemini'] }),
      );
      expect(fitted.permissions).toEqual(['gemini']);
    });
  });

  describe('models', () => {
    it('should give a key without a model policy the caps models as an allow list', () => {
      expect(fitKeyToCaps(scope(), caps({ models: ['claude-*'] })).modelPolicy).toEqual({
        mode: 'allow',
        patterns: ['claude-*'],
      });
    });

    it('should keep any model policy when the caps name no models', () => {
      const policy = { mode: 'deny' as const, patterns: ['gpt-*'] };
      expect(fitKeyToCaps(scope({ modelPolicy: policy }), caps()).modelPolicy).toEqual(policy);
    });

    it('should accept names and narrower patterns within the caps patterns', () => {
      const fitted = fitKeyToCaps(
        scope({
          modelPolicy: {
            mode: 'allow',
            patterns: ['claude-sonnet-4-6', 'CLAUDE-HAIKU-*', 'gpt-4o'],
          },
        }),
        caps({ models: ['claude-*', 'gpt-4o'] }),
      );
      expect(fitted.modelPolicy?.patterns).toEqual([
        'claude-sonnet-4-6',
        'CLAUDE-HAIKU-*',
        'gpt-4o',
      ]);
    });

    it('should refuse patterns wider than the caps and a deny list under a models cap', () => {
      expect(
        refusal(() =>
          fitKeyToCaps(
            scope({ modelPolicy: { mode: 'allow', patterns: ['claude-*', '*'] } }),
            caps({ models: ['claude-sonnet-*'] }),
          ),
        ).violations,
      ).toEqual([{ cap: 'models', limit: ['claude-sonnet-*'], requested: ['claude-*', '*'] }]);
      expect(
        refusal(() =>
          fitKeyToCaps(
            scope({ modelPolicy: { mode: 'deny', patterns: ['claude-opus-*'] } }),
            caps({ models: ['claude-*'] }),
          ),
        ).violations,
      ).toEqual([{ cap: 'models', limit: ['claude-*'], requested: { mode: 'deny' } }]);
    });
  });

  describe('limits', () => {
    const ceilings = caps({
      limits: { windowMinutes: 60, windowRequests: 100, concurrency: 2, dailyCostMicros: 5e6 },
    });

    it('should fill every limit the key leaves out with the cap', () => {
      expect(fitKeyToCaps(scope({ limits: { weeklyCostMicros: 9 } }), ceilings).limits).toEqual({
        windowMinutes: 60,
        windowRequests: 100,
        concurrency: 2,
        dailyCostMicros: 5e6,
        weeklyCostMicros: 9,
      });
    });

    it('should keep limits at or below the caps', () => {
      const limits = { windowMinutes: 60, windowRequests: 100, concurrency: 1, dailyCostMicros: 1 };
      expect(fitKeyToCaps(scope({ limits }), ceilings).limits).toEqual(limits);
    });

    it('should refuse every limit above its cap and a window of another length, naming each', () => {
      expect(
        refusal(() =>
          fitKeyToCaps(
            scope({
              limits: { windowMinutes: 1, windowRequests: 101, concurrency: 3, dailyCostMicros: 1 },
            }),
            ceilings,
          ),
        ).violations,
      ).toEqual([
        { cap: 'limits.windowMinutes', limit: 60, requested: 1 },
        { cap: 'limits.windowRequests', limit: 100, requested: 101 },
        { cap: 'limits.concurrency', limit: 2, requested: 3 },
      ]);
    });

    it('should treat a zero ceiling as a ceiling (nothing above zero)', () => {
      const zero = caps({ limits: { totalCostMicros: 0 } });
      expect(fitKeyToCaps(scope(), zero).limits).toEqual({ totalCostMicros: 0 });
      expect(
        refusal(() => fitKeyToCaps(scope({ limits: { totalCostMicros: 1 } }), zero)).code,
      ).toBe(UsersExceptionCode.USER_CAP_EXCEEDED);
    });

    it('should leave limits alone under the default caps', () => {
      const limits = { windowMinutes: 5, windowRequests: 1e6, concurrency: 100 };
      expect(fitKeyToCaps(scope({ limits }), DEFAULT_USER_CAPS).limits).toEqual(limits);
    });
  });
});

describe(patternWithin.name, () => {
  it.each([
    ['claude-sonnet-4-6', 'claude-*', true],
    ['claude-sonnet-*', 'claude-*', true],
    ['claude-*', 'claude-sonnet-*', false],
    ['*', 'claude-*', false],
    ['claude-*-4*', 'claude-*', true],
    ['a*', 'a*b', false],
    ['gpt-4o', 'gpt-4o', true],
  ])('should say %s within %s is %s', (key, cap, expected) => {
    expect(patternWithin(key, cap)).toBe(expected);
  });
});

describe(parseCaps.name, () => {
  it('should read null as the defaults (users stored before caps existed)', () => {
    expect(parseCaps(null)).toEqual(DEFAULT_USER_CAPS);
  });

  it('should read what is stored and drop unknown platforms and bad numbers', () => {
    expect(
      parseCaps(
        JSON.stringify({
          maxKeys: 2,
          limits: { concurrency: 3, dailyCostMicros: -1, bogus: 1 },
          models: ['claude-*'],
          platforms: ['claude', 'bard'],
        }),
      ),
    ).toEqual({
      maxKeys: 2,
      limits: { concurrency: 3 },
      models: ['claude-*'],
      platforms: ['claude'],
    });
  });

  it('should allow no keys at all when the stored caps cannot be read', () => {
    expect(parseCaps('{not json').maxKeys).toBe(0);
  });
});

describe(assertCapsConsistent.name, () => {
  it('should refuse a window ceiling without a window length', () => {
    expect(() => assertCapsConsistent(caps({ limits: { windowTokens: 5 } }))).toThrow(
      expect.objectContaining({ code: UsersExceptionCode.INVALID_CAPS }) as Error,
    );
    expect(() =>
      assertCapsConsistent(caps({ limits: { windowMinutes: 5, windowTokens: 5 } })),
    ).not.toThrow();
  });
});
