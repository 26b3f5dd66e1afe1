import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import { checkKey } from 'src/modules/api-keys/api-key-policy';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { concurrencyRejection } from 'src/modules/api-keys/admission.service';
import { InboundLimits } from 'src/modules/relay/inbound-limits';
import type { InboundDialect } from 'src/modules/relay/relay.types';
import type { RelayContext } from './relay-context';

/**
 * Stage 1: the caller's key, where its dialect puts it; the key's own state (enabled, expiry);
 * and the key's concurrency on this instance, taken before the body is read.
 */
@Injectable()
export class AuthenticateStage {
  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly inbound: InboundLimits,
  ) {}

  /** The key's policy; throws ApiKeyException when it is missing, unknown, disabled or expired. */
  async authenticate(dialect: InboundDialect, req: Request): Promise<ApiKeyPolicy> {
    const secret = dialect.extractKey(req);
    if (secret === null) {
      throw new ApiKeyException(
        KeyRejectionCode.MISSING_KEY,
        'missing API key (x-api-key or Authorization: Bearer)',
      );
    }
    const policy = await this.authenticator.authenticate(secret);
    if (policy === null) throw new ApiKeyException(KeyRejectionCode.INVALID_KEY, 'invalid API key');
    const rejection = checkKey(policy, Date.now());
    if (rejection !== null) throw ApiKeyException.fromRejection(rejection);
    return policy;
  }

  async run(ctx: RelayContext): Promise<void> {
    ctx.policy = await this.authenticate(ctx.dialect, ctx.req);
    ctx.checkClient();
    // A key's concurrency limit, applied on this instance before its body is read: a key can
    // have no more bodies in memory here than it may have requests anywhere. The lease taken at
    // admission stays the authority across instances.
    const concurrency = ctx.policy.limits.concurrency;
    if (concurrency !== undefined) {
      if (!this.inbound.tryEnterKey(ctx.policy.id, concurrency))
        throw concurrencyRejection(concurrency);
      ctx.slotKeyId = ctx.policy.id;
    }
  }
}
