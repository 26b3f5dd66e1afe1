import type { Platform } from 'src/common/platform';
import { matchesWildcard, WildcardPattern } from 'src/common/text/wildcard';
import {
  KeyRejectionCode,
  type ApiKeyPolicy,
  type ClientId,
  type KeyRejection,
  type ModelPolicy,
} from './api-key.types';

/**
 * Pure checks of a key's policy: no I/O, no clock of their own. The relay runs `checkKey` right
 * after authentication and `checkAccess` once it knows the platform and model, both before any
 * coordination round trip.
 */

const DAY_MS = 86_400_000;

/**
 * How each client introduces itself (checked against real clients' source):
 * - Claude Code: `claude-cli/1.0.83 (external, cli)`; the entrypoint varies (`sdk-ts`,
 *   `claude-vscode`), it is still Claude Code.
 * - Gemini CLI: `GeminiCLI/0.1.5 (linux; x64)`, newer ones `GeminiCLI/0.9.0/gemini-2.5-pro (…)`,
 *   and since it names its entry point (0.61: `GeminiCLI-tui/0.61.0/gemini-2.5-flash (linux; x64;
 *   terminal)` for the terminal and `-p`, `GeminiCLI-cli-command/…`, `GeminiCLI-acp/…`); in a
 *   VS Code terminal `CloudCodeVSCode/0.61.0 (aidev_client; …; proxy_client=geminicli)`.
 * - Codex CLI: `codex_cli_rs/0.38.0 (Ubuntu 24.04; x86_64) …`, and `codex_exec/…` headless.
 * - Droid: `factory-cli/0.19.3`.
 * A User-Agent is trivially forged: this narrows which tools a key is meant for, it is not
 * authentication.
 */
const CLIENT_USER_AGENTS: Record<ClientId, RegExp> = {
  'claude-code': /^claude-cli\/\d+\.\d+\.\d+\S*\s+\(external,/i,
  'gemini-cli':
    /^(?:GeminiCLI(?:-[a-z0-9.-]+)?\/v?\d|CloudCodeVSCode\/\S+ \([^)]*proxy_client=geminicli)/i,
  'codex-cli': /^(?:codex_cli_rs|codex_exec)\/\d/i,
  droid: /^factory-cli\/\d/i,
};

const CLIENT_NAMES: Record<ClientId, string> = {
  'claude-code': 'Claude Code',
  'gemini-cli': 'Gemini CLI',
  'codex-cli': 'Codex CLI',
  droid: 'Droid',
};

/** The client a User-Agent belongs to, or null for anything else. */
export function detectClient(userAgent: string | undefined): ClientId | null {
  if (userAgent === undefined || userAgent.length === 0) return null;
  const ua = userAgent.trim();
  for (const [id, pattern] of Object.entries(CLIENT_USER_AGENTS) as [ClientId, RegExp][]) {
    if (pattern.test(ua)) return id;
  }
  return null;
}

/** When the key stops working (epoch ms), null when it never does or its clock has not started. */
export function effectiveExpiry(
  policy: Pick<ApiKeyPolicy, 'expiresAt' | 'expiresAfterDays' | 'firstUsedAt'>,
): number | null {
  const relative =
    policy.expiresAfterDays !== null && policy.firstUsedAt !== null
      ? policy.firstUsedAt + policy.expiresAfterDays * DAY_MS
      : null;
  if (policy.expiresAt === null) return relative;
  if (relative === null) return policy.expiresAt;
  return Math.min(policy.expiresAt, relative);
}

/** Whether the key itself may be used at `now`: not deleted, enabled, not expired. */
export function checkKey(policy: ApiKeyPolicy, now: number): KeyRejection | null {
  // A deleted key answers like an unknown one: nothing to learn about what existed.
  if (policy.deleted) return { code: KeyRejectionCode.INVALID_KEY, message: 'invalid API key' };
  if (!policy.enabled) {
    return { code: KeyRejectionCode.KEY_DISABLED, message: 'this API key is disabled' };
  }
  if (policy.userDisabled) {
    return {
      code: KeyRejectionCode.KEY_DISABLED,
      message: 'this API key is disabled: the user it belongs to is disabled',
    };
  }
  const expiry = effectiveExpiry(policy);
  if (expiry !== null && now >= expiry) {
    return {
      code: KeyRejectionCode.KEY_EXPIRED,
      message: `this API key expired at ${new Date(expiry).toISOString()}`,
    };
  }
  return null;
}

/**
 * `*` matches any run of characters (also none); everything else literally, case-insensitive.
 * Linear in the model name (no backtracking), which a client chooses.
 */
export function matchesModelPattern(pattern: string, model: string): boolean {
  return matchesWildcard(pattern, model);
}

/** Compiled once per policy object (the authenticator hands out the same one until it changes). */
const compiledPatterns = new WeakMap<ModelPolicy, WildcardPattern[]>();

/** Whether a model passes an allow list or a deny list; null policy allows every model. */
export function isModelAllowed(policy: ModelPolicy | null, model: string): boolean {
  if (policy === null) return true;
  let patterns = compiledPatterns.get(policy);
  if (patterns === undefined) {
    patterns = policy.patterns.map((pattern) => new WildcardPattern(pattern));
    compiledPatterns.set(policy, patterns);
  }
  const lowered = model.toLowerCase();
  const listed = patterns.some((pattern) => pattern.matchesPrepared(lowered));
  return policy.mode === 'allow' ? listed : !listed;
}

export interface AccessRequest {
  platform: Platform;
  /** Absent for routes without a model (model lists); then no model rule applies. */
  model?: string;
  userAgent?: string;
}

/** Whether the key may use this platform, model and client. */
export function checkAccess(policy: ApiKeyPolicy, request: AccessRequest): KeyRejection | null {
  if (!policy.permissions.includes(request.platform)) {
    return {
      code: KeyRejectionCode.PLATFORM_NOT_ALLOWED,
      message: `this API key may not use the ${request.platform} platform`,
    };
  }
  if (request.model !== undefined && !isModelAllowed(policy.modelPolicy, request.model)) {
    return {
      code: KeyRejectionCode.MODEL_NOT_ALLOWED,
      message: `this API key may not use the model ${JSON.stringify(request.model.slice(0, 128))}`,
    };
  }
  if (policy.allowedClients !== null) {
    const client = detectClient(request.userAgent);
    if (client === null || !policy.allowedClients.includes(client)) {
      const allowed = policy.allowedClients.map((id) => CLIENT_NAMES[id]).join(', ');
      return {
        code: KeyRejectionCode.CLIENT_NOT_ALLOWED,
        message: `this API key may only be used from: ${allowed}`,
      };
    }
  }
  return null;
}
