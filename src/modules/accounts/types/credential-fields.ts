import { AccountsException, AccountsExceptionCode } from '../accounts.exception';
import type { CredentialField, TypedCredentials } from './account-type.descriptor';

/**
 * Validation and masking of credential fields, driven by a type's field list: what every
 * descriptor's parseCredentials and describeCredentials are made of.
 */

const MAX_SECRET_LENGTH = 8192;
const MAX_STRING_LENGTH = 2048;
/** 2000-01-01: anything smaller is not an epoch-millisecond timestamp. */
const MIN_EPOCH_MS = 946_684_800_000;

const HINT_PREFIX = 7;
const HINT_SUFFIX = 4;
/** Shorter secrets are masked completely: a hint would give away too large a share. */
const MIN_HINTED_LENGTH = 20;

function credentialsError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE, message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
}

function secretValue(value: unknown, field: string, type: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw credentialsError(`credentials.${field} is required for ${type} accounts`);
  }
  const trimmed = value.trim();
  if (trimmed.length > MAX_SECRET_LENGTH) {
    throw credentialsError(`credentials.${field} is longer than ${MAX_SECRET_LENGTH} characters`);
  }
  // Tokens and keys never contain whitespace; one usually means a copy-and-paste accident.
  if (/\s/.test(trimmed) || [...trimmed].some((ch) => ch.charCodeAt(0) < 0x20)) {
    throw credentialsError(
      `credentials.${field} must not contain whitespace or control characters`,
    );
  }
  return trimmed;
}

function stringValue(value: unknown, field: string, type: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw credentialsError(`credentials.${field} is required for ${type} accounts`);
  }
  const trimmed = value.trim();
  if (trimmed.length > MAX_STRING_LENGTH) {
    throw credentialsError(`credentials.${field} is longer than ${MAX_STRING_LENGTH} characters`);
  }
  if (hasControlCharacter(trimmed)) {
    throw credentialsError(`credentials.${field} must not contain control characters`);
  }
  return trimmed;
}

/** Epoch milliseconds or an ISO 8601 date. */
export function parseTimestamp(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= MIN_EPOCH_MS) {
    return value;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Date.parse(value);
    if (Number.isFinite(parsed) && parsed >= MIN_EPOCH_MS) return parsed;
  }
  throw credentialsError(`${field} must be epoch milliseconds or an ISO 8601 date`);
}

const MAX_MAP_ENTRIES = 200;
const MAX_MAP_STRING = 256;

/** A map of non-empty, single-line strings to non-empty, single-line strings. */
function mapValue(value: unknown, field: string): Record<string, string> {
  if (!isPlainObject(value)) {
    throw credentialsError(`credentials.${field} must be an object of names to names`);
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_MAP_ENTRIES) {
    throw credentialsError(`credentials.${field} holds at most ${MAX_MAP_ENTRIES} entries`);
  }
  const map: Record<string, string> = {};
  for (const [rawKey, rawValue] of entries) {
    const key = rawKey.trim();
    if (key === '' || key.length > MAX_MAP_STRING || hasControlCharacter(key)) {
      throw credentialsError(
        `credentials.${field} keys must be 1-${MAX_MAP_STRING} characters without control characters`,
      );
    }
    if (typeof rawValue !== 'string' || rawValue.trim() === '') {
      throw credentialsError(`credentials.${field}["${key}"] must be a non-empty string`);
    }
    const entry = rawValue.trim();
    if (entry.length > MAX_MAP_STRING || hasControlCharacter(entry)) {
      throw credentialsError(
        `credentials.${field}["${key}"] must be at most ${MAX_MAP_STRING} characters without control characters`,
      );
    }
    map[key] = entry;
  }
  return map;
}

/** A JSON object field, as JSON text, at most this long. */
const MAX_OBJECT_JSON = 16 * 1024;

/** A plain JSON object of bounded size; its type's parseCredentials checks what it holds. */
function objectValue(value: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw credentialsError(`credentials.${field} must be an object`);
  if (JSON.stringify(value).length > MAX_OBJECT_JSON) {
    throw credentialsError(
      `credentials.${field} is longer than ${MAX_OBJECT_JSON} characters as JSON`,
    );
  }
  return value;
}

/** What one credential field holds once parsed. */
export type CredentialValue = string | number | Record<string, string> | Record<string, unknown>;

function fieldValue(field: CredentialField, value: unknown, type: string): CredentialValue {
  switch (field.kind) {
    case 'timestamp':
      return parseTimestamp(value, `credentials.${field.name}`);
    case 'enum': {
      const values = field.values ?? [];
      if (typeof value !== 'string' || !values.includes(value)) {
        throw credentialsError(`credentials.${field.name} must be one of ${values.join(', ')}`);
      }
      return value;
    }
    case 'map':
      return mapValue(value, field.name);
    case 'object':
      return objectValue(value, field.name);
    case 'string':
      return field.secret
        ? secretValue(value, field.name, type)
        : stringValue(value, field.name, type);
  }
}

/**
 * The credentials object of one type, checked against its fields: an object, no field of another
 * type (so a mistyped account is noticed at once), `type` absent or matching, every required
 * field present, every field valid for its kind. Optional fields given as null are left out.
 * The result has exactly the fields of `fields` that were given, so the caller's cast to its
 * credentials interface holds when that interface mirrors `fields`.
 */
export function parseCredentialFields(
  type: string,
  fields: readonly CredentialField[],
  input: unknown,
): TypedCredentials & Record<string, CredentialValue> {
  if (!isPlainObject(input)) {
    throw credentialsError(`credentials must be an object for ${type} accounts`);
  }
  const names = fields.map((field) => field.name);
  const unknown = Object.keys(input).filter((key) => key !== 'type' && !names.includes(key));
  if (unknown.length > 0) {
    throw credentialsError(
      `credentials of ${type} accounts accept ${names.join(', ')}; ` +
        `unexpected: ${unknown.join(', ')}`,
    );
  }
  if (input.type !== undefined && input.type !== type) {
    throw credentialsError(`credentials.type must be ${type} (the account's type)`);
  }
  const credentials: TypedCredentials & Record<string, CredentialValue> = { type };
  for (const field of fields) {
    const value = input[field.name];
    if (value === undefined || value === null) {
      if (field.required) {
        throw credentialsError(`credentials.${field.name} is required for ${type} accounts`);
      }
      continue;
    }
    credentials[field.name] = fieldValue(field, value, type);
  }
  return credentials;
}

/** The fields of a type for messages: `accessToken, refreshToken?, expiresAt?`. */
export function describeFieldList(fields: readonly CredentialField[]): string {
  return fields.map((field) => (field.required ? field.name : `${field.name}?`)).join(', ');
}

/** `sk-ant-api03-…` → `sk-ant-…abcd`; short secrets become `****`. */
export function maskSecret(secret: string): string {
  if (secret.length < MIN_HINTED_LENGTH) return '****';
  return `${secret.slice(0, HINT_PREFIX)}…${secret.slice(-HINT_SUFFIX)}`;
}
