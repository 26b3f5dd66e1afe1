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
const NAME_MAX = 128;

export type CodexLoginStart = OAuthLoginStart;

/** Which account a login (or an imported auth.json) goes to. */
export type CodexLoginTarget = OAuthLoginTarget;

export interface CodexExchangeInput extends CodexLoginTarget, OAuthExchangeInput {}

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
 * on; the PKCE verifier waits in the coordinator meanwhile, so any instance can finish the login
 * (the flow every OAuth family shares: OAuthLoginFlow). The tokens then create (or replace the
 * credentials of) a codex-oauth account through the accounts service. Also imports the login in
 * a Codex CLI auth.json.
 */
@Injectable()
export class CodexOAuthLoginService {
  private readonly options: CodexLoginOptions;
  private readonly flow: OAuthLoginFlow;

  constructor(
    private readonly accounts: AccountsService,
    accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    private readonly tokenClient: CodexTokenClient,
    private readonly config: ConfigService,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional() @Inject(CODEX_LOGIN_OPTIONS) options?: Partial<CodexLoginOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.flow = new OAuthLoginFlow(
      {
        accountType: CODEX_OAUTH_TYPE,
        isAccountType: isCodexOAuthType,
        logLabel: 'codex login',
        keys: codexOAuthKeys,
        exchangeLockTtlMs: EXCHANGE_LOCK_TTL_MS,
        loginTtlMs: this.options.loginTtlMs,
        now: this.options.now,
        redirectUri: CODEX_REDIRECT_URI,
        isWellFormedState,
        parseCallbackUrl,
        wording: {
          missingCode: 'send the code, or the whole URL the browser landed on as callbackUrl',
          badCode: 'code must be the callback URL’s code parameter (one word)',
          denied: deniedMessage,
        },
        fail: (failure, message, details) =>
          new CodexOAuthException(
            failure === 'WRONG_ACCOUNT_TYPE'
              ? CodexOAuthExceptionCode.NOT_A_CODEX_ACCOUNT
              : CodexOAuthExceptionCode[failure],
            message,
            details,
          ),
      },
      { accounts, accountsRepository, codec, coordinator },
    );
  }

  /** Starts a login: the URL to sign in at, and the state to finish it with. */
  async authorize(): Promise<CodexLoginStart> {
    const { codeVerifier, codeChallenge } = generatePkce();
    const state = generateState();
    const authorizeUrl = buildAuthorizeUrl({
      authorizeUrl: this.config.env.CODEX_OAUTH_AUTHORIZE_URL,
      clientId: this.config.env.CODEX_OAUTH_CLIENT_ID,
      redirectUri: CODEX_REDIRECT_URI,
      codeChallenge,
      state,
    });
    return this.flow.start({ state, codeVerifier, authorizeUrl });
  }

  /**
   * Finishes a login: exchanges the code (with the login's PKCE verifier) through the account's
   * proxy, then creates or updates the account. A login is finished once; until then a refused
   * or failed exchange may be tried again (a mistyped code, an unreachable endpoint).
   */
  async exchange(input: CodexExchangeInput): Promise<AccountResponseDto> {
    return this.flow.exchange(
      input,
      () => this.flow.resolveTarget(input),
      ({ code, codeVerifier, redirectUri }, target) =>
        this.tokenClient.exchangeCode(
          { code, codeVerifier, redirectUri },
          target.proxy,
          tracedAccountOf(target),
        ),
      (result, target) => {
        const tokens = tokensFromResponse(result.body);
        if (tokens === null) {
          throw new CodexOAuthException(
            CodexOAuthExceptionCode.TOKENS_INCOMPLETE,
            'the token endpoint answered without an access token',
          );
        }
        return this.save(tokens, target);
      },
    );
  }

  /** Creates (or updates) a codex-oauth account from tokens the admin already holds (auth.json). */
  async importTokens(tokens: CodexTokens, target: CodexLoginTarget): Promise<AccountResponseDto> {
    return this.save(tokens, await this.flow.resolveTarget(target));
  }

  private async save(
    tokens: CodexTokens,
    target: OAuthResolvedTarget,
  ): Promise<AccountResponseDto> {
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
  private defaultName(identity: CodexIdentity): Promise<string> {
    const base = (identity.email ?? `codex-${identity.chatgptAccountId ?? 'account'}`).slice(
      0,
      NAME_MAX - 3,
    );
    return this.flow.defaultName(base);
  }
}
