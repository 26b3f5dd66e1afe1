import { CODE_ASSIST_SETUP_OPTIONS, CodeAssistSetupClient } from './code-assist-setup.client';
import { GoogleOAuthController } from './google-oauth.controller';
import { GoogleOAuthLoginService } from './google-oauth-login.service';
import { GoogleTokenClient } from './google-token.client';

/** What OAuthModule registers for Google besides its refresher (in REFRESHERS). */
export const GOOGLE_OAUTH_PROVIDERS = [
  GoogleTokenClient,
  // The defaults; tests override the onboarding poll interval through this token.
  { provide: CODE_ASSIST_SETUP_OPTIONS, useValue: {} },
  CodeAssistSetupClient,
  GoogleOAuthLoginService,
];
export const GOOGLE_OAUTH_CONTROLLERS = [GoogleOAuthController];
