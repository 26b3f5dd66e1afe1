import type { AccountCredentials } from './account.types';
import {
  descriptorOf,
  type ReadableCredentialsSummaryOfType,
} from './types/account-types.registry';

export { maskSecret } from './types/credential-fields';

/** What the admin API shows of credentials: enough to recognise them, never enough to use them. */
export type CredentialsSummary =
  ReadableCredentialsSummaryOfType | { type: string; readable: false };

/** The summary the credentials' type describes (see its descriptor). */
export function describeCredentials(credentials: AccountCredentials): CredentialsSummary {
  return descriptorOf(credentials.type).describeCredentials(credentials);
}

/** `socks5://user:secret@host:1080` → `socks5://user:****@host:1080`. */
export function maskProxyUrl(proxyUrl: string): string {
  try {
    const url = new URL(proxyUrl);
    const auth = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':****'}@`;
    return `${url.protocol}//${auth}${url.host}`;
  } catch {
    return '****';
  }
}
