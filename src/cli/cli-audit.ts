import type { INestApplicationContext } from '@nestjs/common';
import { DomainException } from 'src/common/errors/domain.exception';
import { AuditRecorder } from 'src/modules/audit/audit-recorder.service';
import { targetIdFromBody } from 'src/modules/audit/audit-route';
import {
  AUDIT_TARGET_LOADERS,
  type AuditTargetLoaders,
} from 'src/modules/audit/audit-target-loader.port';
import { AUDIT_SUCCESS, CLI_ACTOR, CLI_SOURCE } from 'src/modules/audit/audit.types';

/** What a mutating command did, named as the admin API names the same change. */
export interface CliAuditTarget<T> {
  /** `keys.rotate`, `accounts.create`, `users.reset_password` … */
  action: string;
  /** The admin API resource (`keys`, `accounts`, `users`, `secrets`). */
  targetType: string;
  /** The target when the command names it; else taken from the result's `id`. */
  targetId?: string | null;
  /** The target from the result, when it is not the result's `id`. */
  targetIdOf?: (result: T) => string | null;
  /**
   * What to store as the after-state when the target type has no loader (the result is stored
   * when it is an object). Sanitized like every snapshot.
   */
  after?: (result: T) => unknown;
}

function optional<T>(context: INestApplicationContext, token: unknown): T | undefined {
  try {
    return context.get<T>(token as never, { strict: false });
  } catch {
    // A test's partial context without the audit module: nothing to record into.
    return undefined;
  }
}

/**
 * Runs one mutating CLI command and writes its audit row (actor `cli`, source `local`), awaited
 * because the process exits right after. Before- and after-states come from the same target
 * loaders the admin API's rows use. A failed command is recorded with its error code and
 * rethrown; a failed audit write is logged and never fails the command.
 */
export async function cliAudited<T>(
  context: INestApplicationContext,
  target: CliAuditTarget<T>,
  run: () => Promise<T>,
): Promise<T> {
  const recorder = optional<AuditRecorder>(context, AuditRecorder);
  if (recorder === undefined) return run();
  const loaders = optional<AuditTargetLoaders>(context, AUDIT_TARGET_LOADERS);
  const hasLoader = loaders !== undefined && loaders.get(target.targetType) !== undefined;
  const paramId = target.targetId ?? null;
  const before =
    hasLoader && paramId !== null ? await loaders.load(target.targetType, paramId) : null;
  const base = {
    actor: CLI_ACTOR,
    source: CLI_SOURCE,
    action: target.action,
    targetType: target.targetType,
  };
  let result: T;
  try {
    result = await run();
  } catch (error) {
    await recorder.write({
      ...base,
      targetId: paramId,
      outcome: error instanceof DomainException ? error.code : 'CLI_ERROR',
      before: before ?? undefined,
    });
    throw error;
  }
  const targetId = paramId ?? target.targetIdOf?.(result) ?? targetIdFromBody(result);
  const after =
    hasLoader && targetId !== null
      ? await loaders.load(target.targetType, targetId)
      : target.after !== undefined
        ? target.after(result)
        : typeof result === 'object' && result !== null
          ? result
          : null;
  await recorder.write({ ...base, targetId, outcome: AUDIT_SUCCESS, before, after });
  return result;
}
