import { CodeAssistSetupClient } from './code-assist-setup.client';
import { GoogleOAuthController } from './google-oauth.controller';
import { GoogleOAuthLoginService } from './google-oauth-login.service';
import { GoogleTokenClient } from './google-token.client';

/** What OAuthModule registers for Google besides its refresher (in REFRESHERS). */
export const GOOGLE_OAUTH_PROVIDERS = [
  GoogleTokenClient,
  CodeAssistSetupClient,
  GoogleOAuthLoginService,
];
export const GOOGLE_OAUTH_CONTROLLERS = [GoogleOAuthController];
