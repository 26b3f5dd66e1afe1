import type {
  AccountCredentials,
  AccountModels,
  AccountSubscription,
  AccountType,
} from './account.types';
import { AccountsException, AccountsExceptionCode } from './accounts.exception';
import { accountTypeDescriptors, descriptorOf } from './types/account-types.registry';
import { describeFieldList, isPlainObject } from './types/credential-fields';

/**
 * Validation of the parts of an account that class-validator cannot express per type: the
 * credentials object, the proxy URL, the models list or mapping, the base URL. Each parser
 * returns the normalised value or throws an AccountsException (400) that names what is wrong,
 * without echoing any secret.
 */

const MAX_MODELS = 500;
const MAX_MODEL_NAME = 200;

/** The credential fields of a type for messages: `accessToken, refreshToken?, expiresAt?`. */
export function describeCredentialFields(type: AccountType): string {
  return describeFieldList(descriptorOf(type).credentialFields);
}

function credentialsError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE, message);
}

/**
 * The credentials object for one account type, as its descriptor validates it. `type` may be
 * given and must then match; fields of other types are refused so a mistyped account is noticed
 * at once.
 */
export function parseCredentials(type: AccountType, input: unknown): AccountCredentials {
  return descriptorOf(type).parseCredentials(input);
}

/**
 * PATCH semantics for credentials: the given fields replace the stored ones, `null` removes an
 * optional field, the rest is kept. Without readable stored credentials the input must be whole.
 */
export function mergeCredentials(
  type: AccountType,
  stored: AccountCredentials | null,
  input: unknown,
): AccountCredentials {
  if (!isPlainObject(input)) {
    throw credentialsError(`credentials must be an object for ${type} accounts`);
  }
  if (stored === null) {
    try {
      return parseCredentials(type, input);
    } catch (error) {
      if (error instanceof AccountsException) {
        throw new AccountsException(
          AccountsExceptionCode.CREDENTIALS_UNREADABLE,
          `the stored credentials cannot be decrypted, so send the complete credentials: ${error.message}`,
        );
      }
      throw error;
    }
  }
  const merged: Record<string, unknown> = { ...stored, ...input };
  for (const [key, value] of Object.entries(input)) if (value === null) delete merged[key];
  return parseCredentials(type, merged);
}

function proxyError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_PROXY, message);
}

const PROXY_PROTOCOLS = ['http:', 'https:', 'socks5:'];

/**
 * An account proxy: `http://`, `https://` or `socks5://`, a host, an optional port and optional
 * `user:pass` (percent-encoded). Returned normalised (no trailing slash); null for no proxy.
 */
export function parseProxyUrl(input: unknown): string | null {
  if (input === null || input === undefined || input === '') return null;
  if (typeof input !== 'string') throw proxyError('proxy must be a URL string or null');
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw proxyError('proxy must be a URL like socks5://user:pass@host:1080');
  }
  if (!PROXY_PROTOCOLS.includes(url.protocol)) {
    throw proxyError('proxy must use http://, https:// or socks5://');
  }
  if (url.hostname === '') throw proxyError('proxy must name a host');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw proxyError('proxy must not have a path, query or fragment');
  }
  if (url.password !== '' && url.username === '') {
    throw proxyError('proxy has a password without a user name');
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw proxyError('proxy user name or password is not valid percent-encoding');
  }
  const auth =
    url.username === '' ? '' : `${url.username}${url.password === '' ? '' : `:${url.password}`}@`;
  return `${url.protocol}//${auth}${url.host}`;
}

function modelsError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_MODELS, message);
}

function modelName(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw modelsError(`${where} must be a non-empty model name`);
  }
  const name = value.trim();
  if (name.length > MAX_MODEL_NAME || /\s/.test(name)) {
    throw modelsError(`${where} must be at most ${MAX_MODEL_NAME} characters without spaces`);
  }
  return name;
}

/** null (every model), a non-empty list of names (`*` wildcards allowed), or a name mapping. */
export function parseModels(input: unknown): AccountModels {
  if (input === null || input === undefined) return null;
  if (Array.isArray(input)) {
    if (input.length === 0) {
      throw modelsError('models must not be empty; use null for every model');
    }
    if (input.length > MAX_MODELS) throw modelsError(`models lists at most ${MAX_MODELS} names`);
    const names = input.map((value, i) => modelName(value, `models[${i}]`));
    return [...new Set(names)];
  }
  if (isPlainObject(input)) {
    const entries = Object.entries(input);
    if (entries.length === 0) {
      throw modelsError('models must not be empty; use null for every model');
    }
    if (entries.length > MAX_MODELS) throw modelsError(`models maps at most ${MAX_MODELS} names`);
    const mapping: Record<string, string> = {};
    for (const [key, value] of entries) {
      const from = modelName(key, 'a models key');
      if (from.includes('*')) throw modelsError('models mapping keys cannot use wildcards');
      mapping[from] = modelName(value, `models["${from}"]`);
    }
    return mapping;
  }
  throw modelsError('models must be null, a list of model names, or a mapping of names');
}

/** An http(s) base URL without credentials, query or fragment; trailing slashes removed. */
export function parseBaseUrl(input: unknown): string | null {
  if (input === null || input === undefined || input === '') return null;
  const fail = (message: string): AccountsException =>
    new AccountsException(AccountsExceptionCode.INVALID_BASE_URL, message);
  if (typeof input !== 'string') throw fail('baseUrl must be a URL string or null');
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw fail('baseUrl must be an http(s) URL like https://api.anthropic.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail('baseUrl must use http:// or https://');
  }
  if (url.username !== '' || url.password !== '') {
    throw fail('baseUrl must not carry credentials; put them in credentials');
  }
  if (url.search !== '' || url.hash !== '') throw fail('baseUrl must not have a query or fragment');
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, '');
}

const SUBSCRIPTION_STRINGS = [
  'plan',
  'email',
  'organizationName',
  'organizationUuid',
  'accountUuid',
] as const;

/** Subscription facts of an account whose type has them (its descriptor says); refused on others. */
export function parseSubscription(type: AccountType, input: unknown): AccountSubscription | null {
  if (input === null || input === undefined) return null;
  const fail = (message: string): AccountsException =>
    new AccountsException(AccountsExceptionCode.INVALID_SUBSCRIPTION, message);
  if (!descriptorOf(type).supportsSubscription) {
    const types = accountTypeDescriptors()
      .filter((descriptor) => descriptor.supportsSubscription)
      .map((descriptor) => descriptor.type);
    throw fail(`subscription applies to ${types.join(', ')} accounts only`);
  }
  if (!isPlainObject(input)) throw fail('subscription must be an object');
  const allowed: readonly string[] = [...SUBSCRIPTION_STRINGS, 'scopes'];
  const unknown = Object.keys(input).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw fail(`subscription accepts ${allowed.join(', ')}; unexpected: ${unknown.join(', ')}`);
  }
  const subscription: AccountSubscription = {};
  for (const key of SUBSCRIPTION_STRINGS) {
    const value = input[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.length > 256) {
      throw fail(`subscription.${key} must be a string of at most 256 characters`);
    }
    subscription[key] = value;
  }
  if (input.scopes !== undefined && input.scopes !== null) {
    if (!Array.isArray(input.scopes) || !input.scopes.every((s) => typeof s === 'string')) {
      throw fail('subscription.scopes must be a list of strings');
    }
    subscription.scopes = input.scopes;
  }
  return subscription;
}
