import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { adminPageHeaders } from './admin-page-headers';

/** Where `npm run admin:build` writes the admin UI (Vite; base /admin/, hashed files in assets/). */
export const ADMIN_UI_DIST = join(__dirname, '..', '..', '..', 'admin-ui', 'dist');

/** The content codings the build precompresses to, in the server's order of preference. */
export const ENCODINGS = ['br', 'gzip'] as const;
export type Encoding = (typeof ENCODINGS)[number];
const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

export interface Representation {
  body: Buffer;
  /** A strong validator of these exact bytes (each encoding has its own). */
  etag: string;
}

export interface AdminUiAsset {
  contentType: string;
  identity: Representation;
  /** The build's precompressed copies (`<file>.br`, `<file>.gz`) that are smaller than the file. */
  encoded: Partial<Record<Encoding, Representation>>;
}

export interface AdminUiBundle {
  /** false: admin-ui/dist is missing and `page` says how to build it. */
  built: boolean;
  page: Representation;
  pageHeaders: Record<string, string>;
  /** By path under assets/ (`index-abc123.js`); nothing outside that folder is ever served. */
  assets: ReadonlyMap<string, AdminUiAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function representation(body: Buffer): Representation {
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return { body, etag: `"${digest}"` };
}

/** Files under dir, as `/`-separated paths relative to it. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(join(dir, entry.name), path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function loadAssets(dir: string): Map<string, AdminUiAsset> {
  const assets = new Map<string, AdminUiAsset>();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return assets;
  const files = new Set(listFiles(dir));
  const isCopy = (file: string): boolean =>
    ENCODINGS.some((encoding) => {
      const suffix = SUFFIX[encoding];
      return file.endsWith(suffix) && files.has(file.slice(0, -suffix.length));
    });
  for (const file of files) {
    if (isCopy(file)) continue;
    const identity = representation(readFileSync(join(dir, file)));
    const encoded: AdminUiAsset['encoded'] = {};
    for (const encoding of ENCODINGS) {
      const copy = `${file}${SUFFIX[encoding]}`;
      if (!files.has(copy)) continue;
      const body = readFileSync(join(dir, copy));
      if (body.length < identity.body.length) encoded[encoding] = representation(body);
    }
    assets.set(file, { contentType: contentTypeOf(file), identity, encoded });
  }
  return assets;
}

/** Shown at /admin when the server runs from a checkout whose admin UI was never built. */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard: admin UI not built</title>
</head>
<body>
<h1>Switchyard</h1>
<p>The admin UI is not built: this server found no <code>admin-ui/dist</code>.</p>
<p>Build it from the project directory with <code>npm run build</code> (the server and the admin
UI), then restart the server. <code>npm start</code> builds what is missing by itself.</p>
<p>The admin API answers meanwhile under <a href="/admin/api/docs">/admin/api</a>.</p>
</body>
</html>
`;

/**
 * Reads the built admin UI into memory once, at boot: the files are immutable once built (their
 * names carry a content hash) and small (a few hundred kB with their compressed copies), so each
 * request is a map lookup and a write, with no file system access and no way to name a file
 * outside assets/. Without a build, /admin serves NOT_BUILT_PAGE.
 */
export function loadAdminUiBundle(dist: string = ADMIN_UI_DIST): AdminUiBundle {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) {
    return {
      built: false,
      page: representation(Buffer.from(NOT_BUILT_PAGE)),
      pageHeaders: adminPageHeaders(NOT_BUILT_PAGE),
      assets: new Map(),
    };
  }
  const html = readFileSync(index, 'utf8');
  return {
    built: true,
    page: representation(Buffer.from(html)),
    pageHeaders: adminPageHeaders(html, { inlineStyles: true }),
    assets: loadAssets(join(dist, 'assets')),
  };
}

/**
 * The coding to answer with: the first of `available` (in the server's order, smallest first)
 * that the request's Accept-Encoding accepts with a q above 0, `*` included; none otherwise.
 */
export function negotiateEncoding(
  header: string | undefined,
  available: readonly Encoding[],
): Encoding | undefined {
  if (header === undefined || header.trim() === '' || available.length === 0) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';').map((item) => item.trim().toLowerCase());
    if (name === undefined || name === '') continue;
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*([0-9.]+)$/.exec(param);
      if (match) q = Number(match[1]);
    }
    weights.set(name, Number.isFinite(q) ? q : 0);
  }
  return available.find((encoding) => (weights.get(encoding) ?? weights.get('*') ?? 0) > 0);
}
