import { SetMetadata } from '@nestjs/common';

export const ROUTE_ACCESS = 'switchyard:route-access';

/**
 * Who may call a route. Every route declares one; the global RouteAccessGuard refuses routes that
 * declare nothing, and a spec walks all routes to catch them before they ship.
 * - public: anyone (health, metrics with its own token, login)
 * - admin: a valid admin session token
 * - api-key: a Switchyard API key, checked by the relay's admission step in the caller's dialect
 */
export type RouteAccess = 'public' | 'admin' | 'api-key';

export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, 'public');
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, 'admin');
export const ApiKeyAuth = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, 'api-key');
