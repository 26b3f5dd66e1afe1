import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { AccountSubscription } from 'src/modules/accounts/account.types';
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
import { generateState, isWellFormedState } from '../oauth-pkce';
import { ClaudeOAuthClient } from './claude-oauth.client';
import { ClaudeOAuthException, ClaudeOAuthExceptionCode } from './claude-oauth.exception';
import { claudeOAuthKeys } from './claude-oauth.keys';
import {
  buildAuthorizeUrl,
  CLAUDE_SETUP_TOKEN_TTL_SECONDS,
  generatePkce,
  isClaudeLoginVariant,
  parseCallbackUrl,
  scopesOf,
  subscriptionFrom,
  type ClaudeLoginVariant,
  type ClaudeProfile,
  type ClaudeTokens,
} from './claude-oauth.protocol';

export interface ClaudeLoginOptions {
  now: () => number;
  /** How long a started login waits for its code. */
  loginTtlMs: number;
}

export const CLAUDE_LOGIN_OPTIONS = Symbol('CLAUDE_LOGIN_OPTIONS');

const DEFAULTS: ClaudeLoginOptions = { now: Date.now, loginTtlMs: 10 * 60_000 };
const CLAUDE_OAUTH_TYPE = 'claude-oauth' as const;
/** Longer than one exchange can take (the token call, the profile call, the account write). */
const EXCHANGE_LOCK_TTL_MS = 60_000;
const NAME_MAX = 128;

export interface ClaudeLoginStart extends OAuthLoginStart {
  /** `setup-token`: an inference-only token valid one year, never refreshed. */
  variant: ClaudeLoginVariant;
  /** The scopes the authorize URL asks for. */
  scopes: string[];
}

/** Which account a login goes to (default name: the login's email). */
export type ClaudeLoginTarget = OAuthLoginTarget;

export interface ClaudeExchangeInput extends ClaudeLoginTarget, OAuthExchangeInput {}

/**
 * The Claude login of claude-oauth accounts, as Claude Code does it (its claude.ai login, and
 * `claude setup-token`): authorization code with PKCE (S256) and Claude Code's client, redirect
 * to its manual-redirect page, which shows `code#state` for the admin to paste back (the whole
 * URL works too). The verifier waits in the coordinator so any instance can finish (the flow
 * every OAuth family shares: OAuthLoginFlow). The tokens are exchanged and the profile read
 * through the account's proxy, then the account is created or its credentials replaced.
 */
@Injectable()
export class ClaudeOAuthLoginService {
  private readonly options: ClaudeLoginOptions;
  private readonly flow: OAuthLoginFlow;

  constructor(
    private readonly accounts: AccountsService,
    accountsRepository: AccountsRepository,
    codec: AccountCodec,
    private readonly client: ClaudeOAuthClient,
    private readonly config: ConfigService,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional() @Inject(CLAUDE_LOGIN_OPTIONS) options?: Partial<ClaudeLoginOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.flow = new OAuthLoginFlow(
      {
        accountType: CLAUDE_OAUTH_TYPE,
        isAccountType: (type) => type === CLAUDE_OAUTH_TYPE,
        logLabel: 'claude login',
        keys: claudeOAuthKeys,
        exchangeLockTtlMs: EXCHANGE_LOCK_TTL_MS,
        loginTtlMs: this.options.loginTtlMs,
        now: this.options.now,
        redirectUri: config.env.CLAUDE_OAUTH_REDIRECT_URI,
        isWellFormedState,
        parseCallbackUrl,
        wording: {
          missingCode:
            'send the code the page showed (code#state), or the whole URL the browser landed on ' +
            'as callbackUrl',
          badCode: 'code must be what the page showed: code#state, or the code alone (one word)',
          denied: (error, description) =>
            `the sign-in failed: ${(description ?? error).slice(0, 200)}`,
        },
        fail: (failure, message, details) =>
          new ClaudeOAuthException(
            failure === 'WRONG_ACCOUNT_TYPE'
              ? ClaudeOAuthExceptionCode.NOT_A_CLAUDE_ACCOUNT
              : ClaudeOAuthExceptionCode[failure],
            message,
            details,
          ),
      },
      { accounts, accountsRepository, codec, coordinator },
    );
  }

  /** Starts a login (or a setup-token login): the URL to sign in at, the state to finish with. */
  async authorize(options: { setupToken?: boolean } = {}): Promise<ClaudeLoginStart> {
    const variant: ClaudeLoginVariant = options.setupToken === true ? 'setup-token' : 'login';
    const scopes = scopesOf(variant);
    const { codeVerifier, codeChallenge } = generatePkce();
    const state = generateState();
    const authorizeUrl = buildAuthorizeUrl({
      authorizeUrl: this.config.env.CLAUDE_OAUTH_AUTHORIZE_URL,
      clientId: this.config.env.CLAUDE_OAUTH_CLIENT_ID,
      redirectUri: this.config.env.CLAUDE_OAUTH_REDIRECT_URI,
      scopes,
      codeChallenge,
      state,
    });
    const started = await this.flow.start({ state, codeVerifier, authorizeUrl, variant });
    return { ...started, variant, scopes: [...scopes] };
  }

  /**
   * Finishes a login: exchanges the code (with the login's PKCE verifier and state) through the
   * account's proxy, reads the subscription profile, then creates or updates the account. A
   * refused or failed exchange may be tried again with the same state until the login expires.
   */
  async exchange(input: ClaudeExchangeInput): Promise<AccountResponseDto> {
    return this.flow.exchange(
      pastedAsCallback(input),
      () => this.flow.resolveTarget(input),
      async ({ code, codeVerifier, redirectUri, variant }, target) => {
        const kind: ClaudeLoginVariant = isClaudeLoginVariant(variant) ? variant : 'login';
        const call = await this.client.exchangeCode(
          {
            code,
            state: input.state,
            codeVerifier,
            redirectUri,
            ...(kind === 'setup-token' ? { expiresIn: CLAUDE_SETUP_TOKEN_TTL_SECONDS } : {}),
          },
          target.proxy,
          tracedAccountOf(target),
        );
        return call.ok ? { ok: true, tokens: call.tokens, variant: kind } : call;
      },
      (result, target) => this.save(result.tokens, result.variant, target),
    );
  }

  private async save(
    tokens: ClaudeTokens,
    variant: ClaudeLoginVariant,
    target: OAuthResolvedTarget,
  ): Promise<AccountResponseDto> {
    const profile = await this.profileOf(tokens, target);
    const subscription = subscriptionFrom(tokens, profile);
    const now = this.options.now();
    const expiresAt =
      tokens.expiresIn === undefined ? undefined : now + Math.round(tokens.expiresIn * 1000);
    // A setup token is never refreshed: whatever refresh token came with it is not kept.
    const refreshToken = variant === 'setup-token' ? undefined : tokens.refreshToken;
    if (variant === 'login' && refreshToken === undefined) {
      appLogger.warn('claude login: no refresh token issued; the account stops at its expiry');
    }
    if (target.kind === 'update') {
      const account = await this.accounts.update(target.record.id, {
        ...(target.name !== undefined ? { name: target.name } : {}),
        // Every field, null for the absent ones: nothing of the previous login is kept.
        credentials: {
          accessToken: tokens.accessToken,
          refreshToken: refreshToken ?? null,
          expiresAt: expiresAt ?? null,
        },
        subscription: subscription === null ? null : { ...subscription },
      });
      appLogger.info(
        { accountId: target.record.id, variant },
        'claude login: account credentials replaced',
      );
      return account;
    }
    const account = await this.accounts.create({
      name: target.name ?? (await this.defaultName(subscription)),
      type: CLAUDE_OAUTH_TYPE,
      credentials: {
        accessToken: tokens.accessToken,
        ...(refreshToken !== undefined ? { refreshToken } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      },
      proxy: target.proxy,
      ...(subscription !== null ? { subscription: { ...subscription } } : {}),
    });
    appLogger.info({ accountId: account.id, variant }, 'claude login: account created');
    return account;
  }

  /**
   * The subscription profile, read with the new token through the account's proxy. Optional: a
   * setup token (user:inference alone) may not read it, and the login stands without it.
   */
  private async profileOf(
    tokens: ClaudeTokens,
    target: OAuthResolvedTarget,
  ): Promise<ClaudeProfile | null> {
    const call = await this.client.fetchProfile(
      tokens.accessToken,
      target.proxy,
      tracedAccountOf(target),
    );
    if (call.ok) return call.profile;
    appLogger.warn({ detail: call.detail }, 'claude login: subscription profile not read');
    return null;
  }

  /** The login's email (else its organization), made unique with a `-2`, `-3` … suffix. */
  private defaultName(subscription: AccountSubscription | null): Promise<string> {
    const base =
      subscription?.email ??
      (subscription?.organizationName !== undefined
        ? `claude-${subscription.organizationName}`
        : 'claude');
    return this.flow.defaultName(base.slice(0, NAME_MAX - 3));
  }
}

/**
 * Claude's page shows `code#state`: pasted as `code`, it is handled as the callback it is, so that
 * its state is checked against the login's (and only the code reaches the token endpoint).
 */
function pastedAsCallback(input: ClaudeExchangeInput): OAuthExchangeInput {
  const { state, code, callbackUrl } = input;
  if (code !== undefined && code.includes('#') && (callbackUrl ?? '').trim() === '') {
    return { state, callbackUrl: code };
  }
  return {
    state,
    ...(code !== undefined ? { code } : {}),
    ...(callbackUrl !== undefined ? { callbackUrl } : {}),
  };
}
