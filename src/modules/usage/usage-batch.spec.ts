import type { RequestLogTable } from 'src/infra/database/database.types';
import { emptyUsage } from './pricing/token-usage';
import { aggregateRows, ALL_DIM_ID, toRequestLogRow, uniqueById } from './usage-batch';
import type { UsageEvent } from './usage.types';

const HOUR_10 = Date.parse('2025-03-09T10:00:00Z');

function event(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: 'req-1',
    at: HOUR_10 + 60_000,
    apiKeyId: 'key-a',
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4',
    status: 200,
    outcome: 'ok',
    stream: true,
    usage: {
      inputTokens: 10,
      outputTokens: 20,
      cacheCreation5mTokens: 30,
      cacheCreation1hTokens: 40,
      cacheReadTokens: 50,
    },
    costMicros: 1000,
    priceKnown: true,
    latencyMs: 1234,
    ttfbMs: 200,
    attempts: 1,
    errorCode: null,
    ...overrides,
  };
}

describe('usage-batch', () => {
  describe(toRequestLogRow.name, () => {
    it('should map every field when the event is well formed', () => {
      expect(toRequestLogRow(event())).toEqual({
        id: 'req-1',
        at: HOUR_10 + 60_000,
        api_key_id: 'key-a',
        account_id: 'acct-1',
        platform: 'claude',
        model: 'claude-sonnet-4',
        status: 200,
        outcome: 'ok',
        stream: 1,
        input_tokens: 10,
        output_tokens: 20,
        cache_5m_tokens: 30,
        cache_1h_tokens: 40,
        cache_read_tokens: 50,
        cost_micros: 1000,
        price_known: 1,
        latency_ms: 1234,
        ttfb_ms: 200,
        attempts: 1,
        error_code: null,
        rule_id: null,
        rule_name: null,
      });
    });

    it('should record the routing rule and cut its name to the column width', () => {
      const row = toRequestLogRow(
        event({ ruleId: '0190a000-0000-7000-8000-000000000001', ruleName: 'r'.repeat(300) }),
      );
      expect(row.rule_id).toBe('0190a000-0000-7000-8000-000000000001');
      expect(row.rule_name).toBe('r'.repeat(100));
    });

    it('should cut strings to their column width and strip NUL when a client sends odd names', () => {
      const row = toRequestLogRow(
        event({ model: `m\u0000${'x'.repeat(300)}`, requestId: 'r'.repeat(100) }),
      );
      expect(row.model).toHaveLength(128);
      expect(row.model.startsWith('mx')).toBe(true);
      expect(row.id).toHaveLength(64);
    });

    it('should mend counts when the usage tap reports negative, fractional or missing numbers', () => {
      const row = toRequestLogRow(
        event({
          usage: { ...emptyUsage(), inputTokens: -5, outputTokens: 7.9, cacheReadTokens: NaN },
          costMicros: Number.POSITIVE_INFINITY,
          latencyMs: 1e12,
          outcome: 'weird' as UsageEvent['outcome'],
          requestId: '',
        }),
      );
      expect(row.input_tokens).toBe(0);
      expect(row.output_tokens).toBe(7);
      expect(row.cache_read_tokens).toBe(0);
      expect(row.cost_micros).toBe(0);
      expect(row.latency_ms).toBe(2_147_483_647);
      expect(row.outcome).toBe('error');
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe(uniqueById.name, () => {
    it('should keep the first row of each id when a batch repeats one', () => {
      const rows = [event(), event({ costMicros: 5 }), event({ requestId: 'req-2' })].map(
        toRequestLogRow,
      );
      expect(uniqueById(rows).map((r) => [r.id, r.cost_micros])).toEqual([
        ['req-1', 1000],
        ['req-2', 1000],
      ]);
    });
  });

  describe(aggregateRows.name, () => {
    const rows: RequestLogTable[] = [
      event({ requestId: 'a' }),
      event({ requestId: 'b', outcome: 'error', status: 529, priceKnown: false }),
      event({ requestId: 'c', at: HOUR_10 + 2 * 3_600_000, apiKeyId: 'key-b' }),
      event({ requestId: 'd', apiKeyId: null, accountId: null, model: 'gpt-4o' }),
    ].map(toRequestLogRow);

    it('should sum each hour and day bucket per key, account, model and overall', () => {
      const aggregates = aggregateRows(rows);
      const find = (bucket: string, start: number, dim: string, id: string) =>
        aggregates.find(
          (a) =>
            a.bucket === bucket && a.bucket_start === start && a.dim === dim && a.dim_id === id,
        );
      const all10 = find('hour', HOUR_10, 'all', ALL_DIM_ID);
      expect(all10).toMatchObject({
        requests: 3,
        errors: 1,
        input_tokens: 30,
        cost_micros: 3000,
        unpriced_requests: 1,
      });
      expect(find('day', Date.parse('2025-03-09T00:00:00Z'), 'all', ALL_DIM_ID)?.requests).toBe(4);
      expect(find('hour', HOUR_10, 'key', 'key-a')?.requests).toBe(2);
      expect(find('hour', HOUR_10 + 2 * 3_600_000, 'key', 'key-b')?.requests).toBe(1);
      expect(find('hour', HOUR_10, 'model', 'gpt-4o')?.requests).toBe(1);
    });

    it('should leave a row out of the key and account dimensions when it has neither', () => {
      const aggregates = aggregateRows(rows);
      const keyRequests = aggregates
        .filter((a) => a.bucket === 'day' && a.dim === 'key')
        .reduce((n, a) => n + a.requests, 0);
      expect(keyRequests).toBe(3);
      const allDay = aggregates.filter((a) => a.bucket === 'day' && a.dim === 'all');
      expect(allDay).toHaveLength(1);
    });

    it('should equal a row-by-row sum when a batch mixes hours, days, keys, accounts, models and platforms', () => {
      const mixed = Array.from({ length: 400 }, (_, i) =>
        toRequestLogRow(
          event({
            requestId: `m-${i}`,
            at: HOUR_10 + ((i * 7919) % 40) * 1_800_000,
            apiKeyId: i % 5 === 0 ? null : `key-${i % 3}`,
            accountId: i % 7 === 0 ? null : `acct-${i % 4}`,
            model: `model-${i % 2}`,
            // Mostly one platform per model, as routing decides, but not always.
            platform: i % 11 === 0 ? 'openai' : 'claude',
            outcome: i % 6 === 0 ? 'error' : 'ok',
            priceKnown: i % 9 !== 0,
            costMicros: i,
            usage: { ...emptyUsage(), inputTokens: i, outputTokens: 2 * i },
          }),
        ),
      );
      const expected = new Map<string, number[]>();
      for (const row of mixed) {
        for (const [bucket, length] of [
          ['hour', 3_600_000],
          ['day', 86_400_000],
        ] as const) {
          const start = Math.floor(row.at / length) * length;
          const dims: [string, string | null][] = [
            ['all', ALL_DIM_ID],
            ['model', row.model],
            ['platform', row.platform],
            ['key', row.api_key_id],
            ['account', row.account_id],
          ];
          for (const [dim, id] of dims) {
            if (id === null) continue;
            const key = `${bucket}|${start}|${dim}|${id}`;
            const sum = expected.get(key) ?? [0, 0, 0, 0, 0, 0];
            sum[0] += 1;
            sum[1] += row.outcome === 'ok' ? 0 : 1;
            sum[2] += row.input_tokens;
            sum[3] += row.output_tokens;
            sum[4] += row.cost_micros;
            sum[5] += row.price_known === 0 ? 1 : 0;
            expected.set(key, sum);
          }
        }
      }

      const actual = new Map(
        aggregateRows(mixed).map((a) => [
          `${a.bucket}|${a.bucket_start}|${a.dim}|${a.dim_id}`,
          [
            a.requests,
            a.errors,
            a.input_tokens,
            a.output_tokens,
            a.cost_micros,
            a.unpriced_requests,
          ],
        ]),
      );

      expect(actual).toEqual(expected);
    });

    it('should emit one row per key sorted by primary key when rows share buckets', () => {
      const aggregates = aggregateRows(rows);
      const keys = aggregates.map((a) => `${a.bucket}|${a.bucket_start}|${a.dim}|${a.dim_id}`);
      expect(new Set(keys).size).toBe(keys.length);
      const sorted = [...aggregates].sort(
        (a, b) =>
          a.bucket.localeCompare(b.bucket) ||
          a.bucket_start - b.bucket_start ||
          a.dim.localeCompare(b.dim) ||
          (a.dim_id < b.dim_id ? -1 : a.dim_id > b.dim_id ? 1 : 0),
      );
      expect(aggregates).toEqual(sorted);
    });
  });
});
