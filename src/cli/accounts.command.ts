import type { INestApplicationContext } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import type { Command } from 'commander';
import { MAX_PAGE_SIZE } from 'src/common/http/list-query.dto';
import { ACCOUNT_TYPES } from 'src/modules/accounts/account.types';
import { AccountTestService } from 'src/modules/accounts/account-test.service';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import {
  CreateAccountDto,
  type CreateAccountInput,
} from 'src/modules/accounts/dto/create-account.dto';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import type { CredentialField } from 'src/modules/accounts/types/account-type.descriptor';
import {
  accountTypeDescriptors,
  findDescriptor,
} from 'src/modules/accounts/types/account-types.registry';
import { registerClaudeAccountCommands } from './accounts-claude.command';
import { registerCodexAccountCommands } from './accounts-codex.command';
import { registerGoogleAccountCommands } from './accounts-google.command';
import { cliAudited } from './cli-audit';
import { withAppContext } from './cli-context';

/** Runs a command body with the application's services; tests pass a smaller context. */
export type ContextRunner = <T>(fn: (context: INestApplicationContext) => Promise<T>) => Promise<T>;

const defaultRunner: ContextRunner = (fn) => withAppContext((context) => fn(context));

/**
 * `accounts add` options. Credential fields come as flags named after them (`--api-key` →
 * `apiKey`), one per field of any registered type (see credentialFlags).
 */
export interface AddAccountOptions {
  name: string;
  type: string;
  /** Reads the `apiKey` credential field from stdin. */
  apiKeyStdin?: boolean;
  credentialsStdin?: boolean;
  baseUrl?: string;
  priority?: string;
  weight?: string;
  models?: string;
  modelMap?: string;
  proxy?: string;
  concurrency?: string;
  groups?: string;
  disabled?: boolean;
  json?: boolean;
  [credentialField: string]: unknown;
}

/** The flag of a credential field: `apiKey` → `--api-key`. */
function flagOf(field: string): string {
  return `--${field.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`;
}

/** The field read from stdin by `--api-key-stdin`. */
const STDIN_FIELD = 'apiKey';

/**
 * One flag per credential field name across the registered types, with the types that use it:
 * the CLI learns a new type's fields from its descriptor.
 */
function credentialFlags(): { field: CredentialField; help: string }[] {
  const flags = new Map<string, { field: CredentialField; uses: [string, string][] }>();
  for (const descriptor of accountTypeDescriptors()) {
    for (const field of descriptor.credentialFields) {
      const use: [string, string] = [descriptor.type, field.description];
      const entry = flags.get(field.name);
      if (entry === undefined) flags.set(field.name, { field, uses: [use] });
      else entry.uses.push(use);
    }
  }
  return [...flags.values()].map(({ field, uses }) => {
    const described = new Set(uses.map(([, description]) => description));
    const help =
      described.size === 1
        ? `${uses.map(([type]) => type).join(' / ')}: ${field.description}`
        : uses.map(([type, description]) => `${type}: ${description}`).join('; ');
    return { field, help };
  });
}

function flagPlaceholder(field: CredentialField): string {
  if (field.kind === 'timestamp') return '<date>';
  if (field.kind === 'enum') return `<${(field.values ?? []).join('|')}>`;
  if (field.kind === 'map') return '<pairs>';
  if (field.kind === 'object') return '<json>';
  return `<${flagOf(field.name).split('-').pop() ?? 'value'}>`;
}

class CliUsageError extends Error {}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function integer(value: string | undefined): number | undefined {
  // NaN is left for the DTO's @IsInt to report with the option's name.
  return value === undefined ? undefined : Number(value);
}

/** `a=b, c=d` → `{ a: 'b', c: 'd' }`, for a flag that takes pairs. */
function parsePairs(value: string, flag: string): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const pair of list(value)) {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) {
      throw new CliUsageError(`${flag} expects from=to pairs, got ${JSON.stringify(pair)}`);
    }
    mapping[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return mapping;
}

/** A flag that takes a JSON object (`--quirks '{"tools":false}'`). */
function parseJsonFlag(value: string, flag: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new CliUsageError(`${flag} expects a JSON object, e.g. '{"tools": false}'`);
  }
}

/**
 * Credentials from stdin as JSON: the account's credentials object, or Claude Code's
 * `.credentials.json` (`{ "claudeAiOauth": { accessToken, refreshToken, expiresAt, ... } }`).
 */
function parseCredentialsJson(text: string): {
  credentials: Record<string, unknown>;
  subscription?: Record<string, unknown>;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliUsageError('--credentials-stdin expects JSON on stdin');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliUsageError('--credentials-stdin expects a JSON object on stdin');
  }
  const oauth = (parsed as { claudeAiOauth?: unknown }).claudeAiOauth;
  if (typeof oauth !== 'object' || oauth === null) {
    return { credentials: parsed as Record<string, unknown> };
  }
  const { accessToken, refreshToken, expiresAt, scopes, subscriptionType } = oauth as Record<
    string,
    unknown
  >;
  const subscription: Record<string, unknown> = {};
  if (typeof subscriptionType === 'string') subscription.plan = subscriptionType;
  if (Array.isArray(scopes)) subscription.scopes = scopes;
  return {
    credentials: { accessToken, refreshToken, expiresAt },
    ...(Object.keys(subscription).length > 0 ? { subscription } : {}),
  };
}

/** Turns `accounts add` options (and what was read from stdin) into the create input. */
export function buildCreateInput(options: AddAccountOptions, stdin?: string): CreateAccountInput {
  const descriptor = findDescriptor(options.type);
  if (descriptor === undefined) {
    throw new CliUsageError(`--type must be one of ${ACCOUNT_TYPES.join(', ')}`);
  }
  const type = descriptor.type;
  if (options.models !== undefined && options.modelMap !== undefined) {
    throw new CliUsageError('use either --models or --model-map, not both');
  }
  if (options.apiKeyStdin === true && options.credentialsStdin === true) {
    throw new CliUsageError('use either --api-key-stdin or --credentials-stdin, not both');
  }
  const fields = descriptor.credentialFields;
  const takesStdinField = fields.some((field) => field.name === STDIN_FIELD);
  if (options.apiKeyStdin === true && !takesStdinField) {
    throw new CliUsageError(`${type} accounts have no API key: --api-key-stdin does not apply`);
  }

  let credentials: Record<string, unknown> = {};
  let subscription: Record<string, unknown> | undefined;
  if (options.credentialsStdin === true) {
    ({ credentials, subscription } = parseCredentialsJson(stdin ?? ''));
  }
  // Credential flags given go in (over stdin's); a flag of another type is refused by this
  // type's validation, which names the fields it accepts.
  for (const { field } of credentialFlags()) {
    const value = options[field.name];
    if (value === undefined) continue;
    // A map field comes as `model=deployment,…` pairs on the command line, an object as JSON.
    credentials[field.name] =
      field.kind === 'map' && typeof value === 'string'
        ? parsePairs(value, flagOf(field.name))
        : field.kind === 'object' && typeof value === 'string'
          ? parseJsonFlag(value, flagOf(field.name))
          : value;
  }
  if (options.apiKeyStdin === true) credentials[STDIN_FIELD] = stdin?.trim();
  const missing = fields.filter((field) => field.required && !credentials[field.name]);
  if (options.credentialsStdin !== true && missing.length > 0) {
    const ways = [
      ...missing.flatMap((field) =>
        field.name === STDIN_FIELD ? [flagOf(field.name), '--api-key-stdin'] : [flagOf(field.name)],
      ),
      '--credentials-stdin',
    ];
    const optional = fields.filter((field) => !field.required).map((f) => flagOf(f.name));
    throw new CliUsageError(
      `${type} accounts need ${ways.slice(0, -1).join(', ')} or ${ways[ways.length - 1]}` +
        (optional.length > 0 ? ` (optional: ${optional.join(', ')})` : ''),
    );
  }

  const input: CreateAccountInput = { name: options.name, type, credentials };
  if (subscription !== undefined) input.subscription = subscription;
  if (options.baseUrl !== undefined) input.baseUrl = options.baseUrl;
  if (options.priority !== undefined) input.priority = integer(options.priority);
  if (options.weight !== undefined) input.weight = integer(options.weight);
  if (options.concurrency !== undefined) input.concurrencyLimit = integer(options.concurrency);
  if (options.models !== undefined) input.models = list(options.models);
  if (options.modelMap !== undefined) input.models = parsePairs(options.modelMap, '--model-map');
  if (options.proxy !== undefined) input.proxy = options.proxy;
  if (options.disabled === true) input.enabled = false;
  return input;
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}).map((message) =>
      parent === '' ? message : `${parent}.${message}`,
    ),
    ...flatten(error.children ?? [], error.property),
  ]);
}

/** The same rules the admin API applies through its ValidationPipe. */
async function validateCreate(input: CreateAccountInput): Promise<CreateAccountDto> {
  const dto = plainToInstance(CreateAccountDto, input);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new CliUsageError(flatten(errors).join('; '));
  return dto;
}

async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`Paste the ${what}, then press Ctrl-D:\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function write(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function describeCredentials(account: AccountResponseDto): string {
  const c = account.credentials;
  if (!c.readable) return 'cannot be decrypted';
  if ('accessTokenHint' in c) {
    return `token ${c.accessTokenHint}${c.hasRefreshToken ? ' (+refresh)' : ''}${
      'accountId' in c ? `, account ${c.accountId}` : ''
    }${c.expiresAt === null ? '' : `, expires ${c.expiresAt}`}`;
  }
  if ('entraTokenHint' in c && c.entraTokenHint !== null) {
    return `Entra ID token ${c.entraTokenHint}`;
  }
  if ('apiKeyHint' in c && c.apiKeyHint !== null) return `key ${c.apiKeyHint}`;
  return '';
}

/** `5h 42%, weekly 13%`; `-` when the account's responses reported no window. */
function describeUsage(account: AccountResponseDto): string {
  if (account.usageWindows.length === 0) return '-';
  return account.usageWindows.map((w) => `${w.name} ${w.usedPercent}%`).join(', ');
}

function printAccount(account: AccountResponseDto): void {
  write(`${account.name} (${account.id})`);
  write(`  type:        ${account.type}`);
  write(
    `  base URL:    ${account.effectiveBaseUrl}${account.baseUrl === null ? ' (default)' : ''}`,
  );
  write(`  credentials: ${describeCredentials(account)}`);
  write(`  priority:    ${account.priority}   weight: ${account.weight}`);
  if (account.proxy !== null) write(`  proxy:       ${account.proxy}`);
  if (account.models !== null) write(`  models:      ${JSON.stringify(account.models)}`);
  if (account.concurrencyLimit !== null) write(`  concurrency: ${account.concurrencyLimit}`);
  write(`  enabled:     ${account.enabled ? 'yes' : 'no'}`);
  write(`  routable:    ${account.routable ? 'yes' : `no: ${account.notRoutableBecause ?? ''}`}`);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

/** Prints the failure and sets exit code 1 (the app context still closes cleanly). */
function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`switchyard accounts: ${message}\n`);
  process.exitCode = 1;
}

/**
 * `switchyard accounts add|list|enable|disable|test`: everything a headless setup needs without
 * the admin UI. Secrets can come from stdin (`--api-key-stdin`, `--credentials-stdin`) so they
 * stay out of shell history and the process list.
 */
export function registerAccountsCommands(
  program: Command,
  run: ContextRunner = defaultRunner,
): void {
  const accounts = program.command('accounts').description('upstream accounts');

  const add = accounts
    .command('add')
    .description('add an upstream account')
    .requiredOption('--name <name>', 'a unique name')
    .requiredOption('--type <type>', ACCOUNT_TYPES.join(' | '));
  for (const { field, help } of credentialFlags()) {
    add.option(`${flagOf(field.name)} ${flagPlaceholder(field)}`, help);
  }
  add
    .option('--api-key-stdin', 'read the API key from stdin')
    .option(
      '--credentials-stdin',
      'read credentials JSON from stdin (the credentials object, or a Claude Code .credentials.json)',
    )
    .option(
      '--base-url <url>',
      "upstream base URL (default: the type's; required for types without one: ccr, azure-openai)",
    )
    .option('--priority <n>', 'lower is preferred (default 50)')
    .option('--weight <n>', 'share among accounts of equal priority (default 1)')
    .option('--models <list>', 'comma-separated model names served (default: every model)')
    .option('--model-map <pairs>', 'served models renamed upstream: from=to,from=to')
    .option('--proxy <url>', 'http://, https:// or socks5:// proxy, with user:pass if needed')
    .option('--concurrency <n>', 'requests in flight at once (default: unlimited)')
    .option('--disabled', 'create the account disabled')
    .option('--json', 'print the account as JSON')
    .action(async (options: AddAccountOptions) => {
      try {
        const stdin =
          options.apiKeyStdin === true || options.credentialsStdin === true
            ? await readStdin(options.apiKeyStdin === true ? 'API key' : 'credentials JSON')
            : undefined;
        const dto = await validateCreate(buildCreateInput(options, stdin));
        const account = await run((context) =>
          cliAudited(context, { action: 'accounts.create', targetType: 'accounts' }, () =>
            context.get(AccountsService).create(dto),
          ),
        );
        if (options.json === true) write(JSON.stringify(account, null, 2));
        else {
          write('Account added:');
          printAccount(account);
        }
      } catch (error) {
        report(error);
      }
    });

  accounts
    .command('list')
    .description('list accounts with their health')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      try {
        const items = await run(async (context) => {
          const service = context.get(AccountsService);
          const all: AccountResponseDto[] = [];
          for (let page = 1; ; page += 1) {
            const result = await service.list({ page, pageSize: MAX_PAGE_SIZE });
            all.push(...result.items);
            if (all.length >= result.total || result.items.length === 0) return all;
          }
        });
        if (options.json === true) {
          write(JSON.stringify(items, null, 2));
          return;
        }
        if (items.length === 0) {
          write('No accounts yet. Add one with `switchyard accounts add`.');
          return;
        }
        write(
          table([
            ['ID', 'NAME', 'TYPE', 'PRIORITY', 'WEIGHT', 'ENABLED', 'USAGE', 'HEALTH'],
            ...items.map((a) => [
              a.id,
              a.name,
              a.type,
              String(a.priority),
              String(a.weight),
              a.enabled ? 'yes' : 'no',
              describeUsage(a),
              a.routable ? 'ok' : (a.notRoutableBecause ?? 'not routable'),
            ]),
          ]),
        );
      } catch (error) {
        report(error);
      }
    });

  for (const [command, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    accounts
      .command(`${command} <account>`)
      .description(`${command} an account (by id or name)`)
      .action(async (idOrName: string) => {
        try {
          const account = await run(async (context) => {
            const service = context.get(AccountsService);
            const record = await service.resolve(idOrName);
            return cliAudited(
              context,
              { action: `accounts.${command}`, targetType: 'accounts', targetId: record.id },
              () => service.setEnabled(record.id, enabled),
            );
          });
          write(`Account ${account.name} (${account.id}) ${enabled ? 'enabled' : 'disabled'}.`);
        } catch (error) {
          report(error);
        }
      });
  }

  accounts
    .command('test <account>')
    .description('send one small real request through an account (by id or name)')
    .option('--json', 'print the result as JSON')
    .action(async (idOrName: string, options: { json?: boolean }) => {
      try {
        const result = await run(async (context) => {
          const record = await context.get(AccountsService).resolve(idOrName);
          return cliAudited(
            context,
            { action: 'accounts.test', targetType: 'accounts', targetId: record.id },
            () => context.get(AccountTestService).test(record.id),
          );
        });
        if (options.json === true) write(JSON.stringify(result, null, 2));
        else {
          write(
            `${result.ok ? 'ok  ' : 'FAIL'}  ${result.status ?? 'no response'}  ` +
              `${result.latencyMs} ms  ${result.model ?? ''}  ${result.message}`.trimEnd(),
          );
        }
        if (!result.ok) process.exitCode = 1;
      } catch (error) {
        report(error);
      }
    });

  registerClaudeAccountCommands(accounts, run);
  registerCodexAccountCommands(accounts, run);
  registerGoogleAccountCommands(accounts, run);
}
