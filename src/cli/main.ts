import 'reflect-metadata';
import { Command } from 'commander';
import { installSignalHandlers, startServer } from 'src/bootstrap';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigValidationError } from 'src/config/config.loader';
import { UsersService } from 'src/modules/users/users.service';
import { cliAudited } from './cli-audit';
import { withAppContext } from './cli-context';
import { runDoctor } from './doctor.command';
import { registerAccountsCommands } from './accounts.command';
import { registerKeysCommands } from './keys.command';
import { registerSecretsCommands } from './secrets.command';
import { registerSettingsCommands } from './settings.command';
import { registerUsersCommands } from './users.command';

function fail(error: unknown): never {
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`${error.message}\nSee .env.example and docs/configuration.md.\n`);
  } else {
    process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}

export function buildProgram(): Command {
  const program = new Command('switchyard')
    .description('Switchyard: a multi-account LLM API relay')
    .showHelpAfterError();

  program
    .command('start')
    .description('start the server (configuration from the environment)')
    .action(async () => {
      await startServer(process.env)
        .then(installSignalHandlers)
        .catch((error: unknown) => {
          if (!(error instanceof ConfigValidationError)) {
            appLogger.fatal({ err: error }, 'switchyard failed to start');
          }
          fail(error);
        });
    });

  program
    .command('doctor')
    .description('check configuration, database, Redis and the data directory')
    .action(async () => {
      process.exitCode = await runDoctor(process.env);
    });

  const admin = program.command('admin').description('admin users');
  admin
    .command('reset-password')
    .description('set a new admin password (generated and printed when --password is omitted)')
    .option('-u, --username <name>', 'admin username (default ADMIN_USERNAME or admin)')
    .option('-p, --password <password>', 'the new password (at least 8 characters)')
    .action(async (options: { username?: string; password?: string }) => {
      if (options.password !== undefined && options.password.length < 8) {
        fail(new Error('--password must be at least 8 characters'));
      }
      await withAppContext(async (context, config) => {
        const username = options.username ?? config.env.ADMIN_USERNAME;
        // The row names the user, never the password (the result is not stored).
        const password = await cliAudited(
          context,
          {
            action: 'users.reset_password',
            targetType: 'users',
            targetId: username,
            after: () => ({ username, passwordChanged: true }),
          },
          () => context.get(UsersService).resetPassword(username, options.password),
        );
        process.stdout.write(
          options.password === undefined
            ? `New password for ${username}: ${password}\n(shown once: store it now)\n`
            : `Password for ${username} updated.\n`,
        );
      }).catch(fail);
    });

  registerAccountsCommands(program);
  registerKeysCommands(program);
  registerSecretsCommands(program);
  registerSettingsCommands(program);
  registerUsersCommands(program);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch(fail);
}
