import {
  NOTIFICATION_EVENT_TYPES,
  type NotificationEventType,
  type NotificationSeverity,
} from 'src/infra/outbox/outbox.types';

export interface NotificationEventTypeInfo {
  type: NotificationEventType;
  severity: NotificationSeverity;
  description: string;
}

const DESCRIPTIONS: Record<NotificationEventType, Omit<NotificationEventTypeInfo, 'type'>> = {
  'account.auth_failed': {
    severity: 'critical',
    description:
      'An account turned auth_failed: the upstream refused its credentials (401). It takes no ' +
      'requests until an admin enters new credentials or resets it.',
  },
  'account.blocked': {
    severity: 'critical',
    description:
      'An account turned blocked: the upstream disabled or suspended it (403 and the like).',
  },
  'account.rate_limited': {
    severity: 'warning',
    description:
      'An account as a whole was rate limited by its upstream (429) until a reset time; one ' +
      'event per episode, however many requests hit the limit.',
  },
  'account.cooling': {
    severity: 'warning',
    description:
      'An account entered a cooldown after an overload (529), a server error, a timeout or a ' +
      'connect error; one event per episode.',
  },
  'account.recovered': {
    severity: 'info',
    description:
      'An account is routable again: a rate limit or cooldown ended and a request succeeded, ' +
      'or an admin reset its health or entered new credentials.',
  },
  'account.refresh_failed': {
    severity: 'critical',
    description: "An account's OAuth token could not be refreshed.",
  },
  'key.budget_warning': {
    severity: 'warning',
    description:
      "An API key's spend reached 80 % of a budget (daily, weekly or total); once per key, cap " +
      'and budget period.',
  },
  'key.budget_exhausted': {
    severity: 'critical',
    description:
      "An API key's spend reached 100 % of a budget; requests are refused until the period " +
      'resets. Once per key, cap and budget period.',
  },
  'key.window_limit': {
    severity: 'warning',
    description: 'An API key reached its window limit (requests, tokens or cost per window).',
  },
  'auth.login_locked': {
    severity: 'warning',
    description: 'Admin logins were locked out after repeated failures (a username or address).',
  },
  'platform.no_routable_account': {
    severity: 'critical',
    description: 'A request found no routable account for its platform.',
  },
};

/** Every event type targets can subscribe to, with what it means. */
export function notificationEventTypes(): NotificationEventTypeInfo[] {
  return NOTIFICATION_EVENT_TYPES.map((type) => ({ type, ...DESCRIPTIONS[type] }));
}
