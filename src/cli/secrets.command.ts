import type { Command } from 'commander';
import {
  AccountSecretsService,
  type SecretsRotationReport,
} from 'src/modules/accounts/account-secrets.service';
import type { ContextRunner } from './accounts.command';
import { cliAudited } from './cli-audit';
import { withAppContext } from './cli-context';

const defaultRunner: ContextRunner = (fn) => withAppContext((context) => fn(context));

function describeReport(report: SecretsRotationReport): string {
  const lines = [
    `accounts: ${report.accounts}`,
    `secrets re-encrypted: ${report.rewritten}`,
    `secrets already current: ${report.current}`,
    `secrets that cannot be decrypted: ${report.unreadable.length}`,
  ];
  for (const item of report.unreadable) {
    lines.push(`  ${item.accountName} (${item.accountId}): ${item.field}`);
  }
  if (report.unreadable.length > 0) {
    lines.push(
      'Those were left as they are: configure the key that sealed them in ENCRYPTION_KEYS_PREVIOUS ' +
        'and run again, or enter them again in the admin UI.',
    );
  }
  return lines.join('\n') + '\n';
}

/** `switchyard secrets ...`: maintenance of the secrets stored encrypted in the database. */
export function registerSecretsCommands(
  program: Command,
  run: ContextRunner = defaultRunner,
): void {
  const secrets = program.command('secrets').description('secrets stored encrypted at rest');

  secrets
    .command('rotate')
    .description(
      're-encrypt every stored secret under ENCRYPTION_KEY (earlier keys from ' +
        'ENCRYPTION_KEYS_PREVIOUS decrypt); safe to run again',
    )
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await run((context) =>
        cliAudited(context, { action: 'secrets.rotate', targetType: 'secrets' }, () =>
          context.get(AccountSecretsService).rotate(),
        ),
      );
      process.stdout.write(
        options.json === true ? JSON.stringify(report, null, 2) + '\n' : describeReport(report),
      );
      // Unreadable secrets need the operator: a script running the rotation must notice.
      if (report.unreadable.length > 0) process.exitCode = 1;
    });
}
