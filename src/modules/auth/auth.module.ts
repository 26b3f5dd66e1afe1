import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ConfigService } from 'src/config/config.service';
import { JWT_SECRET } from 'src/infra/crypto/crypto.module';
import { AuditModule } from 'src/modules/audit/audit.module';
import { UsersModule } from 'src/modules/users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LdapDirectory } from './ldap-directory';
import { LoginThrottle } from './login-throttle';
import { RouteAccessGuard } from './route-access.guard';

@Module({
  imports: [
    AuditModule,
    UsersModule,
    JwtModule.registerAsync({
      inject: [JWT_SECRET, ConfigService],
      useFactory: (secret: string, config: ConfigService) => ({
        secret,
        signOptions: { expiresIn: config.env.JWT_EXPIRES_IN as `${number}h` },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    LoginThrottle,
    LdapDirectory,
    { provide: APP_GUARD, useClass: RouteAccessGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
