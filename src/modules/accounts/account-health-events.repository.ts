import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { AccountHealthEventsTable, Db } from 'src/infra/database/database.types';

export type AccountHealthEventRecord = AccountHealthEventsTable;

/** Each account's health transitions ("why is this account not routable"). */
@Injectable()
export class AccountHealthEventsRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async insert(records: AccountHealthEventRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.insertInto('account_health_events').values(records).execute();
  }

  /** Newest first. Ids are time-ordered, so they break ties between events of one millisecond. */
  async recent(accountId: string, limit: number): Promise<AccountHealthEventRecord[]> {
    return this.db
      .selectFrom('account_health_events')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** Keeps the newest `keep` events of an account and deletes the rest. */
  async trim(accountId: string, keep: number): Promise<void> {
    await this.db
      .deleteFrom('account_health_events')
      .where('account_id', '=', accountId)
      .where('id', 'not in', (eb) =>
        eb
          .selectFrom('account_health_events')
          .select('id')
          .where('account_id', '=', accountId)
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(keep),
      )
      .execute();
  }
}
