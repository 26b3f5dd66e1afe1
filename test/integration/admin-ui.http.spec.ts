import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { Public } from 'src/common/auth/route-access.decorator';
import { AdminExceptionFilter } from 'src/common/http/admin-exception.filter';
import { loadAdminUiBundle } from 'src/modules/admin-ui/admin-ui-bundle';
import { ADMIN_UI_BUNDLE, AdminUiController } from 'src/modules/admin-ui/admin-ui.controller';
import { AdminUiModule } from 'src/modules/admin-ui/admin-ui.module';

/** Stands for the admin API: its routes are registered after the admin UI's catch-all. */
@Public()
@Controller('admin/api')
class ProbeController {
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const BOOT = "document.documentElement.classList.toggle('dark', false);";
const INDEX = `<!doctype html><html><head><script>${BOOT}</script><script type="module" crossorigin src="/admin/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>`;
const APP_JS = 'export const answer = 42;\n'.repeat(400);
const CSS = 'body{color:red}';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A raw GET (no decompression, no path normalisation), to see exactly what is sent. */
function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method, headers }, (res) => {
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

async function startApp(dist: string): Promise<{ app: INestApplication; base: string }> {
  const moduleRef = await Test.createTestingModule({ imports: [AdminUiModule, ProbeModule] })
    .overrideProvider(ADMIN_UI_BUNDLE)
    .useValue(loadAdminUiBundle(dist))
    .compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
  app.useGlobalFilters(new AdminExceptionFilter());
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}` };
}

describe(AdminUiController.name, () => {
  const root = mkdtempSync(join(tmpdir(), 'sy-admin-ui-http-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('with a built UI', () => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      const dist = join(root, 'dist');
      mkdirSync(join(dist, 'assets'), { recursive: true });
      writeFileSync(join(dist, 'index.html'), INDEX);
      writeFileSync(join(dist, 'assets', 'app-abc123.js'), APP_JS);
      writeFileSync(join(dist, 'assets', 'app-abc123.js.br'), brotliCompressSync(APP_JS));
      writeFileSync(join(dist, 'assets', 'app-abc123.js.gz'), gzipSync(APP_JS));
      writeFileSync(join(dist, 'assets', 'style-def456.css'), CSS);
      ({ app, base } = await startApp(dist));
    });
    afterAll(async () => {
      await app?.close();
    });

    describe('GET /admin and client routes', () => {
      it('should answer index.html, revalidated on each load, under the admin page policy', async () => {
        const res = await get(base, '/admin');
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe(INDEX);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.headers['cache-control']).toBe('no-cache');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        const csp = res.headers['content-security-policy'] ?? '';
        const hash = createHash('sha256').update(BOOT).digest('base64');
        expect(csp).toContain(`script-src 'self' 'sha256-${hash}';`);
        expect(csp).toContain("style-src 'self' 'unsafe-inline';");
        expect(csp).toContain("frame-ancestors 'none'");
      });

      it('should answer index.html for every client-side route under /admin', async () => {
        for (const path of [
          '/admin/',
          '/admin/dashboard',
          '/admin/accounts/abc',
          '/admin/me/keys',
          '/admin/assets-report',
          '/admin/apis',
        ]) {
          const res = await get(base, path);
          expect(`${path} ${res.status} ${res.headers['cache-control']}`).toBe(
            `${path} 200 no-cache`,
          );
          expect(res.body.toString()).toBe(INDEX);
        }
      });

      it('should answer 304 to a revalidation of an unchanged page', async () => {
        const first = await get(base, '/admin/keys');
        const again = await get(base, '/admin/keys', {
          'if-none-match': String(first.headers.etag),
        });
        expect(again.status).toBe(304);
        expect(again.body.length).toBe(0);
        expect(again.headers['content-security-policy']).toBeDefined();
      });
    });

    describe('GET /admin/assets/:file', () => {
      it('should send Brotli, gzip or the file as the client accepts, cached for a year', async () => {
        const path = '/admin/assets/app-abc123.js';
        const br = await get(base, path, { 'accept-encoding': 'gzip, deflate, br, zstd' });
        expect(br.status).toBe(200);
        expect(br.headers['content-encoding']).toBe('br');
        expect(brotliDecompressSync(br.body).toString()).toBe(APP_JS);
        const gz = await get(base, path, { 'accept-encoding': 'gzip' });
        expect(gz.headers['content-encoding']).toBe('gzip');
        expect(gunzipSync(gz.body).toString()).toBe(APP_JS);
        const plain = await get(base, path);
        expect(plain.headers['content-encoding']).toBeUndefined();
        expect(plain.body.toString()).toBe(APP_JS);
        for (const res of [br, gz, plain]) {
          expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
          expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
          expect(res.headers.vary).toBe('accept-encoding');
          expect(res.headers['content-length']).toBe(String(res.body.length));
        }
        expect(new Set([br, gz, plain].map((res) => res.headers.etag)).size).toBe(3);
      });

      it('should send a file without compressed copies as it is', async () => {
        const res = await get(base, '/admin/assets/style-def456.css', {
          'accept-encoding': 'br, gzip',
        });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(res.headers.vary).toBeUndefined();
        expect(res.body.toString()).toBe(CSS);
      });

      it('should answer 304 when the client holds the same representation', async () => {
        const path = '/admin/assets/app-abc123.js';
        const first = await get(base, path, { 'accept-encoding': 'br' });
        const again = await get(base, path, {
          'accept-encoding': 'br',
          'if-none-match': String(first.headers.etag),
        });
        expect(again.status).toBe(304);
        expect(again.body.length).toBe(0);
        // Another encoding is another representation: sent in full.
        const other = await get(base, path, { 'if-none-match': String(first.headers.etag) });
        expect(other.status).toBe(200);
      });

      it('should answer HEAD with the headers only', async () => {
        const res = await get(base, '/admin/assets/app-abc123.js', {}, 'HEAD');
        expect(res.status).toBe(200);
        expect(res.headers['content-length']).toBe(String(Buffer.byteLength(APP_JS)));
        expect(res.body.length).toBe(0);
      });

      it('should answer a missing asset with a JSON 404, never the page', async () => {
        for (const path of [
          '/admin/assets/app-000000.js',
          '/admin/assets',
          '/admin/assets/',
          '/admin/ASSETS/nope.css',
          '/admin/assets/app-abc123.js.br',
        ]) {
          const res = await get(base, path);
          expect(`${path} ${res.status}`).toBe(`${path} 404`);
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expect(res.headers['cache-control']).toBeUndefined();
          expect(JSON.parse(res.body.toString()).error.code).toBe('ADMIN_UI_ASSET_NOT_FOUND');
        }
      });

      it('should never send a file outside the assets folder', async () => {
        for (const path of [
          '/admin/assets/../index.html',
          '/admin/assets/..%2Findex.html',
          '/admin/assets/..%2F..%2F..%2Fpackage.json',
          '/admin/assets/%2e%2e/%2e%2e/package.json',
          '/admin/assets//etc/passwd',
          '/admin/assets/..\\index.html',
        ]) {
          const res = await get(base, path);
          expect(`${path} ${res.status}`).toMatch(/ 404$/);
          expect(res.body.toString()).not.toContain('<!doctype html>');
        }
      });
    });

    describe('GET /admin/api/*', () => {
      it('should leave API routes to the admin API, its JSON 404 included', async () => {
        const ping = await get(base, '/admin/api/ping');
        expect(ping.status).toBe(200);
        expect(JSON.parse(ping.body.toString())).toEqual({ ok: true });
        for (const path of ['/admin/api/nope', '/admin/api', '/admin/api/', '/admin/API/x/y']) {
          const res = await get(base, path);
          expect(`${path} ${res.status}`).toBe(`${path} 404`);
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expect(JSON.parse(res.body.toString()).error.code).toBe('NOT_FOUND');
        }
      });
    });
  });

  describe('without a build', () => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      ({ app, base } = await startApp(join(root, 'never-built')));
    });
    afterAll(async () => {
      await app?.close();
    });

    it('should say on every page route that the UI is not built and how to build it', async () => {
      for (const path of ['/admin', '/admin/accounts']) {
        const res = await get(base, path);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.body.toString()).toContain('npm run build');
        expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      }
      const asset = await get(base, '/admin/assets/index-abc.js');
      expect(asset.status).toBe(404);
    });
  });
});
