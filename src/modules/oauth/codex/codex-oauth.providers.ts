import { CodexOAuthController } from './codex-oauth.controller';
import { CodexOAuthLoginService } from './codex-oauth-login.service';
import { CodexTokenClient } from './codex-token.client';

/** What OAuthModule registers for Codex besides its refresher (in REFRESHERS). */
export const CODEX_OAUTH_PROVIDERS = [CodexTokenClient, CodexOAuthLoginService];
export const CODEX_OAUTH_CONTROLLERS = [CodexOAuthController];
