import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { parseGeminiCredsFile } from 'src/modules/oauth/google/gemini-creds-file';
import {
  GoogleOAuthLoginService,
  type GoogleLoginTarget,
} from 'src/modules/oauth/google/google-oauth-login.service';
import { parseCallbackUrl } from 'src/modules/oauth/google/google-oauth.protocol';
import type { LinePrompt } from './accounts-codex.command';
import type { ContextRunner } from './accounts.command';

interface GoogleTargetOptions {
  name?: string;
  account?: string;
  proxy?: string;
  project?: string;
  json?: boolean;
}

interface ImportGeminiOptions extends GoogleTargetOptions {
  file?: string;
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

function note(line = ''): void {
  process.stderr.write(`${line}\n`);
}

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`switchyard accounts: ${message}\n`);
  process.exitCode = 1;
}

function targetOf(options: GoogleTargetOptions): GoogleLoginTarget {
  const target: GoogleLoginTarget = {};
  if (options.name !== undefined) target.name = options.name;
  if (options.account !== undefined) target.accountId = options.account;
  if (options.proxy !== undefined) target.proxy = options.proxy;
  if (options.project !== undefined) target.projectId = options.project;
  return target;
}

function printAccount(account: AccountResponseDto, options: GoogleTargetOptions): void {
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(account, null, 2)}\n`);
    return;
  }
  const credentials = account.credentials as { projectId?: string } | null;
  process.stdout.write(
    [
      `${options.account === undefined ? 'Account added' : 'Account updated'}:`,
      `${account.name} (${account.id})`,
      `  type:        ${account.type}`,
      `  project:     ${credentials?.projectId ?? '?'}`,
      ...(account.subscription?.plan !== undefined
        ? [`  tier:        ${account.subscription.plan}`]
        : []),
      `  routable:    ${account.routable ? 'yes' : `no: ${account.notRoutableBecause ?? ''}`}`,
      '',
    ].join('\n'),
  );
}

function withTargetOptions(command: Command): Command {
  return command
    .option('--name <name>', "the account's name (default: gemini-<project>)")
    .option('--account <account>', 'replace the credentials of this gemini-oauth account')
    .option('--proxy <url>', "a new account's proxy: http://, https:// or socks5://")
    .option(
      '--project <id>',
      'the Google Cloud project (else found or onboarded as Gemini CLI does)',
    )
    .option('--json', 'print the account as JSON');
}

/**
 * `switchyard accounts login-google|import-gemini`: gemini-oauth accounts (a Google account
 * through Code Assist) from a Google sign-in done here (the URL is printed, the code Google shows
 * pasted back), or from Gemini CLI's own `~/.gemini/oauth_creds.json`.
 */
export function registerGoogleAccountCommands(
  accounts: Command,
  run: ContextRunner,
  prompt: LinePrompt = stdinPrompt,
): void {
  withTargetOptions(
    accounts
      .command('import-gemini')
      .description(
        "add a gemini-oauth account from Gemini CLI's oauth_creds.json (its Google login)",
      )
      .option('--file <path>', 'the credentials file (default: ~/.gemini/oauth_creds.json)'),
  ).action(async (options: ImportGeminiOptions) => {
    try {
      const file = options.file ?? join(homedir(), '.gemini', 'oauth_creds.json');
      let content: string;
      try {
        content = await readFile(file, 'utf8');
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new Error(
          code === 'ENOENT'
            ? `no file at ${file}: sign in to Gemini CLI with Google first, or pass --file`
            : `cannot read ${file} (${String(code)})`,
        );
      }
      const tokens = parseGeminiCredsFile(content);
      const account = await run((context) =>
        context.get(GoogleOAuthLoginService).importTokens(tokens, targetOf(options)),
      );
      printAccount(account, options);
    } catch (error) {
      report(error);
    }
  });

  withTargetOptions(
    accounts
      .command('login-google')
      .description(
        'sign in with Google and add a gemini-oauth account (prints a URL, reads the code)',
      ),
  ).action(async (options: GoogleTargetOptions) => {
    try {
      const account = await run(async (context) => {
        const login = context.get(GoogleOAuthLoginService);
        const started = await login.authorize();
        note('1. Open this URL in a browser and sign in with Google:');
        note();
        note(`   ${started.authorizeUrl}`);
        note();
        note('2. Google then shows an authorization code: copy it (or the whole URL).');
        const answer = (await prompt('Authorization code: ')).trim();
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
