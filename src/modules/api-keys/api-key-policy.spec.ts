import {
  checkAccess,
  checkKey,
  detectClient,
  effectiveExpiry,
  isModelAllowed,
  matchesModelPattern,
} from './api-key-policy';
import { apiKeyPolicy } from '../../../test/factories/api-key-policy.factory';
import { KeyRejectionCode, type ApiKeyPolicy } from './api-key.types';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 0, 31, 12);

function policy(overrides: Partial<ApiKeyPolicy> = {}): ApiKeyPolicy {
  return apiKeyPolicy({ permissions: ['claude', 'gemini', 'openai', 'droid'], ...overrides });
}

const UA = {
  claudeCode: 'claude-cli/1.0.83 (external, cli)',
  claudeCodeVsCode: 'claude-cli/2.0.14 (external, claude-vscode, agent-sdk/0.1.0)',
  geminiCli: 'GeminiCLI/0.1.5 (linux; x64)',
  geminiCliWithModel: 'GeminiCLI/0.9.0/gemini-2.5-pro (darwin; arm64)',
  geminiCliTui: 'GeminiCLI-tui/0.61.0/gemini-2.5-flash (linux; x64; terminal)',
  geminiCliVsCode:
    'CloudCodeVSCode/0.61.0 (aidev_client; os_type=Linux; os_version=6.8.0; arch=x64; host_path=VSCode/1.99.0; proxy_client=geminicli)',
  codexCli: 'codex_cli_rs/0.38.0 (Ubuntu 24.04.2 LTS; x86_64) WindowsTerminal',
  codexExec: 'codex_exec/0.46.0 (Mac OS 15.6.1; arm64) iTerm.app/3.6.1',
  droid: 'factory-cli/0.19.3',
  anthropicSdk: 'Anthropic/JS 0.65.0',
  curl: 'curl/8.5.0',
};

describe('api-key-policy', () => {
  describe('checkKey', () => {
    it('should allow a key when it is enabled, not deleted and not expired', () => {
      expect(checkKey(policy(), NOW)).toBeNull();
    });

    it('should answer like an unknown key when the key is deleted', () => {
      expect(checkKey(policy({ deleted: true, enabled: false }), NOW)).toMatchObject({
        code: KeyRejectionCode.INVALID_KEY,
      });
    });

    it('should reject with KEY_DISABLED when the key is disabled', () => {
      expect(checkKey(policy({ enabled: false }), NOW)).toMatchObject({
        code: KeyRejectionCode.KEY_DISABLED,
      });
    });

    it('should reject with KEY_EXPIRED from the expiry instant on when it has a fixed expiry', () => {
      const key = policy({ expiresAt: NOW });

      expect(checkKey(key, NOW - 1)).toBeNull();
      expect(checkKey(key, NOW)).toMatchObject({
        code: KeyRejectionCode.KEY_EXPIRED,
        message: expect.stringContaining('2025-01-31T12:00:00.000Z'),
      });
    });

    it('should count N days from first use when it expires after first use', () => {
      const key = policy({ expiresAfterDays: 30, firstUsedAt: NOW });

      expect(checkKey(key, NOW + 30 * DAY - 1)).toBeNull();
      expect(checkKey(key, NOW + 30 * DAY)).toMatchObject({ code: KeyRejectionCode.KEY_EXPIRED });
    });

    it('should not start the clock when a relative-expiry key was never used', () => {
      expect(checkKey(policy({ expiresAfterDays: 1 }), NOW + 1000 * DAY)).toBeNull();
    });
  });

  describe('effectiveExpiry', () => {
    it('should take the earlier expiry when both a date and a relative expiry are set', () => {
      expect(
        effectiveExpiry({ expiresAt: NOW + 5 * DAY, expiresAfterDays: 2, firstUsedAt: NOW }),
      ).toBe(NOW + 2 * DAY);
      expect(effectiveExpiry({ expiresAt: NOW + DAY, expiresAfterDays: 2, firstUsedAt: NOW })).toBe(
        NOW + DAY,
      );
    });

    it('should return null when the key never expires', () => {
      expect(effectiveExpiry({ expiresAt: null, expiresAfterDays: null, firstUsedAt: NOW })).toBe(
        null,
      );
    });
  });

  describe('matchesModelPattern', () => {
    it.each([
      ['claude-sonnet-4-20250514', 'claude-sonnet-4-20250514', true],
      ['claude-*', 'claude-opus-4-1', true],
      ['claude-*-4*', 'claude-sonnet-4-5-20250929', true],
      ['claude-*-4*', 'claude-3-5-haiku', false],
      ['*haiku*', 'claude-3-5-haiku-20241022', true],
      ['*', 'anything', true],
      ['gpt-4o', 'gpt-4o-mini', false],
      ['GPT-4O*', 'gpt-4o-mini', true],
      ['gemini-2.5-pro', 'gemini-2_5-pro', false],
      ['a*b*c', 'abxc', true],
      ['a*b*c', 'abxcd', false],
    ])('should match %s against %s: %s', (pattern, model, expected) => {
      expect(matchesModelPattern(pattern, model)).toBe(expected);
    });

    it('should finish quickly when a hostile pattern and name would make a regex backtrack', () => {
      const started = Date.now();

      expect(matchesModelPattern('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  describe('isModelAllowed', () => {
    it('should allow only listed models when the policy is an allow list', () => {
      const allow = { mode: 'allow' as const, patterns: ['claude-sonnet-*'] };

      expect(isModelAllowed(allow, 'claude-sonnet-4-5')).toBe(true);
      expect(isModelAllowed(allow, 'claude-opus-4-1')).toBe(false);
    });

    it('should allow every model except listed ones when the policy is a deny list', () => {
      const deny = { mode: 'deny' as const, patterns: ['claude-opus-*'] };

      expect(isModelAllowed(deny, 'claude-sonnet-4-5')).toBe(true);
      expect(isModelAllowed(deny, 'claude-opus-4-1')).toBe(false);
    });

    it('should allow every model when there is no policy', () => {
      expect(isModelAllowed(null, 'whatever')).toBe(true);
    });
  });

  describe('detectClient', () => {
    it.each([
      [UA.claudeCode, 'claude-code'],
      [UA.claudeCodeVsCode, 'claude-code'],
      [UA.geminiCli, 'gemini-cli'],
      [UA.geminiCliWithModel, 'gemini-cli'],
      [UA.geminiCliTui, 'gemini-cli'],
      [UA.geminiCliVsCode, 'gemini-cli'],
      [UA.codexCli, 'codex-cli'],
      [UA.codexExec, 'codex-cli'],
      [UA.droid, 'droid'],
      [UA.anthropicSdk, null],
      [UA.curl, null],
      ['claude-cli/dev', null],
      ['Mozilla/5.0 claude-cli/1.0.0 (external, cli)', null],
      ['', null],
    ])('should recognise %j as %s', (userAgent, expected) => {
      expect(detectClient(userAgent)).toBe(expected);
    });

    it('should return null when there is no User-Agent', () => {
      expect(detectClient(undefined)).toBeNull();
    });
  });

  describe('checkAccess', () => {
    it('should allow a request when the key has no restrictions', () => {
      expect(
        checkAccess(policy(), { platform: 'claude', model: 'claude-opus-4-1', userAgent: UA.curl }),
      ).toBeNull();
    });

    it('should reject with PLATFORM_NOT_ALLOWED when the platform is not permitted', () => {
      const key = policy({ permissions: ['claude'] });

      expect(checkAccess(key, { platform: 'openai', model: 'gpt-4o' })).toMatchObject({
        code: KeyRejectionCode.PLATFORM_NOT_ALLOWED,
      });
    });

    it('should reject with MODEL_NOT_ALLOWED when the model is on the deny list', () => {
      const key = policy({ modelPolicy: { mode: 'deny', patterns: ['claude-opus-*'] } });

      expect(checkAccess(key, { platform: 'claude', model: 'claude-opus-4-1' })).toMatchObject({
        code: KeyRejectionCode.MODEL_NOT_ALLOWED,
      });
      expect(checkAccess(key, { platform: 'claude', model: 'claude-sonnet-4-5' })).toBeNull();
    });

    it('should skip the model rule when the route has no model', () => {
      const key = policy({ modelPolicy: { mode: 'allow', patterns: ['claude-haiku-*'] } });

      expect(checkAccess(key, { platform: 'claude' })).toBeNull();
    });

    it('should reject with CLIENT_NOT_ALLOWED when the User-Agent is not an allowed client', () => {
      const key = policy({ allowedClients: ['claude-code', 'codex-cli'] });

      expect(checkAccess(key, { platform: 'claude', userAgent: UA.claudeCode })).toBeNull();
      expect(checkAccess(key, { platform: 'openai', userAgent: UA.codexExec })).toBeNull();
      expect(checkAccess(key, { platform: 'gemini', userAgent: UA.geminiCli })).toMatchObject({
        code: KeyRejectionCode.CLIENT_NOT_ALLOWED,
        message: expect.stringContaining('Claude Code, Codex CLI'),
      });
      expect(checkAccess(key, { platform: 'claude' })).toMatchObject({
        code: KeyRejectionCode.CLIENT_NOT_ALLOWED,
      });
    });

    it('should check the platform before the model and the client', () => {
      const key = policy({
        permissions: ['gemini'],
        modelPolicy: { mode: 'allow', patterns: [] },
        allowedClients: ['droid'],
      });

      expect(checkAccess(key, { platform: 'claude', model: 'x', userAgent: 'y' })?.code).toBe(
        KeyRejectionCode.PLATFORM_NOT_ALLOWED,
      );
    });
  });
});
