import type { NotificationTargetsTable } from 'src/infra/database/database.types';
import type { OutboxEvent } from 'src/infra/outbox/outbox.types';
import { fanOutRows, messageOf } from './notification-dispatcher';
import { redact } from './notification-sender';

function target(
  id: string,
  overrides: Partial<NotificationTargetsTable> = {},
): NotificationTargetsTable {
  return {
    id,
    name: id,
    kind: 'webhook',
    enabled: 1,
    events: null,
    config: '{}',
    secrets: null,
    created_at: 0,
    updated_at: 0,
    ...overrides,
  };
}

function event(id: string, type: string): OutboxEvent {
  return {
    id,
    topic: 'notification',
    type,
    partitionKey: null,
    dedupeKey: null,
    payload: {
      severity: 'critical',
      title: `t-${id}`,
      message: 'm',
      subject: { kind: 'account', id: 'acc' },
      data: { n: 1 },
    },
    createdAt: 1_700_000_000_000,
    processedAt: null,
  };
}

describe('NotificationDispatcher', () => {
  describe(fanOutRows.name, () => {
    it('should make one pending delivery per enabled target subscribed to the event type', () => {
      const targets = [
        target('all'),
        target('auth-only', { events: JSON.stringify(['account.auth_failed']) }),
        target('budget-only', { events: JSON.stringify(['key.budget_exhausted']) }),
        target('off', { enabled: 0 }),
      ];
      const rows = fanOutRows(
        [event('e1', 'account.auth_failed'), event('e2', 'key.budget_warning')],
        targets,
        5000,
      );
      expect(rows.map((r) => `${r.event_id}->${r.target_id}`)).toEqual([
        'e1->all',
        'e1->auth-only',
        'e2->all',
      ]);
      expect(rows[0]).toMatchObject({
        status: 'pending',
        attempts: 0,
        next_attempt_at: 5000,
        event_type: 'account.auth_failed',
      });
      expect(JSON.parse(rows[0].message)).toEqual(messageOf(event('e1', 'account.auth_failed')));
    });

    it('should make nothing when no target is subscribed', () => {
      expect(
        fanOutRows([event('e1', 'account.cooling')], [target('off', { enabled: 0 })], 0),
      ).toEqual([]);
    });
  });

  describe(messageOf.name, () => {
    it('should carry the event id, type and time with the payload', () => {
      expect(messageOf(event('e1', 'account.auth_failed'))).toEqual({
        eventId: 'e1',
        type: 'account.auth_failed',
        occurredAt: '2023-11-14T22:13:20.000Z',
        severity: 'critical',
        title: 't-e1',
        message: 'm',
        subject: { kind: 'account', id: 'acc' },
        data: { n: 1 },
      });
    });
  });

  describe(redact.name, () => {
    it('should keep secrets and URLs out of the delivery log', () => {
      expect(
        redact('bad token abcd1234 at https://api.telegram.org/botabcd1234/send', ['abcd1234']),
      ).toBe('bad token *** at <url>');
    });
  });
});
