import type { AccountTypeDescriptor } from './account-type.descriptor';
import { azureOpenAIDescriptor } from './azure-openai';
import { bedrockDescriptor } from './bedrock';
import { ccrDescriptor } from './ccr';
import { claudeConsoleDescriptor } from './claude-console';
import { claudeOAuthDescriptor } from './claude-oauth';
import { codexOAuthDescriptor } from './codex-oauth';
import { droidDescriptor } from './droid';
import { geminiApiDescriptor } from './gemini-api';
import { geminiOAuthDescriptor } from './gemini-oauth';
import { openAIDescriptor } from './openai';
import { openAICompatibleDescriptor } from './openai-compatible';

/**
 * Every account type Switchyard serves, one line each. AccountType, AccountCredentials and the
 * credentials summary union are derived from this list, so a new type needs nothing else here.
 */
const DESCRIPTORS = [
  claudeOAuthDescriptor,
  claudeConsoleDescriptor,
  ccrDescriptor,
  openAIDescriptor,
  codexOAuthDescriptor,
  azureOpenAIDescriptor,
  geminiApiDescriptor,
  geminiOAuthDescriptor,
  bedrockDescriptor,
  openAICompatibleDescriptor,
  droidDescriptor,
] as const;

type RegisteredDescriptor = (typeof DESCRIPTORS)[number];
type CredentialsOf<D> = D extends AccountTypeDescriptor<infer C, infer _S> ? C : never;
type SummaryOf<D> = D extends AccountTypeDescriptor<infer _C, infer S> ? S : never;

export type AccountType = RegisteredDescriptor['type'];
/** Decrypted credentials by account type (held in memory only, never returned by the API). */
export type AccountCredentials = CredentialsOf<RegisteredDescriptor>;
/** What the admin API shows of readable credentials, by account type. */
export type ReadableCredentialsSummaryOfType = SummaryOf<RegisteredDescriptor>;

/**
 * A descriptor of any type. Its methods accept every type's credentials in the signature; pass
 * only credentials of `descriptor.type` (descriptorOf(credentials.type) does).
 */
export type AnyAccountTypeDescriptor = AccountTypeDescriptor<
  AccountCredentials,
  ReadableCredentialsSummaryOfType
>;

const BY_TYPE = new Map<string, AnyAccountTypeDescriptor>();
for (const descriptor of DESCRIPTORS) {
  if (BY_TYPE.has(descriptor.type)) {
    throw new Error(`account type ${descriptor.type} is registered twice`);
  }
  BY_TYPE.set(descriptor.type, descriptor);
}

export const ACCOUNT_TYPES: readonly AccountType[] = DESCRIPTORS.map((d) => d.type);

export function isAccountType(value: string): value is AccountType {
  return BY_TYPE.has(value);
}

/** The descriptor of a known type (a type outside the registry is a programming error). */
export function descriptorOf(type: AccountType): AnyAccountTypeDescriptor {
  const descriptor = BY_TYPE.get(type);
  if (descriptor === undefined) throw new Error(`unknown account type ${String(type)}`);
  return descriptor;
}

/** The descriptor of a type read from storage or input, undefined when this version has none. */
export function findDescriptor(type: string): AnyAccountTypeDescriptor | undefined {
  return BY_TYPE.get(type);
}

/** Every descriptor, in registry order (the order admin screens list the types in). */
export function accountTypeDescriptors(): readonly AnyAccountTypeDescriptor[] {
  return DESCRIPTORS;
}
