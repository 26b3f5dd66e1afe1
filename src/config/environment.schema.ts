import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsJSON,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ROLES, type Role } from 'src/common/auth/route-access.decorator';
import { Sensitive } from './sensitive.decorator';

const toBool = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  value === '' ? undefined : value;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** host:port[,host:port...] */
const HOST_PORT_LIST = /^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/;

/**
 * Every environment variable Switchyard reads, with its default. `.env.example` documents the same
 * list; test/config/env-example.spec.ts keeps the two in step.
 */
export class EnvironmentSchema {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsString()
  HOST = '0.0.0.0';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Public base URL used in printed links; defaults to http://localhost:PORT. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'PUBLIC_URL must be an http(s) URL' })
  PUBLIC_URL?: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Where the SQLite file, the generated secrets file and other local state live. */
  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  /** PostgreSQL connection string; when empty, SQLite under DATA_DIR is used. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, {
    message: 'DATABASE_URL must look like postgres://user:pass@host:5432/dbname',
  })
  @Sensitive()
  DATABASE_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /** Redis (standalone). When no Redis variable is set, coordination is in-process. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'REDIS_URL must look like redis://host:6379/0' })
  @Sensitive()
  REDIS_URL?: string;

  /** Redis Sentinel: host:port,host:port plus REDIS_SENTINEL_NAME. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'REDIS_SENTINELS must be host:port[,host:port...]' })
  REDIS_SENTINELS?: string;

  @ValidateIf((o: EnvironmentSchema) => o.REDIS_SENTINELS !== undefined)
  @IsString()
  @MinLength(1, { message: 'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS' })
  REDIS_SENTINEL_NAME?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  REDIS_SENTINEL_PASSWORD?: string;

  /** Redis Cluster seed nodes: host:port,host:port. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'REDIS_CLUSTER_NODES must be host:port[,host:port...]' })
  REDIS_CLUSTER_NODES?: string;

  /** Password for Sentinel-managed masters and Cluster nodes (standalone takes it from the URL). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  REDIS_PASSWORD?: string;

  @IsString()
  @Matches(/^[A-Za-z0-9:_-]{1,32}$/, {
    message: 'REDIS_KEY_PREFIX must be 1-32 characters of A-Z a-z 0-9 : _ -',
  })
  REDIS_KEY_PREFIX = 'sy:';

  /**
   * Key for secrets at rest (AES-256-GCM), at least 32 characters. Without it, the embedded
   * default generates one into DATA_DIR; production refuses to start.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  ENCRYPTION_KEY?: string;

  /** Earlier encryption keys, comma separated, still accepted for decryption after a rotation. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  ENCRYPTION_KEYS_PREVIOUS?: string;

  /** Signs admin session tokens. Generated into DATA_DIR when unset outside production. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  JWT_SECRET?: string;

  @IsString()
  @Matches(/^\d+[smhd]$/, { message: 'JWT_EXPIRES_IN must look like 30m, 12h or 7d' })
  JWT_EXPIRES_IN = '12h';

  /** Wrong admin passwords per username within a minute before login answers 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_USERNAME = 5;

  /** Wrong admin passwords per source address within a minute before login answers 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_ADDRESS = 20;

  /** Password checks running or waiting at once on this instance; beyond it login answers 503. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  LOGIN_CONCURRENT_CHECKS = 4;

  // --- LDAP login (off while LDAP_URL is empty) ---

  /** The directory: ldap://host:389 or ldaps://host:636. Empty: only local users log in. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^ldaps?:\/\/[^\s]+$/, {
    message: 'LDAP_URL must look like ldap://host:389 or ldaps://host:636',
  })
  LDAP_URL?: string;

  /** The service account that searches for users and groups; empty binds anonymously. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  LDAP_BIND_DN?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  LDAP_BIND_CREDENTIALS?: string;

  /** Where users are searched (subtree); required with LDAP_URL. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  LDAP_SEARCH_BASE?: string;

  /** Finds the user; `{{username}}` is replaced by the login name (LDAP-escaped). */
  @IsString()
  @Matches(/\{\{username\}\}/, { message: 'LDAP_SEARCH_FILTER must contain {{username}}' })
  LDAP_SEARCH_FILTER = '(uid={{username}})';

  /** The user entry's attribute that becomes the Switchyard username (sAMAccountName on AD). */
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9-]*$/, {
    message: 'LDAP_USERNAME_ATTRIBUTE must be an attribute name',
  })
  LDAP_USERNAME_ATTRIBUTE = 'uid';

  /** Where groups are searched (subtree); defaults to LDAP_SEARCH_BASE. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  LDAP_GROUP_SEARCH_BASE?: string;

  /** Finds the user's groups; `{{dn}}` is the user's DN, `{{username}}` their uid. */
  @IsString()
  @Matches(/\{\{(dn|username)\}\}/, {
    message: 'LDAP_GROUP_SEARCH_FILTER must contain {{dn}} or {{username}}',
  })
  LDAP_GROUP_SEARCH_FILTER = '(member={{dn}})';

  /** The group entry's attribute LDAP_ROLE_MAP names groups by (besides their whole DN). */
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9-]*$/, {
    message: 'LDAP_GROUP_NAME_ATTRIBUTE must be an attribute name',
  })
  LDAP_GROUP_NAME_ATTRIBUTE = 'cn';

  /**
   * Group -> role, e.g. `relay-admins=admin,relay-users=user` (a group by name or DN; `;` between
   * entries when DNs are used). The highest role of the user's groups wins.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  LDAP_ROLE_MAP?: string;

  /** The role of a directory user in no mapped group; empty: such users are refused. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(ROLES)
  LDAP_DEFAULT_ROLE?: Role;

  /** Upgrade ldap:// with StartTLS before binding. */
  @Transform(toBool)
  @IsBoolean()
  LDAP_STARTTLS = false;

  /** PEM file of the CA(s) that signed the directory's certificate (ldaps:// and StartTLS). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  LDAP_TLS_CA_FILE?: string;

  /** Bound on one whole directory check (connect, search, bind, group search). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120000)
  LDAP_TIMEOUT_MS = 5000;

  /** Optional pepper for API-key digests (HMAC-SHA-256). Changing it invalidates every key. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  API_KEY_PEPPER?: string;

  @IsString()
  @Matches(/^[A-Za-z0-9._@-]{1,64}$/, {
    message: 'ADMIN_USERNAME must be 1-64 of A-Z a-z 0-9 . _ @ -',
  })
  ADMIN_USERNAME = 'admin';

  /** First-start admin password; when unset a random one is printed once. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'ADMIN_PASSWORD must be at least 8 characters' })
  @Sensitive()
  ADMIN_PASSWORD?: string;

  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Sensitive()
  METRICS_TOKEN?: string;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(30000)
  HEALTH_CHECK_TIMEOUT_MS = 1500;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600000)
  SHUTDOWN_TIMEOUT_MS = 30000;

  /** Owner id of this instance's leases and locks; defaults to hostname-pid-random. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'INSTANCE_ID must be 1-64 of A-Z a-z 0-9 . _ -' })
  INSTANCE_ID?: string;

  /** Print the generated admin password and login hints on start. */
  @Transform(toBool)
  @IsBoolean()
  PRINT_BANNER = true;

  // --- traces (OpenTelemetry) ---

  /** Export OpenTelemetry traces of relayed requests over OTLP/HTTP. Off: no tracing code runs. */
  @Transform(toBool)
  @IsBoolean()
  OTEL_TRACES_ENABLED = false;

  /** OTLP/HTTP base URL; traces go to `<endpoint>/v1/traces`. Empty: http://localhost:4318. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, {
    message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
  })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** The traces URL itself, used as given; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, {
    message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL',
  })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  /** Headers sent with every export, `key=value,key2=value2` (a collector's API key). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, {
    message: 'OTEL_EXPORTER_OTLP_HEADERS must be key=value[,key=value...]',
  })
  @Sensitive()
  OTEL_EXPORTER_OTLP_HEADERS?: string;

  /** `service.name` of the exported spans. */
  @IsString()
  @MinLength(1)
  OTEL_SERVICE_NAME = 'switchyard';

  /**
   * Share of new traces recorded (0 to 1), by trace id. A request that arrives with a
   * `traceparent` follows its caller's sampling decision instead.
   */
  @Type(() => Number)
  @Min(0)
  @Max(1)
  OTEL_TRACES_SAMPLER_RATIO = 1;

  // --- relay ---

  /** Default upstream for Anthropic account types; each account may override its base URL. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'ANTHROPIC_BASE_URL must be an http(s) URL' })
  ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

  /**
   * Default upstream of `openai` accounts. OpenAI-family base URLs are the API root the official
   * SDKs call `baseURL`, version included (`…/v1`): providers append `/chat/completions` or
   * `/responses`.
   */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'OPENAI_BASE_URL must be an http(s) URL' })
  OPENAI_BASE_URL = 'https://api.openai.com/v1';

  /** Default upstream of `codex-oauth` accounts: the ChatGPT backend Codex CLI signs in to. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'CODEX_BASE_URL must be an http(s) URL' })
  CODEX_BASE_URL = 'https://chatgpt.com/backend-api/codex';

  /** Default upstream of `gemini-oauth` accounts: Google's Code Assist API (Gemini CLI's login). */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'CODE_ASSIST_BASE_URL must be an http(s) URL' })
  CODE_ASSIST_BASE_URL = 'https://cloudcode-pa.googleapis.com';

  /**
   * Default upstream of `gemini-api` accounts: the Gemini API's root, without a version (the
   * provider appends `/v1beta/models/{model}:{method}`).
   */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'GEMINI_BASE_URL must be an http(s) URL' })
  GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';

  /**
   * Default upstream of `bedrock` accounts: the Bedrock runtime endpoint, `{region}` replaced by
   * the account's region (the provider appends `/model/{modelId}/invoke…`).
   */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'BEDROCK_BASE_URL must be an http(s) URL' })
  BEDROCK_BASE_URL = 'https://bedrock-runtime.{region}.amazonaws.com';

  /**
   * Default upstream of `droid` accounts: Factory's LLM API (the provider appends
   * `/a/v1/messages`, `/o/v1/responses` or `/o/v1/chat/completions`).
   */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'DROID_BASE_URL must be an http(s) URL' })
  DROID_BASE_URL = 'https://api.factory.ai/api/llm';

  /**
   * Hosts account base URLs and proxies may point at, comma separated; `*.example.com` matches
   * any subdomain. Empty allows every host. The hosts of ANTHROPIC_BASE_URL, OPENAI_BASE_URL,
   * CODEX_BASE_URL, GEMINI_BASE_URL and CODE_ASSIST_BASE_URL are always allowed.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*(\*\.)?[A-Za-z0-9.:[\]-]+(\s*,\s*(\*\.)?[A-Za-z0-9.:[\]-]+)*\s*$/, {
    message:
      'UPSTREAM_HOST_ALLOWLIST must be hostnames separated by commas (*.example.com allowed)',
  })
  UPSTREAM_HOST_ALLOWLIST?: string;

  /**
   * Log upstream requests and responses (headers, bodies up to 64 KiB, credentials redacted) for
   * diagnosis: `off`, `all`, or `key:<apiKeyId>` / `account:<accountId>` entries, comma separated.
   * Bodies hold prompts and answers: turn it on for one key or account, briefly.
   */
  @Transform(({ value }: { value: unknown }) => (value === '' ? 'off' : value))
  @Matches(/^(off|all|(key|account):[A-Za-z0-9._-]+(,(key|account):[A-Za-z0-9._-]+)*)$/, {
    message:
      'DEBUG_HTTP_TRAFFIC must be off, all, or key:<id> / account:<id> entries separated by commas',
  })
  DEBUG_HTTP_TRAFFIC = 'off';

  /** Allow plain http:// account base URLs and proxies to hosts other than loopback. */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_INSECURE_UPSTREAMS = false;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  UPSTREAM_CONNECT_TIMEOUT_MS = 10000;

  /** Until the upstream's response headers arrive; a non-stream reply sends them when done. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS = 300000;

  /** Longest silence between two chunks of a response body; there is no total-duration limit. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  UPSTREAM_IDLE_TIMEOUT_MS = 300000;

  /** Accounts tried per request (first try plus failovers), all before the first byte is sent. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  RELAY_MAX_ATTEMPTS = 3;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  RELAY_MAX_BODY_BYTES = 33554432;

  /**
   * Request bodies being read, parsed and admitted at once, in bytes, across all requests of
   * this instance; past it a request is answered 503 with retry-after before its body is read.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  RELAY_MAX_INFLIGHT_BODY_BYTES = 268435456;

  /** Deepest nesting of arrays and objects accepted in a request body (checked before parsing). */
  @Type(() => Number)
  @IsInt()
  @Min(8)
  @Max(10000)
  RELAY_MAX_JSON_DEPTH = 128;

  /**
   * A response whose client has not read for this long (its socket buffer stays full) is cut:
   * both sides closed, leases released, the request recorded as aborted.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  RELAY_WRITE_STALL_TIMEOUT_MS = 60000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  STICKY_SESSION_TTL_SECONDS = 3600;

  /** Derive a session from the first message's content when the client sends none. */
  @Transform(toBool)
  @IsBoolean()
  STICKY_CONTENT_HASH = false;

  /** When a key's dedicated account or group cannot serve: use the shared pool (true) or fail. */
  @Transform(toBool)
  @IsBoolean()
  BINDING_FALLBACK_TO_POOL = false;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  ACCOUNT_COOLDOWN_OVERLOADED_MS = 60000;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  ACCOUNT_COOLDOWN_SERVER_ERROR_MS = 30000;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  ACCOUNT_COOLDOWN_TIMEOUT_MS = 30000;

  /** Rate-limit duration when the upstream's 429 carries no reset header. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  ACCOUNT_RATE_LIMIT_FALLBACK_MS = 60000;

  /**
   * Default `longContextThreshold` of `long_context` routing rules that set none, in estimated
   * input tokens (claude-code-router's default). Runtime setting `routingLongContextThreshold`.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000000)
  ROUTING_LONG_CONTEXT_THRESHOLD = 60000;

  /** Health transitions kept per account ("why is this account not routable"). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  ACCOUNT_HEALTH_HISTORY = 50;

  // --- Claude OAuth: claude-oauth accounts' login and refresh (Claude Code 2.1.332's endpoints) ---

  /** Anthropic's token endpoint: the login's code exchange and refreshes of claude-oauth accounts. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'CLAUDE_OAUTH_TOKEN_URL must be an http(s) URL' })
  CLAUDE_OAUTH_TOKEN_URL = 'https://platform.claude.com/v1/oauth/token';

  /** Where the admin signs in with a Claude account (Claude Code's claude.ai authorize URL). */
  @Matches(/^https?:\/\/[^\s?#]+$/, {
    message: 'CLAUDE_OAUTH_AUTHORIZE_URL must be an http(s) URL without a query',
  })
  CLAUDE_OAUTH_AUTHORIZE_URL = 'https://claude.com/cai/oauth/authorize';

  /** Claude Code's manual redirect: the page that shows the code (`code#state`) to paste back. */
  @Matches(/^https?:\/\/[^\s?#]+$/, {
    message: 'CLAUDE_OAUTH_REDIRECT_URI must be an http(s) URL without a query',
  })
  CLAUDE_OAUTH_REDIRECT_URI = 'https://platform.claude.com/oauth/code/callback';

  /** The login's subscription profile (account, organization, plan), read with its token. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'CLAUDE_OAUTH_PROFILE_URL must be an http(s) URL' })
  CLAUDE_OAUTH_PROFILE_URL = 'https://api.anthropic.com/api/oauth/profile';

  /** Claude Code's public OAuth client id (logins and refreshes). */
  @IsString()
  CLAUDE_OAUTH_CLIENT_ID = '9d1c250a-e61b-44d9-88ed-5944d1962f5e';

  // --- Codex (ChatGPT) OAuth: codex-oauth accounts' login and refresh ---

  /** OpenAI's token endpoint: the login's code exchange and refreshes of codex-oauth accounts. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'CODEX_OAUTH_TOKEN_URL must be an http(s) URL' })
  CODEX_OAUTH_TOKEN_URL = 'https://auth.openai.com/oauth/token';

  /** Where the admin signs in with ChatGPT (the login flow's authorize URL). */
  @Matches(/^https?:\/\/[^\s?#]+$/, {
    message: 'CODEX_OAUTH_AUTHORIZE_URL must be an http(s) URL without a query',
  })
  CODEX_OAUTH_AUTHORIZE_URL = 'https://auth.openai.com/oauth/authorize';

  /** Codex CLI's public OAuth client id (its redirect URI is the only one registered for it). */
  @IsString()
  CODEX_OAUTH_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

  // --- Google OAuth: gemini-oauth accounts' login and refresh (Gemini CLI's endpoints) ---

  /** Google's token endpoint: the login's code exchange and refreshes of gemini-oauth accounts. */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'GOOGLE_OAUTH_TOKEN_URL must be an http(s) URL' })
  GOOGLE_OAUTH_TOKEN_URL = 'https://oauth2.googleapis.com/token';

  /** Where the admin signs in with Google (the login flow's authorize URL). */
  @Matches(/^https?:\/\/[^\s?#]+$/, {
    message: 'GOOGLE_OAUTH_AUTHORIZE_URL must be an http(s) URL without a query',
  })
  GOOGLE_OAUTH_AUTHORIZE_URL = 'https://accounts.google.com/o/oauth2/v2/auth';

  /** Gemini CLI's public installed-app OAuth client (its source publishes both values). */
  @IsString()
  GOOGLE_OAUTH_CLIENT_ID =
    '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com';

  /** Not a secret for an installed app (Google's words); changeable for an own OAuth client. */
  @IsString()
  GOOGLE_OAUTH_CLIENT_SECRET = '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';

  // --- API keys ---

  @Matches(/^[A-Za-z0-9_-]{0,16}$/, { message: 'API_KEY_PREFIX must be 0-16 of A-Z a-z 0-9 _ -' })
  API_KEY_PREFIX = 'sk-sy-';

  /** Safety net for the in-process key cache; admin changes invalidate it at once via pub/sub. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  API_KEY_CACHE_TTL_MS = 60000;

  /**
   * Limits every new key starts with unless its create request says otherwise, as the JSON of
   * the key's `limits` object (e.g. `{"concurrency":4,"dailyCostMicros":5000000}`). Checked at
   * start like the admin API checks a key's limits. Runtime setting `apiKeyDefaultLimits`.
   */
  @IsJSON({ message: 'API_KEY_DEFAULT_LIMITS must be a JSON object such as {"concurrency":4}' })
  API_KEY_DEFAULT_LIMITS = '{}';

  /** Concurrency leases expire unless renewed (every third of this while a response streams). */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  LEASE_TTL_MS = 60000;

  // --- usage and pricing ---

  @Type(() => Number)
  @IsInt()
  @Min(1)
  USAGE_BATCH_SIZE = 500;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  USAGE_FLUSH_INTERVAL_MS = 1000;

  /** Usage events held while the database is unreachable; beyond this the oldest are dropped. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  USAGE_QUEUE_MAX = 100000;

  /**
   * Append every usage event to a local journal under DATA_DIR before the write-behind stores it,
   * and replay journals left by a crashed process at start.
   */
  @Transform(toBool)
  @IsBoolean()
  USAGE_JOURNAL = true;

  /** fdatasync each journal write: survives a power loss too, at the cost of a disk flush. */
  @Transform(toBool)
  @IsBoolean()
  USAGE_JOURNAL_FSYNC = false;

  /** Days of request-log rows kept; older rows are pruned daily (aggregates stay). 0 = forever. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(36500)
  REQUEST_LOG_RETENTION_DAYS = 90;

  /** Days of audit-trail rows kept; older rows are pruned daily. 0 = forever. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(36500)
  AUDIT_RETENTION_DAYS = 365;

  /** Audit rows held while the database is unreachable; beyond this the oldest are dropped. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  AUDIT_QUEUE_MAX = 10000;

  /** A LiteLLM-format price file merged over the bundled table. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  PRICING_FILE?: string;

  /** Price of models missing from every table, in dollars per million tokens (flagged in stats). */
  @Type(() => Number)
  @Min(0)
  UNKNOWN_MODEL_INPUT_USD_PER_MTOK = 3;

  @Type(() => Number)
  @Min(0)
  UNKNOWN_MODEL_OUTPUT_USD_PER_MTOK = 15;

  /** How often the notification dispatcher fans out new events and sends due deliveries. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(600_000)
  NOTIFY_POLL_INTERVAL_MS = 2000;

  /** Attempts of one delivery before it is given up (`failed`). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  NOTIFY_MAX_ATTEMPTS = 12;

  /** A delivery still failing this long after its event is given up, whatever its attempts. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  NOTIFY_MAX_AGE_MS = 86_400_000;

  /** First retry delay; each later one doubles (with jitter) up to NOTIFY_BACKOFF_MAX_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  NOTIFY_BACKOFF_BASE_MS = 5000;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  NOTIFY_BACKOFF_MAX_MS = 900_000;

  /** Bound on one send (connect, answer and body; SMTP conversation). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  NOTIFY_TIMEOUT_MS = 10_000;

  /**
   * Days processed notification events and finished deliveries (delivered, failed) are kept
   * before the hourly job prunes them. 0 = forever.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3650)
  NOTIFY_RETENTION_DAYS = 30;
  // --- billing event stream (docs/billing-stream.md) ---

  /**
   * RabbitMQ (AMQP 0-9-1) URL, e.g. amqp://user:pass@host:5672/vhost. When set, every usage event
   * is also written to the outbox and published to AMQP_EXCHANGE; empty = no stream, no cost.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^amqps?:\/\/[^\s]+$/, {
    message: 'AMQP_URL must look like amqp://user:pass@host:5672/vhost (amqps:// for TLS)',
  })
  @Sensitive()
  AMQP_URL?: string;

  /** Durable topic exchange the billing events go to (declared on connect). */
  @Matches(/^(?!amq\.)[A-Za-z0-9._:-]{1,255}$/, {
    message: 'AMQP_EXCHANGE must be 1-255 of A-Z a-z 0-9 . _ : - and not start with amq.',
  })
  AMQP_EXCHANGE = 'switchyard.usage';

  /** Events published per batch before waiting for the broker's confirms. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  AMQP_PUBLISH_BATCH_SIZE = 200;

  /** How often the publisher looks for new events once it has caught up. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  AMQP_PUBLISH_INTERVAL_MS = 1000;

  /** Hours published usage events stay in the outbox before they are pruned. 0 = forever. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(87600)
  AMQP_OUTBOX_RETENTION_HOURS = 24;
}
