import { Module } from '@nestjs/common';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { UsageStatsModule } from 'src/modules/usage/usage-stats.module';
import { MeController } from './me.controller';
import { PasswordHasher } from './password-hasher';
import { SelfServiceService } from './self-service.service';
import { UserSessionStateCache } from './user-session-state.cache';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/**
 * Users (local, bcrypt), their roles and caps, and self-service: a user's own keys (through
 * ApiKeysService, fitted to their caps) and those keys' usage (UsageStatsService).
 */
@Module({
  imports: [ApiKeysModule, UsageStatsModule],
  controllers: [UsersController, MeController],
  providers: [
    UsersRepository,
    UsersService,
    SelfServiceService,
    PasswordHasher,
    UserSessionStateCache,
  ],
  exports: [UsersService],
})
export class UsersModule {}
