import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  runServerExpectingExit,
  startServerProcess,
  type ServerProcess,
} from '../support/app-process';

const ROOT = join(__dirname, '..', '..');
const ENCRYPTION_KEY = 'enc-from-file-0123456789abcdef0123456789abcdef';
const JWT_SECRET = 'jwt-from-file-0123456789abcdef0123456789abcdef';
const ADMIN_PASSWORD = 'admin-password-from-file';

/** Secrets given as Kubernetes / Docker secret files: NAME_FILE instead of NAME. */
describe('secrets from files (built app, NODE_ENV=production)', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  const secretFile = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const baseEnv = (): Record<string, string> => ({
    NODE_ENV: 'production',
    DATA_DIR: join(dir, 'data'),
    PRINT_BANNER: 'false',
    LOG_LEVEL: 'info',
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sy-e2e-secret-files-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('should start and log an admin in when ENCRYPTION_KEY, JWT_SECRET and ADMIN_PASSWORD come from files', async () => {
    server = await startServerProcess({
      ...baseEnv(),
      // Trailing newlines as `echo … > file` and `kubectl create secret --from-file` leave them.
      ENCRYPTION_KEY_FILE: secretFile('encryption_key', `${ENCRYPTION_KEY}\n`),
      JWT_SECRET_FILE: secretFile('jwt_secret', `${JWT_SECRET}\r\n`),
      ADMIN_PASSWORD_FILE: secretFile('admin_password', `${ADMIN_PASSWORD}\n`),
    });
    const login = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const me = await fetch(`${server.url}/admin/api/auth/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username: 'admin' });
    // The session token is signed with the file's secret (no trailing newline): a token signed
    // with anything else would not have passed /me above. Nothing of the files reaches the log.
    const output = server.output();
    expect(output).not.toContain(ENCRYPTION_KEY);
    expect(output).not.toContain(JWT_SECRET);
    expect(output).not.toContain(ADMIN_PASSWORD);
  });

  it('should refuse to start naming the variable and path when a file is missing, empty or doubled', async () => {
    const missing = join(dir, 'no-such-file');
    const empty = secretFile('empty', '\n');
    const { code, output } = await runServerExpectingExit({
      ...baseEnv(),
      ENCRYPTION_KEY_FILE: missing,
      JWT_SECRET_FILE: empty,
      METRICS_TOKEN: 'metrics-token-value-123',
      METRICS_TOKEN_FILE: secretFile('metrics', 'metrics-token-from-file-456'),
    });
    expect(code).toBe(1);
    expect(output).toContain(`ENCRYPTION_KEY_FILE: cannot read ${missing} (ENOENT)`);
    expect(output).toContain(`JWT_SECRET_FILE: ${empty} is empty`);
    expect(output).toContain('METRICS_TOKEN and METRICS_TOKEN_FILE are both set: keep one');
    expect(output).not.toContain('metrics-token-value-123');
    expect(output).not.toContain('metrics-token-from-file-456');
  });

  it('should show in doctor where each secret comes from without printing it', async () => {
    const jwtFile = secretFile('jwt_secret', `${JWT_SECRET}\n`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'dist', 'cli', 'main.js'), 'doctor'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...baseEnv(),
          ENCRYPTION_KEY: ENCRYPTION_KEY,
          JWT_SECRET_FILE: jwtFile,
        },
        timeout: 20000,
      },
    );
    expect(stdout).toContain(
      `ok    secrets: ENCRYPTION_KEY from environment, JWT_SECRET from file ${jwtFile}`,
    );
    expect(stdout).not.toContain(ENCRYPTION_KEY);
    expect(stdout).not.toContain(JWT_SECRET);
  });
});
