import type { Schemas } from '@/api/client';
import { ApiError } from '@/api/client';

export type ApiKey = Schemas['ApiKeyResponseDto'];
export type CreatedApiKey = Schemas['CreatedApiKeyResponseDto'];
export type CreateKeyBody = Schemas['CreateApiKeyRequestDto'];
export type UpdateKeyBody = Schemas['UpdateApiKeyRequestDto'];
export type Platform = ApiKey['permissions'][number];
export type ClientId = NonNullable<ApiKey['allowedClients']>[number];

export const PLATFORMS: Platform[] = ['claude', 'openai', 'gemini', 'droid'];
export const CLIENT_IDS: ClientId[] = ['claude-code', 'codex-cli', 'gemini-cli', 'droid'];

/** The limit fields of a key, in form order; cost fields are entered in USD, sent in micros. */
export const LIMIT_FIELDS = [
  { field: 'windowMinutes', label: 'windowMinutes', unit: 'count', section: 'limits' },
  { field: 'windowRequests', label: 'windowRequests', unit: 'count', section: 'limits' },
  { field: 'windowTokens', label: 'windowTokens', unit: 'count', section: 'limits' },
  { field: 'windowCostMicros', label: 'windowCost', unit: 'usd', section: 'limits' },
  { field: 'concurrency', label: 'concurrency', unit: 'count', section: 'limits' },
  { field: 'dailyCostMicros', label: 'dailyCost', unit: 'usd', section: 'budgets' },
  { field: 'weeklyCostMicros', label: 'weeklyCost', unit: 'usd', section: 'budgets' },
  { field: 'weeklyResetDay', label: 'weeklyResetDay', unit: 'day', section: 'budgets' },
  { field: 'weeklyResetHour', label: 'weeklyResetHour', unit: 'count', section: 'budgets' },
  { field: 'totalCostMicros', label: 'totalCost', unit: 'usd', section: 'budgets' },
] as const;

export type LimitField = (typeof LIMIT_FIELDS)[number]['field'];

type BindingKind = 'none' | 'account' | 'group';

/** What the form edits: every input as the user typed it. */
export interface KeyFormState {
  name: string;
  description: string;
  tags: string;
  owner: string;
  enabled: boolean;
  expiryMode: 'never' | 'at' | 'afterDays';
  /** `datetime-local` value (local time). */
  expiresAt: string;
  expiresAfterDays: string;
  permissions: Platform[];
  modelMode: 'any' | 'allow' | 'deny';
  modelPatterns: string;
  clientsMode: 'any' | 'only';
  clients: ClientId[];
  limits: Record<LimitField, string>;
  bindings: Record<Platform, { kind: BindingKind; id: string }>;
  priceMultiplier: string;
  reservationPolicy: 'strict' | 'estimate';
}

const MICROS = 1_000_000;

function emptyLimits(): Record<LimitField, string> {
  return Object.fromEntries(LIMIT_FIELDS.map(({ field }) => [field, ''])) as Record<
    LimitField,
    string
  >;
}

function emptyBindings(): KeyFormState['bindings'] {
  return Object.fromEntries(PLATFORMS.map((p) => [p, { kind: 'none', id: '' }])) as Record<
    Platform,
    { kind: BindingKind; id: string }
  >;
}

export function emptyForm(): KeyFormState {
  return {
    name: '',
    description: '',
    tags: '',
    owner: '',
    enabled: true,
    expiryMode: 'never',
    expiresAt: '',
    expiresAfterDays: '',
    permissions: [...PLATFORMS],
    modelMode: 'any',
    modelPatterns: '',
    clientsMode: 'any',
    clients: [],
    limits: emptyLimits(),
    bindings: emptyBindings(),
    priceMultiplier: '1',
    reservationPolicy: 'strict',
  };
}

/** A `datetime-local` value for an ISO time, in the browser's zone. */
function toLocalInput(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function microsToUsd(micros: number): string {
  return String(micros / MICROS);
}

export function formFromKey(key: ApiKey): KeyFormState {
  const limits = emptyLimits();
  for (const { field, unit } of LIMIT_FIELDS) {
    const value = key.limits[field];
    if (value === undefined) continue;
    limits[field] = unit === 'usd' ? microsToUsd(value) : String(value);
  }
  const bindings = emptyBindings();
  for (const platform of PLATFORMS) {
    const binding = key.bindings[platform];
    if (binding?.accountId) bindings[platform] = { kind: 'account', id: binding.accountId };
    else if (binding?.groupId) bindings[platform] = { kind: 'group', id: binding.groupId };
  }
  return {
    name: key.name,
    description: key.description ?? '',
    tags: key.tags.join(', '),
    owner: key.owner ?? '',
    enabled: key.enabled,
    expiryMode: key.expiresAt ? 'at' : key.expiresAfterDays ? 'afterDays' : 'never',
    expiresAt: key.expiresAt ? toLocalInput(key.expiresAt) : '',
    expiresAfterDays: key.expiresAfterDays ? String(key.expiresAfterDays) : '',
    permissions: [...key.permissions],
    modelMode: key.modelPolicy?.mode ?? 'any',
    modelPatterns: key.modelPolicy?.patterns.join('\n') ?? '',
    clientsMode: key.allowedClients ? 'only' : 'any',
    clients: key.allowedClients ? [...key.allowedClients] : [],
    limits,
    bindings,
    priceMultiplier: String(key.priceMultiplier),
    reservationPolicy: key.reservationPolicy,
  };
}

/** A number as typed: empty is null, unreadable is NaN (caught by invalidNumbers before sending). */
function numberOrNull(text: string, unit: 'count' | 'usd' | 'day' = 'count'): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return Number.NaN;
  return unit === 'usd' ? Math.round(n * MICROS) : n;
}

/** Which inputs hold something that is not a number (checked before sending). */
export function invalidNumbers(state: KeyFormState): string[] {
  const bad: string[] = [];
  for (const { field, unit } of LIMIT_FIELDS) {
    if (Number.isNaN(numberOrNull(state.limits[field], unit))) bad.push(`limits.${field}`);
  }
  if (state.expiryMode === 'afterDays' && Number.isNaN(numberOrNull(state.expiresAfterDays))) {
    bad.push('expiresAfterDays');
  }
  if (Number.isNaN(numberOrNull(state.priceMultiplier))) bad.push('priceMultiplier');
  return bad;
}

export type FormScope = 'admin' | 'self';

/**
 * The request body for the form. On create, what is empty is left out (the server's defaults,
 * or for a user's own key the ceilings of their caps); on update every field is sent, empty ones
 * as null, so clearing an input removes that limit, binding or setting.
 */
export function toBody(
  state: KeyFormState,
  mode: 'create' | 'update',
  scope: FormScope,
): CreateKeyBody | UpdateKeyBody {
  const creating = mode === 'create';
  const body: Record<string, unknown> = { name: state.name.trim() };
  const description = state.description.trim();
  if (description || !creating) body.description = description || null;
  const tags = state.tags
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  if (tags.length > 0 || !creating) body.tags = tags;
  if (scope === 'admin') {
    const owner = state.owner.trim();
    if (owner || !creating) body.owner = owner || null;
  }
  body.enabled = state.enabled;

  if (state.expiryMode === 'at' && state.expiresAt) {
    body.expiresAt = new Date(state.expiresAt).toISOString();
    if (!creating) body.expiresAfterDays = null;
  } else if (state.expiryMode === 'afterDays' && state.expiresAfterDays.trim()) {
    body.expiresAfterDays = numberOrNull(state.expiresAfterDays);
    if (!creating) body.expiresAt = null;
  } else if (!creating) {
    body.expiresAt = null;
    body.expiresAfterDays = null;
  }

  body.permissions = PLATFORMS.filter((p) => state.permissions.includes(p));

  const patterns = state.modelPatterns
    .split(/[\n,]/)
    .map((pattern) => pattern.trim())
    .filter(Boolean);
  if (state.modelMode !== 'any') body.modelPolicy = { mode: state.modelMode, patterns };
  else if (!creating) body.modelPolicy = null;

  if (state.clientsMode === 'only') {
    body.allowedClients = CLIENT_IDS.filter((c) => state.clients.includes(c));
  } else if (!creating) body.allowedClients = null;

  const limits: Record<string, number | null> = {};
  for (const { field, unit } of LIMIT_FIELDS) {
    const value = numberOrNull(state.limits[field], unit);
    if (value !== null || !creating) limits[field] = value;
  }
  if (Object.keys(limits).length > 0) body.limits = limits;

  if (scope === 'admin') {
    const bindings: Record<string, unknown> = {};
    for (const platform of PLATFORMS) {
      const { kind, id } = state.bindings[platform];
      if (kind === 'account' && id) bindings[platform] = { accountId: id };
      else if (kind === 'group' && id) bindings[platform] = { groupId: id };
      else if (!creating) bindings[platform] = null;
    }
    if (Object.keys(bindings).length > 0) body.bindings = bindings;
    const multiplier = numberOrNull(state.priceMultiplier);
    if (multiplier !== null) body.priceMultiplier = multiplier;
    body.reservationPolicy = state.reservationPolicy;
  }
  return body;
}

/** The request fields a server message can be about, most specific first. */
export const KNOWN_FIELDS = [
  ...LIMIT_FIELDS.map(({ field }) => `limits.${field}`),
  ...PLATFORMS.map((p) => `bindings.${p}`),
  'modelPolicy',
  'allowedClients',
  'permissions',
  'expiresAfterDays',
  'expiresAt',
  'priceMultiplier',
  'reservationPolicy',
  'description',
  'owner',
  'tags',
  'name',
  'limits',
  'bindings',
];

/**
 * Server messages by the form field they are about: class-validator's (400 VALIDATION_FAILED),
 * the key policy's (400 INVALID_KEY_POLICY: "limits.windowRequests needs limits.windowMinutes"),
 * and a user's caps (422 USER_CAP_EXCEEDED, `details.violations[].cap` = `limits.<field>`,
 * `models`, `platforms`).
 */
export function errorsByField(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  if (error.code === 'VALIDATION_FAILED') return error.fieldErrors(KNOWN_FIELDS);
  const out: Record<string, string> = {};
  if (error.code === 'INVALID_KEY_POLICY') {
    const field = KNOWN_FIELDS.find((name) => error.message.startsWith(name));
    if (field) out[field] = error.message;
  }
  return out;
}

export interface CapViolation {
  cap: string;
  limit: unknown;
  requested: unknown;
}

export function capViolations(error: unknown): CapViolation[] {
  if (!(error instanceof ApiError) || error.code !== 'USER_CAP_EXCEEDED') return [];
  const violations = error.details.violations;
  return Array.isArray(violations) ? (violations as CapViolation[]) : [];
}
