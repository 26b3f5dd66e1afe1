import { ClaudeOAuthClient } from './claude-oauth.client';
import { ClaudeOAuthController } from './claude-oauth.controller';
import { ClaudeOAuthLoginService } from './claude-oauth-login.service';

/** What OAuthModule registers for Claude besides its refresher (in REFRESHERS). */
export const CLAUDE_OAUTH_PROVIDERS = [ClaudeOAuthClient, ClaudeOAuthLoginService];
export const CLAUDE_OAUTH_CONTROLLERS = [ClaudeOAuthController];
