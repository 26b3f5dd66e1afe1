import type { INestApplicationContext } from '@nestjs/common';
import type { Command } from 'commander';
import type {
  SettingResponseDto,
  SettingsUpdateResponseDto,
} from 'src/modules/settings/dto/settings.dto';
import { SettingsService } from 'src/modules/settings/settings.service';
import { withAppContext } from './cli-context';

/** How the commands reach the application and the terminal; tests pass their own. */
export interface SettingsCommandDeps {
  withContext: <T>(fn: (context: INestApplicationContext) => Promise<T>) => Promise<T>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * A value typed on the command line: JSON when it parses (`5`, `true`, `{"concurrency":4}`),
 * else the text itself, which the setting's check then refuses with its own message.
 */
export function parseCliValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

function table(items: SettingResponseDto[]): string {
  const rows = [
    ['KEY', 'VALUE', 'SOURCE', 'DEFAULT'],
    ...items.map((s) => [s.key, show(s.value), s.source, show(s.default)]),
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

function describeChanges(result: SettingsUpdateResponseDto): string {
  return result.changes
    .map((c) =>
      c.changed
        ? `${c.key}: ${show(c.previous)} (${c.previousSource}) -> ${show(c.value)} (${c.source})`
        : `${c.key}: unchanged, ${show(c.value)} (${c.source})`,
    )
    .join('\n');
}

/**
 * `switchyard settings …`: list, get, set and reset the runtime settings. Each runs against the
 * configured database and coordinator, so running instances apply a change at once.
 */
export function registerSettingsCommands(
  program: Command,
  deps: Partial<SettingsCommandDeps> = {},
): Command {
  const io: SettingsCommandDeps = {
    withContext: deps.withContext ?? ((fn) => withAppContext((context) => fn(context))),
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
  };
  const print = (text: string): void => void io.stdout.write(`${text}\n`);
  const run =
    <A extends unknown[]>(action: (settings: SettingsService, ...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await io.withContext((context) => action(context.get(SettingsService), ...args));
      } catch (error) {
        io.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    };

  const settings = program
    .command('settings')
    .description('runtime settings (applied by running instances without a restart)');

  settings
    .command('list')
    .description('every setting: value, source (env or database) and default')
    .option('--json', 'print JSON')
    .action(
      run(async (service, options: { json?: boolean }) => {
        const { items } = service.list();
        print(options.json === true ? JSON.stringify(items, null, 2) : table(items));
      }),
    );

  settings
    .command('get <key>')
    .description('one setting as JSON: value, default, source, bounds, description')
    .action(
      run(async (service, key: string) => {
        print(JSON.stringify(service.show(key), null, 2));
      }),
    );

  settings
    .command('set <key> <value> [more...]')
    .description(
      'store values: set relayMaxAttempts 5 [stickyContentHash true ...]; JSON values ' +
        '(apiKeyDefaultLimits \'{"concurrency":4}\'); all or nothing',
    )
    .action(
      run(async (service, key: string, value: string, more: string[]) => {
        if (more.length % 2 !== 0) throw new Error('give each further key a value');
        const values: Record<string, unknown> = { [key]: parseCliValue(value) };
        for (let i = 0; i < more.length; i += 2) values[more[i]] = parseCliValue(more[i + 1]);
        print(describeChanges(await service.update(values)));
      }),
    );

  settings
    .command('reset <key>')
    .description('remove the stored value: back to the environment default')
    .action(
      run(async (service, key: string) => {
        print(describeChanges(await service.reset(key)));
      }),
    );

  return settings;
}
