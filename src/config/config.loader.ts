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

/** Reads and validates the environment; throws one error naming every bad variable. */
export function loadEnvironment(source: NodeJS.ProcessEnv): EnvironmentSchema {
  const plain: Record<string, string> = {};
  for (const key of environmentVariableNames()) {
    const value = source[key];
    if (value !== undefined) plain[key] = value;
  }
  const env = plainToInstance(EnvironmentSchema, plain, { exposeDefaultValues: true });
  const problems = [
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
