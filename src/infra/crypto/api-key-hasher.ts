import { createHash, createHmac } from 'node:crypto';

/**
 * API keys are stored only as SHA-256 digests (HMAC-SHA-256 when a pepper is configured). This is
 * independent of the encryption key, so rotating one never invalidates the other.
 */
export class ApiKeyHasher {
  constructor(private readonly pepper?: string) {}

  digest(secret: string): string {
    return this.pepper === undefined
      ? createHash('sha256').update(secret, 'utf8').digest('hex')
      : createHmac('sha256', this.pepper).update(secret, 'utf8').digest('hex');
  }
}
