import type { Role } from 'src/common/auth/route-access.decorator';
import type { Generated, Kysely } from 'kysely';

/**
 * The SQL schema as Kysely sees it. Portable across SQLite and PostgreSQL: timestamps are epoch
 * milliseconds (bigint), booleans are 0/1 integers, structured values are JSON text.
 */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  disabled: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  /** Bumped by logout, password reset and disable: older session tokens are refused. */
  token_version: number;
  /** JSON UserCaps: what the user's own keys may not exceed; null = the defaults (0010). */
  caps: string | null;
  /** `local`: bcrypt password here; `ldap`: the directory checks the password and sets the role. */
  auth_source: UserAuthSource;
  /** The directory DN of an `ldap` user at their last login; null for local users. */
  ldap_dn: string | null;
}

export type UserAuthSource = 'local' | 'ldap';

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface AccountsTable {
  id: string;
  name: string;
  platform: string;
  type: string;
  base_url: string | null;
  priority: number;
  weight: number;
  enabled: number;
  schedulable: number;
  /** JSON: null = every model; string[] = these; Record<string,string> = these, mapped upstream. */
  models: string | null;
  /** Encrypted JSON (SecretBox) of the type's credentials. */
  credentials: string;
  /** Encrypted proxy URL (http, https or socks5, with credentials). */
  proxy: string | null;
  concurrency_limit: number | null;
  /** JSON subscription info (OAuth accounts). */
  subscription: string | null;
  /** Persistent state that does not recover by time: active | auth_failed | blocked. */
  status: string;
  status_reason: string | null;
  last_used_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AccountGroupsTable {
  id: string;
  name: string;
  platform: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface AccountGroupMembersTable {
  group_id: string;
  account_id: string;
}

export interface AccountHealthEventsTable {
  id: string;
  account_id: string;
  at: number;
  state: string;
  scope: string | null;
  until: number | null;
  reason: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  description: string | null;
  /** JSON string[] */
  tags: string;
  owner: string | null;
  key_digest: string;
  /** Prefix and last characters, for display (`sk-sy-…a1b2`). */
  key_hint: string;
  enabled: number;
  expires_at: number | null;
  expires_after_days: number | null;
  first_used_at: number | null;
  last_used_at: number | null;
  /** JSON platform[] */
  permissions: string;
  /** JSON { mode: 'allow' | 'deny', patterns: string[] } or null */
  model_policy: string | null;
  /** JSON client id[] or null (any client) */
  allowed_clients: string | null;
  /** JSON { [platform]: { accountId } | { groupId } } */
  bindings: string;
  /** JSON ApiKeyLimits */
  limits: string;
  price_multiplier: number;
  /** 'strict' | 'estimate' (migration 0007) */
  reservation_policy: string;
  /** The user who owns the key (self-service), null for keys an admin created (0010). */
  user_id: string | null;
  deleted_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface RequestLogTable {
  id: string;
  at: number;
  api_key_id: string | null;
  account_id: string | null;
  platform: string;
  model: string;
  status: number;
  /** ok | error | truncated | aborted */
  outcome: string;
  stream: number;
  input_tokens: number;
  output_tokens: number;
  cache_5m_tokens: number;
  cache_1h_tokens: number;
  cache_read_tokens: number;
  cost_micros: number;
  price_known: number;
  latency_ms: number;
  ttfb_ms: number | null;
  attempts: number;
  error_code: string | null;
  /** The routing rule the request took (0009), or null. */
  rule_id: string | null;
  /** That rule's name when the request ran, or `override` for a `provider,model` override. */
  rule_name: string | null;
}

export interface RoutingRulesTable {
  id: string;
  name: string;
  api_key_id: string | null;
  priority: number;
  scenario: string | null;
  model_pattern: string | null;
  long_context_threshold: number | null;
  target_model: string;
  target_group_id: string | null;
  /** 0 | 1 */
  enabled: number;
  note: string | null;
  created_at: number;
  updated_at: number;
}

export interface UsageAggregatesTable {
  /** hour | day */
  bucket: string;
  bucket_start: number;
  /** key | account | model | platform | all */
  dim: string;
  dim_id: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cache_5m_tokens: number;
  cache_1h_tokens: number;
  cache_read_tokens: number;
  cost_micros: number;
  unpriced_requests: number;
}

export interface PricingOverridesTable {
  model: string;
  /** JSON Partial<ModelPrice> (pico-dollars per token) */
  price: string;
  updated_at: number;
}

export interface ModelRoutesTable {
  id: string;
  /** An exact model name or a `*` pattern, lower-case (matching ignores case). Unique. */
  pattern: string;
  platform: string;
  /** The model name sent on instead of the requested one (an alias), or null to keep it. */
  target_model: string | null;
  /** Order among patterns (ascending, then id); exact names are looked up before any pattern. */
  position: number;
  enabled: number;
  note: string | null;
  created_at: number;
  updated_at: number;
}

/** The audit trail (0011). Snapshots and diff are sanitized JSON text. */
export interface AuditLogTable {
  id: string;
  at: number;
  /** A username, `cli`, or `anonymous`. */
  actor: string;
  actor_id: string | null;
  actor_role: string | null;
  /** TCP peer address, or `local` for the CLI. */
  source: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  /** `success` or the error code answered. */
  outcome: string;
  status: number | null;
  request_id: string | null;
  diff: string | null;
  before: string | null;
  after: string | null;
}

/** The transactional outbox (0014); see src/infra/outbox. */
export interface OutboxEventsTable {
  /** Time-ordered UUID: the delivery order within a topic. */
  id: string;
  /** `notification` | `usage` */
  topic: string;
  type: string;
  partition_key: string | null;
  dedupe_key: string | null;
  /** JSON; never a secret. */
  payload: string;
  created_at: number;
  processed_at: number | null;
}

/** Notification targets (0015); see src/modules/webhooks. */
export interface NotificationTargetsTable {
  id: string;
  name: string;
  kind: string;
  /** 0 or 1. */
  enabled: number;
  /** JSON list of event types; null: every type. */
  events: string | null;
  /** JSON of the non-secret configuration. */
  config: string;
  /** SecretBox ciphertext of a JSON object of the secret fields. */
  secrets: string | null;
  created_at: number;
  updated_at: number;
}

/** One notification to one target (0015): the delivery log and the retry queue. */
export interface NotificationDeliveriesTable {
  id: string;
  event_id: string;
  target_id: string;
  event_type: string;
  /** JSON of the NotificationMessage. */
  message: string;
  /** `pending` | `delivered` | `failed` */
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  users: UsersTable;
  settings: SettingsTable;
  accounts: AccountsTable;
  account_groups: AccountGroupsTable;
  account_group_members: AccountGroupMembersTable;
  account_health_events: AccountHealthEventsTable;
  api_keys: ApiKeysTable;
  request_log: RequestLogTable;
  usage_aggregates: UsageAggregatesTable;
  pricing_overrides: PricingOverridesTable;
  model_routes: ModelRoutesTable;
  routing_rules: RoutingRulesTable;
  audit_log: AuditLogTable;
  outbox_events: OutboxEventsTable;
  notification_targets: NotificationTargetsTable;
  notification_deliveries: NotificationDeliveriesTable;
}

export type Db = Kysely<Database>;
export type { Generated };
