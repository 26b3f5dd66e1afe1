import { appLogger } from 'src/common/logging/app-logger';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { AccountCodec } from 'src/modules/accounts/account-codec';
import { parseProxyUrl } from 'src/modules/accounts/account-validation';
import { AccountsException, AccountsExceptionCode } from 'src/modules/accounts/accounts.exception';
import type { AccountRecord, AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { AccountsService } from 'src/modules/accounts/accounts.service';

/** The failures every family's login names, each mapped to the family's own exception code. */
export type OAuthLoginFailure =
  | 'LOGIN_NOT_FOUND'
  | 'STATE_MISMATCH'
  | 'LOGIN_DENIED'
  | 'INVALID_CALLBACK'
  | 'INVALID_REQUEST'
  | 'LOGIN_BUSY'
  | 'TOKEN_EXCHANGE_REFUSED'
  | 'TOKEN_ENDPOINT_UNAVAILABLE'
  /** The account to update is of another type than the family's. */
  | 'WRONG_ACCOUNT_TYPE';

export interface OAuthLoginStart {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  /** ISO 8601: the login must be finished (exchange) before then. */
  expiresAt: string;
}

/** Which account a login (or an imported credentials file) goes to. */
export interface OAuthLoginTarget {
  /** The new account's name (default: the family's); with accountId, a new name for it. */
  name?: string;
  /** An existing account of the family (id or name) whose credentials the login replaces. */
  accountId?: string;
  /** A new account's proxy: the login's calls and later its relay traffic go through it. */
  proxy?: string | null;
}

export interface OAuthExchangeInput {
  state: string;
  /** The authorization code, as the callback URL's `code` parameter carries it. */
  code?: string;
  /** The whole URL the browser landed on (or its query string). */
  callbackUrl?: string;
}

export interface OAuthCallbackParams {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

/** Where the tokens of a login go, checked before its code is spent. */
export type OAuthResolvedTarget =
  | { kind: 'create'; name?: string; proxy: string | null }
  | { kind: 'update'; record: AccountRecord; name?: string; proxy: string | null };

/**
 * The account a login's upstream calls are logged under with DEBUG_HTTP_TRAFFIC: the account
 * whose credentials it replaces, else null (a new account has no id until its tokens are in, so
 * its login shows under `all` only; once created, its own calls show under `account:<id>`).
 */
export function tracedAccountOf(target: OAuthResolvedTarget): string | null {
  return target.kind === 'update' ? target.record.id : null;
}

/** The login's PKCE verifier and redirect URI, waiting in the coordinator for its exchange. */
export interface PendingLogin {
  codeVerifier: string;
  redirectUri: string;
  /**
   * Which kind of login the family started, when it has more than one (Claude's long-lived
   * setup token): the exchange must ask for what the authorize URL asked for.
   */
  variant?: string;
}

/** A token endpoint call as the families' token clients answer it. */
export type OAuthTokenCall<T> =
  | ({ ok: true } & T)
  | { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number };

/** What a family tells the flow: its names, keys, wording, protocol parsing and exception. */
export interface OAuthLoginFamily {
  /** The account type the family logs in (`codex-oauth`, `gemini-oauth`). */
  accountType: string;
  isAccountType: (type: string) => boolean;
  /** Leads the log lines (`codex login`). */
  logLabel: string;
  keys: { login: (state: string) => string; loginLock: (state: string) => string };
  /** Longer than one exchange can take (the token call and what the family does after it). */
  exchangeLockTtlMs: number;
  loginTtlMs: number;
  now: () => number;
  redirectUri: string;
  isWellFormedState: (state: string) => boolean;
  parseCallbackUrl: (text: string) => OAuthCallbackParams | null;
  wording: {
    /** Neither a code nor a callback URL was sent. */
    missingCode: string;
    /** The code sent is not one word. */
    badCode: string;
    /** The message of a callback that carries an OAuth error. */
    denied: (error: string, description: string | undefined) => string;
  };
  fail: (failure: OAuthLoginFailure, message: string, details?: Record<string, unknown>) => Error;
}

export interface OAuthLoginCollaborators {
  accounts: AccountsService;
  accountsRepository: AccountsRepository;
  codec: AccountCodec;
  coordinator: Coordinator;
}

/** Default names tried when none is given: `<base>`, `<base>-2` … */
const DEFAULT_NAME_ATTEMPTS = 20;

function parsePending(raw: string | null): PendingLogin | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Partial<PendingLogin>;
    if (typeof value.codeVerifier !== 'string' || typeof value.redirectUri !== 'string') {
      return null;
    }
    const pending: PendingLogin = {
      codeVerifier: value.codeVerifier,
      redirectUri: value.redirectUri,
    };
    if (typeof value.variant === 'string') pending.variant = value.variant;
    return pending;
  } catch {
    return null;
  }
}

/**
 * The PKCE login every OAuth family (Codex, Google) runs the same way, so that each family's
 * login service only says what differs (its endpoints, its token call, how it derives the
 * account's credentials and subscription):
 *
 * - start: the PKCE verifier waits in the coordinator under the login's state, so any instance
 *   can finish the login;
 * - exchange: a pasted code or the whole callback URL (its state checked against the login's,
 *   then its OAuth error, then its code); the target account checked before the code is spent;
 *   one exchange per login at a time (a lock); a refused or failed call may be tried again, a
 *   successful one ends the login;
 * - the target: an existing account of the family (its own proxy), or a new one whose name is
 *   free and whose proxy the host policy allows.
 */
export class OAuthLoginFlow {
  constructor(
    private readonly family: OAuthLoginFamily,
    private readonly deps: OAuthLoginCollaborators,
  ) {}

  /** Stores the pending login and answers where to sign in and until when. */
  async start(login: {
    state: string;
    codeVerifier: string;
    authorizeUrl: string;
    /** Kept with the verifier and handed back to the exchange (PendingLogin.variant). */
    variant?: string;
  }): Promise<OAuthLoginStart> {
    const { redirectUri, loginTtlMs } = this.family;
    const pending: PendingLogin = { codeVerifier: login.codeVerifier, redirectUri };
    if (login.variant !== undefined) pending.variant = login.variant;
    await this.deps.coordinator.setValue(
      this.family.keys.login(login.state),
      JSON.stringify(pending),
      loginTtlMs,
    );
    return {
      authorizeUrl: login.authorizeUrl,
      state: login.state,
      redirectUri,
      expiresAt: new Date(this.family.now() + loginTtlMs).toISOString(),
    };
  }

  /**
   * Finishes a login: checks the code and the target, then, with the login's lock held, calls
   * `exchangeCode` with the login's PKCE verifier and hands its answer to `finish` once the login
   * is spent. A refused or failed call leaves the login open for another try.
   */
  async exchange<R extends OAuthResolvedTarget, T, A>(
    input: OAuthExchangeInput,
    resolveTarget: () => Promise<R>,
    exchangeCode: (call: { code: string } & PendingLogin, target: R) => Promise<OAuthTokenCall<T>>,
    finish: (answer: T, target: R) => Promise<A>,
  ): Promise<A> {
    const { coordinator } = this.deps;
    const code = this.codeOf(input);
    if (!this.family.isWellFormedState(input.state)) throw this.loginNotFound();
    const target = await resolveTarget();
    const lock = await coordinator.acquireLock(
      this.family.keys.loginLock(input.state),
      this.family.exchangeLockTtlMs,
    );
    if (lock === null) {
      throw this.family.fail('LOGIN_BUSY', 'this login is being finished by another request');
    }
    try {
      const key = this.family.keys.login(input.state);
      const pending = parsePending(await coordinator.getValue(key));
      if (pending === null) throw this.loginNotFound();
      const result = await exchangeCode({ code, ...pending }, target);
      if (!result.ok) {
        appLogger.warn(
          { reason: result.reason, detail: result.detail },
          `${this.family.logLabel}: exchange failed`,
        );
        if (result.reason === 'refused') {
          throw this.family.fail(
            'TOKEN_EXCHANGE_REFUSED',
            `the token endpoint refused the code (${result.detail}): paste the code of this ` +
              'login again, or start a new login',
            result.status === undefined ? undefined : { upstreamStatus: result.status },
          );
        }
        throw this.family.fail(
          'TOKEN_ENDPOINT_UNAVAILABLE',
          `the token endpoint could not be reached (${result.detail}); try again`,
        );
      }
      // The code is spent: this login is over whatever happens next.
      await coordinator.deleteValue(key);
      return await finish(result, target);
    } finally {
      await coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  /**
   * Where the tokens will go, checked before the code is spent: an existing account of the
   * family, or a new one whose name is free and whose proxy the host policy allows.
   */
  async resolveTarget(target: OAuthLoginTarget): Promise<OAuthResolvedTarget> {
    const { accounts, codec } = this.deps;
    const name = target.name?.trim();
    if (target.accountId !== undefined) {
      if (target.proxy !== undefined) {
        throw this.family.fail(
          'INVALID_REQUEST',
          "the login of an existing account goes through that account's proxy: change it with " +
            'PATCH /admin/api/accounts/:id instead',
        );
      }
      const record = await accounts.resolve(target.accountId);
      if (!this.family.isAccountType(record.type)) {
        throw this.family.fail(
          'WRONG_ACCOUNT_TYPE',
          `account ${record.name} is a ${record.type} account, not a ${this.family.accountType} one`,
        );
      }
      const proxy = codec.openProxy(record);
      if (proxy === undefined) {
        throw this.family.fail(
          'INVALID_REQUEST',
          `the proxy of account ${record.name} cannot be decrypted: set it again first`,
        );
      }
      if (name !== undefined && name !== record.name) await this.checkNameFree(name);
      return { kind: 'update', record, proxy, ...(name !== undefined ? { name } : {}) };
    }
    const proxy = parseProxyUrl(target.proxy);
    const refusal = proxy === null ? null : codec.hostPolicy.refusal(proxy, 'proxy');
    if (refusal !== null) {
      throw new AccountsException(AccountsExceptionCode.UPSTREAM_NOT_ALLOWED, refusal, {
        field: 'proxy',
      });
    }
    if (name !== undefined) await this.checkNameFree(name);
    return { kind: 'create', proxy, ...(name !== undefined ? { name } : {}) };
  }

  /** `base` if no account has that name, else the first free of `base-2`, `base-3` … */
  async defaultName(base: string): Promise<string> {
    for (let n = 1; n <= DEFAULT_NAME_ATTEMPTS; n += 1) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if ((await this.deps.accountsRepository.findByName(candidate)) === undefined) {
        return candidate;
      }
    }
    throw new AccountsException(
      AccountsExceptionCode.NAME_TAKEN,
      `accounts named ${JSON.stringify(base)} already exist: give the account a name`,
    );
  }

  /** The code of an exchange request, after the callback's own checks. */
  private codeOf(input: OAuthExchangeInput): string {
    const { fail, wording, redirectUri } = this.family;
    const hasCode = input.code !== undefined && input.code.trim() !== '';
    const hasUrl = input.callbackUrl !== undefined && input.callbackUrl.trim() !== '';
    if (hasCode && hasUrl) {
      throw fail('INVALID_REQUEST', 'send either code or callbackUrl, not both');
    }
    if (!hasCode && !hasUrl) throw fail('INVALID_CALLBACK', wording.missingCode);
    if (hasCode) {
      const code = (input.code ?? '').trim();
      if (/\s/.test(code) || code.length > 4096) throw fail('INVALID_CALLBACK', wording.badCode);
      return code;
    }
    const params = this.family.parseCallbackUrl(input.callbackUrl ?? '');
    if (params === null) {
      throw fail(
        'INVALID_CALLBACK',
        `callbackUrl must be the URL the browser landed on (${redirectUri}?code=…&state=…)`,
      );
    }
    // The callback's checks in Codex's order: its state, then an error, then the code.
    if (params.state !== undefined && params.state !== input.state) {
      throw fail(
        'STATE_MISMATCH',
        'the callback URL belongs to another login than this state: paste the URL of this login',
      );
    }
    if (params.error !== undefined) {
      throw fail('LOGIN_DENIED', wording.denied(params.error, params.errorDescription), {
        error: params.error,
      });
    }
    if (params.code === undefined)
      throw fail('INVALID_CALLBACK', 'the callback URL carries no code');
    return params.code;
  }

  private async checkNameFree(name: string): Promise<void> {
    if ((await this.deps.accountsRepository.findByName(name)) !== undefined) {
      throw new AccountsException(
        AccountsExceptionCode.NAME_TAKEN,
        `an account named ${JSON.stringify(name)} already exists`,
      );
    }
  }

  private loginNotFound(): Error {
    return this.family.fail(
      'LOGIN_NOT_FOUND',
      'no pending login has this state (unknown, already finished, or expired): start a new one',
    );
  }
}
