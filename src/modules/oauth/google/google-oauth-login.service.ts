import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import {
  OAuthLoginFlow,
  tracedAccountOf,
  type OAuthExchangeInput,
  type OAuthLoginStart,
  type OAuthLoginTarget,
  type OAuthResolvedTarget,
} from '../oauth-login-flow';
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
/** An imported access token this close to expiry is refreshed before the setup calls. */
const EXPIRY_MARGIN_MS = 60_000;

export type GoogleLoginStart = OAuthLoginStart;

/** Which account a login (or an imported oauth_creds.json) goes to (default name `gemini-<project>`). */
export interface GoogleLoginTarget extends OAuthLoginTarget {
  /** The Google Cloud project to use (Gemini CLI's GOOGLE_CLOUD_PROJECT); found when omitted. */
  projectId?: string;
}

export interface GoogleExchangeInput extends GoogleLoginTarget, OAuthExchangeInput {}

/** The shared target, plus where Code Assist is and which project to use. */
type ResolvedTarget = OAuthResolvedTarget & { baseUrl: string; projectId?: string };

/**
 * The Google login of gemini-oauth accounts, as Gemini CLI's user-code flow does it
 * (oauth2.ts authWithUserCode): authorization code with PKCE (S256), Gemini CLI's client and
 * scopes, redirect to codeassist.google.com/authcode, where Google shows the code to paste back
 * (the whole URL works too). The verifier waits in the coordinator so any instance can finish
 * (the flow every OAuth family shares: OAuthLoginFlow). Then the Code Assist project is found or
 * onboarded (CodeAssistSetupClient) and the account created or updated. Also imports Gemini
 * CLI's own oauth_creds.json.
 */
@Injectable()
export class GoogleOAuthLoginService {
  private readonly options: GoogleLoginOptions;
  private readonly flow: OAuthLoginFlow;

  constructor(
    private readonly accounts: AccountsService,
    accountsRepository: AccountsRepository,
    codec: AccountCodec,
    private readonly tokenClient: GoogleTokenClient,
    private readonly setup: CodeAssistSetupClient,
    private readonly config: ConfigService,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional() @Inject(GOOGLE_LOGIN_OPTIONS) options?: Partial<GoogleLoginOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.flow = new OAuthLoginFlow(
      {
        accountType: GEMINI_OAUTH_TYPE,
        isAccountType: (type) => type === GEMINI_OAUTH_TYPE,
        logLabel: 'google login',
        keys: googleOAuthKeys,
        exchangeLockTtlMs: EXCHANGE_LOCK_TTL_MS,
        loginTtlMs: this.options.loginTtlMs,
        now: this.options.now,
        redirectUri: GOOGLE_REDIRECT_URI,
        isWellFormedState,
        parseCallbackUrl,
        wording: {
          missingCode:
            'send the code Google showed, or the whole URL the browser landed on as callbackUrl',
          badCode: 'code must be the authorization code Google showed (one word)',
          denied: (error, description) =>
            `the sign-in failed: ${(description ?? error).slice(0, 200)}`,
        },
        fail: (failure, message, details) =>
          new GoogleOAuthException(
            failure === 'WRONG_ACCOUNT_TYPE'
              ? GoogleOAuthExceptionCode.NOT_A_GEMINI_ACCOUNT
              : GoogleOAuthExceptionCode[failure],
            message,
            details,
          ),
      },
      { accounts, accountsRepository, codec, coordinator },
    );
  }

  async authorize(): Promise<GoogleLoginStart> {
    const { codeVerifier, codeChallenge } = await this.tokenClient.generatePkce();
    const state = generateState();
    const authorizeUrl = this.tokenClient.authorizeUrl({
      codeChallenge,
      state,
      redirectUri: GOOGLE_REDIRECT_URI,
    });
    return this.flow.start({ state, codeVerifier, authorizeUrl });
  }

  /**
   * Finishes a login: exchanges the code with the login's PKCE verifier, finds or onboards the
   * Code Assist project, then creates or updates the account. A refused exchange may be tried
   * again with the same state until the login expires.
   */
  async exchange(input: GoogleExchangeInput): Promise<AccountResponseDto> {
    return this.flow.exchange(
      input,
      () => this.resolveTarget(input),
      ({ code, codeVerifier, redirectUri }, target) =>
        this.tokenClient.exchangeCode(
          { code, codeVerifier, redirectUri },
          target.proxy,
          tracedAccountOf(target),
        ),
      (result, target) => this.save(result.tokens, target),
    );
  }
  /** Creates (or updates) a gemini-oauth account from tokens the admin holds (oauth_creds.json). */
  async importTokens(tokens: GoogleTokens, target: GoogleLoginTarget): Promise<AccountResponseDto> {
    const resolved = await this.resolveTarget(target);
    let usable = tokens;
    const stale =
      tokens.accessToken === '' ||
      (tokens.expiresAt !== undefined && tokens.expiresAt <= this.options.now() + EXPIRY_MARGIN_MS);
    if (stale && tokens.refreshToken !== undefined) {
      const refreshed = await this.tokenClient.refresh(
        tokens.refreshToken,
        resolved.proxy,
        tracedAccountOf(resolved),
      );
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
      accountId: tracedAccountOf(target),
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

  private async resolveTarget(target: GoogleLoginTarget): Promise<ResolvedTarget> {
    const projectId = target.projectId?.trim() || undefined;
    if (projectId !== undefined && /^\d+$/.test(projectId)) {
      // Gemini CLI refuses a project number too (InvalidNumericProjectIdError).
      throw new GoogleOAuthException(
        GoogleOAuthExceptionCode.INVALID_REQUEST,
        'projectId must be the Google Cloud project id (e.g. my-project-123), not its number',
      );
    }
    const resolved = await this.flow.resolveTarget(target);
    return {
      ...resolved,
      baseUrl:
        resolved.kind === 'update'
          ? (resolved.record.base_url ?? this.config.env.CODE_ASSIST_BASE_URL)
          : this.config.env.CODE_ASSIST_BASE_URL,
      ...(projectId !== undefined ? { projectId } : {}),
    };
  }

  private defaultName(projectId: string): Promise<string> {
    return this.flow.defaultName(`gemini-${projectId}`.slice(0, 120));
  }
}
