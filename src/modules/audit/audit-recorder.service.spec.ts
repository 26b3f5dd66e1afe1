import { toAuditRow } from './audit-recorder.service';
import { REDACTED } from './audit-sanitizer';

describe('toAuditRow', () => {
  const base = { actor: 'admin', source: '127.0.0.1', action: 'keys.rotate', outcome: 'success' };

  it('should store sanitized snapshots and the diff of a success', () => {
    const row = toAuditRow(
      {
        ...base,
        targetType: 'keys',
        targetId: 'k1',
        before: { id: 'k1', keyHint: 'sk-sy-…aaaa' },
        after: { id: 'k1', keyHint: 'sk-sy-…bbbb', secret: 'sk-sy-abcdefghijklmnopqrstuvwx' },
      },
      1000,
    );
    expect(row.at).toBe(1000);
    expect(JSON.parse(row.diff ?? 'null')).toEqual([
      { field: 'keyHint', before: 'sk-sy-…aaaa', after: 'sk-sy-…bbbb' },
      { field: 'secret', after: REDACTED, redacted: true },
    ]);
    expect(JSON.parse(row.after ?? 'null')).toEqual({
      id: 'k1',
      keyHint: 'sk-sy-…bbbb',
      secret: REDACTED,
    });
    expect(`${row.before}${row.after}${row.diff}`).not.toContain('abcdefghijklmnop');
  });

  it('should store no diff for a failure', () => {
    const row = toAuditRow({ ...base, outcome: 'KEY_NOT_FOUND', status: 404, before: { id: 'x' } });
    expect(row.diff).toBeNull();
    expect(row.outcome).toBe('KEY_NOT_FOUND');
  });

  it('should cut free text to its column and mask credentials in it', () => {
    const row = toAuditRow({
      ...base,
      targetId: `sk-ant-${'x'.repeat(300)}`,
      actor: 'a'.repeat(500),
    });
    expect(row.actor).toHaveLength(200);
    expect(row.target_id).toBe(REDACTED);
  });
});
