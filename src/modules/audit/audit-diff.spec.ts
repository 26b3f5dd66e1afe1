import { auditDiff } from './audit-diff';
import { REDACTED } from './audit-sanitizer';

describe('auditDiff', () => {
  it('should list only the changed fields, nested by dotted path', () => {
    const before = {
      id: 'k',
      name: 'a',
      limits: { windowRequests: 10, concurrency: 2 },
      tags: ['x'],
    };
    const after = {
      id: 'k',
      name: 'b',
      limits: { windowRequests: 20, concurrency: 2 },
      tags: ['x', 'y'],
    };
    expect(auditDiff(before, after)).toEqual([
      { field: 'name', before: 'a', after: 'b' },
      { field: 'limits.windowRequests', before: 10, after: 20 },
      { field: 'tags', before: ['x'], after: ['x', 'y'] },
    ]);
  });

  it('should list every field of a created target with no before', () => {
    expect(auditDiff(null, { id: 'r', enabled: true })).toEqual([
      { field: 'id', after: 'r' },
      { field: 'enabled', after: true },
    ]);
  });

  it('should list every field of a deleted target with no after', () => {
    expect(auditDiff({ id: 'r' }, null)).toEqual([{ field: 'id', before: 'r' }]);
  });

  it('should say a secret changed without its values', () => {
    const diff = auditDiff(
      { credentials: { apiKey: 'sk-ant-old-0000000000000000' } },
      { credentials: { apiKey: 'sk-ant-new-1111111111111111' } },
    );
    expect(diff).toEqual([
      { field: 'credentials', before: REDACTED, after: REDACTED, redacted: true },
    ]);
    expect(JSON.stringify(diff)).not.toContain('sk-ant');
  });

  it('should not report an unchanged secret', () => {
    expect(auditDiff({ token: 't1', a: 1 }, { token: 't1', a: 2 })).toEqual([
      { field: 'a', before: 1, after: 2 },
    ]);
  });

  it('should sanitize values of changed non-secret fields', () => {
    expect(auditDiff({ proxy: null }, { proxy: 'socks5://u:pw123@h:1080' })).toEqual([
      { field: 'proxy', before: null, after: `socks5://u:${REDACTED}@h:1080` },
    ]);
  });

  it('should be empty when nothing changed', () => {
    expect(auditDiff({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
  });
});
