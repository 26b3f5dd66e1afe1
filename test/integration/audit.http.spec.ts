import type { NestExpressApplication } from '@nestjs/platform-express';
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { registerKeysCommands } from 'src/cli/keys.command';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { DATABASE } from 'src/infra/database/database.module';
import type { Db } from 'src/infra/database/database.types';
import { parseCsv } from 'src/modules/audit/audit-csv';
import { AuditRecorder } from 'src/modules/audit/audit-recorder.service';
import { REDACTED } from 'src/modules/audit/audit-sanitizer';
import { AUDIT_CSV_COLUMNS } from 'src/modules/audit/audit.service';
import type { AuditEntryDto, AuditPageDto } from 'src/modules/audit/dto/audit-response.dto';
import { UsersService } from 'src/modules/users/users.service';
import { captureCliOutput, runCli } from '../factories/cli.factory';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

const ADMIN_PASSWORD = 'admin-Password-0451!';
const AUDITOR_PASSWORD = 'auditor-Password-7788!';
const WRONG_PASSWORD = 'wrong-Password-3141!';
const ACCOUNT_KEY = 'sk-ant-api03-AUDIT-FIRST-SECRET-0123456789abcdef';
const ACCOUNT_KEY_2 = 'sk-ant-api03-AUDIT-SECOND-SECRET-fedcba9876543210';
const PROXY_PASSWORD = 'proxyPassW0rd-audit';

interface Client {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/**
 * The audit trail over HTTP against the whole application: a scripted admin session of exactly
 * 20 mutations yields exactly 20 rows with the right actor, action, target and diff; no secret
 * used anywhere reaches the table or the CSV export; the export matches the list; login events
 * and a CLI command leave their rows.
 */
function auditTrailSuite(
  engine: () => Promise<{ env: Record<string, string>; drop(): Promise<void> }>,
): void {
  let app: NestExpressApplication;
  let url: string;
  let drop: () => Promise<void>;
  const secrets: string[] = [
    ADMIN_PASSWORD,
    AUDITOR_PASSWORD,
    WRONG_PASSWORD,
    ACCOUNT_KEY,
    ACCOUNT_KEY_2,
    PROXY_PASSWORD,
  ];
  const cli = captureCliOutput();

  beforeAll(async () => {
    const database = await engine();
    drop = database.drop;
    const env = loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-audit-http-')),
      LOG_LEVEL: 'silent',
      REDIS_URL: '',
      LOGIN_MAX_FAILURES_PER_USERNAME: '2',
      ...database.env,
    });
    app = await createApp(new ConfigService(env));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${port}`;
    const users = app.get(UsersService);
    await users.bootstrapAdmin('admin', ADMIN_PASSWORD);
    await users.createLocalUser('auditor', 'viewer', AUDITOR_PASSWORD);
  });
  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  async function login(username: string, password: string): Promise<Response> {
    return fetch(`${url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  }

  async function session(username: string, password: string): Promise<Client> {
    const res = await login(username, password);
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    return {
      async call(method, path, body) {
        const response = await fetch(`${url}/admin/api${path}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, body: text === '' ? null : JSON.parse(text) };
      },
    };
  }

  async function flushed(): Promise<void> {
    await app.get(AuditRecorder).flush();
  }

  async function list(auditor: Client, query: string): Promise<AuditPageDto> {
    await flushed();
    const res = await auditor.call('GET', `/audit?${query}`);
    expect(res.status).toBe(200);
    return res.body as AuditPageDto;
  }

  async function tableDump(): Promise<string> {
    await flushed();
    const rows = await app.get<Db>(DATABASE).selectFrom('audit_log').selectAll().execute();
    return JSON.stringify(rows);
  }

  function change(entry: AuditEntryDto, field: string): unknown {
    return entry.diff?.find((c) => c.field === field);
  }

  it('should record a scripted session of 20 admin actions as exactly 20 rows, with diffs and no secret', async () => {
    const auditor = await session('auditor', AUDITOR_PASSWORD);
    const before = (await list(auditor, 'pageSize=1')).total;
    const admin = await session('admin', ADMIN_PASSWORD);
    const afterLogin = await list(auditor, 'pageSize=1&order=desc');
    expect(afterLogin.total).toBe(before + 1);
    expect(afterLogin.items[0]).toMatchObject({
      actor: 'admin',
      action: 'auth.login',
      outcome: 'success',
    });

    const ok = async (method: string, path: string, body?: unknown): Promise<any> => {
      const res = await admin.call(method, path, body);
      expect({ method, path, status: res.status < 300 ? 'ok' : res.status }).toEqual({
        method,
        path,
        status: 'ok',
      });
      return res.body;
    };

    // 1-4: an account with a secret API key and a proxy password.
    const account = await ok('POST', '/accounts', {
      name: 'audited-console',
      type: 'claude-console',
      credentials: { apiKey: ACCOUNT_KEY },
      proxy: `http://proxyuser:${PROXY_PASSWORD}@127.0.0.1:3128`,
    });
    await ok('PATCH', `/accounts/${account.id}`, {
      credentials: { apiKey: ACCOUNT_KEY_2 },
      priority: 10,
    });
    await ok('POST', `/accounts/${account.id}/disable`);
    await ok('POST', `/accounts/${account.id}/enable`);
    // 5-8: a key, its secret shown at create and rotate.
    const key = await ok('POST', '/keys', { name: 'audited-key' });
    secrets.push(key.secret);
    await ok('PATCH', `/keys/${key.id}`, { description: 'for the audit test' });
    const rotated = await ok('POST', `/keys/${key.id}/rotate`);
    secrets.push(rotated.secret);
    await ok('POST', `/keys/${key.id}/disable`);
    // 9-11: a group.
    const group = await ok('POST', '/account-groups', {
      name: 'audited-group',
      platform: 'claude',
    });
    await ok('PUT', `/account-groups/${group.id}/members`, { accountIds: [account.id] });
    await ok('PATCH', `/account-groups/${group.id}`, { description: 'pool' });
    // 12-14: a routing rule.
    const rule = await ok('POST', '/routing-rules', {
      name: 'audited-rule',
      apiKeyId: key.id,
      scenario: 'background',
      targetModel: 'claude-3-5-haiku-20241022',
    });
    await ok('PATCH', `/routing-rules/${rule.id}`, { priority: 7 });
    await ok('DELETE', `/routing-rules/${rule.id}`);
    // 15-16: a model route.
    const route = await ok('POST', '/model-routes', {
      pattern: 'audited-model-*',
      platform: 'claude',
    });
    await ok('DELETE', `/model-routes/${route.id}`);
    // 17-18: a price override.
    await ok('PUT', '/pricing/overrides/audited-model-1', { input: 1, output: 2 });
    await ok('DELETE', '/pricing/overrides/audited-model-1');
    // 19: soft-delete the key. 20: log out.
    await ok('DELETE', `/keys/${key.id}`);
    await ok('POST', '/auth/logout');

    const page = await list(auditor, 'order=asc&pageSize=500');
    expect(page.total).toBe(before + 21);
    const rows = page.items.slice(-20);
    expect(rows.map((r) => [r.actor, r.action, r.targetType, r.targetId, r.outcome])).toEqual([
      ['admin', 'accounts.create', 'accounts', account.id, 'success'],
      ['admin', 'accounts.update', 'accounts', account.id, 'success'],
      ['admin', 'accounts.disable', 'accounts', account.id, 'success'],
      ['admin', 'accounts.enable', 'accounts', account.id, 'success'],
      ['admin', 'keys.create', 'keys', key.id, 'success'],
      ['admin', 'keys.update', 'keys', key.id, 'success'],
      ['admin', 'keys.rotate', 'keys', key.id, 'success'],
      ['admin', 'keys.disable', 'keys', key.id, 'success'],
      ['admin', 'account-groups.create', 'account-groups', group.id, 'success'],
      ['admin', 'account-groups.set_members', 'account-groups', group.id, 'success'],
      ['admin', 'account-groups.update', 'account-groups', group.id, 'success'],
      ['admin', 'routing-rules.create', 'routing-rules', rule.id, 'success'],
      ['admin', 'routing-rules.update', 'routing-rules', rule.id, 'success'],
      ['admin', 'routing-rules.remove', 'routing-rules', rule.id, 'success'],
      ['admin', 'model-routes.create', 'model-routes', route.id, 'success'],
      ['admin', 'model-routes.remove', 'model-routes', route.id, 'success'],
      ['admin', 'pricing.set_override', 'pricing', 'audited-model-1', 'success'],
      ['admin', 'pricing.delete_override', 'pricing', 'audited-model-1', 'success'],
      ['admin', 'keys.remove', 'keys', key.id, 'success'],
      ['admin', 'auth.logout', 'users', rows[0].actorId, 'success'],
    ]);
    for (const row of rows) {
      expect(row.source).toMatch(/127\.0\.0\.1/);
      expect(row.actorRole).toBe('admin');
    }
    const [create, update, disable, , keyCreate, keyUpdate, keyRotate, keyDisable] = rows;
    const [groupCreate, members, groupUpdate, ruleCreate, ruleUpdate, ruleDelete] = rows.slice(8);
    const [routeCreate, routeDelete, priceSet, priceDelete, keyDelete, logout] = rows.slice(14);

    // Created: no before, every field after; the credentials only as changed, the proxy masked.
    expect(create.before).toBeNull();
    expect(create.after).toMatchObject({ id: account.id, name: 'audited-console', priority: 50 });
    expect(change(create, 'credentials')).toEqual({
      field: 'credentials',
      after: REDACTED,
      redacted: true,
    });
    expect(create.diff?.some((c) => c.field === 'name' && c.after === 'audited-console')).toBe(
      true,
    );
    // Updated: priority and credentials changed, nothing about names.
    expect(change(update, 'priority')).toEqual({ field: 'priority', before: 50, after: 10 });
    expect(change(update, 'credentials')).toEqual({
      field: 'credentials',
      before: REDACTED,
      after: REDACTED,
      redacted: true,
    });
    expect(change(update, 'name')).toBeUndefined();
    expect(change(disable, 'enabled')).toEqual({ field: 'enabled', before: true, after: false });
    expect(change(keyCreate, 'name')).toEqual({ field: 'name', after: 'audited-key' });
    expect(change(keyUpdate, 'description')).toEqual({
      field: 'description',
      before: null,
      after: 'for the audit test',
    });
    expect(change(keyRotate, 'keyHint')).toEqual({
      field: 'keyHint',
      before: key.keyHint,
      after: rotated.keyHint,
    });
    expect(change(keyDisable, 'enabled')).toEqual({ field: 'enabled', before: true, after: false });
    expect(groupCreate.before).toBeNull();
    expect(change(members, 'accountIds')).toEqual({
      field: 'accountIds',
      before: [],
      after: [account.id],
    });
    expect(change(groupUpdate, 'description')).toMatchObject({ after: 'pool' });
    expect(ruleCreate.after).toMatchObject({ name: 'audited-rule', apiKeyId: key.id });
    expect(change(ruleUpdate, 'priority')).toMatchObject({ after: 7 });
    expect(ruleDelete.after).toBeNull();
    expect(ruleDelete.before).toMatchObject({ id: rule.id, priority: 7 });
    expect(routeCreate.after).toMatchObject({ pattern: 'audited-model-*' });
    expect(routeDelete.after).toBeNull();
    expect(priceSet.before).toBeNull();
    expect(priceSet.after).toMatchObject({ model: 'audited-model-1' });
    expect(priceDelete.after).toBeNull();
    expect(priceDelete.before).toMatchObject({ model: 'audited-model-1' });
    expect(change(keyDelete, 'status')).toMatchObject({ after: 'deleted' });
    expect(logout.diff).toBeNull();

    // No secret anywhere: not in the table, not in the export.
    const dump = await tableDump();
    const csv = await (
      await fetch(`${url}/admin/api/audit/export.csv`, {
        headers: { authorization: await auditorHeader() },
      })
    ).text();
    for (const secret of secrets) {
      expect({ secret, inTable: dump.includes(secret) }).toEqual({ secret, inTable: false });
      expect({ secret, inCsv: csv.includes(secret) }).toEqual({ secret, inCsv: false });
    }
    expect(dump).not.toContain(PROXY_PASSWORD);
    expect(dump).toContain('proxyuser');
  });

  async function auditorHeader(): Promise<string> {
    const res = await login('auditor', AUDITOR_PASSWORD);
    return `Bearer ${((await res.json()) as { token: string }).token}`;
  }

  it('should record a refused mutation with its error code and no diff, and nothing for a forbidden one', async () => {
    const admin = await session('admin', ADMIN_PASSWORD);
    const auditor = await session('auditor', AUDITOR_PASSWORD);
    const before = (await list(auditor, 'pageSize=1')).total;
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await admin.call('PATCH', `/keys/${missing}`, { description: 'x' })).status).toBe(404);
    expect((await admin.call('POST', '/keys', { name: '' })).status).toBe(400);
    // The guard refuses a viewer before the handler: no row.
    expect((await auditor.call('POST', '/keys', { name: 'nope' })).status).toBe(403);
    const page = await list(auditor, 'pageSize=2&order=desc');
    expect(page.total).toBe(before + 2);
    expect(page.items.map((r) => [r.action, r.targetId, r.outcome, r.status, r.diff])).toEqual([
      ['keys.create', null, 'VALIDATION_FAILED', 400, null],
      ['keys.update', missing, 'KEY_NOT_FOUND', 404, null],
    ]);
  });

  it('should keep the answer of a change with no single target, without its secrets', async () => {
    const admin = await session('admin', ADMIN_PASSWORD);
    const auditor = await session('auditor', AUDITOR_PASSWORD);
    const res = await admin.call('POST', '/keys/batch', { namePattern: 'batch-{n}', count: 2 });
    expect(res.status).toBe(201);
    const created = res.body.items as { id: string; secret: string }[];
    const [row] = (await list(auditor, 'action=keys.create_batch')).items;
    expect(row).toMatchObject({ targetType: 'keys', targetId: null, before: null });
    expect(row.after).toEqual({
      items: created.map((key) => expect.objectContaining({ id: key.id, secret: REDACTED })),
    });
    const dump = await tableDump();
    for (const key of created) expect(dump).not.toContain(key.secret);
  });

  it('should record a login, a failed login (no password) and a lockout', async () => {
    const auditor = await session('auditor', AUDITOR_PASSWORD);
    expect((await login('admin', WRONG_PASSWORD)).status).toBe(401);
    // Two failures fill the window of `victim` (LOGIN_MAX_FAILURES_PER_USERNAME=2), the third is refused.
    expect((await login('victim', WRONG_PASSWORD)).status).toBe(401);
    expect((await login('victim', WRONG_PASSWORD)).status).toBe(401);
    expect((await login('victim', WRONG_PASSWORD)).status).toBe(429);
    const page = await list(auditor, 'action=auth.*&order=desc&pageSize=5');
    expect(
      page.items.slice(0, 4).map((r) => [r.actor, r.action, r.targetType, r.targetId, r.outcome]),
    ).toEqual([
      ['anonymous', 'auth.lockout', 'users', 'victim', 'LOGIN_THROTTLED'],
      ['anonymous', 'auth.login_failed', 'users', 'victim', 'INVALID_CREDENTIALS'],
      ['anonymous', 'auth.login_failed', 'users', 'victim', 'INVALID_CREDENTIALS'],
      ['anonymous', 'auth.login_failed', 'users', 'admin', 'INVALID_CREDENTIALS'],
    ]);
    expect(page.items[4]).toMatchObject({
      actor: 'auditor',
      action: 'auth.login',
      outcome: 'success',
    });
    expect(await tableDump()).not.toContain(WRONG_PASSWORD);
  });

  it('should record a CLI command as actor cli from local, without the secret it printed', async () => {
    const program = new Command('switchyard').exitOverride();
    registerKeysCommands(program, { withContext: (fn) => fn(app) });
    expect(await runCli(program, ['keys', 'create', '--name', 'cli-audited', '--json'])).toBe(0);
    const printed = JSON.parse(cli.out.join('')) as { id: string; secret: string };
    const auditor = await session('auditor', AUDITOR_PASSWORD);
    const page = await list(auditor, 'actor=cli');
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      actor: 'cli',
      source: 'local',
      action: 'keys.create',
      targetType: 'keys',
      targetId: printed.id,
      outcome: 'success',
    });
    expect(await tableDump()).not.toContain(printed.secret);
  });

  it('should export as CSV exactly the rows the list answers for the same filters', async () => {
    const auditor = await session('auditor', AUDITOR_PASSWORD);
    // Logged in before the loop: a login in between would add a row to the unfiltered export.
    const authorization = await auditorHeader();
    for (const query of [
      'actor=admin&action=keys.*',
      'targetType=accounts',
      'outcome=failure',
      '',
    ]) {
      const page = await list(auditor, `${query}&pageSize=500`);
      const res = await fetch(`${url}/admin/api/audit/export.csv?${query}`, {
        headers: { authorization },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const [header, ...lines] = parseCsv(await res.text());
      expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
      expect(lines).toEqual(
        page.items.map((r) => [
          r.id,
          r.at,
          r.actor,
          r.actorId ?? '',
          r.actorRole ?? '',
          r.source,
          r.action,
          r.targetType ?? '',
          r.targetId ?? '',
          r.outcome,
          r.status === null ? '' : String(r.status),
          r.requestId ?? '',
          r.diff === null ? '' : JSON.stringify(r.diff),
        ]),
      );
      expect(lines.length).toBe(page.total);
    }
  });
}

describe('audit trail over HTTP on SQLite', () => {
  auditTrailSuite(async () => ({ env: { DATABASE_URL: '' }, drop: async () => undefined }));
});

describeWithPostgres('audit trail over HTTP on PostgreSQL', (baseUrl) => {
  auditTrailSuite(async () => {
    const temp: TempDatabase = await createTempPostgresDatabase(baseUrl);
    return { env: { DATABASE_URL: temp.url }, drop: () => temp.drop() };
  });
});
