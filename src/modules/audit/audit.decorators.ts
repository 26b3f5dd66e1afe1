import { SetMetadata } from '@nestjs/common';

export const AUDIT_ROUTE = 'switchyard:audit-route';

/** How a route is audited, where the derived defaults do not fit. */
export interface AuditRouteOptions {
  /** false: the route changes nothing (a read that takes a body), or records its own rows. */
  audited?: boolean;
  /** Replaces the derived `<resource>.<handler>` action name. */
  action?: string;
  /** Replaces the derived target type (the resource). */
  targetType?: string;
}

/**
 * Route-level audit options. Without it, every non-GET route whose access is a role list is
 * audited with the derived names (see AuditInterceptor).
 */
export const AuditRoute = (options: AuditRouteOptions): MethodDecorator & ClassDecorator =>
  SetMetadata(AUDIT_ROUTE, options);

/** A non-GET route that changes nothing, or records its own audit rows. */
export const NotAudited = (): MethodDecorator & ClassDecorator => AuditRoute({ audited: false });
