import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { contentTypeOf, loadAdminUiBundle, negotiateEncoding } from './admin-ui-bundle';

describe('negotiateEncoding', () => {
  const both = ['br', 'gzip'] as const;

  it('should prefer Brotli when the client accepts both, whatever its order', () => {
    expect(negotiateEncoding('gzip, deflate, br, zstd', both)).toBe('br');
  });

  it('should fall back to gzip when Brotli is refused or not built', () => {
    expect(negotiateEncoding('gzip, br;q=0', both)).toBe('gzip');
    expect(negotiateEncoding('gzip, deflate, br', ['gzip'])).toBe('gzip');
  });

  it('should send the file as it is when no offered coding is accepted', () => {
    expect(negotiateEncoding(undefined, both)).toBeUndefined();
    expect(negotiateEncoding('', both)).toBeUndefined();
    expect(negotiateEncoding('identity', both)).toBeUndefined();
    expect(negotiateEncoding('deflate', both)).toBeUndefined();
    expect(negotiateEncoding('gzip;q=0, br;q=0.0', both)).toBeUndefined();
  });

  it('should honour the wildcard unless a coding is refused by name', () => {
    expect(negotiateEncoding('*', both)).toBe('br');
    expect(negotiateEncoding('br;q=0, *;q=0.5', both)).toBe('gzip');
    expect(negotiateEncoding('*;q=0', both)).toBeUndefined();
  });
});

describe('loadAdminUiBundle', () => {
  let dist: string;

  beforeEach(() => {
    dist = mkdtempSync(join(tmpdir(), 'sy-admin-ui-bundle-'));
  });
  afterEach(() => rmSync(dist, { recursive: true, force: true }));

  it('should serve a page saying how to build the UI when dist is missing', () => {
    const bundle = loadAdminUiBundle(join(dist, 'missing'));
    expect(bundle.built).toBe(false);
    expect(bundle.page.body.toString()).toContain('npm run build');
    expect(bundle.assets.size).toBe(0);
    expect(bundle.pageHeaders['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('should index the assets with their precompressed copies and strict scripts', () => {
    const js = 'console.log("hello");'.repeat(50);
    mkdirSync(join(dist, 'assets', 'fonts'), { recursive: true });
    writeFileSync(
      join(dist, 'index.html'),
      '<!doctype html><script>boot()</script><script type="module" src="/admin/assets/app.js"></script>',
    );
    writeFileSync(join(dist, 'assets', 'app.js'), js);
    writeFileSync(join(dist, 'assets', 'app.js.gz'), gzipSync(js));
    // A "copy" larger than its file is not worth sending.
    writeFileSync(join(dist, 'assets', 'app.js.br'), Buffer.alloc(js.length + 1));
    writeFileSync(join(dist, 'assets', 'fonts', 'a.woff2'), 'font');
    const bundle = loadAdminUiBundle(dist);
    expect(bundle.built).toBe(true);
    expect([...bundle.assets.keys()].sort()).toEqual(['app.js', 'fonts/a.woff2']);
    const app = bundle.assets.get('app.js')!;
    expect(app.contentType).toBe('text/javascript; charset=utf-8');
    expect(Object.keys(app.encoded)).toEqual(['gzip']);
    expect(app.encoded.gzip!.etag).not.toBe(app.identity.etag);
    const csp = bundle.pageHeaders['content-security-policy'];
    expect(csp).toMatch(/script-src 'self' 'sha256-[^']+'; /);
    expect(csp).toContain("style-src 'self' 'unsafe-inline';");
  });
});

describe('contentTypeOf', () => {
  it('should name the types a Vite build emits and default to bytes', () => {
    expect(contentTypeOf('index-abc.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('logo.SVG')).toBe('image/svg+xml');
    expect(contentTypeOf('font.woff2')).toBe('font/woff2');
    expect(contentTypeOf('README')).toBe('application/octet-stream');
  });
});
