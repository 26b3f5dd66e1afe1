import { Injectable } from '@nestjs/common';
import LdapAuth from 'ldapauth-fork';
import type { Client } from 'ldapjs';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import {
  parseLdapRoleMap,
  roleForGroups,
  type DirectoryGroup,
  type LdapRoleMap,
} from 'src/common/auth/ldap-role-map';
import type { Role } from 'src/common/auth/route-access.decorator';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { AuthException, AuthExceptionCode } from './auth.exception';

/** What the directory said about a username and password. */
export type DirectoryCheck =
  | {
      outcome: 'accepted';
      /** The user's entry. */
      dn: string;
      /** The entry's LDAP_USERNAME_ATTRIBUTE: the Switchyard username. */
      username: string;
      groups: DirectoryGroup[];
      /** From LDAP_ROLE_MAP (highest wins) or LDAP_DEFAULT_ROLE; undefined: may not log in. */
      role: Role | undefined;
    }
  | { outcome: 'wrong-password' }
  /** No entry matches the search filter (deleted, moved out of the search base, renamed). */
  | { outcome: 'unknown-user' };

/** An entry as ldapjs 2 hands it over: `dn` plus each attribute as a string or a list of them. */
type DirectoryEntry = Record<string, unknown> & { dn?: unknown; _groups?: unknown };

/**
 * The directory behind LDAP login: finds the user with the service account, binds as them to check
 * the password, searches their groups (all by ldapauth-fork, the library passport-ldapauth wraps)
 * and maps the groups to a role.
 *
 * Driven from AuthService rather than as passport middleware: the one JSON login route keeps its
 * throttle, its local-user-first order and its error codes, and this class can tell a wrong
 * password from a directory that cannot answer (passport-ldapauth reports both as a failure).
 * Each check opens its own connections and closes them: logins are rare, and no connection is left
 * stale across a directory restart or shared by two binds at once.
 */
@Injectable()
export class LdapDirectory {
  private readonly options: LdapAuth.Options | undefined;
  private readonly roleMap: LdapRoleMap = { entries: new Map() };
  private readonly defaultRole: Role | undefined;
  private readonly timeoutMs: number;
  private readonly usernameAttribute: string;
  private readonly groupNameAttribute: string;
  /** TLS options of StartTLS, when LDAP_STARTTLS is set. */
  private readonly startTls: ConnectionOptions | undefined;

  constructor(config: ConfigService) {
    const env = config.env;
    this.timeoutMs = env.LDAP_TIMEOUT_MS;
    this.defaultRole = env.LDAP_DEFAULT_ROLE;
    this.usernameAttribute = env.LDAP_USERNAME_ATTRIBUTE;
    this.groupNameAttribute = env.LDAP_GROUP_NAME_ATTRIBUTE;
    if (env.LDAP_URL === undefined || env.LDAP_SEARCH_BASE === undefined) return;
    if (env.LDAP_ROLE_MAP !== undefined) {
      // Validated at boot (config loader); a bad map cannot reach here.
      const parsed = parseLdapRoleMap(env.LDAP_ROLE_MAP);
      if ('map' in parsed) this.roleMap = parsed.map;
    }
    let ca: string | undefined;
    if (env.LDAP_TLS_CA_FILE !== undefined) {
      try {
        ca = readFileSync(env.LDAP_TLS_CA_FILE, 'utf8');
      } catch (error) {
        throw new Error(
          `LDAP_TLS_CA_FILE: cannot read ${env.LDAP_TLS_CA_FILE}: ${(error as Error).message}`,
        );
      }
    }
    if (env.LDAP_STARTTLS) {
      // ldapjs hands these to tls.connect over its socket without the host name: give it, so the
      // certificate is checked against the directory's name.
      this.startTls = { ...(ca === undefined ? {} : { ca }), host: new URL(env.LDAP_URL).hostname };
    }
    this.options = {
      url: env.LDAP_URL,
      bindDN: env.LDAP_BIND_DN,
      bindCredentials: env.LDAP_BIND_CREDENTIALS,
      searchBase: env.LDAP_SEARCH_BASE,
      searchFilter: env.LDAP_SEARCH_FILTER,
      searchAttributes: [env.LDAP_USERNAME_ATTRIBUTE],
      groupSearchBase: env.LDAP_GROUP_SEARCH_BASE ?? env.LDAP_SEARCH_BASE,
      groupSearchFilter: env.LDAP_GROUP_SEARCH_FILTER,
      groupSearchAttributes: [env.LDAP_GROUP_NAME_ATTRIBUTE],
      // StartTLS is done here (see check), not by ldapauth-fork: its own starts the handshake
      // without waiting for it, so the service account's bind could go out in the clear.
      starttls: false,
      tlsOptions: ca === undefined ? undefined : { ca },
      connectTimeout: env.LDAP_TIMEOUT_MS,
      timeout: env.LDAP_TIMEOUT_MS,
      reconnect: false,
    };
  }

  /** LDAP login is configured (LDAP_URL set). */
  get enabled(): boolean {
    return this.options !== undefined;
  }

  /**
   * Checks a username and password against the directory. Throws LDAP_UNAVAILABLE (503) when the
   * directory cannot give an answer; never logs the password or the bind credentials.
   */
  check(username: string, password: string): Promise<DirectoryCheck> {
    const options = this.options;
    if (options === undefined) return Promise.resolve({ outcome: 'unknown-user' });
    // A fresh copy: ldapauth-fork rewrites some options (the group filter) in place.
    const auth = new LdapAuth({
      ...options,
      searchAttributes: [...(options.searchAttributes ?? [])],
    });
    return new Promise<DirectoryCheck>((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        auth.close(() => undefined);
        settle();
      };
      const unavailable = (reason: string, error?: unknown): void =>
        finish(() => reject(this.unavailable(username, reason, error)));
      // Connection failures arrive as events, and the queued search then never calls back.
      const timer = setTimeout(() => unavailable('timed out'), this.timeoutMs);
      auth.on('error', (error: unknown) => {
        unavailable(UNREACHABLE, error);
      });
      const authenticate = (): void =>
        auth.authenticate(username, password, (error, user?: DirectoryEntry) => {
          if (settled) return;
          if (error === null || error === undefined) {
            finish(() => resolve(this.accepted(username, user ?? {})));
            return;
          }
          if (typeof error === 'string' && error.startsWith('no such user')) {
            finish(() => resolve({ outcome: 'unknown-user' }));
            return;
          }
          const name = typeof error === 'string' ? undefined : error.name;
          if (name === 'InvalidCredentialsError') {
            // The user's bind comes after a search made with the service account: when that account
            // is not bound, it was its own bind that was refused (a configuration fault).
            if (!adminBound(auth)) {
              unavailable('the directory refused LDAP_BIND_DN / LDAP_BIND_CREDENTIALS', error);
              return;
            }
            finish(() => resolve({ outcome: 'wrong-password' }));
            return;
          }
          // Locked or expired in the directory (password policy): a refusal, like a wrong password.
          if (name === 'ConstraintViolationError' || name === 'UnwillingToPerformError') {
            finish(() => resolve({ outcome: 'wrong-password' }));
            return;
          }
          unavailable(
            name === 'NoSuchObjectError'
              ? 'LDAP_SEARCH_BASE or LDAP_GROUP_SEARCH_BASE does not exist'
              : isSystemError(error)
                ? UNREACHABLE
                : 'the directory failed the check',
            error,
          );
        });
      const startTls = this.startTls;
      if (startTls === undefined) {
        authenticate();
        return;
      }
      // Both connections finish their TLS handshake before anything is sent on them.
      let pending = 2;
      for (const client of clientsOf(auth)) {
        client.starttls(startTls, [], (error: Error | null) => {
          if (error !== null && error !== undefined) {
            unavailable('StartTLS failed', error);
            return;
          }
          pending -= 1;
          if (pending === 0 && !settled) authenticate();
        });
      }
    });
  }

  private accepted(login: string, entry: DirectoryEntry): DirectoryCheck {
    const dn = firstString(entry.dn) ?? '';
    const username = attribute(entry, this.usernameAttribute) ?? login;
    const groups: DirectoryGroup[] = (Array.isArray(entry._groups) ? entry._groups : []).map(
      (group: DirectoryEntry) => ({
        dn: firstString(group.dn) ?? '',
        name: attribute(group, this.groupNameAttribute),
      }),
    );
    return {
      outcome: 'accepted',
      dn,
      username,
      groups,
      role: roleForGroups(groups, this.roleMap, this.defaultRole),
    };
  }

  private unavailable(username: string, reason: string, error?: unknown): AuthException {
    // Name, code and message only: ldapjs errors carry no credentials there, and nothing else of
    // the request is logged.
    // (Duck-typed: errors of node's socket layer may come from another realm under jest.)
    const fields = typeof error === 'object' && error !== null ? (error as ErrorFields) : undefined;
    const detail =
      fields !== undefined
        ? { name: fields.name, code: fields.code, message: fields.message }
        : typeof error === 'string'
          ? { message: error }
          : undefined;
    appLogger.error(
      { username, reason, error: detail },
      'LDAP login: the directory gave no answer',
    );
    return new AuthException(
      AuthExceptionCode.LDAP_UNAVAILABLE,
      'the directory cannot check logins right now; try again later or ask an administrator',
    );
  }
}

const UNREACHABLE = 'cannot reach the directory';

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  message?: unknown;
}

/** A socket-level failure (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...), not an LDAP answer. */
function isSystemError(error: unknown): boolean {
  const code =
    typeof error === 'object' && error !== null ? (error as ErrorFields).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** ldapauth-fork's two connections: the service account's and the one users bind on. */
function clientsOf(auth: LdapAuth): Client[] {
  const fields = auth as unknown as { _adminClient: Client; _userClient: Client };
  return [fields._adminClient, fields._userClient];
}

/** ldapauth-fork keeps whether its service-account connection is bound in this field. */
function adminBound(auth: LdapAuth): boolean {
  return (auth as unknown as { _adminBound?: boolean })._adminBound === true;
}

function firstString(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/** Attribute names come back as the directory spells them (sAMAccountName): match any case. */
function attribute(entry: DirectoryEntry, name: string): string | undefined {
  const key = Object.keys(entry).find(
    (candidate) => candidate.toLowerCase() === name.toLowerCase(),
  );
  return key === undefined ? undefined : firstString(entry[key]);
}
