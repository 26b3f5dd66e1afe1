import type { NotificationMessage } from '../channel.types';

/** A notification whose text carries every character a platform's markup treats specially. */
export function notificationMessage(
  overrides: Partial<NotificationMessage> = {},
): NotificationMessage {
  return {
    eventId: '01JEVENT0000000000000000',
    type: 'account.auth_failed',
    occurredAt: '2026-01-02T03:04:05.000Z',
    severity: 'critical',
    title: 'Account "team<1>" failed authentication',
    message: 'Upstream answered 401 & the token was refused. *Check* _it_ <@everyone>',
    subject: { kind: 'account', id: 'acc-1', name: 'team<1>' },
    data: { status: 401, reason: 'invalid_grant & revoked', platform: 'claude', until: null },
    ...overrides,
  };
}

/** The JSON body of a built delivery. */
export function jsonBody(body: string | undefined): Record<string, unknown> {
  return JSON.parse(body ?? 'null') as Record<string, unknown>;
}
