import { emptyUsage } from 'src/modules/usage/pricing/token-usage';
import { MetricsService } from './metrics.service';
import { modelFamily } from './model-family';
import { RelayMetrics, relayOutcome, type FinishedRelayRequest } from './relay-metrics';

function finished(overrides: Partial<FinishedRelayRequest> = {}): FinishedRelayRequest {
  return {
    platform: 'claude',
    model: 'claude-sonnet-4-5-20250929',
    accountId: 'acc-1',
    outcome: 'ok',
    status: 200,
    errorCode: null,
    startedAt: Date.now() - 1500,
    ttfbMs: 300,
    usage: { ...emptyUsage(), inputTokens: 10, outputTokens: 20, cacheReadTokens: 5 },
    costMicros: 2500,
    ...overrides,
  };
}

describe(RelayMetrics.name, () => {
  let service: MetricsService;
  let metrics: RelayMetrics;

  beforeEach(() => {
    service = new MetricsService();
    metrics = new RelayMetrics(service);
  });

  async function values(name: string): Promise<{ labels: object; value: number }[]> {
    const metric = service.registry.getSingleMetric(name);
    if (metric === undefined) throw new Error(`${name} is not registered`);
    return (await metric.get()).values.map(({ labels, value }) => ({ labels, value }));
  }

  describe('finished', () => {
    it('should count the request by platform, family, account and outcome, never the raw model', async () => {
      metrics.finished(finished());
      metrics.finished(finished());
      metrics.finished(
        finished({
          model: 'claude-opus-4-1',
          accountId: null,
          outcome: 'error',
          status: 429,
          errorCode: 'WINDOW_LIMIT',
        }),
      );
      expect(await values('switchyard_relay_requests_total')).toEqual([
        {
          labels: { platform: 'claude', family: 'sonnet', account: 'acc-1', outcome: 'ok' },
          value: 2,
        },
        {
          labels: { platform: 'claude', family: 'opus', account: 'none', outcome: 'rate_limited' },
          value: 1,
        },
      ]);
    });

    it('should add tokens by kind and the cost in USD', async () => {
      metrics.finished(finished());
      const tokens = await values('switchyard_relay_tokens_total');
      expect(tokens.filter((t) => t.value > 0)).toEqual([
        { labels: { platform: 'claude', family: 'sonnet', kind: 'input' }, value: 10 },
        { labels: { platform: 'claude', family: 'sonnet', kind: 'output' }, value: 20 },
        { labels: { platform: 'claude', family: 'sonnet', kind: 'cache_read' }, value: 5 },
      ]);
      expect(await values('switchyard_relay_cost_usd_total')).toEqual([
        { labels: { platform: 'claude', family: 'sonnet' }, value: 0.0025 },
      ]);
    });

    it('should observe the time to first byte and the duration', async () => {
      metrics.finished(finished());
      const ttfb = await values('switchyard_relay_ttfb_seconds');
      expect(ttfb).toContainEqual({
        labels: { platform: 'claude', family: 'sonnet', le: 0.5 },
        value: 1,
      });
      expect(ttfb).toContainEqual({
        labels: { platform: 'claude', family: 'sonnet', le: 0.25 },
        value: 0,
      });
      const duration = await values('switchyard_relay_request_duration_seconds');
      expect(duration).toContainEqual({
        labels: { platform: 'claude', family: 'sonnet', le: 1 },
        value: 0,
      });
      expect(duration).toContainEqual({
        labels: { platform: 'claude', family: 'sonnet', le: 2.5 },
        value: 1,
      });
    });
  });

  describe('failover', () => {
    it('should count failovers by platform and reason', async () => {
      metrics.failover({ platform: 'openai', model: 'gpt-5' }, 'overloaded');
      metrics.failover({ platform: 'openai', model: 'gpt-5' }, 'overloaded');
      metrics.failover({ platform: 'openai', model: 'gpt-5' }, 'timeout');
      expect(await values('switchyard_relay_failovers_total')).toEqual([
        { labels: { platform: 'openai', reason: 'overloaded' }, value: 2 },
        { labels: { platform: 'openai', reason: 'timeout' }, value: 1 },
      ]);
    });
  });

  describe('admission', () => {
    it('should time admitted, refused and failed admissions apart', async () => {
      const started = performance.now();
      await metrics.admission(Promise.resolve('ok'), started);
      await expect(
        metrics.admission(
          Promise.reject(Object.assign(new Error('limit'), { status: 429 })),
          started,
        ),
      ).rejects.toThrow('limit');
      await expect(
        metrics.admission(Promise.reject(new Error('redis down')), started),
      ).rejects.toThrow('redis down');
      const counts = (await values('switchyard_relay_admission_duration_seconds')).filter(
        (v) => 'le' in v.labels && (v.labels as { le: number | string }).le === '+Inf',
      );
      expect(counts.map((c) => [(c.labels as { result: string }).result, c.value])).toEqual([
        ['admitted', 1],
        ['refused', 1],
        ['failed', 1],
      ]);
    });
  });

  describe('retainAccounts', () => {
    it('should drop the series of accounts that no longer exist', async () => {
      metrics.finished(finished({ accountId: 'acc-1' }));
      metrics.finished(finished({ accountId: 'acc-2' }));
      metrics.finished(finished({ accountId: null, outcome: 'error', status: 401 }));
      metrics.retainAccounts(new Set(['acc-2']));
      const accounts = (await values('switchyard_relay_requests_total')).map(
        (v) => (v.labels as { account: string }).account,
      );
      expect(accounts.sort()).toEqual(['acc-2', 'none']);
      // A later request of a kept account still counts on its series.
      metrics.finished(finished({ accountId: 'acc-2' }));
      expect(await values('switchyard_relay_requests_total')).toContainEqual({
        labels: { platform: 'claude', family: 'sonnet', account: 'acc-2', outcome: 'ok' },
        value: 2,
      });
    });
  });
});

describe(relayOutcome.name, () => {
  it.each([
    ['ok', 200, null, 'ok'],
    ['aborted', 499, 'CLIENT_GONE', 'aborted'],
    ['truncated', 200, 'UPSTREAM_STREAM_TRUNCATED', 'truncated'],
    ['error', 402, 'BUDGET_EXHAUSTED', 'budget_exhausted'],
    ['error', 429, 'WINDOW_LIMIT', 'rate_limited'],
    ['error', 429, 'CONCURRENCY_LIMIT', 'rate_limited'],
    ['error', 503, 'NO_ACCOUNT_AVAILABLE', 'no_account'],
    ['error', 429, 'ALL_ACCOUNTS_RATE_LIMITED', 'no_account'],
    ['error', 504, 'UPSTREAM_TIMEOUT', 'timeout'],
    ['error', 502, 'UPSTREAM_BAD_RESPONSE', 'upstream_error'],
    ['error', 500, 'UPSTREAM_500', 'upstream_error'],
    ['error', 400, 'UPSTREAM_400', 'client_error'],
    ['error', 401, 'INVALID_KEY', 'client_error'],
    ['error', 503, 'COORDINATOR_UNAVAILABLE', 'server_error'],
    ['error', 500, 'INTERNAL_ERROR', 'server_error'],
  ] as const)('should map %s %d %s to %s', (outcome, status, code, expected) => {
    expect(relayOutcome(outcome, status, code)).toBe(expected);
  });
});

describe(modelFamily.name, () => {
  it.each([
    ['claude-opus-4-1-20250805', 'opus'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'sonnet'],
    ['claude-3-5-haiku-latest', 'haiku'],
    ['gpt-4o-mini', 'gpt'],
    ['gpt-5-codex', 'codex'],
    ['codex-mini-latest', 'codex'],
    ['o3', 'o-series'],
    ['o4-mini-2025-04-16', 'o-series'],
    ['openai/o1-preview', 'o-series'],
    ['gemini-2.5-pro', 'gemini-pro'],
    ['gemini-2.5-flash', 'gemini-flash'],
    ['gemini-2.5-flash-lite', 'gemini-flash-lite'],
    ['glm-4.6', 'other'],
    ['unknown', 'other'],
    ['gpt-oss-120b', 'gpt'],
  ])('should map %s to %s', (model, family) => {
    expect(modelFamily(model)).toBe(family);
  });
});
