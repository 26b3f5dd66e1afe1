import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { parseProxyUrl } from 'src/modules/accounts/account-validation';
import { AccountsException, AccountsExceptionCode } from 'src/modules/accounts/accounts.exception';
import { AccountsRepository, type AccountRecord } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { CodeAssistSetupClient } from './code-assist-setup.client';
import { GoogleOAuthException, GoogleOAuthExceptionCode } from './google-oauth.exception';
import { googleOAuthKeys } from './google-oauth.keys';
import {
  GOOGLE_REDIRECT_URI,
  generateState,
  isWellFormedState,
  parseCallbackUrl,
} from './google-oauth.protocol';
import { GoogleTokenClient, type GoogleTokens } from './google-token.client';

export interface GoogleLoginOptions {
  now: () => number;
  /** How long a started login waits for its code. */
  loginTtlMs: number;
}

export const GOOGLE_LOGIN_OPTIONS = Symbol('GOOGLE_LOGIN_OPTIONS');

const DEFAULTS: GoogleLoginOptions = { now: Date.now, loginTtlMs: 10 * 60_000 };
const GEMINI_OAUTH_TYPE = 'gemini-oauth' as const;
/** Longer than one exchange can take (token call, Code Assist setup, the account write). */
const EXCHANGE_LOCK_TTL_MS = 180_000;
const DEFAULT_NAME_ATTEMPTS = 20;
/** An imported access token this close to expiry is refreshed before the setup calls. */
const EXPIRY_MARGIN_MS = 60_000;

export interface GoogleLoginStart {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  /** ISO 8601: the login must be finished (exchange) before then. */
  expiresAt: string;
}

/** Which account a login (or an imported oauth_creds.json) goes to. */
export interface GoogleLoginTarget {
  /** The new account's name (default `gemini-<project>`); with accountId, a new name for it. */
  name?: string;
  /** An existing gemini-oauth account (id or name) whose credentials the login replaces. */
  accountId?: string;
  /** A new account's proxy: the token and setup calls and later its relay traffic use it. */
  proxy?: string | null;
  /** The Google Cloud project to use (Gemini CLI's GOOGLE_CLOUD_PROJECT); found when omitted. */
  projectId?: string;
}

export interface GoogleExchangeInput extends GoogleLoginTarget {
  state: string;
  code?: string;
  /** The whole URL the browser landed on (or its query string). */
  callbackUrl?: string;
}

interface PendingLogin {
  codeVerifier: string;
  redirectUri: string;
}

type ResolvedTarget =
  | { kind: 'create'; name?: string; proxy: string | null; baseUrl: string; projectId?: string }
  | {
      kind: 'update';
      record: AccountRecord;
      name?: string;
      proxy: string | null;
      baseUrl: string;
      projectId?: string;
    };

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

/**
 * The Google login of gemini-oauth accounts, as Gemini CLI's user-code flow does it
 * (oauth2.ts authWithUserCode): authorization code with PKCE (S256), Gemini CLI's client and
 * scopes, redirect to codeassist.google.com/authcode, where Google shows the code to paste back
 * (the whole URL works too). The verifier waits in the coordinator so any instance can finish.
 * Then the Code Assist project is found or onboarded (CodeAssistSetupClient) and the account
 * created or updated. Also imports Gemini CLI's own oauth_creds.json.
 */
@Injectable()
export class GoogleOAuthLoginService {
  private readonly options: GoogleLoginOptions;

  constructor(
    private readonly accounts: AccountsService,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    private readonly tokenClient: GoogleTokenClient,
    private readonly setup: CodeAssistSetupClient,
    private readonly config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(GOOGLE_LOGIN_OPTIONS) options?: Partial<GoogleLoginOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async authorize(): Promise<GoogleLoginStart> {
    const { codeVerifier, codeChallenge } = await this.tokenClient.generatePkce();
    const state = generateState();
    const redirectUri = GOOGLE_REDIRECT_URI;
    const pending: PendingLogin = { codeVerifier, redirectUri };
    await this.coordinator.setValue(
      googleOAuthKeys.login(state),
      JSON.stringify(pending),
      this.options.loginTtlMs,
    );
    return {
      authorizeUrl: this.tokenClient.authorizeUrl({ codeChallenge, state, redirectUri }),
      state,
      redirectUri,
      expiresAt: new Date(this.options.now() + this.options.loginTtlMs).toISOString(),
    };
  }

  /**
   * Finishes a login: exchanges the code with the login's PKCE verifier, finds or onboards the
   * Code Assist project, then creates or updates the account. A refused exchange may be tried
   * again with the same state until the login expires.
   */
  async exchange(input: GoogleExchangeInput): Promise<AccountResponseDto> {
    const code = this.codeOf(input);
    if (!isWellFormedState(input.state)) throw this.loginNotFound();
    const target = await this.resolveTarget(input);
    const lock = await this.coordinator.acquireLock(
      googleOAuthKeys.loginLock(input.state),
      EXCHANGE_LOCK_TTL_MS,
    );
    if (lock === null) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.LOGIN_BUSY,
        'this login is being finished by another request',
      );
    }
    try {
      const key = googleOAuthKeys.login(input.state);
      const pending = parsePending(await this.coordinator.getValue(key));
      if (pending === null) throw this.loginNotFound();
      const result = await this.tokenClient.exchangeCode(
        { code, codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri },
        target.proxy,
      );
      if (!result.ok) {
        appLogger.warn({ reason: result.reason, detail: result.detail }, 'google login failed');
        if (result.reason === 'refused') {
          throw new GoogleOAuthException(
            GoogleOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED,
            `the token endpoint refused the code (${result.detail}): paste the code of this ` +
              'login again, or start a new login',
            result.status === undefined ? undefined : { upstreamStatus: result.status },
          );
        }
        throw new GoogleOAuthException(
          GoogleOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE,
          `the token endpoint could not be reached (${result.detail}); try again`,
        );
      }
      // The code is spent: this login is over whatever happens next.
      await this.coordinator.deleteValue(key);
      return await this.save(result.tokens, target);
    } finally {
      await this.coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  /** Creates (or updates) a gemini-oauth account from tokens the admin holds (oauth_creds.json). */
  async importTokens(tokens: GoogleTokens, target: GoogleLoginTarget): Promise<AccountResponseDto> {
    const resolved = await this.resolveTarget(target);
    let usable = tokens;
    const stale =
      tokens.accessToken === '' ||
      (tokens.expiresAt !== undefined && tokens.expiresAt <= this.options.now() + EXPIRY_MARGIN_MS);
    if (stale && tokens.refreshToken !== undefined) {
      const refreshed = await this.tokenClient.refresh(tokens.refreshToken, resolved.proxy);
      if (!refreshed.ok) {
        throw new GoogleOAuthException(
          refreshed.reason === 'refused'
            ? GoogleOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED
            : GoogleOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE,
          `the refresh token of the file could not be used (${refreshed.detail})`,
        );
      }
      usable = {
        ...refreshed.tokens,
        refreshToken: refreshed.tokens.refreshToken ?? tokens.refreshToken,
      };
    } else if (tokens.accessToken === '') {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_CREDENTIALS_FILE,
        'the credentials file has no access token and no refresh token',
      );
    }
    return this.save(usable, resolved);
  }

  private async save(tokens: GoogleTokens, target: ResolvedTarget): Promise<AccountResponseDto> {
    const setup = await this.setup.setUp({
      baseUrl: target.baseUrl,
      accessToken: tokens.accessToken,
      proxyUrl: target.proxy,
      ...(target.projectId !== undefined ? { projectId: target.projectId } : {}),
    });
    if (!setup.ok) {
      appLogger.warn({ reason: setup.reason, detail: setup.detail }, 'code assist setup failed');
      throw new GoogleOAuthException(
        setup.reason === 'refused'
          ? GoogleOAuthExceptionCode.CODE_ASSIST_REFUSED
          : GoogleOAuthExceptionCode.CODE_ASSIST_UNAVAILABLE,
        setup.detail,
      );
    }
    const credentials = {
      accessToken: tokens.accessToken,
      projectId: setup.projectId,
      refreshToken: tokens.refreshToken ?? null,
      expiresAt: tokens.expiresAt ?? null,
    };
    const subscription = { plan: setup.tierId };
    if (target.kind === 'update') {
      const account = await this.accounts.update(target.record.id, {
        ...(target.name !== undefined ? { name: target.name } : {}),
        credentials,
        subscription,
      });
      appLogger.info({ accountId: target.record.id }, 'google login: account credentials replaced');
      return account;
    }
    const account = await this.accounts.create({
      name: target.name ?? (await this.defaultName(setup.projectId)),
      type: GEMINI_OAUTH_TYPE,
      credentials: {
        accessToken: credentials.accessToken,
        projectId: credentials.projectId,
        ...(tokens.refreshToken !== undefined ? { refreshToken: tokens.refreshToken } : {}),
        ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
      },
      proxy: target.proxy,
      subscription,
    });
    appLogger.info(
      { accountId: account.id, onboarded: setup.onboarded },
      'google login: account created',
    );
    return account;
  }

  private codeOf(input: GoogleExchangeInput): string {
    const hasCode = input.code !== undefined && input.code.trim() !== '';
    const hasUrl = input.callbackUrl !== undefined && input.callbackUrl.trim() !== '';
    if (hasCode && hasUrl) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_REQUEST,
        'send either code or callbackUrl, not both',
      );
    }
    if (!hasCode && !hasUrl) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_CALLBACK,
        'send the code Google showed, or the whole URL the browser landed on as callbackUrl',
      );
    }
    if (hasCode) {
      const code = (input.code ?? '').trim();
      if (/\s/.test(code) || code.length > 4096) {
        throw new GoogleOAuthException(
          GoogleOAuthExceptionCode.INVALID_CALLBACK,
          'code must be the authorization code Google showed (one word)',
        );
      }
      return code;
    }
    const params = parseCallbackUrl(input.callbackUrl ?? '');
    if (params === null) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_CALLBACK,
        `callbackUrl must be the URL the browser landed on (${GOOGLE_REDIRECT_URI}?code=…&state=…)`,
      );
    }
    if (params.state !== undefined && params.state !== input.state) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.STATE_MISMATCH,
        'the callback URL belongs to another login than this state: paste the URL of this login',
      );
    }
    if (params.error !== undefined) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.LOGIN_DENIED,
        `the sign-in failed: ${(params.errorDescription ?? params.error).slice(0, 200)}`,
        { error: params.error },
      );
    }
    if (params.code === undefined) {
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_CALLBACK,
        'the callback URL carries no code',
      );
    }
    return params.code;
  }

  private async resolveTarget(target: GoogleLoginTarget): Promise<ResolvedTarget> {
    const name = target.name?.trim();
    const projectId = target.projectId?.trim() || undefined;
    if (projectId !== undefined && /^\d+$/.test(projectId)) {
      // Gemini CLI refuses a project number too (InvalidNumericProjectIdError).
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_REQUEST,
        'projectId must be the Google Cloud project id (e.g. my-project-123), not its number',
      );
    }
    const extra = projectId !== undefined ? { projectId } : {};
    if (target.accountId !== undefined) {
      if (target.proxy !== undefined) {
        throw new GoogleOAuthException(
          GoogleOAuthExceptionCode.INVALID_REQUEST,
          "the login of an existing account goes through that account's proxy: change it with " +
            'PATCH /admin/api/accounts/:id instead',
        );
      }
      const record = await this.accounts.resolve(target.accountId);
      if (record.type !== GEMINI_OAUTH_TYPE) {
        throw new GoogleOAuthException(
          GoogleOAuthExceptionCode.NOT_A_GEMINI_ACCOUNT,
          `account ${record.name} is a ${record.type} account, not a gemini-oauth one`,
        );
      }
      const proxy = this.codec.openProxy(record);
      if (proxy === undefined) {
        throw new GoogleOAuthException(
          GoogleOAuthExceptionCode.INVALID_REQUEST,
          `the proxy of account ${record.name} cannot be decrypted: set it again first`,
        );
      }
      if (name !== undefined && name !== record.name) await this.checkNameFree(name);
      return {
        kind: 'update',
        record,
        proxy,
        baseUrl: record.base_url ?? this.config.env.CODE_ASSIST_BASE_URL,
        ...(name !== undefined ? { name } : {}),
        ...extra,
      };
    }
    const proxy = parseProxyUrl(target.proxy);
    const refusal = proxy === null ? null : this.codec.hostPolicy.refusal(proxy, 'proxy');
    if (refusal !== null) {
      throw new AccountsException(AccountsExceptionCode.UPSTREAM_NOT_ALLOWED, refusal, {
        field: 'proxy',
      });
    }
    if (name !== undefined) await this.checkNameFree(name);
    return {
      kind: 'create',
      proxy,
      baseUrl: this.config.env.CODE_ASSIST_BASE_URL,
      ...(name !== undefined ? { name } : {}),
      ...extra,
    };
  }

  private async defaultName(projectId: string): Promise<string> {
    const base = `gemini-${projectId}`.slice(0, 120);
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

  private loginNotFound(): GoogleOAuthException {
    return new GoogleOAuthException(
      GoogleOAuthExceptionCode.LOGIN_NOT_FOUND,
      'no pending login has this state (unknown, already finished, or expired): start a new one',
    );
  }
}
