import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigValidationError,
  describeEnvironment,
  environmentSources,
  environmentVariableNames,
  loadEnvironment,
} from './config.loader';
import { EnvironmentSchema } from './environment.schema';
import { sensitiveKeys } from './sensitive.decorator';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadEnvironment', () => {
  it('should apply every default when the environment is empty', () => {
    const env = loadEnvironment({});
    expect(env.PORT).toBe(3000);
    expect(env.DATA_DIR).toBe('./data');
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_KEY_PREFIX).toBe('sy:');
    expect(env.PRINT_BANNER).toBe(true);
  });

  it('should convert numbers and booleans when given as strings', () => {
    const env = loadEnvironment({ PORT: '8080', PRINT_BANNER: 'false', DATABASE_POOL_SIZE: '4' });
    expect(env.PORT).toBe(8080);
    expect(env.PRINT_BANNER).toBe(false);
    expect(env.DATABASE_POOL_SIZE).toBe(4);
  });

  it('should name every bad variable in one error when several are invalid', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql:/nope',
      PORT: 'eighty',
      ENCRYPTION_KEY: 'short',
      JWT_SECRET: 'x'.repeat(40),
    });
    const text = problems.join('\n');
    expect(text).toContain('DATABASE_URL');
    expect(text).toContain('PORT');
    expect(text).toContain('ENCRYPTION_KEY');
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it('should refuse production without secrets or with placeholders', () => {
    const missing = problemsOf({ NODE_ENV: 'production' }).join('\n');
    expect(missing).toContain('ENCRYPTION_KEY: required');
    expect(missing).toContain('JWT_SECRET: required');
    const placeholder = problemsOf({
      NODE_ENV: 'production',
      ENCRYPTION_KEY: 'change-me-to-a-long-random-string-of-32-chars',
      JWT_SECRET: 'y'.repeat(40),
    }).join('\n');
    expect(placeholder).toContain('placeholder');
  });

  it('should refuse more than one Redis mode when both a URL and sentinels are set', () => {
    const problems = problemsOf({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_SENTINELS: 'a:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
    });
    expect(problems.join('\n')).toContain('exclusive');
  });

  it('should leave LDAP off and ask for nothing of it when LDAP_URL is empty', () => {
    const env = loadEnvironment({ LDAP_URL: '', LDAP_ROLE_MAP: '' });
    expect(env.LDAP_URL).toBeUndefined();
    expect(env.LDAP_SEARCH_FILTER).toBe('(uid={{username}})');
    expect(env.LDAP_GROUP_SEARCH_FILTER).toBe('(member={{dn}})');
  });

  it('should name what LDAP lacks when LDAP_URL is set alone', () => {
    const problems = problemsOf({ LDAP_URL: 'ldap://ldap.example.com', LDAP_BIND_DN: 'cn=relay' });
    const text = problems.join('\n');
    expect(text).toContain('LDAP_SEARCH_BASE: required');
    expect(text).toContain('LDAP_ROLE_MAP: required');
    expect(text).toContain('LDAP_BIND_CREDENTIALS: required');
  });

  it('should refuse a bad role map, role or URL when LDAP is configured', () => {
    const text = problemsOf({
      LDAP_URL: 'http://ldap.example.com',
      LDAP_SEARCH_BASE: 'dc=example,dc=com',
      LDAP_ROLE_MAP: 'relay-admins=root',
      LDAP_DEFAULT_ROLE: 'guest',
      LDAP_SEARCH_FILTER: '(uid=alice)',
    }).join('\n');
    expect(text).toContain('LDAP_URL');
    expect(text).toContain('LDAP_ROLE_MAP: "relay-admins=root"');
    expect(text).toContain('LDAP_DEFAULT_ROLE');
    expect(text).toContain('{{username}}');
  });

  it('should accept LDAP with a default role instead of a role map', () => {
    const env = loadEnvironment({
      LDAP_URL: 'ldaps://ldap.example.com:636',
      LDAP_SEARCH_BASE: 'ou=people,dc=example,dc=com',
      LDAP_DEFAULT_ROLE: 'user',
    });
    expect(env.LDAP_DEFAULT_ROLE).toBe('user');
  });

  it('should treat empty strings as unset when optional variables are blank', () => {
    const env = loadEnvironment({ DATABASE_URL: '', REDIS_URL: '', ENCRYPTION_KEY: '' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });
});

describe('secrets from files', () => {
  let dir: string;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-secret-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should read a secret from NAME_FILE when only the file is given', () => {
    const env = loadEnvironment({
      NODE_ENV: 'production',
      ENCRYPTION_KEY_FILE: file('enc', 'e'.repeat(48)),
      JWT_SECRET_FILE: file('jwt', 'j'.repeat(48)),
    });
    expect(env.ENCRYPTION_KEY).toBe('e'.repeat(48));
    expect(env.JWT_SECRET).toBe('j'.repeat(48));
  });

  it('should trim trailing line breaks only when the file ends with them', () => {
    const env = loadEnvironment({
      API_KEY_PEPPER_FILE: file('pepper', ' spaced pepper \r\n\n'),
      METRICS_TOKEN_FILE: file('metrics', 'tok\nen\n'),
    });
    expect(env.API_KEY_PEPPER).toBe(' spaced pepper ');
    expect(env.METRICS_TOKEN).toBe('tok\nen');
  });

  it('should offer NAME_FILE for every sensitive variable when the schema marks it', () => {
    const secret = sensitiveKeys(EnvironmentSchema.prototype);
    expect(secret).toEqual(expect.arrayContaining(['ENCRYPTION_KEY', 'JWT_SECRET']));
    for (const key of secret) {
      const sources = environmentSources({ [`${key}_FILE`]: file(key, 'value-from-file-1234') });
      expect(sources[key]).toEqual({ kind: 'file', path: join(dir, key) });
    }
  });

  it('should refuse NAME and NAME_FILE when both are set', () => {
    const problems = problemsOf({
      JWT_SECRET: 'j'.repeat(40),
      JWT_SECRET_FILE: file('jwt', 'k'.repeat(40)),
    });
    expect(problems).toContain('JWT_SECRET and JWT_SECRET_FILE are both set: keep one');
  });

  it('should name the variable and path but not the content when the file is missing or unreadable', () => {
    const missing = join(dir, 'nope');
    const problems = problemsOf({ API_KEY_PEPPER_FILE: missing });
    expect(problems).toEqual([`API_KEY_PEPPER_FILE: cannot read ${missing} (ENOENT)`]);
    const unreadable = problemsOf({ API_KEY_PEPPER_FILE: dir });
    expect(unreadable.join('\n')).toContain(`API_KEY_PEPPER_FILE: cannot read ${dir} (EISDIR)`);
    if (process.getuid?.() !== 0) {
      const locked = file('locked', 'pepper-content-9876');
      chmodSync(locked, 0o000);
      const text = problemsOf({ API_KEY_PEPPER_FILE: locked }).join('\n');
      expect(text).toContain(`API_KEY_PEPPER_FILE: cannot read ${locked} (EACCES)`);
      expect(text).not.toContain('pepper-content-9876');
    }
  });

  it('should refuse an empty file when it holds nothing but line breaks', () => {
    const path = file('empty', '\n\n');
    expect(problemsOf({ ENCRYPTION_KEY_FILE: path })).toEqual([
      `ENCRYPTION_KEY_FILE: ${path} is empty`,
    ]);
  });

  it('should refuse NAME_FILE when NAME is not a secret', () => {
    const problems = problemsOf({ PORT_FILE: file('port', '8080') });
    expect(problems).toEqual([
      'PORT_FILE: only secret variables can be read from a file; set PORT itself',
    ]);
  });

  it('should leave variables whose own name ends in _FILE alone when they are not NAME_FILE', () => {
    const env = loadEnvironment({ PRICING_FILE: join(dir, 'prices.json') });
    expect(env.PRICING_FILE).toBe(join(dir, 'prices.json'));
  });

  it('should validate a value read from a file like one from the environment', () => {
    const problems = problemsOf({ DATABASE_URL_FILE: file('db', 'mysql://nope\n') });
    expect(problems.join('\n')).toContain('DATABASE_URL must look like postgres://');
    expect(problems.join('\n')).not.toContain('mysql://nope');
  });

  it('should treat an empty NAME_FILE as unset when a template leaves it blank', () => {
    const env = loadEnvironment({ JWT_SECRET_FILE: '', JWT_SECRET: 'j'.repeat(40) });
    expect(env.JWT_SECRET).toBe('j'.repeat(40));
    expect(environmentSources({ JWT_SECRET: 'j'.repeat(40) }).JWT_SECRET).toEqual({
      kind: 'environment',
    });
  });
});

describe('describeEnvironment', () => {
  it('should mask sensitive values when describing configuration', () => {
    const env = loadEnvironment({
      DATABASE_URL: 'postgres://u:hunter2@db:5432/x',
      ENCRYPTION_KEY: 'k'.repeat(40),
      LDAP_URL: 'ldap://ldap.example.com',
      LDAP_SEARCH_BASE: 'dc=example,dc=com',
      LDAP_BIND_DN: 'cn=relay,dc=example,dc=com',
      LDAP_BIND_CREDENTIALS: 'bind-secret-42',
      LDAP_DEFAULT_ROLE: 'user',
    });
    const described = JSON.stringify(describeEnvironment(env));
    expect(described).not.toContain('hunter2');
    expect(described).not.toContain('kkkk');
    expect(described).not.toContain('bind-secret-42');
    expect(described).toContain('********');
  });
});

describe('.env.example', () => {
  it('should document exactly the variables the schema declares', () => {
    const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = [...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual([...environmentVariableNames()].sort());
  });

  it('should hold only valid values when loaded as it is', () => {
    const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const env: NodeJS.ProcessEnv = {};
    for (const m of text.matchAll(/^([A-Z0-9_]+)=(.*)$/gm)) env[m[1]] = m[2];
    expect(() => loadEnvironment(env)).not.toThrow();
  });
});
