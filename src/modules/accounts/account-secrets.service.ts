import { Injectable } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { AccountCodec } from './account-codec';
import { accountKeys } from './account-coordination.keys';
import { AccountsRepository, type AccountChanges, type AccountRecord } from './accounts.repository';

export interface UnreadableSecret {
  accountId: string;
  accountName: string;
  field: 'credentials' | 'proxy';
}

/** What one rotation did; counts are of sealed values (an account has one or two). */
export interface SecretsRotationReport {
  accounts: number;
  /** Re-encrypted under the current key, bound to their row and field. */
  rewritten: number;
  /** Already in the current format under the current key: left alone. */
  current: number;
  /** Cannot be decrypted with any configured key (or sealed for another row): left alone. */
  unreadable: UnreadableSecret[];
}

/** A row changed by someone else between our read and our write: read it again, a few times. */
const ATTEMPTS_PER_ACCOUNT = 5;

/**
 * `switchyard secrets rotate`: re-encrypts every stored secret under the current key in the
 * current format (HKDF key, bound to its row and field). Idempotent: a value already current is
 * not touched, so a second run rewrites nothing. Writes are compare-and-set, so a token refresh
 * or an admin edit racing the rotation wins and the value is read again.
 */
@Injectable()
export class AccountSecretsService {
  constructor(
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  async rotate(): Promise<SecretsRotationReport> {
    const report: SecretsRotationReport = { accounts: 0, rewritten: 0, current: 0, unreadable: [] };
    const ids = (await this.accountsRepository.listAll()).map((record) => record.id);
    let changed = false;
    for (const id of ids) {
      for (let attempt = 1; ; attempt += 1) {
        const record = await this.accountsRepository.findById(id);
        if (record === undefined) break; // deleted meanwhile: nothing to rotate
        const step = this.plan(record);
        if (step.changes === null) {
          this.tally(report, step);
          report.accounts += 1;
          break;
        }
        const applied = await this.accountsRepository.updateIfSealed(
          id,
          { credentials: record.credentials, proxy: record.proxy },
          step.changes,
        );
        if (applied) {
          this.tally(report, step);
          report.accounts += 1;
          changed = true;
          break;
        }
        if (attempt >= ATTEMPTS_PER_ACCOUNT) {
          throw new Error(
            `account ${id} kept changing during the rotation; run \`switchyard secrets rotate\` again`,
          );
        }
      }
    }
    if (changed) {
      // Servers sharing the coordinator reload now (the others within their safety reload).
      await this.coordinator
        .publish(accountKeys.channels.invalidation, '*')
        .catch((error: unknown) =>
          appLogger.warn({ err: error }, 'could not publish the secrets rotation'),
        );
    }
    return report;
  }

  private plan(record: AccountRecord): {
    changes: AccountChanges | null;
    rewritten: number;
    current: number;
    unreadable: UnreadableSecret[];
  } {
    const changes: AccountChanges = {};
    let rewritten = 0;
    let current = 0;
    const unreadable: UnreadableSecret[] = [];
    const unreadableField = (field: UnreadableSecret['field']): UnreadableSecret => ({
      accountId: record.id,
      accountName: record.name,
      field,
    });

    // Every value is opened, current ones too: a value moved from another row is reported.
    const credentials = this.codec.openCredentials(record);
    if (credentials === null) unreadable.push(unreadableField('credentials'));
    else if (!this.codec.needsRotation(record.credentials)) current += 1;
    else {
      changes.credentials = this.codec.sealCredentials(record.id, credentials);
      rewritten += 1;
    }
    if (record.proxy !== null) {
      const proxy = this.codec.openProxy(record);
      if (proxy === undefined || proxy === null) unreadable.push(unreadableField('proxy'));
      else if (!this.codec.needsRotation(record.proxy)) current += 1;
      else {
        changes.proxy = this.codec.sealProxy(record.id, proxy);
        rewritten += 1;
      }
    }
    // updated_at stays: the account's configuration did not change, only its encryption.
    return { changes: rewritten > 0 ? changes : null, rewritten, current, unreadable };
  }

  private tally(
    report: SecretsRotationReport,
    step: { rewritten: number; current: number; unreadable: UnreadableSecret[] },
  ): void {
    report.rewritten += step.rewritten;
    report.current += step.current;
    report.unreadable.push(...step.unreadable);
  }
}
