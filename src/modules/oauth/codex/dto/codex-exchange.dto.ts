import { OAuthExchangeDto } from '../../dto/oauth-login.dto';
import type { CodexExchangeInput } from '../codex-oauth-login.service';

/**
 * Finishes a Codex login: its state with the code, or with the whole URL the browser landed on
 * (`http://localhost:1455/auth/callback?code=…&state=…`). Creates a codex-oauth account (`name`,
 * default the login's email; `proxy`), or replaces the credentials of `accountId`.
 */
export class CodexExchangeDto extends OAuthExchangeDto implements CodexExchangeInput {}
