import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, type ServerProcess } from '../support/app-process';

const ROOT = join(__dirname, '..', '..');

/** Runs the compiled `switchyard` CLI as a user would, with only the given environment. */
async function cli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'switchyard.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

describe('a headless setup with the CLI alone', () => {
  let upstream: FakeUpstream;
  let server: ServerProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-cli-'));

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('should serve a request shaped like Claude Code, including count_tokens', async () => {
    const env = { DATA_DIR: dataDir };
    const added = await cli(env, [
      'accounts',
      'add',
      '--name',
      'subscription',
      '--type',
      'claude-oauth',
      '--access-token',
      'sk-ant-oat01-cli-token',
      '--refresh-token',
      'sk-ant-ort01-cli-refresh',
      '--base-url',
      upstream.url,
      '--json',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).not.toContain('sk-ant-oat01-cli-token');

    const listed = await cli(env, ['accounts', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('subscription');

    const created = await cli(env, ['keys', 'create', '--name', 'laptop', '--json']);
    expect(created.code).toBe(0);
    const secret = JSON.parse(created.stdout) as { secret: string }[] | { secret: string } as any;
    const key: string = Array.isArray(secret) ? secret[0].secret : secret.secret;
    expect(key).toMatch(/^sk-sy-/);

    server = await startServerProcess({ DATA_DIR: dataDir });
    const headers = {
      'content-type': 'application/json',
      'x-api-key': key,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      'user-agent': 'claude-cli/2.0.14 (external, cli)',
      'x-app': 'cli',
      'x-stainless-lang': 'js',
      'anthropic-dangerous-direct-browser-access': 'true',
    };
    const metadata = {
      user_id:
        'user_8f0e2b1a9c_account_3b6f1c2d-aaaa-bbbb-cccc-111122223333_session_9a8b7c6d-1111-2222-3333-444455556666',
    };
    const count = await fetch(`${server.url}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: 'count me' }],
      }),
    });
    expect(count.status).toBe(200);
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);

    const res = await fetch(`${server.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 32000,
        stream: true,
        metadata,
        system: [
          { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
        tools: [
          { name: 'Bash', description: 'run', input_schema: { type: 'object', properties: {} } },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('event: message_stop');

    const forwarded = upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)!;
    expect(forwarded.search).toBe('?beta=true');
    expect(forwarded.headers.authorization).toBe('Bearer sk-ant-oat01-cli-token');
    expect(forwarded.headers['x-api-key']).toBeUndefined();
    expect(String(forwarded.headers['anthropic-beta']).split(',')).toEqual(
      expect.arrayContaining([
        'claude-code-20250219',
        'interleaved-thinking-2025-05-14',
        'oauth-2025-04-20',
      ]),
    );
    expect(forwarded.headers['user-agent']).toBe('claude-cli/2.0.14 (external, cli)');
    expect((forwarded.json as { metadata: unknown }).metadata).toEqual(metadata);
  });
});
