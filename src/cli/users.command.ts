import type { INestApplicationContext } from '@nestjs/common';
import { InvalidArgumentError, type Command } from 'commander';
import { isRole, ROLES, type Role } from 'src/common/auth/route-access.decorator';
import type { UserResponseDto } from 'src/modules/users/dto/user.dto';
import { CreateUserRequestDto } from 'src/modules/users/dto/user.dto';
import { UsersService } from 'src/modules/users/users.service';
import { withAppContext } from './cli-context';
import { validated } from './cli-validation';

/** How the commands reach the application and the terminal; tests pass their own. */
export interface UsersCommandDeps {
  withContext: <T>(fn: (context: INestApplicationContext) => Promise<T>) => Promise<T>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

interface ListOptions {
  role?: string;
  enabled?: boolean;
  search?: string;
  page?: number;
  pageSize?: number;
  json?: boolean;
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function role(value: string): Role {
  if (!isRole(value)) throw new InvalidArgumentError(`expected one of: ${ROLES.join(', ')}`);
  return value;
}

function password(value: string): string {
  if (value.length < 8 || value.length > 256) {
    throw new InvalidArgumentError('a password is 8 to 256 characters');
  }
  return value;
}

function table(users: UserResponseDto[]): string {
  const rows = [
    ['USERNAME', 'ROLE', 'STATUS', 'MAX KEYS', 'LAST LOGIN', 'ID'],
    ...users.map((u) => [
      u.username,
      u.role,
      u.disabled ? 'disabled' : 'enabled',
      String(u.caps.maxKeys),
      u.lastLoginAt ?? 'never',
      u.id,
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
 * `switchyard users …`: list, create, set-role, disable, enable, reset-password, by username.
 * The same rules as the admin API (the last enabled admin stays; a disabled user's sessions and
 * keys stop at once, on running instances too, through the configured coordinator).
 */
export function registerUsersCommands(
  program: Command,
  deps: Partial<UsersCommandDeps> = {},
): Command {
  const io: UsersCommandDeps = {
    withContext: deps.withContext ?? ((fn) => withAppContext((context) => fn(context))),
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
  };
  const print = (text: string): void => void io.stdout.write(`${text}\n`);
  const run =
    <A extends unknown[]>(action: (users: UsersService, ...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await io.withContext((context) => action(context.get(UsersService), ...args));
      } catch (error) {
        io.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    };
  const idOf = async (users: UsersService, username: string): Promise<string> => {
    const user = await users.findByUsername(username);
    if (user === undefined) throw new Error(`no user named ${JSON.stringify(username)}`);
    return user.id;
  };

  const users = program.command('users').description('users, their roles and self-service caps');

  users
    .command('list')
    .description('list users')
    .option('--role <role>', `only this role: ${ROLES.join(' | ')}`, role)
    .option('--enabled', 'enabled users only')
    .option('--no-enabled', 'disabled users only')
    .option('--search <text>', 'in the username')
    .option('--page <n>', 'page (default 1)', integer)
    .option('--page-size <n>', 'users per page, at most 200 (default 20)', integer)
    .option('--json', 'print JSON')
    .action(
      run(async (service, options: ListOptions) => {
        const result = await service.list({
          page: options.page ?? 1,
          pageSize: Math.min(options.pageSize ?? 20, 200),
          role: options.role as Role | undefined,
          disabled: options.enabled === undefined ? undefined : !options.enabled,
          search: options.search,
          sortBy: 'username',
          sortOrder: 'asc',
        });
        if (options.json === true) {
          print(JSON.stringify(result, null, 2));
          return;
        }
        if (result.items.length > 0) print(table(result.items));
        const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
        print(`${result.total} user(s), page ${result.page} of ${pages}`);
      }),
    );

  users
    .command('create <username>')
    .description('create a local user (the password is generated and printed once when omitted)')
    .requiredOption('--role <role>', ROLES.join(' | '), role)
    .option('-p, --password <password>', 'the password (8 to 256 characters)', password)
    .option('--max-keys <n>', 'keys the user may hold (default 5)', integer)
    .option('--json', 'print JSON')
    .action(
      run(
        async (
          service,
          username: string,
          options: { role: Role; password?: string; maxKeys?: number; json?: boolean },
        ) => {
          const input = await validated(CreateUserRequestDto, {
            username,
            role: options.role,
            ...(options.password === undefined ? {} : { password: options.password }),
            ...(options.maxKeys === undefined ? {} : { caps: { maxKeys: options.maxKeys } }),
          });
          const created = await service.create(input);
          if (options.json === true) {
            print(JSON.stringify(created, null, 2));
            return;
          }
          print(`Created ${created.username} (${created.role}, ${created.id})`);
          if (created.generatedPassword !== undefined) {
            print(`Password: ${created.generatedPassword}\n(shown once: store it now)`);
          }
        },
      ),
    );

  users
    .command('set-role <username> <role>')
    .description(`change a user's role (${ROLES.join(' | ')}); applies to their next request`)
    .action(
      run(async (service, username: string, value: string) => {
        const updated = await service.update(await idOf(service, username), { role: role(value) });
        print(`${updated.username} is now ${updated.role}`);
      }),
    );

  for (const [name, disabled, description] of [
    ['disable', true, 'disable a user: their sessions and keys stop at once'],
    ['enable', false, 'enable a user: their keys that were enabled work again'],
  ] as const) {
    users
      .command(`${name} <username>`)
      .description(description)
      .action(
        run(async (service, username: string) => {
          const updated = await service.update(await idOf(service, username), { disabled });
          print(`${updated.username} is ${updated.disabled ? 'disabled' : 'enabled'}`);
        }),
      );
  }

  users
    .command('reset-password <username>')
    .description('set a new password (generated and printed once when omitted); ends sessions')
    .option('-p, --password <password>', 'the new password (8 to 256 characters)', password)
    .action(
      run(async (service, username: string, options: { password?: string }) => {
        const reset = await service.resetPasswordOf(
          await idOf(service, username),
          options.password,
        );
        print(
          reset.generatedPassword === undefined
            ? `Password for ${username} updated.`
            : `New password for ${username}: ${reset.generatedPassword}\n(shown once: store it now)`,
        );
      }),
    );

  return users;
}
