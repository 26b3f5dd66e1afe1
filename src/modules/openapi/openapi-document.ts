import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  ResponsesObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, ROUTE_ACCESS, type RouteAccess } from 'src/common/auth/route-access.decorator';

/** Only the admin API is described here; relay routes speak the providers' own formats. */
export const ADMIN_API_PREFIX = '/admin/api';
export const SESSION_SCHEME = 'session';
export const ROLES_EXTENSION = 'x-switchyard-roles';
const ADMIN_ERROR = 'AdminError';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** `AccountsController.list` -> `Accounts_list`: stable, unique, readable in generated clients. */
export function operationId(controllerName: string, methodKey: string): string {
  return `${controllerName.replace(/Controller$/, '')}_${methodKey}`;
}

function packageVersion(): string {
  // src/modules/openapi and dist/modules/openapi both sit three levels below the package root.
  try {
    const pkg = JSON.parse(
      readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Who may call each route, by operation id, as the global RouteAccessGuard reads it. */
function accessByOperation(app: INestApplication): Map<string, RouteAccess> {
  const access = new Map<string, RouteAccess>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (type === null) continue;
      const prototype = type.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        const declared = (Reflect.getMetadata(ROUTE_ACCESS, handler) ??
          Reflect.getMetadata(ROUTE_ACCESS, type)) as RouteAccess | undefined;
        if (declared !== undefined) access.set(operationId(type.name, key), declared);
      }
    }
  }
  return access;
}

const ADMIN_ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'The shape of every admin API error (docs/admin-api.md, Errors).',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', example: 'VALIDATION_FAILED' },
        message: { type: 'string' },
        details: {
          type: 'object',
          additionalProperties: true,
          properties: {
            fields: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'messages'],
                properties: {
                  field: { type: 'string', example: 'limits.rpm' },
                  messages: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
          description:
            '`retryAfterSeconds` here is also sent as the `retry-after` header. A ' +
            '`VALIDATION_FAILED` from request validation has `fields`: `[{ field, messages }]`, ' +
            '`field` a dotted path for nested values (`limits.rpm`).',
        },
        errorId: {
          type: 'string',
          description: 'On 500s: the id under which the server log holds the full error.',
        },
      },
    },
  },
};

function errorResponse(description: string): ResponsesObject[string] {
  return {
    description,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${ADMIN_ERROR}` } } },
  };
}

/** The first path segment after /admin/api names the feature (`keys`, `usage`, `oauth`). */
function featureTag(path: string): string {
  return path.slice(ADMIN_API_PREFIX.length + 1).split('/')[0] || 'admin';
}

type ExtensibleOperation = OperationObject & { [ROLES_EXTENSION]?: string[] };

function describeAccess(operation: ExtensibleOperation, access: RouteAccess | undefined): void {
  const lines = operation.description === undefined ? [] : [operation.description];
  if (access === 'public') {
    operation.security = [];
    operation[ROLES_EXTENSION] = [];
    lines.push('Public: no session needed.');
  } else if (Array.isArray(access)) {
    const roles = [...(access as readonly string[])];
    operation.security = [{ [SESSION_SCHEME]: [] }];
    operation[ROLES_EXTENSION] = roles;
    lines.push(`Roles: ${roles.join(', ')}.`);
    operation.responses['401'] ??= errorResponse(
      '`MISSING_TOKEN`: no `Authorization: Bearer` header; `INVALID_TOKEN`: invalid, expired or revoked.',
    );
    if (ROLES.some((role) => !roles.includes(role))) {
      operation.responses['403'] ??= errorResponse(
        "`FORBIDDEN`: the caller's role may not call this route.",
      );
    }
  }
  const takesInput =
    operation.requestBody !== undefined ||
    (operation.parameters ?? []).some((p) => (p as ParameterObject).in !== 'header');
  if (takesInput) {
    operation.responses['400'] ??= errorResponse(
      '`VALIDATION_FAILED`: the body, query string or path parameters fail validation.',
    );
  }
  operation.description = lines.join('\n\n');
}

/**
 * The admin API's OpenAPI 3 document, from the controllers and DTOs (described by the
 * @nestjs/swagger compiler plugin in the build): only `/admin/api` routes, tagged by feature, each
 * operation with the roles that may call it (`x-switchyard-roles`) and the admin error responses.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Switchyard admin API')
    .setVersion(packageVersion())
    .setDescription(
      'Manage a Switchyard relay: accounts, API keys, routing, usage and prices. Log in with ' +
        '`POST /admin/api/auth/login` and send the token as `Authorization: Bearer <token>`. ' +
        'Conventions (errors, lists, times, money) are in docs/admin-api.md. The relay routes ' +
        '(`/v1/messages`, `/openai/...`, `/gemini/...`) speak the providers\u2019 own formats and ' +
        'are described there in prose, not here.',
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Admin session token' },
      SESSION_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: operationId,
    autoTagControllers: false,
  });
  const access = accessByOperation(app);
  const paths: Record<string, PathItemObject> = {};
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    if (path !== ADMIN_API_PREFIX && !path.startsWith(`${ADMIN_API_PREFIX}/`)) continue;
    paths[path] = item;
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const tag = featureTag(path);
      operation.tags = [tag];
      tags.add(tag);
      describeAccess(operation, access.get(operation.operationId ?? ''));
    }
  }
  document.paths = paths;
  document.tags = [...tags].sort().map((name) => ({ name }));
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, [ADMIN_ERROR]: ADMIN_ERROR_SCHEMA },
  };
  return pruneSchemas(document);
}

/** Drops the schemas only relay routes referenced (the admin paths never reach them). */
function pruneSchemas(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  const reachable = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (typeof value === 'object' && value !== null) {
      const ref = (value as ReferenceObject).$ref;
      if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
        const name = ref.slice('#/components/schemas/'.length);
        if (!reachable.has(name)) {
          reachable.add(name);
          visit(schemas[name]);
        }
      }
      Object.values(value).forEach(visit);
    }
  };
  visit(document.paths);
  document.components!.schemas = Object.fromEntries(
    Object.entries(schemas).filter(([name]) => reachable.has(name)),
  );
  return document;
}

/**
 * Sorts object keys (except the property lists of schemas, which keep their declared order) so
 * the committed document diffs cleanly whatever order modules register their routes in.
 */
function canonical(value: unknown, keepOrder = false): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).filter(
    ([, v]) => v !== undefined,
  );
  if (!keepOrder) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v, k === 'properties')]));
}

/** The one serialisation of the document: served, written to docs/openapi.json, compared. */
export function serializeOpenApi(document: unknown): string {
  return `${JSON.stringify(canonical(document), null, 2)}\n`;
}
