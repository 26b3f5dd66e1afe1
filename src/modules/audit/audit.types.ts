import type { AuditChange } from './audit-diff';

/** The actor of the CLI's rows and its source address. */
export const CLI_ACTOR = 'cli';
export const CLI_SOURCE = 'local';
/** The actor of a failed login (the username typed is the target). */
export const ANONYMOUS_ACTOR = 'anonymous';
export const AUDIT_SUCCESS = 'success';

/** The login events AuthService records (the admin API's mutations are named by their route). */
export const AUTH_ACTIONS = {
  login: 'auth.login',
  loginFailed: 'auth.login_failed',
  lockout: 'auth.lockout',
  logout: 'auth.logout',
} as const;

/** What happened, as whoever records it knows it. Snapshots are raw here; the recorder sanitizes. */
export interface AuditEvent {
  /** Epoch ms; default now. */
  at?: number;
  actor: string;
  actorId?: string | null;
  actorRole?: string | null;
  source: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  /** `success`, or the error code answered. */
  outcome: string;
  status?: number | null;
  requestId?: string | null;
  before?: unknown;
  after?: unknown;
}

/** A stored row, decoded. */
export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  actorId: string | null;
  actorRole: string | null;
  source: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  status: number | null;
  requestId: string | null;
  diff: AuditChange[] | null;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  actor?: string;
  /** Exact, or a prefix when it ends with `*` (`accounts.*`). */
  action?: string;
  targetType?: string;
  targetId?: string;
  /** `success`, `failure` (anything else), or one error code. */
  outcome?: string;
  /** Half-open `[from, to)`, epoch ms. */
  from?: number;
  to?: number;
}
