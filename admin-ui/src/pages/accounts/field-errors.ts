import { ApiError } from '@/api/client';

/** Which form field an accounts error code is about, when its message does not say. */
const FIELD_OF_CODE: Record<string, string> = {
  NAME_TAKEN: 'name',
  GROUP_NAME_TAKEN: 'name',
  INVALID_PROXY: 'proxy',
  INVALID_MODELS: 'models',
  INVALID_BASE_URL: 'baseUrl',
  INVALID_SUBSCRIPTION: 'subscription',
  GROUP_NOT_FOUND: 'groupIds',
  PLATFORM_MISMATCH: 'groupIds',
  INVALID_CREDENTIALS_SHAPE: 'credentials',
  CREDENTIALS_REQUIRED: 'credentials',
  CREDENTIALS_UNREADABLE: 'credentials',
};

/**
 * The server's validation messages of an account save, keyed by form field (`name`, `baseUrl`,
 * `credentials.apiKey`, …): `details.fields` or class-validator's messages (ApiError.fieldErrors),
 * else the accounts error's `details.field`, the credential field its message names
 * (`credentials.apiKey is required …`), or the field its code is about. Messages that fit no
 * field come back under `''`, to be shown above the form.
 */
export function accountFieldErrors(
  error: unknown,
  known: readonly string[],
): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const mapped = error.fieldErrors(known);
  if (Object.keys(mapped).length > 0) return mapped;
  const detail = typeof error.details.field === 'string' ? error.details.field : undefined;
  const named = known
    .filter((field) => field.startsWith('credentials.') || field.startsWith('subscription.'))
    .find((field) => new RegExp(`(^|\\W)${field.replace('.', '\\.')}(\\W|$)`).test(error.message));
  const field = named ?? detail ?? FIELD_OF_CODE[error.code];
  if (field !== undefined && known.includes(field)) return { [field]: error.message };
  return { '': error.message };
}
