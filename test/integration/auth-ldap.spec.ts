import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { AuthException, AuthExceptionCode } from 'src/modules/auth/auth.exception';
import { AuthService } from 'src/modules/auth/auth.service';
import { LdapDirectory } from 'src/modules/auth/ldap-directory';
import { UsersService } from 'src/modules/users/users.service';
import {
  slapdAvailable,
  sshaPassword,
  throwawaySlapd,
  type ThrowawaySlapd,
} from '../support/slapd-server';

const BASE = 'dc=switchyard,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
const PASSWORDS = {
  alice: 'alice-directory-pw',
  bob: 'bob-directory-pw',
  carol: 'carol-directory-pw',
  dave: 'dave-directory-pw',
  erin: 'erin-directory-pw',
};
const DAVE_LOCAL_PASSWORD = 'dave-local-password';

function person(uid: keyof typeof PASSWORDS): string {
  return [
    `dn: uid=${uid},${PEOPLE}`,
    'objectClass: inetOrgPerson',
    `uid: ${uid}`,
    `cn: ${uid}`,
    `sn: ${uid}`,
    `userPassword: ${sshaPassword(PASSWORDS[uid])}`,
    '',
  ].join('\n');
}

function group(cn: string, members: string[]): string {
  return [
    `dn: cn=${cn},${GROUPS}`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    ...members.map((uid) => `member: uid=${uid},${PEOPLE}`),
    '',
  ].join('\n');
}

const ENTRIES = [
  `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
  person('alice'),
  person('bob'),
  person('carol'),
  person('dave'),
  person('erin'),
  group('relay-admins', ['alice', 'dave']),
  group('relay-users', ['bob', 'erin']),
  // A group of no role: its members may not log in.
  group('staff', ['carol']),
  // groupOfNames needs a member; bob joins it later.
  group('relay-operators', ['erin']),
].join('\n');

const ROLE_MAP =
  'relay-admins=admin,relay-operators=operator,relay-viewers=viewer,relay-users=user';

function ldapEnv(slapd: ThrowawaySlapd, overrides: Record<string, string> = {}): ConfigService {
  return new ConfigService(
    loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-auth-ldap-')),
      LOG_LEVEL: 'silent',
      LDAP_URL: slapd.url,
      LDAP_BIND_DN: slapd.serviceDn,
      LDAP_BIND_CREDENTIALS: slapd.servicePassword,
      LDAP_SEARCH_BASE: PEOPLE,
      LDAP_GROUP_SEARCH_BASE: GROUPS,
      LDAP_ROLE_MAP: ROLE_MAP,
      LDAP_TIMEOUT_MS: '3000',
      LOGIN_MAX_FAILURES_PER_USERNAME: '3',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '100',
      ...overrides,
    }),
  );
}

interface Answer {
  status: number;
  body: {
    token?: string;
    user?: { id: string; username: string; role: string };
    role?: string;
    error?: { code: string; message: string };
  };
}

function describeWithSlapd(name: string, fn: () => void): void {
  if (slapdAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${name}: slapd is not installed but REQUIRE_SERVICES=1; ` +
        'install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils`',
    );
  }
  process.stderr.write(`[skip] ${name}: slapd is not installed\n`);
  describe.skip(name, () => {
    it('needs slapd', () => undefined);
  });
}

describeWithSlapd('LDAP login', () => {
  let slapd: ThrowawaySlapd;
  let app: NestExpressApplication;
  let url: string;
  const logged: unknown[] = [];

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Answer> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
  }

  const login = (username: string, password: string): Promise<Answer> =>
    call('POST', '/admin/api/auth/login', { body: { username, password } });

  beforeAll(async () => {
    slapd = await throwawaySlapd(BASE, ENTRIES, { tls: true });
    app = await createApp(ldapEnv(slapd));
    // After createApp: setting the log level (silent here) replaces the logger's methods.
    for (const level of ['info', 'warn', 'error'] as const) {
      jest.spyOn(appLogger, level).mockImplementation((...args: unknown[]) => {
        logged.push(args);
      });
    }
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${port}`;
    await app.get(UsersService).createLocalUser('dave', 'viewer', DAVE_LOCAL_PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await slapd?.destroy();
    jest.restoreAllMocks();
  });

  describe(AuthService.name, () => {
    describe('login', () => {
      let aliceToken: string;
      let bobToken: string;

      it('should log a relay-admins member in as admin, creating the user on the first login', async () => {
        expect(await app.get(UsersService).findByUsername('alice')).toBeUndefined();

        const answer = await login('alice', PASSWORDS.alice);

        expect(answer.status).toBe(200);
        expect(answer.body.user).toMatchObject({ username: 'alice', role: 'admin' });
        aliceToken = answer.body.token as string;
        const me = await call('GET', '/admin/api/auth/me', { token: aliceToken });
        expect(me.body).toMatchObject({ username: 'alice', role: 'admin' });
        // An admin-only route lets her through (the override does not exist: 404, not 403).
        const adminOnly = await call('DELETE', '/admin/api/pricing/overrides/no-such-model', {
          token: aliceToken,
        });
        expect(adminOnly.status).not.toBe(403);
        const stored = await app.get(UsersService).findByUsername('alice');
        expect(stored).toMatchObject({ auth_source: 'ldap', ldap_dn: `uid=alice,${PEOPLE}` });
      });

      it('should log a relay-users member in as user, whom an admin-only route refuses', async () => {
        const answer = await login('bob', PASSWORDS.bob);

        expect(answer.status).toBe(200);
        bobToken = answer.body.token as string;
        const me = await call('GET', '/admin/api/auth/me', { token: bobToken });
        expect(me.body).toMatchObject({ username: 'bob', role: 'user' });
        const adminOnly = await call('DELETE', '/admin/api/pricing/overrides/no-such-model', {
          token: bobToken,
        });
        expect(adminOnly.status).toBe(403);
        expect(adminOnly.body.error?.code).toBe(AuthExceptionCode.FORBIDDEN);
      });

      it('should refuse a wrong password with 401 INVALID_CREDENTIALS', async () => {
        const answer = await login('bob', 'not-bobs-password');

        expect(answer.status).toBe(401);
        expect(answer.body.error?.code).toBe(AuthExceptionCode.INVALID_CREDENTIALS);
      });

      it('should refuse a directory user in no mapped group, as a wrong password', async () => {
        const answer = await login('carol', PASSWORDS.carol);

        expect(answer.status).toBe(401);
        expect(answer.body.error?.code).toBe(AuthExceptionCode.INVALID_CREDENTIALS);
        expect(await app.get(UsersService).findByUsername('carol')).toBeUndefined();
      });

      it('should set the role from the groups at each login, open sessions included', async () => {
        slapd.modify(
          `dn: cn=relay-operators,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=bob,${PEOPLE}\n`,
        );

        const answer = await login('bob', PASSWORDS.bob);

        // In relay-users and relay-operators: the higher role wins.
        expect(answer.body.user?.role).toBe('operator');
        const earlier = await call('GET', '/admin/api/auth/me', { token: bobToken });
        expect(earlier.body).toMatchObject({ username: 'bob', role: 'operator' });
      });

      it('should check a local user locally, not against the directory', async () => {
        const local = await login('dave', DAVE_LOCAL_PASSWORD);
        expect(local.status).toBe(200);
        expect(local.body.user?.role).toBe('viewer');

        // dave is in relay-admins in the directory, with another password: it does not open.
        const directory = await login('dave', PASSWORDS.dave);
        expect(directory.status).toBe(401);
      });

      it('should throttle directory logins per username as local ones', async () => {
        for (let i = 0; i < 3; i += 1) {
          expect((await login('erin', 'wrong-password')).status).toBe(401);
        }

        const refused = await login('erin', PASSWORDS.erin);

        expect(refused.status).toBe(429);
        expect(refused.body.error?.code).toBe(AuthExceptionCode.LOGIN_THROTTLED);
      });

      it('should refuse a user deleted from the directory and end their open sessions', async () => {
        expect((await call('GET', '/admin/api/auth/me', { token: aliceToken })).status).toBe(200);
        slapd.remove(`uid=alice,${PEOPLE}`);

        const answer = await login('alice', PASSWORDS.alice);

        expect(answer.status).toBe(401);
        expect(answer.body.error?.code).toBe(AuthExceptionCode.INVALID_CREDENTIALS);
        const me = await call('GET', '/admin/api/auth/me', { token: aliceToken });
        expect(me.status).toBe(401);
        expect(me.body.error?.code).toBe(AuthExceptionCode.INVALID_TOKEN);
      });

      it('should refuse a user removed from every mapped group and end their open sessions', async () => {
        slapd.modify(
          [
            `dn: cn=relay-users,${GROUPS}`,
            'changetype: modify',
            'delete: member',
            `member: uid=bob,${PEOPLE}`,
            '',
            `dn: cn=relay-operators,${GROUPS}`,
            'changetype: modify',
            'delete: member',
            `member: uid=bob,${PEOPLE}`,
            '',
          ].join('\n'),
        );

        const answer = await login('bob', PASSWORDS.bob);

        expect(answer.status).toBe(401);
        expect((await call('GET', '/admin/api/auth/me', { token: bobToken })).status).toBe(401);
      });
    });
  });

  describe(LdapDirectory.name, () => {
    describe('check', () => {
      async function refusal(directory: LdapDirectory): Promise<unknown> {
        return directory.check('erin', PASSWORDS.erin).then(
          () => undefined,
          (error: unknown) => error,
        );
      }

      it('should accept erin with her groups and role when everything is right', async () => {
        const check = await new LdapDirectory(ldapEnv(slapd)).check('erin', PASSWORDS.erin);

        expect(check).toMatchObject({
          outcome: 'accepted',
          dn: `uid=erin,${PEOPLE}`,
          username: 'erin',
          role: 'operator',
        });
      });

      it('should check over ldaps:// with the CA of LDAP_TLS_CA_FILE', async () => {
        const directory = new LdapDirectory(
          ldapEnv(slapd, {
            LDAP_URL: slapd.ldapsUrl as string,
            LDAP_TLS_CA_FILE: slapd.caFile as string,
          }),
        );

        expect(await directory.check('erin', PASSWORDS.erin)).toMatchObject({
          outcome: 'accepted',
        });
      });

      it('should check over StartTLS with the CA of LDAP_TLS_CA_FILE', async () => {
        const directory = new LdapDirectory(
          ldapEnv(slapd, { LDAP_STARTTLS: 'true', LDAP_TLS_CA_FILE: slapd.caFile as string }),
        );

        expect(await directory.check('erin', PASSWORDS.erin)).toMatchObject({
          outcome: 'accepted',
        });
        expect(await directory.check('erin', 'wrong-password')).toEqual({
          outcome: 'wrong-password',
        });
      });

      it('should answer LDAP_UNAVAILABLE over ldaps:// or StartTLS when the certificate is not trusted', async () => {
        const cases: Record<string, string>[] = [
          { LDAP_URL: slapd.ldapsUrl as string },
          { LDAP_STARTTLS: 'true' },
        ];
        for (const overrides of cases) {
          const directory = new LdapDirectory(ldapEnv(slapd, overrides));

          expect(((await refusal(directory)) as AuthException).code).toBe(
            AuthExceptionCode.LDAP_UNAVAILABLE,
          );
        }
      });

      it('should check the certificate against the host of LDAP_URL under StartTLS', async () => {
        // The certificate names 127.0.0.1 and localhost, not 127.0.0.2 (the same slapd).
        const directory = new LdapDirectory(
          ldapEnv(slapd, {
            LDAP_URL: slapd.unnamedHostUrl as string,
            LDAP_STARTTLS: 'true',
            LDAP_TLS_CA_FILE: slapd.caFile as string,
          }),
        );

        expect(((await refusal(directory)) as AuthException).code).toBe(
          AuthExceptionCode.LDAP_UNAVAILABLE,
        );
        expect(JSON.stringify(logged.at(-1))).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
      });

      it('should answer LDAP_UNAVAILABLE, not a wrong password, when the service account is refused', async () => {
        const directory = new LdapDirectory(
          ldapEnv(slapd, { LDAP_BIND_CREDENTIALS: 'not-the-service-password' }),
        );

        const error = await refusal(directory);

        expect(error).toBeInstanceOf(AuthException);
        expect((error as AuthException).code).toBe(AuthExceptionCode.LDAP_UNAVAILABLE);
        expect((error as AuthException).status).toBe(503);
      });

      it('should answer LDAP_UNAVAILABLE when the search base does not exist', async () => {
        const directory = new LdapDirectory(
          ldapEnv(slapd, { LDAP_SEARCH_BASE: `ou=nobody,${BASE}` }),
        );

        expect(((await refusal(directory)) as AuthException).code).toBe(
          AuthExceptionCode.LDAP_UNAVAILABLE,
        );
      });

      it('should give up with LDAP_UNAVAILABLE within LDAP_TIMEOUT_MS when the directory never answers', async () => {
        // Accepts connections and never says a word.
        const sockets: Socket[] = [];
        const silent: Server = createServer((socket) => sockets.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const { port } = silent.address() as { port: number };
        try {
          const directory = new LdapDirectory(
            ldapEnv(slapd, { LDAP_URL: `ldap://127.0.0.1:${port}`, LDAP_TIMEOUT_MS: '500' }),
          );

          expect(((await refusal(directory)) as AuthException).code).toBe(
            AuthExceptionCode.LDAP_UNAVAILABLE,
          );
        } finally {
          for (const socket of sockets) socket.destroy();
          await new Promise((resolve) => silent.close(resolve));
        }
      });
    });
  });

  describe('when the directory is down', () => {
    beforeAll(async () => {
      await slapd.stop();
    });

    it('should answer 503 LDAP_UNAVAILABLE to directory users, not a wrong password', async () => {
      for (const username of ['bob', 'frank']) {
        const answer = await login(username, 'whatever-password');
        expect({ username, status: answer.status }).toEqual({ username, status: 503 });
        expect(answer.body.error?.code).toBe(AuthExceptionCode.LDAP_UNAVAILABLE);
      }
    });

    it('should still log local users in', async () => {
      expect((await login('dave', DAVE_LOCAL_PASSWORD)).status).toBe(200);
    });
  });

  describe('logs', () => {
    it('should never carry a password or the bind credentials', () => {
      const text = JSON.stringify(logged);
      // The refusals and outages above were logged, with their reasons.
      expect(text).toContain('the user is in no group of LDAP_ROLE_MAP');
      expect(text).toContain('the directory refused LDAP_BIND_DN / LDAP_BIND_CREDENTIALS');
      expect(text).toContain('cannot reach the directory');
      expect(text).toContain('ECONNREFUSED');
      for (const secret of [
        ...Object.values(PASSWORDS),
        DAVE_LOCAL_PASSWORD,
        slapd.servicePassword,
        'not-the-service-password',
        'wrong-password',
      ]) {
        expect(text).not.toContain(secret);
      }
    });
  });
});
