/**
 * How an admin route is named in the audit trail:
 * - resource: the controller's path after `admin/api/`, `/` read as `.` (`accounts`,
 *   `account-groups`, `oauth.codex`); it is also the target type;
 * - action: `<resource>.<handler in snake_case>` (`accounts.update`, `keys.rotate`,
 *   `account-groups.set_members`, `pricing.set_override`).
 * Both change only when a controller's path or a handler's name does.
 */
export function resourceOf(controllerPath: unknown): string {
  const path = (Array.isArray(controllerPath) ? controllerPath[0] : controllerPath) as unknown;
  const text = typeof path === 'string' ? path : '';
  const resource = text
    .replace(/^\/+|\/+$/g, '')
    .replace(/^admin\/api(\/|$)/, '')
    .split('/')
    .filter((segment) => segment !== '' && !segment.startsWith(':'))
    .join('.');
  return resource === '' ? 'admin' : resource;
}

export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]+/g, '_')
    .toLowerCase();
}

export function actionOf(resource: string, handlerName: string): string {
  return `${resource}.${snakeCase(handlerName)}`;
}

/** Route parameters that name the target, in order of preference. */
const TARGET_PARAMS = ['id', 'model', 'name', 'key'];

/**
 * The target named by the route: its `:id` (or `:model`, `:name`, `:key`), else its only
 * parameter; null when it names none (a create: the id then comes from the answer).
 */
export function targetIdFromParams(params: Record<string, unknown> | undefined): string | null {
  if (params === undefined) return null;
  for (const name of TARGET_PARAMS) {
    const value = params[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  const values = Object.values(params).filter((v): v is string => typeof v === 'string');
  return values.length === 1 ? values[0] : null;
}

/** The `id` of an answer that is an object with one (what a create returns). */
export function targetIdFromBody(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}
