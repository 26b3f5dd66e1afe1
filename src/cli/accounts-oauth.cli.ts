import type { Type } from '@nestjs/common';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import type { OAuthLoginStart, OAuthLoginTarget } from 'src/modules/oauth/oauth-login-flow';
import { snakeCase } from 'src/modules/audit/audit-route';
import type { ContextRunner } from './accounts.command';
import { cliAudited } from './cli-audit';

/**
 * What the OAuth families' account commands (`login-codex`, `import-codex`, `login-google`,
 * `import-gemini`) share: the target options, reading a CLI's credentials file, the headless
 * login (print the URL, read the pasted answer) and how the account is printed.
 */

/** Asks one question on the terminal and answers the line typed (or pasted). */
export type LinePrompt = (question: string) => Promise<string>;

/** The options every login or import command takes. */
export interface OAuthTargetOptions {
  name?: string;
  account?: string;
  proxy?: string;
  json?: boolean;
}

export const stdinPrompt: LinePrompt = async (question) => {
  process.stderr.write(question);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  throw new Error('nothing was pasted (stdin closed)');
};

/** A line for the operator (stderr: stdout carries only the result). */
export function note(line = ''): void {
  process.stderr.write(`${line}\n`);
}

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`switchyard accounts: ${message}\n`);
  process.exitCode = 1;
}

/**
 * Adds the target options (`--name`, `--account`, `--proxy`), then the family's own (`extra`),
 * then `--json`.
 */
export function withTargetOptions(
  command: Command,
  help: { name: string; account: string },
  extra: (command: Command) => Command = (c) => c,
): Command {
  return extra(
    command
      .option('--name <name>', help.name)
      .option('--account <account>', help.account)
      .option('--proxy <url>', "a new account's proxy: http://, https:// or socks5://"),
  ).option('--json', 'print the account as JSON');
}

/** The login target of the shared options. */
export function targetOf(options: OAuthTargetOptions): OAuthLoginTarget {
  const target: OAuthLoginTarget = {};
  if (options.name !== undefined) target.name = options.name;
  if (options.account !== undefined) target.accountId = options.account;
  if (options.proxy !== undefined) target.proxy = options.proxy;
  return target;
}

/** A CLI's credentials file; `missingHint` says how to get one when there is none. */
async function readCredentialsFile(file: string, missingHint: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(
      code === 'ENOENT'
        ? `no file at ${file}: ${missingHint}, or pass --file`
        : `cannot read ${file} (${String(code)})`,
    );
  }
}

/** A family's login service as the commands use it. */
interface LoginService<T, I> {
  authorize(): Promise<OAuthLoginStart>;
  exchange(input: I & { state: string; code?: string; callbackUrl?: string }): Promise<T>;
}

/** What a family's commands say and do differently. */
export interface OAuthCommandFamily<O extends OAuthTargetOptions, I, S> {
  service: Type<S>;
  /** The login target of the command's options. */
  target: (options: O) => I;
  print: (account: AccountResponseDto, options: O) => void;
}

/**
 * The action of a `login-*` command, headless: prints the URL to sign in at and the family's
 * instructions, reads the pasted answer (a callback URL when it parses as one, else a code),
 * finishes the login and prints the account.
 */
export function loginAction<
  O extends OAuthTargetOptions,
  I,
  S extends LoginService<AccountResponseDto, I>,
>(
  run: ContextRunner,
  prompt: LinePrompt,
  family: OAuthCommandFamily<O, I, S>,
  steps: {
    /** Who to sign in with (`ChatGPT`, `Google`). */
    provider: string;
    /** The numbered steps after opening the URL. */
    instructions: (started: OAuthLoginStart) => string[];
    question: string;
    isCallbackUrl: (answer: string) => boolean;
    /** Starts the login as the options ask (default: the service's `authorize()`). */
    start?: (service: S, options: O) => Promise<OAuthLoginStart>;
  },
): (options: O, command?: Command) => Promise<void> {
  return async (options, command) => {
    try {
      const account = await run(async (context) => {
        const login = context.get(family.service);
        const started = await (steps.start?.(login, options) ?? login.authorize());
        note(`1. Open this URL in a browser and sign in with ${steps.provider}:`);
        note();
        note(`   ${started.authorizeUrl}`);
        note();
        for (const line of steps.instructions(started)) note(line);
        const answer = (await prompt(steps.question)).trim();
        const callback = steps.isCallbackUrl(answer) ? { callbackUrl: answer } : { code: answer };
        return cliAudited(context, auditTarget(command), () =>
          login.exchange({ state: started.state, ...callback, ...family.target(options) }),
        );
      });
      family.print(account, options);
    } catch (error) {
      report(error);
    }
  };
}

/**
 * The action of an `import-*` command: reads the CLI's credentials file (`--file`, else its
 * default place), parses it, adds or updates the account and prints it.
 */
export function importAction<
  O extends OAuthTargetOptions & { file?: string },
  I,
  S extends LoginService<AccountResponseDto, I>,
  K,
>(
  run: ContextRunner,
  family: OAuthCommandFamily<O, I, S>,
  file: {
    defaultPath: () => string;
    /** How to get a file when there is none (`sign in with Codex CLI (codex login) first`). */
    missingHint: string;
    parse: (content: string) => K;
    import: (service: S, tokens: K, target: I) => Promise<AccountResponseDto>;
    /** Said after the account is printed. */
    afterwards?: string;
  },
): (options: O, command?: Command) => Promise<void> {
  return async (options, command) => {
    try {
      const content = await readCredentialsFile(
        options.file ?? file.defaultPath(),
        file.missingHint,
      );
      const tokens = file.parse(content);
      const account = await run((context) =>
        cliAudited(context, auditTarget(command), () =>
          file.import(context.get(family.service), tokens, family.target(options)),
        ),
      );
      family.print(account, options);
      if (file.afterwards !== undefined) note(file.afterwards);
    } catch (error) {
      report(error);
    }
  };
}

/**
 * The audit row of a login or import: `accounts.<command in snake_case>` (`accounts.login_codex`,
 * `accounts.import_gemini`), its target the account added or updated.
 */
function auditTarget(command: Command | undefined): { action: string; targetType: string } {
  return {
    action: `accounts.${snakeCase(command?.name() ?? 'oauth_login')}`,
    targetType: 'accounts',
  };
}

/** The account a command added or updated: JSON, or a short summary with the family's lines. */
export function printAccount(
  account: AccountResponseDto,
  options: OAuthTargetOptions,
  details: string[],
): void {
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(account, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    [
      `${options.account === undefined ? 'Account added' : 'Account updated'}:`,
      `${account.name} (${account.id})`,
      `  type:        ${account.type}`,
      ...details,
      `  routable:    ${account.routable ? 'yes' : `no: ${account.notRoutableBecause ?? ''}`}`,
      '',
    ].join('\n'),
  );
}
