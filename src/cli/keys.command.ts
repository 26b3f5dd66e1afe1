import type { INestApplicationContext } from '@nestjs/common';
import { InvalidArgumentError, type Command } from 'commander';
import { ApiKeysService } from 'src/modules/api-keys/api-keys.service';
import type {
  ApiKeyResponseDto,
  CreatedApiKeyResponseDto,
} from 'src/modules/api-keys/dto/api-key-response.dto';
import {
  BatchCreateApiKeysRequestDto,
  CreateApiKeyRequestDto,
} from 'src/modules/api-keys/dto/create-api-key.dto';
import { ListApiKeysQueryDto } from 'src/modules/api-keys/dto/list-api-keys.dto';
import { cliAudited, type CliAuditTarget } from './cli-audit';
import { withAppContext } from './cli-context';
import { validated } from './cli-validation';

/** How the commands reach the application and the terminal; tests pass their own. */
export interface KeysCommandDeps {
  withContext: <T>(fn: (context: INestApplicationContext) => Promise<T>) => Promise<T>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

interface CreateOptions {
  name: string;
  description?: string;
  owner?: string;
  tag?: string[];
  expiresAt?: string;
  expiresAfterDays?: number;
  platforms?: string[];
  allowModels?: string[];
  denyModels?: string[];
  clients?: string[];
  windowMinutes?: number;
  limitWindowRequests?: number;
  limitWindowTokens?: number;
  limitWindowCost?: number;
  limitConcurrency?: number;
  limitDailyCost?: number;
  limitWeeklyCost?: number;
  weeklyResetDay?: number;
  weeklyResetHour?: number;
  limitTotalCost?: number;
  priceMultiplier?: number;
  reservationPolicy?: string;
  disabled?: boolean;
  count?: number;
  json?: boolean;
}

interface ListOptions {
  search?: string;
  tag?: string;
  owner?: string;
  enabled?: boolean;
  deleted?: string;
  page?: number;
  pageSize?: number;
  sort?: string;
  order?: string;
  json?: boolean;
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function decimal(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError('expected a non-negative number');
  }
  return n;
}

/** Dollars on the command line, micro-dollars in the API. */
function usdToMicros(usd: number | undefined): number | undefined {
  return usd === undefined ? undefined : Math.round(usd * 1_000_000);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function createBody(options: CreateOptions): Record<string, unknown> {
  if (options.allowModels !== undefined && options.denyModels !== undefined) {
    throw new Error('use either --allow-models or --deny-models, not both');
  }
  const patterns = options.allowModels ?? options.denyModels;
  const limits = dropUndefined({
    windowMinutes: options.windowMinutes,
    windowRequests: options.limitWindowRequests,
    windowTokens: options.limitWindowTokens,
    windowCostMicros: usdToMicros(options.limitWindowCost),
    concurrency: options.limitConcurrency,
    dailyCostMicros: usdToMicros(options.limitDailyCost),
    weeklyCostMicros: usdToMicros(options.limitWeeklyCost),
    weeklyResetDay: options.weeklyResetDay,
    weeklyResetHour: options.weeklyResetHour,
    totalCostMicros: usdToMicros(options.limitTotalCost),
  });
  return dropUndefined({
    description: options.description,
    owner: options.owner,
    tags: options.tag,
    enabled: options.disabled === true ? false : undefined,
    expiresAt: options.expiresAt,
    expiresAfterDays: options.expiresAfterDays,
    permissions: options.platforms,
    modelPolicy:
      patterns === undefined
        ? undefined
        : { mode: options.allowModels !== undefined ? 'allow' : 'deny', patterns },
    allowedClients: options.clients,
    limits: Object.keys(limits).length > 0 ? limits : undefined,
    priceMultiplier: options.priceMultiplier,
    reservationPolicy: options.reservationPolicy,
  });
}

function describeKey(key: ApiKeyResponseDto): string {
  return `${key.name} (${key.id}, ${key.keyHint}, ${key.status})`;
}

function table(keys: ApiKeyResponseDto[]): string {
  const rows = [
    ['ID', 'NAME', 'KEY', 'STATUS', 'OWNER', 'LAST USED'],
    ...keys.map((k) => [
      k.id,
      k.name,
      k.keyHint,
      k.status,
      k.owner ?? '-',
      k.lastUsedAt ?? 'never',
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * `switchyard keys …`: create (one or a batch; the secret is printed once), list, show, disable,
 * enable, rotate, delete (soft) and restore. Each runs against the configured database and
 * coordinator, so running instances drop a changed key from their caches at once.
 */
export function registerKeysCommands(
  program: Command,
  deps: Partial<KeysCommandDeps> = {},
): Command {
  const io: KeysCommandDeps = {
    withContext: deps.withContext ?? ((fn) => withAppContext((context) => fn(context))),
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
  };
  const print = (text: string): void => void io.stdout.write(`${text}\n`);
  /** Runs a mutation and writes its audit row (actor `cli`). */
  type Audit = <T>(target: CliAuditTarget<T>, fn: () => Promise<T>) => Promise<T>;
  const run =
    <A extends unknown[]>(
      action: (keys: ApiKeysService, audit: Audit, ...args: A) => Promise<void>,
    ) =>
    async (...args: A): Promise<void> => {
      try {
        await io.withContext((context) =>
          action(
            context.get(ApiKeysService),
            (target, fn) => cliAudited(context, target, fn),
            ...args,
          ),
        );
      } catch (error) {
        io.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    };
  const printCreated = (created: CreatedApiKeyResponseDto[], json: boolean | undefined): void => {
    if (json === true) {
      print(JSON.stringify(created.length === 1 ? created[0] : created, null, 2));
      return;
    }
    for (const key of created) print(`Created ${describeKey(key)}\n  ${key.secret}`);
    print('Each secret is shown only this once: store it now.');
  };

  const keys = program.command('keys').description('Switchyard API keys');

  keys
    .command('create')
    .description('create a key (or --count keys) and print its secret once')
    .requiredOption('-n, --name <name>', 'name; with --count a pattern where {n} is the number')
    .option('--description <text>', 'description')
    .option('--owner <owner>', 'owner (a person or team)')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--expires-at <date>', 'fixed expiry, ISO 8601 (2025-12-31T23:59:59Z)')
    .option('--expires-after-days <days>', 'expire N days after first use', integer)
    .option('--platforms <list>', 'comma-separated: claude,gemini,openai,droid (default all)', list)
    .option('--allow-models <list>', 'only these models; * is a wildcard', list)
    .option('--deny-models <list>', 'every model but these; * is a wildcard', list)
    .option('--clients <list>', 'only these clients: claude-code,gemini-cli,codex-cli,droid', list)
    .option('--window-minutes <n>', 'length of the rate-limit window', integer)
    .option('--limit-window-requests <n>', 'requests per window', integer)
    .option('--limit-window-tokens <n>', 'tokens per window', integer)
    .option('--limit-window-cost <usd>', 'dollars per window', decimal)
    .option('--limit-concurrency <n>', 'requests in flight at once', integer)
    .option('--limit-daily-cost <usd>', 'dollars per UTC day', decimal)
    .option('--limit-weekly-cost <usd>', 'dollars per week', decimal)
    .option('--weekly-reset-day <0-6>', 'day the week starts, 0 = Sunday (default 1)', integer)
    .option('--weekly-reset-hour <0-23>', 'UTC hour the week starts (default 0)', integer)
    .option('--limit-total-cost <usd>', 'dollars in total', decimal)
    .option('--price-multiplier <x>', 'multiplies cost charged to the budgets', decimal)
    .option(
      '--reservation-policy <policy>',
      'strict (default: reserve the worst case, never pass a cap) | estimate (reserve what ' +
        'recent requests cost; may pass a cap by one worst case per request in flight)',
    )
    .option('--disabled', 'create it disabled')
    .option('--count <n>', 'create this many keys with the same settings', integer)
    .option('--json', 'print JSON')
    .action(
      run(async (service, audit, options: CreateOptions) => {
        const body = createBody(options);
        if (options.count === undefined) {
          const input = await validated(CreateApiKeyRequestDto, { ...body, name: options.name });
          const created = await audit({ action: 'keys.create', targetType: 'keys' }, () =>
            service.create(input),
          );
          printCreated([created], options.json);
          return;
        }
        const input = await validated(BatchCreateApiKeysRequestDto, {
          ...body,
          count: options.count,
          namePattern: options.name,
        });
        const created = await audit(
          {
            action: 'keys.create_batch',
            targetType: 'keys',
            after: (keys: CreatedApiKeyResponseDto[]) => ({ items: keys }),
          },
          () => service.createBatch(input),
        );
        printCreated(created, options.json);
      }),
    );

  keys
    .command('list')
    .description('list keys (deleted ones only with --deleted)')
    .option('--search <text>', 'in name, description and owner')
    .option('--tag <tag>', 'with this tag')
    .option('--owner <owner>', 'of this owner')
    .option('--enabled', 'enabled keys only')
    .option('--no-enabled', 'disabled keys only')
    .option('--deleted <mode>', 'include | only')
    .option('--page <n>', 'page (default 1)', integer)
    .option('--page-size <n>', 'keys per page, at most 200 (default 20)', integer)
    .option('--sort <field>', 'name | createdAt | lastUsedAt | expiresAt')
    .option('--order <order>', 'asc | desc')
    .option('--json', 'print JSON')
    .action(
      run(async (service, _audit, options: ListOptions) => {
        const query = await validated(
          ListApiKeysQueryDto,
          dropUndefined({
            search: options.search,
            tag: options.tag,
            owner: options.owner,
            enabled: options.enabled,
            deleted: options.deleted,
            page: options.page,
            pageSize: options.pageSize,
            sortBy: options.sort,
            sortOrder: options.order,
          }),
        );
        const result = await service.list(query);
        if (options.json === true) {
          print(JSON.stringify(result, null, 2));
          return;
        }
        if (result.items.length > 0) print(table(result.items));
        const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
        print(`${result.total} key(s), page ${result.page} of ${pages}`);
      }),
    );

  keys
    .command('show <id>')
    .description('show one key as JSON')
    .action(
      run(async (service, _audit, id: string) => {
        print(JSON.stringify(await service.get(id), null, 2));
      }),
    );

  // The audit action is the admin API's for the same change (`keys.remove` for delete).
  const simple: [
    string,
    string,
    (service: ApiKeysService, id: string) => Promise<ApiKeyResponseDto>,
    string,
    string,
  ][] = [
    [
      'disable',
      'disable a key (it stops working at once)',
      (s, id) => s.setEnabled(id, false),
      'Disabled',
      'keys.disable',
    ],
    ['enable', 'enable a key', (s, id) => s.setEnabled(id, true), 'Enabled', 'keys.enable'],
    [
      'delete',
      'soft-delete a key (restore brings it back)',
      (s, id) => s.remove(id),
      'Deleted',
      'keys.remove',
    ],
    ['restore', 'restore a deleted key', (s, id) => s.restore(id), 'Restored', 'keys.restore'],
  ];
  for (const [name, description, apply, done, action] of simple) {
    keys
      .command(`${name} <id>`)
      .description(description)
      .action(
        run(async (service, audit, id: string) => {
          const key = await audit({ action, targetType: 'keys', targetId: id }, () =>
            apply(service, id),
          );
          print(`${done} ${describeKey(key)}`);
        }),
      );
  }

  keys
    .command('rotate <id>')
    .description('replace the secret of a key (the old one stops working at once)')
    .option('--json', 'print JSON')
    .action(
      run(async (service, audit, id: string, options: { json?: boolean }) => {
        const rotated = await audit(
          { action: 'keys.rotate', targetType: 'keys', targetId: id },
          () => service.rotate(id),
        );
        printCreated([rotated], options.json);
      }),
    );

  return keys;
}
