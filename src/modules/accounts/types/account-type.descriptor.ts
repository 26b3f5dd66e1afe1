import type { Platform } from 'src/common/platform';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import type { AccountSubscription } from '../account.types';

/** Response headers as Node gives them (lower-case names). */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** The relay provider (wire family) that serves an account type; see relay/providers/. */
export type ProviderId =
  | 'anthropic'
  | 'openai'
  | 'codex'
  | 'azure-openai'
  | 'gemini'
  | 'code-assist'
  | 'bedrock'
  | 'openai-compatible'
  | 'droid';

/**
 * One usage window a subscription upstream reports on its responses (Claude's 5-hour and weekly
 * limits, Codex's primary and secondary windows): how much of it is spent, and when it resets.
 */
export interface UsageWindow {
  /** '5h', 'weekly', or the window's length ('1d', '90m') when it is neither. */
  name: string;
  /** 0–100 (may pass 100 when the upstream lets a request overrun). */
  usedPercent: number;
  /** Epoch ms; null when the upstream did not say. */
  resetsAt: number | null;
  /** The window's length; null when the upstream did not say. */
  windowMinutes: number | null;
}

/**
 * How an account type's upstream says it is limited, banned or unauthorised. Pure readings of a
 * response; no I/O, no clock but the `now` passed in.
 */
export interface HealthRules {
  /**
   * When a 429'd account may be used again (epoch ms), or null when the response does not say.
   * `bodyText` is the error body (or its first part), for upstreams that put the reset there
   * (Codex's usage-limit error); rules that read only headers ignore it.
   */
  rateLimitReset(headers: ResponseHeaders, now: number, bodyText?: string): number | null;
  /**
   * 'account', a model family when the upstream names a per-family limit, or 'model' for the
   * family of the model asked for (a per-model quota named in the error body, as Gemini's).
   */
  rateLimitScope(headers: ResponseHeaders, bodyText?: string): string;
  /** The organisation or account behind the credentials is disabled or banned (final). */
  isBlocked(status: number, bodyText: string): boolean;
  /** The upstream's own words for a blocked account, short and on one line, for the history. */
  blockedReason(bodyText: string): string;
  /** The credentials were refused (a refresh may help where the type has a refresher). */
  isAuthFailed(status: number, bodyText: string): boolean;
  /**
   * The usage windows a response reports (any status), or null when it reports none. Cheap: it
   * runs on every response of the type (AccountHealthService.observeResponse).
   */
  usageWindows?(headers: ResponseHeaders, now: number): UsageWindow[] | null;
}

/** One credential field as the admin API and UI describe it. */
export interface CredentialField {
  /** The key in the credentials object; the CLI flag is its kebab-case (`apiKey` → `--api-key`). */
  name: string;
  required: boolean;
  /** Secret fields are encrypted at rest and only ever shown masked. */
  secret: boolean;
  /**
   * 'timestamp': epoch ms or ISO 8601, stored as epoch ms; 'map': an object of non-empty strings
   * (`{ "gpt-4o": "prod-4o" }`), never secret; 'object': a JSON object the type's
   * parseCredentials checks further (openai-compatible's quirks), never secret.
   */
  kind: 'string' | 'timestamp' | 'enum' | 'map' | 'object';
  /** For kind 'enum'. */
  values?: readonly string[];
  description: string;
}

/** What every type's credentials have: the type they belong to (the discriminant). */
export interface TypedCredentials {
  type: string;
}

/** What the admin API shows of readable credentials: hints and flags, never a secret. */
export interface ReadableCredentialsSummary {
  type: string;
  readable: true;
}

/** A configuration variable that holds a provider's default upstream (`ANTHROPIC_BASE_URL`). */
export type BaseUrlSetting = Extract<keyof EnvironmentSchema, `${string}_BASE_URL`>;

/** The upstream request of one account test, in the provider's own wire format. */
export interface TestRequestSpec {
  method: 'POST';
  /** Relative to the account's base URL. */
  path: string;
  body: Record<string, unknown>;
}

/** "Test this account": one small real request that costs at most one output token. */
export interface TestRequest {
  /** The model to ask for when the account's own model list names no usable one. */
  readonly defaultModel: string;
  /** The one-token "ping" for `model`. */
  build(model: string): TestRequestSpec;
}

/**
 * Everything Switchyard knows about one account type, in one place: adding a type means a
 * descriptor, its provider folder and one registry line (types/account-types.registry.ts).
 * `C` is the type's decrypted credentials, `S` what the admin API shows of them.
 */
export interface AccountTypeDescriptor<
  C extends TypedCredentials,
  S extends ReadableCredentialsSummary,
> {
  readonly type: C['type'];
  readonly platform: Platform;
  /** Human name for admin screens ("Claude subscription (OAuth)"). */
  readonly label: string;
  readonly provider: ProviderId;
  readonly credentialFields: readonly CredentialField[];
  /**
   * The credentials object as an admin sent it (`type` optional, and then it must match),
   * normalised; throws an AccountsException (400) that names the problem without echoing a secret.
   */
  parseCredentials(input: unknown): C;
  /** Enough to recognise the credentials, never enough to use them. */
  describeCredentials(credentials: C): S;
  /** Where accounts that name no base URL go; null: every account must name its own. */
  readonly defaultBaseUrlSetting: BaseUrlSetting | null;
  readonly health: HealthRules;
  /** Every value modelFamily returns: the scopes a per-family rate limit can have. */
  readonly modelFamilies: readonly string[];
  /** The model family limits apply to (Anthropic: opus, sonnet, haiku, other). */
  modelFamily(model: string): string;
  /** Whether accounts of this type carry subscription facts (plan, email, organisation). */
  readonly supportsSubscription: boolean;
  /**
   * Subscription facts the credentials themselves carry (Codex's ID token names the plan and the
   * email), used where an admin gave none; facts the admin gives win field by field.
   */
  subscriptionFromCredentials?(credentials: C): AccountSubscription | null;
  /**
   * Why a base URL cannot be this type's (e.g. an Azure endpoint given with the path the
   * provider adds), or null when it can. Runs on create and update, after the generic checks.
   */
  baseUrlProblem?(baseUrl: string): string | null;
  readonly testRequest: TestRequest;
  /** Whether a CredentialRefresher (oauth module) renews this type's credentials. */
  readonly hasRefresher: boolean;
}
