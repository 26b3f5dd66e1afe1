import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigValidationError,
  describeEnvironment,
  environmentVariableNames,
  loadEnvironment,
} from './config.loader';

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
