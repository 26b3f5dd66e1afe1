import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator, LockHandle } from 'src/infra/coordination/coordinator.port';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { parseProxyUrl } from 'src/modules/accounts/account-validation';
import { AccountsException, AccountsExceptionCode } from 'src/modules/accounts/accounts.exception';
import { AccountsRepository, type AccountRecord } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { CODEX_OAUTH_TYPE, isCodexOAuthType } from './codex-oauth.credentials';
import { CodexOAuthException, CodexOAuthExceptionCode } from './codex-oauth.exception';
import { codexOAuthKeys } from './codex-oauth.keys';
import {
  buildAuthorizeUrl,
  CODEX_REDIRECT_URI,
  generatePkce,
  generateState,
  isWellFormedState,
  parseCallbackUrl,
  type CallbackParams,
  type CodexIdentity,
} from './codex-oauth.protocol';
import {
  credentialsFromTokens,
  subscriptionFrom,
  tokensFromResponse,
  type CodexTokens,
} from './codex-oauth.tokens';
import { CodexTokenClient } from './codex-token.client';

export interface CodexLoginOptions {
  now: () => number;
  /** How long a started login waits for its code. */
  loginTtlMs: number;
}

export const CODEX_LOGIN_OPTIONS = Symbol('CODEX_LOGIN_OPTIONS');

const DEFAULTS: CodexLoginOptions = { now: Date.now, loginTtlMs: 10 * 60_000 };

/** Longer than one exchange can take (the token call's timeout plus the account write). */
const EXCHANGE_LOCK_TTL_MS = 60_000;
/** Default names tried when none is given: `<email>`, `<email>-2` … */
const DEFAULT_NAME_ATTEMPTS = 20;
const NAME_MAX = 128;

export interface CodexLoginStart {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  /** ISO 8601: the login must be finished (exchange) before then. */
  expiresAt: string;
}

/** Which account a login (or an imported auth.json) goes to. */
export interface CodexLoginTarget {
  /** The new account's name (default: the login's email); with accountId, a new name for it. */
  name?: string;
  /** An existing codex-oauth account (id or name) whose credentials the login replaces. */
  accountId?: string;
  /** A new account's proxy: the code exchange and later its relay traffic go through it. */
  proxy?: string | null;
}

export interface CodexExchangeInput extends CodexLoginTarget {
  state: string;
  /** The authorization code, as the callback URL's `code` parameter carries it. */
  code?: string;
  /** The whole URL the browser landed on (or its query string). */
  callbackUrl?: string;
}

interface PendingLogin {
  codeVerifier: string;
  redirectUri: string;
}

type ResolvedTarget =
  | { kind: 'create'; name?: string; proxy: string | null }
  | { kind: 'update'; record: AccountRecord; name?: string; proxy: string | null };

function parsePending(raw: string | null): PendingLogin | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Partial<PendingLogin>;
    return typeof value.codeVerifier === 'string' && typeof value.redirectUri === 'string'
      ? { codeVerifier: value.codeVerifier, redirectUri: value.redirectUri }
      : null;
  } catch {
    return null;
  }
}

/** Codex's own wording for a workspace without Codex (codex-rs oauth_callback_error_message). */
function deniedMessage(error: string, description: string | undefined): string {
  if (
    error === 'access_denied' &&
    description?.toLowerCase().includes('missing_codex_entitlement')
  ) {
    return 'Codex is not enabled for this ChatGPT workspace: its administrator must grant access to Codex';
  }
  return `the sign-in failed: ${(description ?? error).slice(0, 200)}`;
}

/**
 * The Codex (ChatGPT) login of codex-oauth accounts, as Codex CLI does it: authorization code
 * with PKCE (S256) at auth.openai.com, redirect to Codex's registered localhost callback. The
 * admin opens the authorize URL, signs in, and pastes back the code or the URL the browser landed
 * on; the PKCE verifier waits in the coordinator meanwhile, so any instance can finish the login.
 * The tokens then create (or replace the credentials of) a codex-oauth account through the
 * accounts service. Also imports the login in a Codex CLI auth.json.
 */
@Injectable()
export class CodexOAuthLoginService {
  private readonly options: CodexLoginOptions;

  constructor(
    private readonly accounts: AccountsService,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    private readonly tokenClient: CodexTokenClient,
    private readonly config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(CODEX_LOGIN_OPTIONS) options?: Partial<CodexLoginOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Starts a login: the URL to sign in at, and the state to finish it with. */
  async authorize(): Promise<CodexLoginStart> {
    const { codeVerifier, codeChallenge } = generatePkce();
    const state = generateState();
    const redirectUri = CODEX_REDIRECT_URI;
    const pending: PendingLogin = { codeVerifier, redirectUri };
    await this.coordinator.setValue(
      codexOAuthKeys.login(state),
      JSON.stringify(pending),
      this.options.loginTtlMs,
    );
    const authorizeUrl = buildAuthorizeUrl({
      authorizeUrl: this.config.env.CODEX_OAUTH_AUTHORIZE_URL,
      clientId: this.config.env.CODEX_OAUTH_CLIENT_ID,
      redirectUri,
      codeChallenge,
      state,
    });
    return {
      authorizeUrl,
      state,
      redirectUri,
      expiresAt: new Date(this.options.now() + this.options.loginTtlMs).toISOString(),
    };
  }

  /**
   * Finishes a login: exchanges the code (with the login's PKCE verifier) through the account's
   * proxy, then creates or updates the account. A login is finished once; until then a refused
   * or failed exchange may be tried again (a mistyped code, an unreachable endpoint).
   */
  async exchange(input: CodexExchangeInput): Promise<AccountResponseDto> {
    const code = this.codeOf(input);
    if (!isWellFormedState(input.state)) throw this.loginNotFound();
    const target = await this.resolveTarget(input);

    const lock = await this.coordinator.acquireLock(
      codexOAuthKeys.loginLock(input.state),
      EXCHANGE_LOCK_TTL_MS,
    );
    if (lock === null) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.LOGIN_BUSY,
        'this login is being finished by another request',
      );
    }
    try {
      return await this.exchangeLocked(input.state, code, target);
    } finally {
      await this.release(lock);
    }
  }

  /** Creates (or updates) a codex-oauth account from tokens the admin already holds (auth.json). */
  async importTokens(tokens: CodexTokens, target: CodexLoginTarget): Promise<AccountResponseDto> {
    return this.save(tokens, await this.resolveTarget(target));
  }

  private async exchangeLocked(
    state: string,
    code: string,
    target: ResolvedTarget,
  ): Promise<AccountResponseDto> {
    const key = codexOAuthKeys.login(state);
    const pending = parsePending(await this.coordinator.getValue(key));
    if (pending === null) throw this.loginNotFound();

    const result = await this.tokenClient.exchangeCode(
      { code, codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri },
      target.proxy,
    );
    if (!result.ok) {
      appLogger.warn(
        { reason: result.reason, detail: result.detail },
        'codex login: exchange failed',
      );
      if (result.reason === 'refused') {
        throw new CodexOAuthException(
          CodexOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED,
          `the token endpoint refused the code (${result.detail}): paste the code of this ` +
            'login again, or start a new login',
          result.status === undefined ? undefined : { upstreamStatus: result.status },
        );
      }
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE,
        `the token endpoint could not be reached (${result.detail}); try again`,
      );
    }
    // The code is spent: this login is over whatever happens next.
    await this.coordinator.deleteValue(key);
    const tokens = tokensFromResponse(result.body);
    if (tokens === null) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.TOKENS_INCOMPLETE,
        'the token endpoint answered without an access token',
      );
    }
    return this.save(tokens, target);
  }

  /** The code of an exchange request, after the callback's own checks. */
  private codeOf(input: CodexExchangeInput): string {
    const hasCode = input.code !== undefined && input.code.trim() !== '';
    const hasUrl = input.callbackUrl !== undefined && input.callbackUrl.trim() !== '';
    if (hasCode && hasUrl) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.INVALID_REQUEST,
        'send either code or callbackUrl, not both',
      );
    }
    if (!hasCode && !hasUrl) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.INVALID_CALLBACK,
        'send the code, or the whole URL the browser landed on as callbackUrl',
      );
    }
    if (hasCode) {
      const code = (input.code ?? '').trim();
      if (/\s/.test(code) || code.length > 4096) {
        throw new CodexOAuthException(
          CodexOAuthExceptionCode.INVALID_CALLBACK,
          'code must be the callback URL’s code parameter (one word)',
        );
      }
      return code;
    }
    const params = parseCallbackUrl(input.callbackUrl ?? '');
    if (params === null) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.INVALID_CALLBACK,
        `callbackUrl must be the URL the browser landed on (${CODEX_REDIRECT_URI}?code=…&state=…)`,
      );
    }
    return this.codeFromCallback(params, input.state);
  }

  /** The callback's checks in Codex's order: its state, then an error, then the code. */
  private codeFromCallback(params: CallbackParams, state: string): string {
    if (params.state !== undefined && params.state !== state) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.STATE_MISMATCH,
        'the callback URL belongs to another login than this state: paste the URL of this login',
      );
    }
    if (params.error !== undefined) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.LOGIN_DENIED,
        deniedMessage(params.error, params.errorDescription),
        { error: params.error },
      );
    }
    if (params.code === undefined) {
      throw new CodexOAuthException(
        CodexOAuthExceptionCode.INVALID_CALLBACK,
        'the callback URL carries no code',
      );
    }
    return params.code;
  }

  /**
   * Where the tokens will go, checked before the code is spent: an existing codex-oauth account,
   * or a new one whose name is free and whose proxy the host policy allows.
   */
  private async resolveTarget(target: CodexLoginTarget): Promise<ResolvedTarget> {
    const name = target.name?.trim();
    if (target.accountId !== undefined) {
      if (target.proxy !== undefined) {
        throw new CodexOAuthException(
          CodexOAuthExceptionCode.INVALID_REQUEST,
          "the login of an existing account goes through that account's proxy: change it with " +
            'PATCH /admin/api/accounts/:id instead',
        );
      }
      const record = await this.accounts.resolve(target.accountId);
      if (!isCodexOAuthType(record.type)) {
        throw new CodexOAuthException(
          CodexOAuthExceptionCode.NOT_A_CODEX_ACCOUNT,
          `account ${record.name} is a ${record.type} account, not a codex-oauth one`,
        );
      }
      const proxy = this.codec.openProxy(record);
      if (proxy === undefined) {
        throw new CodexOAuthException(
          CodexOAuthExceptionCode.INVALID_REQUEST,
          `the proxy of account ${record.name} cannot be decrypted: set it again first`,
        );
      }
      if (name !== undefined && name !== record.name) await this.checkNameFree(name);
      return { kind: 'update', record, proxy, ...(name !== undefined ? { name } : {}) };
    }
    const proxy = parseProxyUrl(target.proxy);
    const refusal = proxy === null ? null : this.codec.hostPolicy.refusal(proxy, 'proxy');
    if (refusal !== null) {
      throw new AccountsException(AccountsExceptionCode.UPSTREAM_NOT_ALLOWED, refusal, {
        field: 'proxy',
      });
    }
    if (name !== undefined) await this.checkNameFree(name);
    return { kind: 'create', proxy, ...(name !== undefined ? { name } : {}) };
  }

  private async save(tokens: CodexTokens, target: ResolvedTarget): Promise<AccountResponseDto> {
    const outcome = credentialsFromTokens(tokens, null, this.options.now());
    if (!outcome.ok) {
      throw new CodexOAuthException(CodexOAuthExceptionCode.TOKENS_INCOMPLETE, outcome.detail);
    }
    const { credentials, identity } = outcome;
    if (target.kind === 'update') {
      const record = target.record;
      const subscription = subscriptionFrom(identity, this.codec.subscription(record));
      const account = await this.accounts.update(record.id, {
        ...(target.name !== undefined ? { name: target.name } : {}),
        // Every field, null for the absent ones: nothing of the previous login is kept.
        credentials: {
          accessToken: credentials.accessToken,
          accountId: credentials.accountId,
          refreshToken: credentials.refreshToken ?? null,
          idToken: credentials.idToken ?? null,
          expiresAt: credentials.expiresAt ?? null,
        },
        ...(subscription !== null ? { subscription: { ...subscription } } : {}),
      });
      appLogger.info({ accountId: record.id }, 'codex login: account credentials replaced');
      return account;
    }
    const subscription = subscriptionFrom(identity, null);
    const account = await this.accounts.create({
      name: target.name ?? (await this.defaultName(identity)),
      type: CODEX_OAUTH_TYPE,
      credentials: { ...credentials },
      proxy: target.proxy,
      ...(subscription !== null ? { subscription: { ...subscription } } : {}),
    });
    appLogger.info({ accountId: account.id }, 'codex login: account created');
    return account;
  }

  /** The login's email (else its ChatGPT account id), made unique with a `-2`, `-3` … suffix. */
  private async defaultName(identity: CodexIdentity): Promise<string> {
    const base = (identity.email ?? `codex-${identity.chatgptAccountId ?? 'account'}`).slice(
      0,
      NAME_MAX - 3,
    );
    for (let n = 1; n <= DEFAULT_NAME_ATTEMPTS; n += 1) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if ((await this.accountsRepository.findByName(candidate)) === undefined) return candidate;
    }
    throw new AccountsException(
      AccountsExceptionCode.NAME_TAKEN,
      `accounts named ${JSON.stringify(base)} already exist: give the account a name`,
    );
  }

  private async checkNameFree(name: string): Promise<void> {
    if ((await this.accountsRepository.findByName(name)) !== undefined) {
      throw new AccountsException(
        AccountsExceptionCode.NAME_TAKEN,
        `an account named ${JSON.stringify(name)} already exists`,
      );
    }
  }

  private loginNotFound(): CodexOAuthException {
    return new CodexOAuthException(
      CodexOAuthExceptionCode.LOGIN_NOT_FOUND,
      'no pending login has this state (unknown, already finished, or expired): start a new one',
    );
  }

  private async release(lock: LockHandle): Promise<void> {
    await this.coordinator.releaseLock(lock).catch(() => undefined);
  }
}
