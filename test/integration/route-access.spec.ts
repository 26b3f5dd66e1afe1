import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { ROUTE_ACCESS } from 'src/common/auth/route-access.decorator';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';

describe('route access rules', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    const env = loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-routes-')),
      LOG_LEVEL: 'silent',
    });
    app = await createApp(new ConfigService(env));
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('should declare who may call every route of every controller', () => {
    const routes: { route: string; access: unknown }[] = [];
    for (const module of app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
        if (type === null) continue;
        const prototype = type.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
          const access: unknown =
            Reflect.getMetadata(ROUTE_ACCESS, handler) ?? Reflect.getMetadata(ROUTE_ACCESS, type);
          const path: unknown = Reflect.getMetadata(PATH_METADATA, handler);
          routes.push({ route: `${type.name}.${name} ${JSON.stringify(path)}`, access });
        }
      }
    }
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => r.access === undefined).map((r) => r.route)).toEqual([]);
  });

  it('should refuse every admin API route without a session', async () => {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    for (const path of [
      '/admin/api/accounts',
      '/admin/api/keys',
      '/admin/api/usage/summary',
      '/admin/api/pricing/overrides',
      '/admin/api/model-routes',
      '/admin/api/settings',
    ]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });
});
