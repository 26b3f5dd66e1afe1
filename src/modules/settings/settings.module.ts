import { Global, Module } from '@nestjs/common';
import { RuntimeSettings } from './runtime-settings';
import { SettingsController } from './settings.controller';
import { SettingsRepository } from './settings.repository';
import { SettingsService } from './settings.service';

/**
 * Runtime settings: values operators change without a restart (failover attempts, sticky TTL,
 * cooldowns, routing defaults, default key limits, retention), stored over the environment's
 * defaults and held in memory on every instance. Global, like configuration: any feature injects
 * RuntimeSettings and reads a value per use. Needs the global Config, Database and Coordination
 * modules; its values load before other modules initialise (global modules start first).
 */
@Global()
@Module({
  controllers: [SettingsController],
  providers: [
    SettingsRepository,
    SettingsService,
    { provide: RuntimeSettings, useExisting: SettingsService },
  ],
  exports: [SettingsService, RuntimeSettings],
})
export class SettingsModule {}
