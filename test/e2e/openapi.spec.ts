import SwaggerParser from '@apidevtools/swagger-parser';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeOpenApi } from 'src/modules/openapi/openapi-document';
import { startServerProcess, type ServerProcess } from '../support/app-process';

const ROOT = join(__dirname, '..', '..');
const COMMITTED = join(ROOT, 'docs', 'openapi.json');
const SCHEMA_TYPES = join(ROOT, 'admin-ui', 'src', 'api', 'schema.d.ts');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The first line where two texts part, to say what changed without dumping 200 kB. */
function firstDifference(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const at = left.findIndex((line, i) => line !== right[i]);
  const line = at === -1 ? left.length : at;
  return `line ${line + 1}: served ${JSON.stringify(left[line])}, committed ${JSON.stringify(right[line])}`;
}

describe('OpenAPI document of the admin API (end to end)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-openapi-'));
  let server: ServerProcess;
  let served: string;

  beforeAll(async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    const res = await fetch(`${server.url}/admin/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    served = await res.text();
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should serve a valid OpenAPI 3 document without a session', async () => {
    const document = JSON.parse(served);
    expect(document.openapi).toMatch(/^3\./);
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeDefined();
  });

  it('should equal docs/openapi.json byte for byte', () => {
    const canonical = serializeOpenApi(JSON.parse(served));
    const committed = readFileSync(COMMITTED, 'utf8');
    if (canonical !== committed) {
      throw new Error(
        `docs/openapi.json does not match the code (${firstDifference(canonical, committed)}): ` +
          'run npm run openapi and commit the result',
      );
    }
    expect(served).toBe(committed);
  });

  it('should have admin-ui/src/api/schema.d.ts generated from the committed document', () => {
    // openapi-typescript runs in its own Node process: it is an ES module, jest's module system
    // runs CommonJS.
    const generated = execFileSync(
      process.execPath,
      [
        '-e',
        "require('./scripts/openapi.js').schemaTypes(require('node:fs').readFileSync(" +
          "'docs/openapi.json', 'utf8')).then((text) => process.stdout.write(text))",
      ],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const committed = readFileSync(SCHEMA_TYPES, 'utf8');
    if (generated !== committed) {
      throw new Error(
        `admin-ui/src/api/schema.d.ts is not generated from docs/openapi.json ` +
          `(${firstDifference(generated, committed)}): run npm run openapi and commit the result`,
      );
    }
    expect(generated).toContain('export interface paths');
  });

  it('should describe only admin routes, each with its roles and the admin error shape', () => {
    const document = JSON.parse(served);
    const paths = Object.keys(document.paths);
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((p) => !p.startsWith('/admin/api/'))).toEqual([]);
    expect(paths).toContain('/admin/api/accounts/{id}');
    expect(document.components.securitySchemes.session).toMatchObject({ scheme: 'bearer' });
    const missing: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (op === undefined) continue;
        const roles: unknown = op['x-switchyard-roles'];
        if (!Array.isArray(roles)) missing.push(`${method} ${path}: no roles`);
        if (op.tags?.length !== 1) missing.push(`${method} ${path}: no tag`);
        if (Array.isArray(roles) && roles.length > 0) {
          if (!op.description.includes(`Roles: ${roles.join(', ')}.`)) {
            missing.push(`${method} ${path}: roles not in the description`);
          }
          if (op.responses['401']?.content['application/json'].schema.$ref === undefined) {
            missing.push(`${method} ${path}: no 401`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
    const login = document.paths['/admin/api/auth/login'].post;
    expect(login['x-switchyard-roles']).toEqual([]);
    expect(login.security).toEqual([]);
    const setOverride = document.paths['/admin/api/pricing/overrides/{model}'].put;
    expect(setOverride['x-switchyard-roles']).toEqual(['admin']);
    expect(Object.keys(setOverride.responses)).toEqual(
      expect.arrayContaining(['400', '401', '403']),
    );
    expect(document.components.schemas.AdminError.required).toEqual(['error']);
  });

  it('should serve a browsable page whose assets load under the admin page policy', async () => {
    const res = await fetch(`${server.url}/admin/api/docs`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(
      expect.arrayContaining([
        '/admin/api/docs/assets/swagger-ui-bundle.js',
        '/admin/api/docs/assets/swagger-ui.css',
      ]),
    );
    for (const asset of assets) {
      const file = await fetch(`${server.url}${asset}`);
      expect(`${asset} ${file.status}`).toBe(`${asset} 200`);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const init = await (await fetch(`${server.url}/admin/api/docs/assets/docs.js`)).text();
    expect(init).toContain("url: '/admin/api/openapi.json'");
    const unknown = await fetch(`${server.url}/admin/api/docs/assets/..%2F..%2Fpackage.json`);
    expect(unknown.status).toBe(404);
  });
});
