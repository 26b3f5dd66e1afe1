import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { ROLES, ROUTE_ACCESS, type Role } from 'src/common/auth/route-access.decorator';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { UsersService } from 'src/modules/users/users.service';

const ALL: readonly Role[] = ['admin', 'operator', 'viewer', 'user'];
const READ: readonly Role[] = ['admin', 'operator', 'viewer'];
const MANAGE: readonly Role[] = ['admin', 'operator'];
const ADMIN: readonly Role[] = ['admin'];
/**
 * Users, settings, the audit trail and notifications: admins change them, viewers read them,
 * operators neither.
 */
const ADMIN_READ: readonly Role[] = ['admin', 'viewer'];

/**
 * Who may call every route, written out by hand: a route whose declared access differs from this
 * table, or a route missing from it, fails the suite. Admins do everything; operators manage
 * accounts, keys, routing and usage but not users, settings or prices; viewers read everything and
 * change nothing; users only reach their own session (and their self-service routes).
 */
const MATRIX: Record<string, 'public' | 'api-key' | readonly Role[]> = {
  'POST /admin/api/auth/login': 'public',
  // The API's description and its browsable page: they describe routes, they expose no data.
  'GET /admin/api/openapi.json': 'public',
  'GET /admin/api/docs': 'public',
  'GET /admin/api/docs/assets/:file': 'public',
  'GET /admin/api/auth/me': ALL,
  'POST /admin/api/auth/logout': ALL,

  'GET /admin/api/users': ADMIN_READ,
  'GET /admin/api/users/:id': ADMIN_READ,
  'POST /admin/api/users': ADMIN,
  'PATCH /admin/api/users/:id': ADMIN,
  'POST /admin/api/users/:id/reset-password': ADMIN,
  'DELETE /admin/api/users/:id': ADMIN,

  'GET /admin/api/me/caps': ALL,
  'GET /admin/api/me/keys': ALL,
  'POST /admin/api/me/keys': ALL,
  'GET /admin/api/me/keys/:id': ALL,
  'PATCH /admin/api/me/keys/:id': ALL,
  'POST /admin/api/me/keys/:id/rotate': ALL,
  'POST /admin/api/me/keys/:id/disable': ALL,
  'POST /admin/api/me/keys/:id/enable': ALL,
  'DELETE /admin/api/me/keys/:id': ALL,
  'GET /admin/api/me/usage/summary': ALL,
  'GET /admin/api/me/usage/timeseries': ALL,
  'GET /admin/api/me/usage/requests': ALL,

  'GET /admin/api/account-types': READ,
  'POST /admin/api/accounts': MANAGE,
  'GET /admin/api/accounts': READ,
  'GET /admin/api/accounts/:id': READ,
  'PATCH /admin/api/accounts/:id': MANAGE,
  'DELETE /admin/api/accounts/:id': MANAGE,
  'POST /admin/api/accounts/:id/enable': MANAGE,
  'POST /admin/api/accounts/:id/disable': MANAGE,
  'POST /admin/api/accounts/:id/reset-health': MANAGE,
  'GET /admin/api/accounts/:id/health-history': READ,
  'POST /admin/api/accounts/:id/test': MANAGE,
  'POST /admin/api/account-groups': MANAGE,
  'GET /admin/api/account-groups': READ,
  'GET /admin/api/account-groups/:id': READ,
  'PATCH /admin/api/account-groups/:id': MANAGE,
  'DELETE /admin/api/account-groups/:id': MANAGE,
  'PUT /admin/api/account-groups/:id/members': MANAGE,
  'POST /admin/api/oauth/codex/authorize': MANAGE,
  'POST /admin/api/oauth/codex/exchange': MANAGE,
  'POST /admin/api/oauth/google/authorize': MANAGE,
  'POST /admin/api/oauth/google/exchange': MANAGE,
  'POST /admin/api/oauth/google/import': MANAGE,
  'POST /admin/api/oauth/claude/authorize': MANAGE,
  'POST /admin/api/oauth/claude/exchange': MANAGE,

  'POST /admin/api/keys': MANAGE,
  'POST /admin/api/keys/batch': MANAGE,
  'POST /admin/api/keys/batch-action': MANAGE,
  'GET /admin/api/keys/budgets': READ,
  'GET /admin/api/keys': READ,
  'GET /admin/api/keys/:id': READ,
  'PATCH /admin/api/keys/:id': MANAGE,
  'POST /admin/api/keys/:id/disable': MANAGE,
  'POST /admin/api/keys/:id/enable': MANAGE,
  'POST /admin/api/keys/:id/rotate': MANAGE,
  'DELETE /admin/api/keys/:id': MANAGE,
  'POST /admin/api/keys/:id/restore': MANAGE,
  'GET /admin/api/keys/:id/routing-rules': READ,

  'GET /admin/api/usage/summary': READ,
  'GET /admin/api/usage/timeseries': READ,
  'GET /admin/api/usage/breakdown': READ,
  'GET /admin/api/usage/requests': READ,
  'GET /admin/api/usage/requests/export.csv': READ,
  'GET /admin/api/usage/requests/:id': READ,
  'GET /admin/api/usage/performance': READ,
  'GET /admin/api/usage/live': READ,
  'GET /admin/api/pricing/models': READ,
  'GET /admin/api/pricing/lookup': READ,
  'GET /admin/api/pricing/overrides': READ,
  'PUT /admin/api/pricing/overrides/:model': ADMIN,
  'DELETE /admin/api/pricing/overrides/:model': ADMIN,

  'GET /admin/api/model-routes': READ,
  'GET /admin/api/model-routes/resolve': READ,
  'GET /admin/api/model-routes/:id': READ,
  'POST /admin/api/model-routes': MANAGE,
  'PATCH /admin/api/model-routes/:id': MANAGE,
  'DELETE /admin/api/model-routes/:id': MANAGE,
  'GET /admin/api/routing-rules': READ,
  'POST /admin/api/routing-rules/resolve': READ,
  'GET /admin/api/routing-rules/:id': READ,
  'POST /admin/api/routing-rules': MANAGE,
  'PATCH /admin/api/routing-rules/:id': MANAGE,
  'DELETE /admin/api/routing-rules/:id': MANAGE,

  'GET /admin/api/settings': ADMIN_READ,
  'GET /admin/api/settings/:key': ADMIN_READ,
  'PUT /admin/api/settings': ADMIN,
  'DELETE /admin/api/settings/:key': ADMIN,
  'GET /admin/api/audit': ADMIN_READ,
  'GET /admin/api/audit/export.csv': ADMIN_READ,

  'GET /admin/api/notifications/event-types': ADMIN_READ,
  'GET /admin/api/notifications/targets': ADMIN_READ,
  'POST /admin/api/notifications/targets': ADMIN,
  'GET /admin/api/notifications/targets/:id': ADMIN_READ,
  'PATCH /admin/api/notifications/targets/:id': ADMIN,
  'DELETE /admin/api/notifications/targets/:id': ADMIN,
  'POST /admin/api/notifications/targets/:id/test': ADMIN,
  'GET /admin/api/notifications/deliveries': ADMIN_READ,
  'POST /admin/api/notifications/deliveries/:id/retry': ADMIN,
};

interface DeclaredRoute {
  /** `METHOD /path` with the controller prefix, as the matrix names it. */
  name: string;
  method: string;
  path: string;
  access: unknown;
}

function joinPath(prefix: unknown, path: unknown): string[] {
  const prefixes = Array.isArray(prefix) ? prefix : [prefix ?? ''];
  const paths = Array.isArray(path) ? path : [path ?? ''];
  const out: string[] = [];
  for (const p of prefixes as string[]) {
    for (const q of paths as string[]) {
      out.push(`/${[p, q].filter((s) => s !== '' && s !== '/').join('/')}`.replace(/\/+/g, '/'));
    }
  }
  return out;
}

function declaredRoutes(app: NestExpressApplication): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (type === null) continue;
      const prototype = type.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const access: unknown =
          Reflect.getMetadata(ROUTE_ACCESS, handler) ?? Reflect.getMetadata(ROUTE_ACCESS, type);
        const verb = RequestMethod[method];
        for (const path of joinPath(
          Reflect.getMetadata(PATH_METADATA, type),
          Reflect.getMetadata(PATH_METADATA, handler),
        )) {
          routes.push({ name: `${verb} ${path}`, method: verb, path, access });
        }
      }
    }
  }
  return routes;
}

describe('route access rules', () => {
  let app: NestExpressApplication;
  let url: string;
  let routes: DeclaredRoute[];
  const userIds = new Map<Role, string>();

  beforeAll(async () => {
    const env = loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-routes-')),
      LOG_LEVEL: 'silent',
    });
    app = await createApp(new ConfigService(env));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${port}`;
    routes = declaredRoutes(app);
    const users = app.get(UsersService);
    for (const role of ROLES) {
      const { user } = await users.createLocalUser(`matrix-${role}`, role);
      userIds.set(role, user.id);
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A fresh token of the role's user (logout revokes the previous ones). */
  async function tokenOf(role: Role): Promise<string> {
    const id = userIds.get(role) as string;
    const user = await app.get(UsersService).findById(id);
    return app.get(JwtService).signAsync({
      sub: id,
      username: user?.username,
      role,
      ver: Number(user?.token_version),
    });
  }

  it('should declare who may call every route of every controller', () => {
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => r.access === undefined).map((r) => r.name)).toEqual([]);
  });

  it('should declare for every session route exactly the roles of the matrix', () => {
    const sessionRoutes = routes.filter((r) => r.access !== 'public' && r.access !== 'api-key');
    const declared = Object.fromEntries(sessionRoutes.map((r) => [r.name, r.access]));
    const expected = Object.fromEntries(
      Object.entries(MATRIX).filter(([, access]) => access !== 'public' && access !== 'api-key'),
    );
    expect(declared).toEqual(expected);
    // Every route under /admin/api takes a session, except those the matrix names public.
    const adminPublic = routes.filter(
      (r) => r.path.startsWith('/admin/api/') && (r.access === 'public' || r.access === 'api-key'),
    );
    expect(adminPublic.map((r) => `${r.name} ${String(r.access)}`)).toEqual(
      Object.entries(MATRIX)
        .filter(([, access]) => typeof access === 'string')
        .map(([name, access]) => `${name} ${String(access)}`),
    );
  });

  it('should answer every session route with 401 without a token and 403 for a role it does not take', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [name, access] of Object.entries(MATRIX)) {
      if (typeof access === 'string') continue;
      const [method, path] = name.split(' ') as [string, string];
      const target =
        url +
        path
          .replace(/:id\b/g, randomUUID())
          .replace(/:model\b/g, 'no-model')
          .replace(/:key\b/g, 'no-key');
      const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const anonymous = await fetch(target, { method, headers, body });
      outcomes.push(`${name} none ${anonymous.status}`);
      expected.push(`${name} none 401`);
      // Logout last within a route's roles is harmless: each request mints a current token.
      for (const role of ROLES) {
        const res = await fetch(target, {
          method,
          headers: { ...headers, authorization: `Bearer ${await tokenOf(role)}` },
          body,
        });
        const allowed = access.includes(role);
        const code =
          res.status === 403 ? ((await res.json()) as { error: { code: string } }) : null;
        if (code === null) await res.arrayBuffer().catch(() => undefined);
        // An allowed role gets past the guard (validation, not found or success follow).
        const seen = allowed
          ? res.status === 401 || res.status === 403
            ? `refused ${res.status}`
            : 'passed'
          : `${res.status} ${code?.error.code ?? ''}`;
        outcomes.push(`${name} ${role} ${seen}`);
        expected.push(`${name} ${role} ${allowed ? 'passed' : '403 FORBIDDEN'}`);
      }
    }
    expect(outcomes).toEqual(expected);
  });
});
