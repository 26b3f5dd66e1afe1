import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { UserSessionStateCache } from './user-session-state.cache';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  providers: [UsersRepository, UsersService, PasswordHasher, UserSessionStateCache],
  exports: [UsersService],
})
export class UsersModule {}
