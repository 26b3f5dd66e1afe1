import { EnvironmentSchema } from 'src/config/environment.schema';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import type { RoutingGroup } from './routing-rule.types';
import type { RoutingRuleRecord, RoutingRulesRepository } from './routing-rules.repository';
import { RuleRouter } from './rule-router.service';
import { routingKeys } from './routing-coordination.keys';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

function record(id: string, overrides: Partial<RoutingRuleRecord> = {}): RoutingRuleRecord {
  return {
    id,
    name: id,
    api_key_id: null,
    priority: 10,
    scenario: 'background',
    model_pattern: null,
    long_context_threshold: null,
    target_model: 'small',
    target_group_id: null,
    enabled: 1,
    note: null,
    created_at: 1,
    updated_at: 1,
    ...overrides,
  };
}

class FakeSources {
  rows: RoutingRuleRecord[] = [];
  groups: RoutingGroup[] = [];
  reads = 0;
  async listAll(): Promise<RoutingRuleRecord[]> {
    this.reads += 1;
    return this.rows.map((row) => ({ ...row }));
  }
  async listGroups(): Promise<RoutingGroup[]> {
    return this.groups.map((g) => ({ ...g }));
  }
}

function nextReload(router: RuleRouter): Promise<number> {
  return new Promise((resolve) => {
    const off = router.onReload((version) => {
      off();
      resolve(version);
    });
  });
}

const HAIKU = {
  apiKeyId: 'k',
  model: 'claude-haiku-4-5',
  format: 'anthropic-messages' as const,
  body: {},
  bodyBytes: 2,
};

describe(RuleRouter.name, () => {
  let sources: FakeSources;
  let store: LocalCoordinatorStore;
  let coordinator: LocalCoordinator;
  let other: LocalCoordinator;
  let router: RuleRouter;

  beforeEach(async () => {
    sources = new FakeSources();
    sources.rows = [record('r1')];
    store = new LocalCoordinatorStore();
    coordinator = new LocalCoordinator({ instanceId: 'a', store });
    other = new LocalCoordinator({ instanceId: 'b', store });
    router = new RuleRouter(
      sources as unknown as RoutingRulesRepository,
      sources,
      coordinator,
      new FixedRuntimeSettings(new EnvironmentSchema()),
      { safetyReloadMs: 3_600_000 },
    );
    await router.onModuleInit();
  });

  afterEach(async () => {
    await router.onModuleDestroy();
    await other.close();
    await coordinator.close();
  });

  describe('decide', () => {
    it('should answer from the rules loaded at start, reading no SQL per request', () => {
      const reads = sources.reads;
      for (let i = 0; i < 100; i++) expect(router.decide(HAIKU)).toMatchObject({ model: 'small' });
      expect(sources.reads).toBe(reads);
    });

    it('should ignore a stored rule whose scenario this version does not know', async () => {
      sources.rows = [record('r0', { scenario: 'telepathy', priority: 1 }), record('r1')];
      await router.reload();
      expect(router.list().map((r) => r.id)).toEqual(['r1']);
      expect(router.decide(HAIKU)).toMatchObject({ ruleId: 'r1' });
    });
  });

  describe('change messages', () => {
    it('should reload when another instance announces a rule change', async () => {
      sources.rows = [record('r1', { target_model: 'smaller' })];
      const reloaded = nextReload(router);
      await other.publish(routingKeys.channels.routingRules, 'r1');
      await reloaded;
      expect(router.decide(HAIKU)).toMatchObject({ model: 'smaller' });
    });

    it('should learn a renamed account group from an account invalidation', async () => {
      sources.groups = [{ id: 'g1', name: 'fast', platform: 'claude' }];
      const reloaded = nextReload(router);
      await other.publish(coordinationKeys.channels.accountInvalidation, '*');
      await reloaded;
      expect(router.decide({ ...HAIKU, model: 'fast,claude-opus-4-1' })).toMatchObject({
        groupId: 'g1',
        platform: 'claude',
      });
    });
  });
});
