import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { parseCodexAuthFile } from 'src/modules/oauth/codex/codex-auth-file';
import {
  CodexOAuthLoginService,
  type CodexLoginTarget,
} from 'src/modules/oauth/codex/codex-oauth-login.service';
import { parseCallbackUrl } from 'src/modules/oauth/codex/codex-oauth.protocol';
import type { ContextRunner } from './accounts.command';

/** Asks one question on the terminal and answers the line typed (or pasted). */
export type LinePrompt = (question: string) => Promise<string>;

interface CodexTargetOptions {
  name?: string;
  account?: string;
  proxy?: string;
  json?: boolean;
}

interface ImportCodexOptions extends CodexTargetOptions {
  file?: string;
}

/** Codex CLI keeps its login in $CODEX_HOME/auth.json, ~/.codex by default. */
function defaultAuthFile(): string {
  return join(process.env.CODEX_HOME ?? join(homedir(), '.codex'), 'auth.json');
}

const stdinPrompt: LinePrompt = async (question) => {
  process.stderr.write(question);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  throw new Error('nothing was pasted (stdin closed)');
};

function write(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function note(line = ''): void {
  process.stderr.write(`${line}\n`);
}

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`switchyard accounts: ${message}\n`);
  process.exitCode = 1;
}

function targetOf(options: CodexTargetOptions): CodexLoginTarget {
  const target: CodexLoginTarget = {};
  if (options.name !== undefined) target.name = options.name;
  if (options.account !== undefined) target.accountId = options.account;
  if (options.proxy !== undefined) target.proxy = options.proxy;
  return target;
}

function printAccount(account: AccountResponseDto, options: CodexTargetOptions): void {
  if (options.json === true) {
    write(JSON.stringify(account, null, 2));
    return;
  }
  const plan = account.subscription?.plan;
  const email = account.subscription?.email;
  write(`${options.account === undefined ? 'Account added' : 'Account updated'}:`);
  write(`${account.name} (${account.id})`);
  write(`  type:        ${account.type}`);
  if (plan !== undefined || email !== undefined) {
    write(
      `  ChatGPT:     ${[email, plan === undefined ? undefined : `plan ${plan}`].filter(Boolean).join(', ')}`,
    );
  }
  if (account.proxy !== null) write(`  proxy:       ${account.proxy}`);
  write(`  routable:    ${account.routable ? 'yes' : `no: ${account.notRoutableBecause ?? ''}`}`);
}

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
  accounts
    .command('import-codex')
    .description("add a codex-oauth account from Codex CLI's auth.json (its ChatGPT login)")
    .option(
      '--file <path>',
      'the auth.json (default: $CODEX_HOME/auth.json, else ~/.codex/auth.json)',
    )
    .option('--name <name>', "the account's name (default: the login's email)")
    .option(
      '--account <account>',
      'replace the credentials of this codex-oauth account (id or name)',
    )
    .option('--proxy <url>', "a new account's proxy: http://, https:// or socks5://")
    .option('--json', 'print the account as JSON')
    .action(async (options: ImportCodexOptions) => {
      try {
        const file = options.file ?? defaultAuthFile();
        let content: string;
        try {
          content = await readFile(file, 'utf8');
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          throw new Error(
            code === 'ENOENT'
              ? `no file at ${file}: sign in with Codex CLI (codex login) first, or pass --file`
              : `cannot read ${file} (${String(code)})`,
          );
        }
        const tokens = parseCodexAuthFile(content);
        const account = await run((context) =>
          context.get(CodexOAuthLoginService).importTokens(tokens, targetOf(options)),
        );
        printAccount(account, options);
        // OpenAI rotates refresh tokens and refuses a reused one: two holders of one login
        // end with one of them signed out.
        note(
          'Note: Codex CLI and Switchyard now share this login. Whichever refreshes it first ' +
            'signs the other out: sign in to Codex CLI again (codex login) to give it its own.',
        );
      } catch (error) {
        report(error);
      }
    });

  accounts
    .command('login-codex')
    .description(
      'sign in with ChatGPT and add a codex-oauth account (prints a URL, reads the answer)',
    )
    .option('--name <name>', "the account's name (default: the login's email)")
    .option(
      '--account <account>',
      'replace the credentials of this codex-oauth account (id or name)',
    )
    .option('--proxy <url>', "a new account's proxy: http://, https:// or socks5://")
    .option('--json', 'print the account as JSON')
    .action(async (options: CodexTargetOptions) => {
      try {
        const account = await run(async (context) => {
          const login = context.get(CodexOAuthLoginService);
          const started = await login.authorize();
          note('1. Open this URL in a browser and sign in with ChatGPT:');
          note();
          note(`   ${started.authorizeUrl}`);
          note();
          note(
            `2. The browser then lands on ${started.redirectUri}?code=… and shows an error ` +
              '(nothing listens there): that is expected.',
          );
          note('3. Copy the whole URL from the address bar and paste it here.');
          const answer = (await prompt('Callback URL (or code): ')).trim();
          const callback =
            parseCallbackUrl(answer) === null ? { code: answer } : { callbackUrl: answer };
          return login.exchange({ state: started.state, ...callback, ...targetOf(options) });
        });
        printAccount(account, options);
      } catch (error) {
        report(error);
      }
    });
}
