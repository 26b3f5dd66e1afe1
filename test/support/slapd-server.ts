import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway OpenLDAP server (Debian `slapd`) on a loopback port: a generated slapd.conf, an mdb
 * database in a temp directory, the entries given as LDIF, access rules as a real directory has
 * them (passwords readable by nobody, entries by the service account only).
 */
export interface ThrowawaySlapd {
  url: string;
  /** With `tls`: the ldaps:// listener, and the PEM of the CA that signed the server's certificate. */
  ldapsUrl?: string;
  caFile?: string;
  /** With `tls`: the plain listener again on 127.0.0.2, a host its certificate does not name. */
  unnamedHostUrl?: string;
  /** The suffix, e.g. dc=switchyard,dc=test. */
  base: string;
  /** The service account the relay binds as, and its password. */
  serviceDn: string;
  servicePassword: string;
  /** Applies LDIF changes as the directory manager (ldapmodify; `changetype:` lines decide). */
  modify(ldif: string): void;
  /** Deletes an entry as the directory manager. */
  remove(dn: string): void;
  /** Stops the server (SIGTERM, then SIGKILL after a bound) and waits for its exit. */
  stop(): Promise<void>;
  /** Stops the server if running, and removes its files. */
  destroy(): Promise<void>;
}

const SLAPD = ['/usr/sbin/slapd', '/usr/local/sbin/slapd'].find((path) => existsSync(path));
const MODULE_DIRS = ['/usr/lib/ldap', '/usr/lib/x86_64-linux-gnu/ldap', '/usr/lib/openldap'];
const SCHEMA_DIR = ['/etc/ldap/schema', '/etc/openldap/schema'].find((dir) =>
  existsSync(join(dir, 'core.schema')),
);
const ROOT_PASSWORD = 'manager-secret';
const STOP_BOUND_MS = 10_000;

/** slapd and the ldap-utils clients are installed (Debian: `apt-get install slapd ldap-utils`). */
export function slapdAvailable(): boolean {
  return (
    SLAPD !== undefined &&
    SCHEMA_DIR !== undefined &&
    spawnSync('ldapmodify', ['-VV'], { stdio: 'ignore' }).error === undefined &&
    spawnSync('slappasswd', ['-s', 'x'], { stdio: 'ignore' }).status === 0
  );
}

/** An {SSHA} hash for userPassword, as an administrator would store it. */
export function sshaPassword(password: string): string {
  const result = spawnSync('slappasswd', ['-h', '{SSHA}', '-s', password], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`slappasswd failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** A throwaway CA and a server certificate it signed for 127.0.0.1 (openssl). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string): string => join(dir, name);
  const openssl = (args: string[]): void => run('openssl', args);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Switchyard Test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  ]);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  ]);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], input?: string): void {
  const result = spawnSync(command, args, { input, encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0) {
    throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

/**
 * Starts slapd with `base` as its suffix and a service account, then adds `entries` (LDIF, the
 * base entry excluded). Resolves once the server answers.
 */
export async function throwawaySlapd(
  base: string,
  entries: string,
  options: { tls?: boolean } = {},
): Promise<ThrowawaySlapd> {
  if (SLAPD === undefined || SCHEMA_DIR === undefined) throw new Error('slapd is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'sy-slapd-'));
  mkdirSync(join(dir, 'db'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = options.tls === true ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const unnamedHostUrl = options.tls === true ? `ldap://127.0.0.2:${port}` : undefined;
  const tls = options.tls === true ? makeCertificates(dir) : undefined;
  const rootDn = `cn=manager,${base}`;
  const serviceDn = `cn=relay,ou=services,${base}`;
  const servicePassword = 'relay-service-secret';
  const moduleDir = MODULE_DIRS.find((candidate) => existsSync(join(candidate, 'back_mdb.so')));
  writeFileSync(
    join(dir, 'slapd.conf'),
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map(
        (schema) => `include ${join(SCHEMA_DIR, `${schema}.schema`)}`,
      ),
      `pidfile ${join(dir, 'slapd.pid')}`,
      ...(moduleDir === undefined ? [] : [`modulepath ${moduleDir}`, 'moduleload back_mdb']),
      ...(tls === undefined
        ? []
        : [
            `TLSCACertificateFile ${tls.ca}`,
            `TLSCertificateFile ${tls.cert}`,
            `TLSCertificateKeyFile ${tls.key}`,
          ]),
      'database mdb',
      `suffix "${base}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${ROOT_PASSWORD}`,
      `directory ${join(dir, 'db')}`,
      'maxsize 10485760',
      // Passwords: usable to bind, readable by nobody. Entries: the service account reads them.
      'access to attrs=userPassword',
      '  by anonymous auth',
      '  by * none',
      'access to *',
      `  by dn.exact="${serviceDn}" read`,
      '  by self read',
      '  by * none',
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined = spawn(
    SLAPD,
    [
      '-f',
      join(dir, 'slapd.conf'),
      '-h',
      [url, ldapsUrl, unnamedHostUrl].filter(Boolean).join('/ ') + '/',
      '-d',
      '0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child?.once('exit', () => {
      exited = true;
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (child === undefined) return;
    const running = child;
    child = undefined;
    if (exited) return;
    running.kill('SIGTERM');
    const killer = setTimeout(() => running.kill('SIGKILL'), STOP_BOUND_MS);
    await exit;
    clearTimeout(killer);
  };

  // Ready when an anonymous read of the root DSE answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = spawnSync('ldapsearch', ['-x', '-H', url, '-b', '', '-s', 'base', '-LLL'], {
      stdio: 'ignore',
      timeout: 5_000,
    });
    if (probe.status === 0) break;
    if (exited || Date.now() > deadline) {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`slapd did not start: ${stderr.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const asManager = ['-x', '-H', url, '-D', rootDn, '-w', ROOT_PASSWORD];
  const modify = (ldif: string): void => run('ldapmodify', asManager, ldif);
  const top = base.split(',')[0].split('=')[1];
  modify(
    [
      `dn: ${base}`,
      'changetype: add',
      'objectClass: dcObject',
      'objectClass: organization',
      `dc: ${top}`,
      `o: ${top}`,
      '',
      `dn: ou=services,${base}`,
      'changetype: add',
      'objectClass: organizationalUnit',
      'ou: services',
      '',
      `dn: ${serviceDn}`,
      'changetype: add',
      'objectClass: organizationalRole',
      'objectClass: simpleSecurityObject',
      'cn: relay',
      `userPassword: ${sshaPassword(servicePassword)}`,
      '',
    ].join('\n'),
  );
  // ldapadd: entries without a changetype line are adds.
  run('ldapadd', asManager, entries);

  return {
    url,
    ldapsUrl,
    unnamedHostUrl,
    caFile: tls?.ca,
    base,
    serviceDn,
    servicePassword,
    modify,
    remove: (dn) => run('ldapdelete', [...asManager, dn]),
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
