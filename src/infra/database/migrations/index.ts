import type { Kysely, Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-initial';
import * as m0002 from './0002-accounts';
import * as m0003 from './0003-api-keys';
import * as m0004 from './0004-usage';
import * as m0005 from './0005-auth';
import * as m0007 from './0007-budgets';
import * as m0008 from './0008-model-routes';
import * as m0009 from './0009-routing-rules';
import * as m0010 from './0010-users';
import * as m0011 from './0011-audit-log';
import * as m0013 from './0013-ldap-users';
import * as m0014 from './0014-outbox';
import * as m0015 from './0015-notifications';

/**
 * Every migration, in order. Forward-only: there are no `down` steps, and a migration never drops
 * or rewrites data another version could still need. Add new files; never edit a shipped one.
 */
const MIGRATIONS: Record<string, { up(db: Kysely<unknown>): Promise<void> }> = {
  '0001-initial': m0001,
  '0002-accounts': m0002,
  '0003-api-keys': m0003,
  '0004-usage': m0004,
  '0005-auth': m0005,
  '0007-budgets': m0007,
  '0008-model-routes': m0008,
  '0009-routing-rules': m0009,
  '0010-users': m0010,
  '0011-audit-log': m0011,
  '0013-ldap-users': m0013,
  '0014-outbox': m0014,
  '0015-notifications': m0015,
};

export class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export const MIGRATION_NAMES = Object.keys(MIGRATIONS);
