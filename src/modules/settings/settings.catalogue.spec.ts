import { EnvironmentSchema } from 'src/config/environment.schema';
import { loadEnvironment } from 'src/config/config.loader';
import {
  checkKeyLimits,
  isSettingKey,
  SETTING_KEYS,
  SETTINGS,
  settingDefaults,
  SettingDefaultError,
  settingDefinition,
} from './settings.catalogue';

describe('settings catalogue', () => {
  describe('settingDefaults', () => {
    it('should take every default from the environment when it names a variable', () => {
      const env = loadEnvironment({
        RELAY_MAX_ATTEMPTS: '7',
        STICKY_SESSION_TTL_SECONDS: '120',
        STICKY_CONTENT_HASH: 'true',
        ACCOUNT_COOLDOWN_OVERLOADED_MS: '0',
        REQUEST_LOG_RETENTION_DAYS: '30',
        ROUTING_LONG_CONTEXT_THRESHOLD: '32000',
        API_KEY_DEFAULT_LIMITS: '{"concurrency":4,"dailyCostMicros":5000000}',
      });
      expect(settingDefaults(env)).toMatchObject({
        relayMaxAttempts: 7,
        stickySessionTtlSeconds: 120,
        stickyContentHash: true,
        bindingFallbackToPool: false,
        accountCooldownOverloadedMs: 0,
        requestLogRetentionDays: 30,
        routingLongContextThreshold: 32000,
        apiKeyDefaultLimits: { concurrency: 4, dailyCostMicros: 5_000_000 },
        auditRetentionDays: 365,
      });
    });

    it('should hold a default for every setting that passes its own check', () => {
      const defaults = settingDefaults(new EnvironmentSchema());
      for (const key of SETTING_KEYS) {
        expect({ key, check: settingDefinition(key).check(defaults[key]) }).toEqual({
          key,
          check: { ok: true, value: defaults[key] },
        });
      }
    });

    it('should refuse default key limits the admin API would refuse, naming the variable', () => {
      for (const raw of [
        '{"concurrency":0}',
        '{"windowRequests":10}',
        '{"nope":1}',
        '[1]',
        '{"concurrency":null}',
      ]) {
        const env = Object.assign(new EnvironmentSchema(), { API_KEY_DEFAULT_LIMITS: raw });
        expect(() => settingDefaults(env)).toThrow(SettingDefaultError);
        expect(() => settingDefaults(env)).toThrow(/API_KEY_DEFAULT_LIMITS/);
      }
    });

    it('should refuse an API_KEY_DEFAULT_LIMITS that is not JSON at configuration load', () => {
      expect(() => loadEnvironment({ API_KEY_DEFAULT_LIMITS: '{concurrency:4}' })).toThrow(
        /API_KEY_DEFAULT_LIMITS/,
      );
    });
  });

  describe('check', () => {
    it('should accept whole numbers within an integer setting’s bounds, both ends included', () => {
      const { check } = SETTINGS.relayMaxAttempts;
      expect(check(1)).toEqual({ ok: true, value: 1 });
      expect(check(10)).toEqual({ ok: true, value: 10 });
      expect(SETTINGS.accountCooldownOverloadedMs.check(0)).toEqual({ ok: true, value: 0 });
    });

    it.each([[0], [11], [2.5], ['3'], [null], [true], [Number.NaN], [{}]])(
      'should refuse %p for relayMaxAttempts with the accepted range',
      (value) => {
        expect(SETTINGS.relayMaxAttempts.check(value)).toEqual({
          ok: false,
          error: 'must be a whole number from 1 to 10',
        });
      },
    );

    it('should take only true or false for a boolean setting', () => {
      expect(SETTINGS.stickyContentHash.check(false)).toEqual({ ok: true, value: false });
      for (const value of ['true', 1, 0, null]) {
        expect(SETTINGS.stickyContentHash.check(value)).toEqual({
          ok: false,
          error: 'must be true or false',
        });
      }
    });
  });

  describe('checkKeyLimits', () => {
    it('should accept the limits a key accepts, window limits with their window', () => {
      const limits = {
        windowMinutes: 60,
        windowRequests: 100,
        concurrency: 4,
        dailyCostMicros: 5_000_000,
        weeklyResetDay: 0,
      };
      expect(checkKeyLimits(limits)).toEqual({ ok: true, value: limits });
      expect(checkKeyLimits({})).toEqual({ ok: true, value: {} });
    });

    it.each([
      [{ windowTokens: 1000 }, 'windowTokens needs windowMinutes'],
      [{ concurrency: 0 }, 'concurrency must not be less than 1'],
      [{ weeklyResetHour: 24 }, 'weeklyResetHour must not be greater than 23'],
      [{ concurrency: 1.5 }, 'concurrency must be an integer number'],
      [{ unknownLimit: 1 }, 'property unknownLimit should not exist'],
      [{ concurrency: null }, 'concurrency must be a number (leave it out for no limit)'],
      ['{"concurrency":4}', 'must be an object of key limits such as {"concurrency":4}'],
      [[], 'must be an object of key limits such as {"concurrency":4}'],
    ])('should refuse %p: %s', (value, error) => {
      const checked = checkKeyLimits(value);
      expect(checked.ok).toBe(false);
      expect(!checked.ok && checked.error).toContain(error);
    });
  });

  describe('isSettingKey', () => {
    it('should know the catalogue’s keys only, not inherited properties', () => {
      expect(isSettingKey('relayMaxAttempts')).toBe(true);
      expect(isSettingKey('auditRetentionDays')).toBe(true);
      expect(isSettingKey('toString')).toBe(false);
      expect(isSettingKey('RELAY_MAX_ATTEMPTS')).toBe(false);
    });
  });
});
