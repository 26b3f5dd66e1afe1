import { ROLES, isRole, type Role } from './route-access.decorator';

/**
 * LDAP_ROLE_MAP: which directory group grants which Switchyard role. Lives here rather than in the
 * auth feature because the configuration loader validates it at boot too.
 */
export interface LdapRoleMap {
  /** Normalised group key (a cn, or a whole DN) -> role. */
  readonly entries: ReadonlyMap<string, Role>;
}

/** A group the directory reported for a user: its DN and its name attribute (cn), if any. */
export interface DirectoryGroup {
  dn: string;
  name?: string;
}

/** Higher wins when a user sits in several mapped groups. */
const RANK: Record<Role, number> = { admin: 4, operator: 3, viewer: 2, user: 1 };

/**
 * Parses `relay-admins=admin,relay-users=user`. Entries are split on `;` when the value holds one
 * (needed when a group is given as a DN, which contains commas), on `,` otherwise; each entry on
 * its last `=`. Returns the map, or the problems found (for the configuration error).
 */
export function parseLdapRoleMap(text: string): { map: LdapRoleMap } | { problems: string[] } {
  const entries = new Map<string, Role>();
  const problems: string[] = [];
  const separator = text.includes(';') ? ';' : ',';
  for (const raw of text.split(separator)) {
    const entry = raw.trim();
    if (entry === '') continue;
    const at = entry.lastIndexOf('=');
    const group = at > 0 ? normaliseGroupKey(entry.slice(0, at)) : '';
    const role = at > 0 ? entry.slice(at + 1).trim() : '';
    if (group === '' || !isRole(role)) {
      problems.push(
        `LDAP_ROLE_MAP: "${entry}" is not group=role with a role of ${ROLES.join(', ')}` +
          (separator === ',' && entry.includes('=')
            ? ' (separate entries with ";" when a group is given as a DN)'
            : ''),
      );
      continue;
    }
    entries.set(group, role);
  }
  if (problems.length === 0 && entries.size === 0) problems.push('LDAP_ROLE_MAP: has no entry');
  return problems.length > 0 ? { problems } : { map: { entries } };
}

/**
 * The highest role any of the groups grants (a group matches by its name or its DN, either case
 * insensitively), else the default role, else undefined: the user may not log in.
 */
export function roleForGroups(
  groups: readonly DirectoryGroup[],
  map: LdapRoleMap,
  defaultRole?: Role,
): Role | undefined {
  let best: Role | undefined;
  for (const group of groups) {
    const keys = [group.dn, group.name].filter((key): key is string => key !== undefined);
    for (const key of keys) {
      const role = map.entries.get(normaliseGroupKey(key));
      if (role !== undefined && (best === undefined || RANK[role] > RANK[best])) best = role;
    }
  }
  return best ?? defaultRole;
}

/** Case and the blanks around `,` and `=` do not matter in a DN (nor in a cn here). */
function normaliseGroupKey(key: string): string {
  return key
    .trim()
    .toLowerCase()
    .replace(/\s*([,=])\s*/g, '$1');
}
