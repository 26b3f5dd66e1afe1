import { EnvironmentSchema } from 'src/config/environment.schema';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { RoutingException, RoutingExceptionCode } from 'src/modules/routing/routing.exception';
import {
  RoutingRulesRepository,
  type RoutingRuleRecord,
} from 'src/modules/routing/routing-rules.repository';
import { RoutingRulesService } from 'src/modules/routing/routing-rules.service';
import { RuleRouter, type RoutingGroup } from 'src/modules/routing/rule-router.service';
import { emptyUsage } from 'src/modules/usage/pricing/token-usage';
import { UsageRepository } from 'src/modules/usage/usage.repository';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const KEY = '0190a000-0000-4000-8000-0000000000aa';
const GROUP: RoutingGroup = {
  id: '0190a000-0000-4000-8000-0000000000bb',
  name: 'openrouter',
  platform: 'openai',
};

function row(id: string, overrides: Partial<RoutingRuleRecord> = {}): RoutingRuleRecord {
  return {
    id,
    name: 'background',
    api_key_id: null,
    priority: 10,
    scenario: 'background',
    model_pattern: null,
    long_context_threshold: null,
    target_model: 'claude-haiku-4-5',
    target_group_id: null,
    enabled: 1,
    note: null,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    ...overrides,
  };
}

function usageEvent(
  requestId: string,
  rule: { id: string | null; name: string } | null,
): UsageEvent {
  return {
    requestId,
    at: 1_700_000_000_000,
    apiKeyId: KEY,
    accountId: null,
    platform: 'claude',
    model: 'claude-haiku-4-5',
    status: 200,
    outcome: 'ok',
    stream: false,
    usage: emptyUsage(),
    costMicros: 0,
    priceKnown: true,
    latencyMs: 5,
    ttfbMs: 1,
    attempts: 1,
    errorCode: null,
    ruleId: rule?.id ?? null,
    ruleName: rule?.name ?? null,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RoutingException);
  return (error as RoutingException).code;
}

/** The same behaviour on every SQL engine; each test starts from an empty table. */
function routingRulesContract(openDb: () => Promise<Db>, closeDb: (db: Db) => Promise<void>): void {
  let db: Db;
  let repository: RoutingRulesRepository;
  let coordinator: LocalCoordinator;
  let router: RuleRouter;
  let service: RoutingRulesService;
  const groups = { listGroups: async (): Promise<RoutingGroup[]> => [GROUP] };
  const keys = { exists: async (id: string): Promise<boolean> => id === KEY };

  beforeAll(async () => {
    db = await openDb();
  });

  afterAll(async () => {
    if (db !== undefined) await closeDb(db);
  });

  beforeEach(async () => {
    await db.deleteFrom('routing_rules').execute();
    repository = new RoutingRulesRepository(db);
    coordinator = new LocalCoordinator({ instanceId: 'test' });
    router = new RuleRouter(
      repository,
      groups,
      coordinator,
      new FixedRuntimeSettings(new EnvironmentSchema()),
      { safetyReloadMs: 3_600_000 },
    );
    await router.onModuleInit();
    service = new RoutingRulesService(repository, router, groups, keys, coordinator);
  });

  afterEach(async () => {
    await router.onModuleDestroy();
    await coordinator.close();
  });

  describe('RoutingRulesRepository', () => {
    it('should insert, find, update and delete a rule with every column intact', async () => {
      const rule = row('0190a000-0000-7000-8000-000000000001', {
        api_key_id: KEY,
        scenario: 'long_context',
        model_pattern: 'claude-*',
        long_context_threshold: 123_456,
        target_group_id: GROUP.id,
        note: 'big prompts',
        priority: 1_000_000,
      });
      await repository.insert(rule);
      expect(await repository.findById(rule.id)).toEqual(rule);
      expect(await repository.listScope(KEY)).toEqual([rule]);
      expect(await repository.listScope(null)).toEqual([]);
      expect(await repository.maxPriority(KEY)).toBe(1_000_000);
      expect(await repository.maxPriority(null)).toBeNull();

      expect(await repository.update(rule.id, { enabled: 0, note: null, updated_at: 2 })).toBe(
        true,
      );
      expect(await repository.findById(rule.id)).toEqual({
        ...rule,
        enabled: 0,
        note: null,
        updated_at: 2,
      });
      expect(await repository.delete(rule.id)).toBe(true);
      expect(await repository.delete(rule.id)).toBe(false);
      expect(await repository.update(rule.id, { updated_at: 3 })).toBe(false);
    });

    it('should list rules by priority, then id', async () => {
      await repository.insert(row('0190a000-0000-7000-8000-000000000003', { priority: 5 }));
      await repository.insert(row('0190a000-0000-7000-8000-000000000002', { priority: 5 }));
      await repository.insert(row('0190a000-0000-7000-8000-000000000001', { priority: 9 }));
      expect((await repository.listAll()).map((r) => r.id.slice(-1))).toEqual(['2', '3', '1']);
    });
  });

  describe('RoutingRulesService', () => {
    it('should apply a created rule at once and put one without priority after its scope', async () => {
      const first = await service.create({
        name: 'bg',
        scenario: 'background',
        targetModel: 'claude-3-5-haiku-latest',
      });
      const second = await service.create({
        name: 'gpt',
        modelPattern: 'GPT-*',
        targetModel: 'claude-sonnet-4-5',
      });
      const mine = await service.create({
        name: 'mine',
        apiKeyId: KEY,
        scenario: 'think',
        targetModel: 'x',
        targetGroupId: GROUP.id,
      });
      expect([first.priority, second.priority, mine.priority]).toEqual([10, 20, 10]);
      expect(second.modelPattern).toBe('gpt-*');
      expect(
        router.decide({
          apiKeyId: 'other',
          model: 'gpt-4o',
          format: 'openai-chat',
          body: {},
          bodyBytes: 2,
        }),
      ).toMatchObject({ ruleId: second.id, model: 'claude-sonnet-4-5' });
      expect(service.list({ apiKeyId: KEY }).items.map((r) => r.name)).toEqual([
        'mine',
        'bg',
        'gpt',
      ]);
    });

    it('should filter, sort and page the list of the rules applied now', async () => {
      await service.create({ name: 'Zeta', scenario: 'background', targetModel: 'haiku' });
      await service.create({ name: 'alpha', modelPattern: 'gpt-*', targetModel: 'sonnet' });
      await service.create({
        name: 'mine',
        apiKeyId: KEY,
        scenario: 'think',
        targetModel: 'opus',
        enabled: false,
      });
      const names = (query: Parameters<RoutingRulesService['list']>[0]): string[] =>
        service.list(query).items.map((r) => r.name);

      expect(names({})).toEqual(['Zeta', 'alpha', 'mine']);
      expect(names({ sortBy: 'name' })).toEqual(['alpha', 'mine', 'Zeta']);
      expect(names({ sortBy: 'name', sortOrder: 'desc' })).toEqual(['Zeta', 'mine', 'alpha']);
      expect(names({ sortOrder: 'desc' })).toEqual(['mine', 'alpha', 'Zeta']);
      // For one key: its own rules first, then the global ones.
      expect(names({ apiKeyId: KEY })).toEqual(['mine', 'Zeta', 'alpha']);
      expect(names({ enabled: false })).toEqual(['mine']);
      expect(names({ scenario: 'background' })).toEqual(['Zeta']);
      expect(names({ search: 'SONN' })).toEqual(['alpha']);
      expect(names({ apiKeyId: KEY, enabled: true })).toEqual(['Zeta', 'alpha']);
      expect(service.list({ page: 2, pageSize: 2 })).toMatchObject({
        total: 3,
        page: 2,
        pageSize: 2,
        items: [{ name: 'mine' }],
      });
    });

    it('should follow an update and a delete on the next decision', async () => {
      const rule = await service.create({ name: 'bg', scenario: 'background', targetModel: 'a' });
      const haiku = {
        apiKeyId: KEY,
        model: 'claude-haiku-4-5',
        format: 'anthropic-messages' as const,
        body: {},
        bodyBytes: 2,
      };
      await service.update(rule.id, { targetModel: 'b' });
      expect(router.decide(haiku)).toMatchObject({ model: 'b' });
      await service.update(rule.id, { enabled: false });
      expect(router.decide(haiku)).toBeNull();
      await service.delete(rule.id);
      expect(router.list()).toEqual([]);
    });

    it('should refuse rules that cannot apply, with RULE_INVALID and a clear message', async () => {
      await expect(service.create({ name: 'x', targetModel: 'm' })).rejects.toThrow(
        'a rule needs a scenario, a modelPattern, or both',
      );
      expect(
        await codeOf(
          service.create({
            name: 'x',
            scenario: 'think',
            longContextThreshold: 10,
            targetModel: 'm',
          }),
        ),
      ).toBe(RoutingExceptionCode.RULE_INVALID);
      await expect(
        service.create({
          name: 'x',
          scenario: 'think',
          apiKeyId: '0190a000-0000-4000-8000-0000000000ff',
          targetModel: 'm',
        }),
      ).rejects.toThrow('no API key');
      await expect(
        service.create({
          name: 'x',
          scenario: 'think',
          targetGroupId: '0190a000-0000-4000-8000-0000000000ff',
          targetModel: 'm',
        }),
      ).rejects.toThrow('no account group');
      const rule = await service.create({ name: 'x', modelPattern: 'a*', targetModel: 'm' });
      expect(await codeOf(service.update(rule.id, { modelPattern: null }))).toBe(
        RoutingExceptionCode.RULE_INVALID,
      );
      const missing = '0190a000-0000-7000-8000-00000000ffff';
      expect(await codeOf(service.get(missing))).toBe(RoutingExceptionCode.RULE_NOT_FOUND);
      expect(await codeOf(service.delete(missing))).toBe(RoutingExceptionCode.RULE_NOT_FOUND);
    });
  });

  describe('request log', () => {
    it('should store the rule a request took, and null when it took none', async () => {
      await db.deleteFrom('request_log').execute();
      const usage = new UsageRepository(db);
      const ruleId = '0190a000-0000-7000-8000-000000000009';
      expect(
        await usage.writeBatch([
          usageEvent('req-rule', { id: ruleId, name: 'background' }),
          usageEvent('req-override', { id: null, name: 'override' }),
          usageEvent('req-none', null),
        ]),
      ).toBe(3);
      const rows = await db
        .selectFrom('request_log')
        .select(['id', 'rule_id', 'rule_name'])
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { id: 'req-none', rule_id: null, rule_name: null },
        { id: 'req-override', rule_id: null, rule_name: 'override' },
        { id: 'req-rule', rule_id: ruleId, rule_name: 'background' },
      ]);
    });
  });
}

describe('routing rules on SQLite', () => {
  routingRulesContract(
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sy-routing-rules-'));
      const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
      await migrateToLatest(db);
      return db;
    },
    (db) => db.destroy(),
  );
});

describeWithPostgres('routing rules on PostgreSQL', (baseUrl) => {
  let temp: TempDatabase;

  routingRulesContract(
    async () => {
      temp = await createTempPostgresDatabase(baseUrl);
      const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 2 });
      await migrateToLatest(db);
      return db;
    },
    async (db) => {
      await db.destroy();
      await temp.drop();
    },
  );
});
