import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { startServerProcess, type ServerProcess } from '../support/app-process';

/** A GET whose body is left as sent (fetch would decompress it). */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin UI served by the built server (end to end)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-admin-ui-serving-'));
  let server: ServerProcess;
  let html: string;

  beforeAll(async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    const res = await fetch(`${server.url}/admin`);
    expect(res.status).toBe(200);
    html = await res.text();
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should serve the built index.html with its policy at /admin and at client routes', async () => {
    expect(html).toContain('<div id="root"></div>');
    expect(html).toMatch(/src="\/admin\/assets\/[^"]+\.js"/);
    for (const path of ['/admin', '/admin/accounts/abc', '/admin/me/keys']) {
      const res = await fetch(`${server.url}${path}`);
      expect(`${path} ${res.status}`).toBe(`${path} 200`);
      expect(await res.text()).toBe(html);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy') ?? '';
      const boot = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
      const hash = createHash('sha256').update(boot).digest('base64');
      expect(csp).toContain(`script-src 'self' 'sha256-${hash}';`);
      expect(csp).toContain("style-src 'self' 'unsafe-inline';");
    }
  });

  it('should send every asset the page names compressed and cached for a year', async () => {
    const assets = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const res = await rawGet(`${server.url}${asset}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(`${asset} ${res.status}`).toBe(`${asset} 200`);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-encoding']).toBe('br');
      expect(res.headers['content-type']).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      expect(res.headers.etag).toBeDefined();
      expect(brotliDecompressSync(res.body).length).toBeGreaterThan(res.body.length);
    }
  });

  it('should answer a missing asset and an unknown API route with JSON 404s', async () => {
    const asset = await fetch(`${server.url}/admin/assets/index-missing.js`);
    expect(asset.status).toBe(404);
    expect(asset.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await asset.json()) as { error: { code: string } }).error.code).toBe(
      'ADMIN_UI_ASSET_NOT_FOUND',
    );
    const api = await fetch(`${server.url}/admin/api/no-such-route`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'Cannot GET /admin/api/no-such-route' },
    });
  });
});
