import type { Command } from 'commander';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import {
  ClaudeOAuthLoginService,
  type ClaudeLoginTarget,
} from 'src/modules/oauth/claude/claude-oauth-login.service';
import { parseCallbackUrl } from 'src/modules/oauth/claude/claude-oauth.protocol';
import {
  loginAction,
  printAccount,
  stdinPrompt,
  targetOf,
  withTargetOptions,
  type LinePrompt,
  type OAuthCommandFamily,
  type OAuthTargetOptions,
} from './accounts-oauth.cli';
import type { ContextRunner } from './accounts.command';

interface ClaudeLoginOptions extends OAuthTargetOptions {
  setupToken?: boolean;
}

function printClaudeAccount(account: AccountResponseDto, options: ClaudeLoginOptions): void {
  const { plan, email, organizationName } = account.subscription ?? {};
  const facts = [
    email,
    organizationName === undefined ? undefined : `organization ${organizationName}`,
    plan === undefined ? undefined : `plan ${plan}`,
  ].filter(Boolean);
  const credentials = account.credentials as {
    hasRefreshToken?: boolean;
    expiresAt?: string | null;
  } | null;
  printAccount(account, options, [
    ...(facts.length > 0 ? [`  Claude:      ${facts.join(', ')}`] : []),
    `  token:       ${credentials?.hasRefreshToken === true ? 'refreshed before expiry' : 'not refreshed'}` +
      (credentials?.expiresAt ? `, expires ${credentials.expiresAt}` : ''),
    ...(account.proxy !== null ? [`  proxy:       ${account.proxy}`] : []),
  ]);
}

const CLAUDE: OAuthCommandFamily<ClaudeLoginOptions, ClaudeLoginTarget, ClaudeOAuthLoginService> = {
  service: ClaudeOAuthLoginService,
  target: targetOf,
  print: printClaudeAccount,
};

/**
 * `switchyard accounts login-claude [--setup-token]`: a claude-oauth account (a Claude Pro, Max,
 * Team or Enterprise subscription) from a login done here, headless: the URL is printed, the
 * `code#state` the page shows (or the URL the browser landed on) pasted back on stdin. With
 * `--setup-token`, Claude Code's `claude setup-token`: an inference-only token valid one year,
 * never refreshed.
 */
export function registerClaudeAccountCommands(
  accounts: Command,
  run: ContextRunner,
  prompt: LinePrompt = stdinPrompt,
): void {
  withTargetOptions(
    accounts
      .command('login-claude')
      .description(
        'sign in with a Claude account and add a claude-oauth account (prints a URL, reads the code)',
      ),
    {
      name: "the account's name (default: the login's email)",
      account: 'replace the credentials of this claude-oauth account (id or name)',
    },
    (c) =>
      c.option(
        '--setup-token',
        'a long-lived token as `claude setup-token` makes it (inference only, one year, no refresh)',
      ),
  ).action(
    loginAction(run, prompt, CLAUDE, {
      provider: 'your Claude account',
      instructions: () => [
        '2. The page then shows a code (code#state): copy all of it, including the # in the middle.',
        '3. Paste it here (the whole URL the browser landed on works too).',
      ],
      question: 'Code (code#state): ',
      isCallbackUrl: (answer) => parseCallbackUrl(answer) !== null,
      start: (service, options) => service.authorize({ setupToken: options.setupToken === true }),
    }),
  );
}
