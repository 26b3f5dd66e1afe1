import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { parseLdapRoleMap } from 'src/common/auth/ldap-role-map';
import { EnvironmentSchema } from './environment.schema';
import { sensitiveKeys } from './sensitive.decorator';

/** Secrets that ship in docs and examples; refused in production. */
const PLACEHOLDER_SECRETS = [
  'change-me',
  'changeme',
  'change-me-to-a-long-random-string-of-32-chars',
  'your-encryption-key',
  'your-secret-key',
  'secret',
  'password',
];

const MIN_SECRET_LENGTH = 32;

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

function flatten(errors: ValidationError[]): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? message : `${error.property}: ${message}`,
    ),
  );
}

function isPlaceholder(value: string): boolean {
  const lower = value.toLowerCase();
  return PLACEHOLDER_SECRETS.some((p) => lower === p || lower.startsWith('change-me'));
}

/** Production rules that span several variables or depend on NODE_ENV. */
function productionProblems(env: EnvironmentSchema): string[] {
  const problems: string[] = [];
  const requireSecret = (
    name: 'ENCRYPTION_KEY' | 'JWT_SECRET',
    value: string | undefined,
  ): void => {
    if (value === undefined) {
      problems.push(
        `${name}: required when NODE_ENV=production (at least ${MIN_SECRET_LENGTH} characters)`,
      );
    } else if (value.length < MIN_SECRET_LENGTH) {
      problems.push(
        `${name}: must be at least ${MIN_SECRET_LENGTH} characters when NODE_ENV=production`,
      );
    } else if (isPlaceholder(value)) {
      problems.push(`${name}: is a placeholder value; generate one with \`openssl rand -hex 32\``);
    }
  };
  if (env.NODE_ENV === 'production') {
    requireSecret('ENCRYPTION_KEY', env.ENCRYPTION_KEY);
    requireSecret('JWT_SECRET', env.JWT_SECRET);
  } else if (env.ENCRYPTION_KEY !== undefined && env.ENCRYPTION_KEY.length < MIN_SECRET_LENGTH) {
    problems.push(`ENCRYPTION_KEY: must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const redisModes = [env.REDIS_URL, env.REDIS_SENTINELS, env.REDIS_CLUSTER_NODES].filter(
    (v) => v !== undefined,
  );
  if (redisModes.length > 1) {
    problems.push('REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES are exclusive: set only one');
  }
  return problems;
}

/** LDAP login needs a search base and a way to give each user a role. */
function ldapProblems(env: EnvironmentSchema): string[] {
  if (env.LDAP_URL === undefined) return [];
  const problems: string[] = [];
  if (env.LDAP_SEARCH_BASE === undefined) {
    problems.push('LDAP_SEARCH_BASE: required with LDAP_URL (e.g. ou=people,dc=example,dc=com)');
  }
  if (env.LDAP_ROLE_MAP !== undefined) {
    const parsed = parseLdapRoleMap(env.LDAP_ROLE_MAP);
    if ('problems' in parsed) problems.push(...parsed.problems);
  } else if (env.LDAP_DEFAULT_ROLE === undefined) {
    problems.push(
      'LDAP_ROLE_MAP: required with LDAP_URL unless LDAP_DEFAULT_ROLE is set (e.g. relay-admins=admin,relay-users=user)',
    );
  }
  if (env.LDAP_BIND_DN !== undefined && env.LDAP_BIND_CREDENTIALS === undefined) {
    problems.push('LDAP_BIND_CREDENTIALS: required with LDAP_BIND_DN');
  }
  if (env.LDAP_STARTTLS && env.LDAP_URL.startsWith('ldaps:')) {
    problems.push('LDAP_STARTTLS: only for ldap:// URLs (ldaps:// is TLS from the start)');
  }
  return problems;
}

/** Every variable name the schema declares (each declared property carries a validation rule). */
export function environmentVariableNames(): string[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(
    EnvironmentSchema,
    '',
    true,
    false,
  );
  return [...new Set(metas.map((m) => m.propertyName))];
}

/** The suffix that reads a secret variable from a file (Kubernetes and Docker secrets). */
export const FILE_SUFFIX = '_FILE';

/** Where a variable's value came from; a file is named by its path, never by its content. */
export type ValueSource =
  { kind: 'default' } | { kind: 'environment' } | { kind: 'file'; path: string };

interface ResolvedSource {
  plain: Record<string, string>;
  sources: Record<string, ValueSource>;
  problems: string[];
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * The raw values of every declared variable: from NAME, or for a secret from the file NAME_FILE
 * names (its trailing line breaks trimmed). NAME_FILE exists only for secrets (`@Sensitive`), so
 * a typo such as `PORT_FILE` or a non-secret read from a file fails loudly instead of being
 * ignored. Problems name the variable and the path, never what the file holds.
 */
function resolveSource(source: NodeJS.ProcessEnv): ResolvedSource {
  const secret = new Set(sensitiveKeys(EnvironmentSchema.prototype));
  const plain: Record<string, string> = {};
  const sources: Record<string, ValueSource> = {};
  const problems: string[] = [];
  for (const key of environmentVariableNames()) {
    const value = source[key];
    const fileVar = `${key}${FILE_SUFFIX}`;
    const path = source[fileVar];
    sources[key] = set(value) ? { kind: 'environment' } : { kind: 'default' };
    if (value !== undefined) plain[key] = value;
    if (!set(path)) continue;
    if (!secret.has(key)) {
      problems.push(`${fileVar}: only secret variables can be read from a file; set ${key} itself`);
      continue;
    }
    if (set(value)) {
      problems.push(`${key} and ${fileVar} are both set: keep one`);
      continue;
    }
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      problems.push(
        `${fileVar}: cannot read ${path} (${typeof code === 'string' ? code : 'unreadable'})`,
      );
      continue;
    }
    const trimmed = content.replace(/[\r\n]+$/, '');
    if (trimmed === '') {
      problems.push(`${fileVar}: ${path} is empty`);
      continue;
    }
    plain[key] = trimmed;
    sources[key] = { kind: 'file', path };
  }
  return { plain, sources, problems };
}

/**
 * Where each declared variable's value comes from (default, environment or a file), for `doctor`:
 * it shows the origin of every secret without reading or printing its value.
 */
export function environmentSources(source: NodeJS.ProcessEnv): Record<string, ValueSource> {
  return resolveSource(source).sources;
}

/** Reads and validates the environment; throws one error naming every bad variable. */
export function loadEnvironment(source: NodeJS.ProcessEnv): EnvironmentSchema {
  const { plain, problems: sourceProblems } = resolveSource(source);
  const env = plainToInstance(EnvironmentSchema, plain, { exposeDefaultValues: true });
  const problems = [
    ...sourceProblems,
    ...flatten(validateSync(env)),
    ...productionProblems(env),
    ...ldapProblems(env),
  ];
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return env;
}

/** The configuration with every sensitive value masked, for `doctor` and the admin UI. */
export function describeEnvironment(env: EnvironmentSchema): Record<string, unknown> {
  const secret = new Set(sensitiveKeys(EnvironmentSchema.prototype));
  const out: Record<string, unknown> = {};
  for (const key of environmentVariableNames()) {
    const value = (env as unknown as Record<string, unknown>)[key];
    out[key] = secret.has(key) && value !== undefined ? '********' : value;
  }
  return out;
}
