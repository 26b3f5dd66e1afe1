import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { ModelRouter } from 'src/modules/routing/model-router.service';
import { UsersService } from 'src/modules/users/users.service';

const PASSWORD = 'correct-horse-battery';

interface RouteBody {
  id: string;
  pattern: string;
  platform: string;
  targetModel: string | null;
  position: number;
  enabled: boolean;
  note: string | null;
  createdAt: string;
  updatedAt: string;
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * The model-routes admin API through the whole application (session auth, validation, error
 * filter): a change is applied by the router before the response is sent.
 */
describe('model routes admin API over HTTP', () => {
  let app: NestExpressApplication;
  let url: string;
  let token: string;
  let router: ModelRouter;

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${url}/admin/api/model-routes${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text.length > 0 ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    const env = loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-model-routes-http-')),
      LOG_LEVEL: 'silent',
    });
    app = await createApp(new ConfigService(env));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${port}`;
    await app.get(UsersService).bootstrapAdmin('admin', PASSWORD);
    const login = await fetch(`${url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    token = ((await login.json()) as { token: string }).token;
    router = app.get(ModelRouter);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('should refuse a caller without an admin session', async () => {
    const res = await fetch(`${url}/admin/api/model-routes`);
    expect(res.status).toBe(401);
  });

  it('should list the default routes in evaluation order', async () => {
    const { status, json } = await call('GET', '');
    expect(status).toBe(200);
    const items = (json as { items: RouteBody[] }).items;
    expect(items.map((r) => `${r.pattern}>${r.platform}`)).toEqual([
      'claude-*>claude',
      'gpt-*>openai',
      'chatgpt-*>openai',
      'o1*>openai',
      'o3*>openai',
      'o4*>openai',
      'codex-*>openai',
      'gemini-*>gemini',
    ]);
    expect(items[0]).toEqual({
      id: expect.any(String),
      pattern: 'claude-*',
      platform: 'claude',
      targetModel: null,
      position: 10,
      enabled: true,
      note: 'built-in default',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('should filter, sort and page the list from the query string', async () => {
    const patterns = async (query: string): Promise<string[]> => {
      const { status, json } = await call('GET', `?${query}`);
      expect(status).toBe(200);
      return (json as { items: RouteBody[] }).items.map((r) => r.pattern);
    };

    expect(await patterns('platform=openai&sortBy=pattern')).toEqual([
      'chatgpt-*',
      'codex-*',
      'gpt-*',
      'o1*',
      'o3*',
      'o4*',
    ]);
    expect(await patterns('platform=openai&sortBy=pattern&sortOrder=desc')).toEqual([
      'o4*',
      'o3*',
      'o1*',
      'gpt-*',
      'codex-*',
      'chatgpt-*',
    ]);
    // The routes a model name matches, in the order they are tried.
    expect(await patterns('model=O3-mini')).toEqual(['o3*']);
    expect(await patterns('search=GEM')).toEqual(['gemini-*']);
    expect(await patterns('enabled=false')).toEqual([]);
    expect(await patterns('sortOrder=desc&pageSize=2')).toEqual(['gemini-*', 'codex-*']);
    const page = await call('GET', '?page=2&pageSize=3');
    expect(page.json).toMatchObject({ total: 8, page: 2, pageSize: 3 });
    expect((page.json as { items: RouteBody[] }).items.map((r) => r.pattern)).toEqual([
      'o1*',
      'o3*',
      'o4*',
    ]);
    expect((await call('GET', '?sortBy=note')).status).toBe(400);
    expect((await call('GET', '?pageSize=201')).status).toBe(400);
  });

  it('should apply a created, edited and deleted alias before each response', async () => {
    expect(router.route('gpt-4o')?.platform).toBe('openai');

    const created = await call('POST', '', {
      pattern: 'GPT-4o',
      platform: 'claude',
      targetModel: 'claude-sonnet-4-5',
      note: 'cheaper for the support team',
    });
    expect(created.status).toBe(201);
    const route = created.json as RouteBody;
    expect(route).toMatchObject({
      pattern: 'gpt-4o',
      platform: 'claude',
      targetModel: 'claude-sonnet-4-5',
      position: 90,
      enabled: true,
    });
    expect(router.route('GPT-4o')).toEqual({
      platform: 'claude',
      model: 'claude-sonnet-4-5',
      routeId: route.id,
    });
    expect(router.aliases()).toContainEqual({
      name: 'gpt-4o',
      platform: 'claude',
      model: 'claude-sonnet-4-5',
    });

    const resolved = await call('GET', '/resolve?model=gpt-4o');
    expect(resolved.json).toEqual({
      model: 'gpt-4o',
      route: { platform: 'claude', model: 'claude-sonnet-4-5', routeId: route.id },
    });

    const edited = await call('PATCH', `/${route.id}`, { targetModel: 'claude-opus-4-1' });
    expect(edited.status).toBe(200);
    expect(edited.json).toMatchObject({ targetModel: 'claude-opus-4-1', note: route.note });
    expect(router.route('gpt-4o')?.model).toBe('claude-opus-4-1');

    const disabled = await call('PATCH', `/${route.id}`, { enabled: false });
    expect((disabled.json as RouteBody).enabled).toBe(false);
    // The pattern it shadowed serves the name again.
    expect(router.route('gpt-4o')?.platform).toBe('openai');

    expect((await call('GET', `/${route.id}`)).json).toMatchObject({ enabled: false });

    const deleted = await call('DELETE', `/${route.id}`);
    expect(deleted.status).toBe(204);
    expect(router.list().some((r) => r.id === route.id)).toBe(false);
    expect((await call('GET', `/${route.id}`)).status).toBe(404);
  });

  it('should apply a disabled default at once and bring it back when enabled', async () => {
    const items = ((await call('GET', '')).json as { items: RouteBody[] }).items;
    const gemini = items.find((r) => r.pattern === 'gemini-*')!;

    await call('PATCH', `/${gemini.id}`, { enabled: false });
    expect(router.route('gemini-2.5-pro')).toBeNull();
    expect((await call('GET', '/resolve?model=gemini-2.5-pro')).json).toEqual({
      model: 'gemini-2.5-pro',
      route: null,
    });

    await call('PATCH', `/${gemini.id}`, { enabled: true });
    expect(router.route('gemini-2.5-pro')?.platform).toBe('gemini');
  });

  it('should move a pattern ahead of another by its position', async () => {
    const catchAll = await call('POST', '', { pattern: '*', platform: 'droid' });
    const id = (catchAll.json as RouteBody).id;
    expect(router.route('claude-haiku-4-5')?.platform).toBe('claude');
    expect(router.route('mistral-large')?.platform).toBe('droid');

    await call('PATCH', `/${id}`, { position: 0 });
    expect(router.route('claude-haiku-4-5')?.platform).toBe('droid');

    await call('DELETE', `/${id}`);
    expect(router.route('mistral-large')).toBeNull();
  });

  describe('errors', () => {
    it('should answer 409 ROUTE_PATTERN_TAKEN for a pattern in use, naming the route', async () => {
      const items = ((await call('GET', '')).json as { items: RouteBody[] }).items;
      const claude = items.find((r) => r.pattern === 'claude-*')!;
      const { status, json } = await call('POST', '', { pattern: 'Claude-*', platform: 'droid' });
      expect(status).toBe(409);
      expect((json as ErrorBody).error).toMatchObject({
        code: 'ROUTE_PATTERN_TAKEN',
        details: { pattern: 'claude-*', routeId: claude.id },
      });
    });

    it('should answer 404 ROUTE_NOT_FOUND for an unknown id, and 400 for a malformed one', async () => {
      const missing = '0190a000-0000-7000-8000-00000000ffff';
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { enabled: false }],
        ['DELETE', undefined],
      ] as const) {
        const { status, json } = await call(method, `/${missing}`, body);
        expect({ method, status }).toEqual({ method, status: 404 });
        expect((json as ErrorBody).error.code).toBe('ROUTE_NOT_FOUND');
      }
      expect((await call('GET', '/not-a-uuid')).status).toBe(400);
    });

    it.each([
      ['a pattern with a space', { pattern: 'gpt 4o', platform: 'openai' }],
      ['a pattern over 200 characters', { pattern: 'x'.repeat(201), platform: 'openai' }],
      ['an empty pattern', { pattern: '', platform: 'openai' }],
      ['an unknown platform', { pattern: 'llama-*', platform: 'meta' }],
      ['a target with a star', { pattern: 'fast', platform: 'claude', targetModel: 'claude-*' }],
      ['a target with whitespace', { pattern: 'fast', platform: 'claude', targetModel: 'a b' }],
      [
        'a target over 200 characters',
        { pattern: 'fast', platform: 'claude', targetModel: 'y'.repeat(201) },
      ],
      ['a fractional position', { pattern: 'fast', platform: 'claude', position: 1.5 }],
      ['a negative position', { pattern: 'fast', platform: 'claude', position: -1 }],
      ['an unknown field', { pattern: 'fast', platform: 'claude', priority: 1 }],
      ['no platform', { pattern: 'fast' }],
    ])('should answer 400 VALIDATION_FAILED on create for %s', async (_case, body) => {
      const { status, json } = await call('POST', '', body);
      expect(status).toBe(400);
      expect((json as ErrorBody).error.code).toBe('VALIDATION_FAILED');
      expect(router.route('fast')).toBeNull();
    });

    it('should refuse null for a field that cannot be cleared on update', async () => {
      const items = ((await call('GET', '')).json as { items: RouteBody[] }).items;
      for (const field of ['pattern', 'platform', 'position', 'enabled']) {
        const { status } = await call('PATCH', `/${items[0].id}`, { [field]: null });
        expect({ field, status }).toEqual({ field, status: 400 });
      }
    });
  });
});
