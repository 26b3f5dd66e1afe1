import { coordinationKeys } from 'src/infra/coordination/coordination.keys';

/** Coordination keys of the credential refreshers, on top of the shared key builder. */
export const oauthKeys = {
  /** One credential refresh per account across instances, whatever its type. */
  refreshLock: (accountId: string): string => coordinationKeys.lock(`oauth-refresh:${accountId}`),
  /** One run of a type's refresh-ahead job across instances (`job:claude-oauth-refresh`). */
  refreshJobLock: (accountType: string): string =>
    coordinationKeys.lock(`job:${accountType}-refresh`),
} as const;
