import type { RoutableAccount } from './account.types';

export interface AccountTestResult {
  ok: boolean;
  /** Upstream HTTP status; null when no response arrived (connect error, timeout). */
  status: number | null;
  latencyMs: number;
  /** The model the test request used. */
  model: string | null;
  /** A short, secret-free explanation for the admin. */
  message: string;
}

/**
 * Sends one small real request through an account (its credentials, base URL and proxy). Provided
 * by the relay module, which knows how to speak to each upstream; the accounts module only
 * defines the port so it never depends on the relay.
 */
export interface AccountTester {
  test(account: RoutableAccount): Promise<AccountTestResult>;
}

export const ACCOUNT_TESTER = Symbol('ACCOUNT_TESTER');
