import type { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { registerAccountsCommands } from 'src/cli/accounts.command';

/**
 * Captures what CLI commands write, per test: call it in a describe; the arrays it returns are
 * emptied before each test and collect the chunks written to stdout and stderr. The exit code a
 * command set is cleared after each test.
 */
export function captureCliOutput(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  beforeEach(() => {
    out.length = 0;
    err.length = 0;
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });
  return { out, err };
}

/**
 * Runs a command line on `program` and answers the exit code it set. Give the program
 * `exitOverride()` before registering commands (subcommands inherit it when created).
 */
export async function runCli(program: Command, args: string[]): Promise<number> {
  await program.parseAsync(args, { from: 'user' });
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return code;
}

/** `switchyard accounts …` as registered for the real CLI, against an app already running. */
export function runAccountsCli(app: INestApplicationContext, args: string[]): Promise<number> {
  const program = new Command('switchyard').exitOverride();
  registerAccountsCommands(program, (fn) => fn(app));
  return runCli(program, ['accounts', ...args]);
}
