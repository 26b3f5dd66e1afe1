import { coordinationKeys } from './coordination.keys';

/** The part of a key Redis Cluster hashes: the first `{...}` with something inside. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('coordinationKeys', () => {
  it('should put every key of one API key in one cluster slot when keys are built', () => {
    const keys = [
      coordinationKeys.keyWindow('key1', 'rpm'),
      coordinationKeys.keyWindow('key1', 'tpm'),
      coordinationKeys.keyBudget('key1', 'day', '2025-01-31'),
      coordinationKeys.keyLease('key1'),
      coordinationKeys.sticky('key1', 'abc'),
    ];

    expect(new Set(keys.map(hashTag))).toEqual(new Set(['key1']));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('should tag account keys by account when keys are built', () => {
    expect(coordinationKeys.accountLease('acc1')).toBe('a:{acc1}:lease');
    expect(hashTag(coordinationKeys.accountHealth('acc1'))).toBe('acc1');
  });

  it('should refuse an id when it contains a brace', () => {
    expect(() => coordinationKeys.keyLease('a}b')).toThrow(RangeError);
    expect(() => coordinationKeys.accountLease('')).toThrow(RangeError);
  });
});
