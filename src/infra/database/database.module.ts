import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { sql } from 'kysely';
import { ConfigService } from 'src/config/config.service';
import { appLogger } from 'src/common/logging/app-logger';
import { createDatabase, migrateToLatest } from './database.factory';
import type { Db } from './database.types';

export const DATABASE = Symbol('DATABASE');

/** Injects the Kysely instance: `@InjectDb() private readonly db: Db`. */
export const InjectDb = (): PropertyDecorator & ParameterDecorator => Inject(DATABASE);

@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@InjectDb() private readonly db: Db) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}

/** Round trip to the database; used by readiness and `doctor`. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [ConfigService],
      // Migrations run before anything can read the schema; a failure stops startup.
      useFactory: async (config: ConfigService): Promise<Db> => {
        const db = createDatabase({
          engine: config.databaseEngine,
          sqliteFile: config.sqliteFile,
          url: config.env.DATABASE_URL,
          poolSize: config.env.DATABASE_POOL_SIZE,
        });
        try {
          const applied = await migrateToLatest(db);
          if (applied.length > 0) {
            appLogger.info(
              { applied, engine: config.databaseEngine },
              'database migrations applied',
            );
          }
        } catch (error) {
          await db.destroy();
          throw error;
        }
        return db;
      },
    },
    DatabaseLifecycle,
  ],
  exports: [DATABASE],
})
export class DatabaseModule {}
