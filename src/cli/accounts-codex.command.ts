import type { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { parseCodexAuthFile } from 'src/modules/oauth/codex/codex-auth-file';
import {
  CodexOAuthLoginService,
  type CodexLoginTarget,
} from 'src/modules/oauth/codex/codex-oauth-login.service';
import { parseCallbackUrl } from 'src/modules/oauth/codex/codex-oauth.protocol';
import {
  importAction,
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

export type { LinePrompt } from './accounts-oauth.cli';

interface ImportCodexOptions extends OAuthTargetOptions {
  file?: string;
}

const TARGET_HELP = {
  name: "the account's name (default: the login's email)",
  account: 'replace the credentials of this codex-oauth account (id or name)',
};

/** Codex CLI keeps its login in $CODEX_HOME/auth.json, ~/.codex by default. */
function defaultAuthFile(): string {
  return join(process.env.CODEX_HOME ?? join(homedir(), '.codex'), 'auth.json');
}

function printCodexAccount(account: AccountResponseDto, options: OAuthTargetOptions): void {
  const plan = account.subscription?.plan;
  const email = account.subscription?.email;
  const facts = [email, plan === undefined ? undefined : `plan ${plan}`].filter(Boolean);
  printAccount(account, options, [
    ...(plan !== undefined || email !== undefined ? [`  ChatGPT:     ${facts.join(', ')}`] : []),
    ...(account.proxy !== null ? [`  proxy:       ${account.proxy}`] : []),
  ]);
}

const CODEX: OAuthCommandFamily<ImportCodexOptions, CodexLoginTarget, CodexOAuthLoginService> = {
  service: CodexOAuthLoginService,
  target: targetOf,
  print: printCodexAccount,
};

/**
 * `switchyard accounts import-codex|login-codex`: codex-oauth accounts (a ChatGPT subscription
 * used by Codex CLI) from Codex CLI's own login file, or from a login done here (headless: the
 * URL is printed, the browser's callback URL pasted back).
 */
export function registerCodexAccountCommands(
  accounts: Command,
  run: ContextRunner,
  prompt: LinePrompt = stdinPrompt,
): void {
  withTargetOptions(
    accounts
      .command('import-codex')
      .description("add a codex-oauth account from Codex CLI's auth.json (its ChatGPT login)")
      .option(
        '--file <path>',
        'the auth.json (default: $CODEX_HOME/auth.json, else ~/.codex/auth.json)',
      ),
    TARGET_HELP,
  ).action(
    importAction(run, CODEX, {
      defaultPath: defaultAuthFile,
      missingHint: 'sign in with Codex CLI (codex login) first',
      parse: parseCodexAuthFile,
      import: (service, tokens, target) => service.importTokens(tokens, target),
      // OpenAI rotates refresh tokens and refuses a reused one: two holders of one login
      // end with one of them signed out.
      afterwards:
        'Note: Codex CLI and Switchyard now share this login. Whichever refreshes it first ' +
        'signs the other out: sign in to Codex CLI again (codex login) to give it its own.',
    }),
  );

  withTargetOptions(
    accounts
      .command('login-codex')
      .description(
        'sign in with ChatGPT and add a codex-oauth account (prints a URL, reads the answer)',
      ),
    TARGET_HELP,
  ).action(
    loginAction(run, prompt, CODEX, {
      provider: 'ChatGPT',
      instructions: (started) => [
        `2. The browser then lands on ${started.redirectUri}?code=… and shows an error ` +
          '(nothing listens there): that is expected.',
        '3. Copy the whole URL from the address bar and paste it here.',
      ],
      question: 'Callback URL (or code): ',
      isCallbackUrl: (answer) => parseCallbackUrl(answer) !== null,
    }),
  );
}
