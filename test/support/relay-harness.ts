import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from 'src/bootstrap';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import { FakeUpstream } from '../fake-upstream/fake-upstream';

export const ADMIN_PASSWORD = 'e2e-admin-password';

export interface RelayHarness {
  server: RunningServer;
  upstream: FakeUpstream;
  url: string;
  admin<T = any>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  createAccount(input: Record<string, unknown>): Promise<{ id: string }>;
  createKey(input?: Record<string, unknown>): Promise<{ id: string; secret: string }>;
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole application in this process (embedded default: SQLite in a temp dir, in-process
 * coordination) in front of a fake upstream, with an admin session for setup through the API.
 */
export async function startRelayHarness(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RelayHarness> {
  const upstream = await FakeUpstream.start();
  const server = await startServer(
    {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-relay-')),
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_PASSWORD,
      PRINT_BANNER: 'false',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ANTHROPIC_BASE_URL: upstream.url,
      USAGE_FLUSH_INTERVAL_MS: '50',
      ...env,
    },
    options,
  );
  const url = `http://127.0.0.1:${server.port}`;
  const login = await fetch(`${url}/admin/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };

  const admin = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text.length > 0 ? JSON.parse(text) : undefined) as T };
  };

  return {
    server,
    upstream,
    url,
    admin,
    createAccount: async (input) => {
      const res = await admin<{ id: string }>('POST', '/admin/api/accounts', {
        type: 'claude-console',
        baseUrl: upstream.url,
        ...input,
      });
      if (res.status !== 201 && res.status !== 200) {
        throw new Error(`account create failed: ${res.status} ${JSON.stringify(res.body)}`);
      }
      return res.body;
    },
    createKey: async (input = {}) => {
      const res = await admin<any>('POST', '/admin/api/keys', {
        name: `key-${Date.now()}`,
        ...input,
      });
      if (res.status !== 201 && res.status !== 200) {
        throw new Error(`key create failed: ${res.status} ${JSON.stringify(res.body)}`);
      }
      return { id: res.body.key?.id ?? res.body.id, secret: res.body.secret };
    },
    flushUsage: () => server.app.get(UsageRecorder).flush(),
    close: async () => {
      await server.close();
      await upstream.close();
    },
  };
}
