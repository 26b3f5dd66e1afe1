import { SetMetadata } from '@nestjs/common';

export const ROUTE_ACCESS = 'switchyard:route-access';

/**
 * What a signed-in user may do:
 * - admin: everything
 * - operator: accounts, keys, routing and usage; not users, settings or prices
 * - viewer: reads everything, changes nothing (secrets are never returned to anyone)
 * - user: self-service only (their own keys and usage)
 */
export const ROLES = ['admin', 'operator', 'viewer', 'user'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Who may call a route. Every route declares one; the global RouteAccessGuard refuses routes that
 * declare nothing, and a spec walks all routes against a role matrix to catch them before they ship.
 * - public: anyone (health, metrics with its own token, login)
 * - a list of roles: a valid session token of a user holding one of them
 * - api-key: a Switchyard API key, checked by the relay's admission step in the caller's dialect
 */
export type RouteAccess = 'public' | 'api-key' | readonly Role[];

export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, 'public');
/** A session of one of these roles; a method's list replaces its controller's. */
export const Roles = (...roles: [Role, ...Role[]]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, roles);
/** The routes only admins may call (users, settings, prices). */
export const AdminOnly = (): MethodDecorator & ClassDecorator => Roles('admin');
export const ApiKeyAuth = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, 'api-key');
