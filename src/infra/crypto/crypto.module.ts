import { Global, Module } from '@nestjs/common';
import { ConfigService } from 'src/config/config.service';
import { ApiKeyHasher } from './api-key-hasher';
import { loadOrCreateLocalSecrets } from './local-secrets';
import { SecretBox } from './secret-box';

export const JWT_SECRET = Symbol('JWT_SECRET');

export interface ResolvedSecrets {
  encryptionKey: string;
  previousEncryptionKeys: string[];
  jwtSecret: string;
}

/**
 * Configured secrets win; outside production, missing ones come from the generated file in the
 * data directory. The generated key stays accepted for decryption after an operator sets
 * ENCRYPTION_KEY, so moving from the embedded default to explicit keys loses nothing.
 */
export function resolveSecrets(config: ConfigService): ResolvedSecrets {
  const { ENCRYPTION_KEY, ENCRYPTION_KEYS_PREVIOUS, JWT_SECRET: jwt } = config.env;
  const previous = (ENCRYPTION_KEYS_PREVIOUS ?? '').split(',').filter((s) => s.length > 0);
  if (config.isProduction) {
    // The config schema already refused production without both.
    return {
      encryptionKey: ENCRYPTION_KEY ?? '',
      previousEncryptionKeys: previous,
      jwtSecret: jwt ?? '',
    };
  }
  const local = loadOrCreateLocalSecrets(config.dataDir);
  return {
    encryptionKey: ENCRYPTION_KEY ?? local.encryptionKey,
    previousEncryptionKeys:
      ENCRYPTION_KEY === undefined ? previous : [...previous, local.encryptionKey],
    jwtSecret: jwt ?? local.jwtSecret,
  };
}

@Global()
@Module({
  providers: [
    {
      provide: 'RESOLVED_SECRETS',
      inject: [ConfigService],
      useFactory: resolveSecrets,
    },
    {
      provide: SecretBox,
      inject: ['RESOLVED_SECRETS'],
      useFactory: (s: ResolvedSecrets) => new SecretBox(s.encryptionKey, s.previousEncryptionKeys),
    },
    {
      provide: JWT_SECRET,
      inject: ['RESOLVED_SECRETS'],
      useFactory: (s: ResolvedSecrets) => s.jwtSecret,
    },
    {
      provide: ApiKeyHasher,
      inject: [ConfigService],
      useFactory: (c: ConfigService) => new ApiKeyHasher(c.env.API_KEY_PEPPER),
    },
  ],
  exports: [SecretBox, ApiKeyHasher, JWT_SECRET],
})
export class CryptoModule {}
