import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';
import { DomainException } from 'src/common/errors/domain.exception';

/**
 * How the audit trail reads a target's state before and after a change. A feature that wants
 * before-states in its audit rows provides one loader per target type, marked with
 * `@AuditTargetLoaderProvider()`; the audit module finds them at start (no import of the audit
 * module needed) and keeps them under AUDIT_TARGET_LOADERS.
 *
 * `targetType` is the admin API resource the loader answers for: the controller path after
 * `/admin/api/` with `/` read as `.` (`accounts`, `account-groups`, `keys`, `pricing`).
 * `load` returns the admin API's public view of the target (the one its GET answers, masked as
 * there; the trail sanitizes it again), or null when there is no such target. It should not
 * throw for a missing target; other errors are logged and the snapshot left out.
 */
export interface AuditTargetLoader {
  readonly targetType: string;
  load(id: string): Promise<object | null>;
}

export const AUDIT_TARGET_LOADERS = Symbol('AUDIT_TARGET_LOADERS');
export const AUDIT_TARGET_LOADER_METADATA = 'switchyard:audit-target-loader';

/** Marks a provider class implementing AuditTargetLoader (and makes it injectable). */
export const AuditTargetLoaderProvider = (): ClassDecorator =>
  applyDecorators(Injectable(), SetMetadata(AUDIT_TARGET_LOADER_METADATA, true));

/** The loaders by target type, found among the application's providers. */
export interface AuditTargetLoaders {
  get(targetType: string): AuditTargetLoader | undefined;
  /** The target's view through its type's loader; null without a loader, a target or on error. */
  load(targetType: string | null, id: string | null): Promise<object | null>;
}

/** A loader's read through a feature's `get`: a not-found answer (404) is null. */
export async function nullWhenNotFound<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof DomainException && error.status === 404) return null;
    throw error;
  }
}
