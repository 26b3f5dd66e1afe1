import { OAuthExchangeDto } from '../../dto/oauth-login.dto';
import type { ClaudeExchangeInput } from '../claude-oauth-login.service';

/**
 * Finishes a Claude login: its state with what the page showed (`code#state`, or the code
 * alone), or with the whole URL the browser landed on
 * (`https://platform.claude.com/oauth/code/callback?code=…&state=…`). Creates a claude-oauth
 * account (`name`, default the login's email; `proxy`), or replaces the credentials of
 * `accountId`.
 */
export class ClaudeExchangeDto extends OAuthExchangeDto implements ClaudeExchangeInput {}
