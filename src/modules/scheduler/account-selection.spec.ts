import { isSchedulable, rankCandidates, upstreamModelFor } from './account-selection';
import { routableAccount } from '../../../test/factories/account.factory';

const acct = (id: string, overrides: Parameters<typeof routableAccount>[0] = {}) =>
  routableAccount({ ...overrides, id });

describe('rankCandidates', () => {
  it('should keep only the best priority tier', () => {
    const ranked = rankCandidates(
      [acct('a', { priority: 10 }), acct('b', { priority: 5 }), acct('c', { priority: 5 })],
      () => 0,
    );
    expect(ranked.map((a) => a.id).sort()).toEqual(['b', 'c']);
  });

  it('should order a tier by fewest in flight, then weight, then least recently used', () => {
    const inFlight: Record<string, number> = { a: 2, b: 0, c: 0, d: 0 };
    const ranked = rankCandidates(
      [
        acct('a'),
        acct('b', { lastUsedAt: 200 }),
        acct('c', { lastUsedAt: 100 }),
        acct('d', { weight: 5, lastUsedAt: 900 }),
      ],
      (id) => inFlight[id] ?? 0,
    );
    expect(ranked.map((a) => a.id)).toEqual(['d', 'c', 'b', 'a']);
  });
});

describe('upstreamModelFor', () => {
  it('should serve every model, a list with wildcards, or a mapping', () => {
    expect(upstreamModelFor(null, 'm')).toBe('m');
    expect(upstreamModelFor(['claude-sonnet-*'], 'claude-sonnet-4-6')).toBe('claude-sonnet-4-6');
    expect(upstreamModelFor(['claude-haiku-4-5'], 'claude-sonnet-4-6')).toBeNull();
    expect(upstreamModelFor({ sonnet: 'claude-sonnet-4-6' }, 'sonnet')).toBe('claude-sonnet-4-6');
    expect(upstreamModelFor({ sonnet: 'claude-sonnet-4-6' }, 'opus')).toBeNull();
  });
});

describe('isSchedulable', () => {
  it('should refuse disabled, unschedulable and persistently failed accounts', () => {
    expect(isSchedulable(acct('a'))).toBe(true);
    expect(isSchedulable(acct('a', { enabled: false }))).toBe(false);
    expect(isSchedulable(acct('a', { schedulable: false }))).toBe(false);
    expect(isSchedulable(acct('a', { status: 'blocked' }))).toBe(false);
  });
});
