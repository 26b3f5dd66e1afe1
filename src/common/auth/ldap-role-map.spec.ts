import { parseLdapRoleMap, roleForGroups, type LdapRoleMap } from './ldap-role-map';

function mapOf(text: string): LdapRoleMap {
  const parsed = parseLdapRoleMap(text);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return parsed.map;
}

const ADMINS = { dn: 'cn=relay-admins,ou=groups,dc=switchyard,dc=test', name: 'relay-admins' };
const USERS = { dn: 'cn=relay-users,ou=groups,dc=switchyard,dc=test', name: 'relay-users' };
const STAFF = { dn: 'cn=staff,ou=groups,dc=switchyard,dc=test', name: 'staff' };

describe('parseLdapRoleMap', () => {
  it('should read group=role entries separated by commas', () => {
    const map = mapOf('relay-admins=admin, relay-operators = operator,relay-users=user');

    expect([...map.entries]).toEqual([
      ['relay-admins', 'admin'],
      ['relay-operators', 'operator'],
      ['relay-users', 'user'],
    ]);
  });

  it('should read DNs when entries are separated by semicolons', () => {
    const map = mapOf('CN=Relay Admins, OU=Groups, DC=corp=admin; relay-users=user');

    expect(map.entries.get('cn=relay admins,ou=groups,dc=corp')).toBe('admin');
    expect(map.entries.get('relay-users')).toBe('user');
  });

  it('should name each bad entry and hint at semicolons when a DN was split on commas', () => {
    const parsed = parseLdapRoleMap('relay-admins=root,cn=x,ou=groups=admin,=user');

    expect('problems' in parsed && parsed.problems).toEqual([
      expect.stringContaining('"relay-admins=root"'),
      expect.stringContaining('"cn=x"'),
      expect.stringContaining('"=user"'),
    ]);
    expect('problems' in parsed && parsed.problems[1]).toContain('";"');
  });

  it('should refuse a map without entries', () => {
    expect(parseLdapRoleMap(' , ')).toEqual({ problems: ['LDAP_ROLE_MAP: has no entry'] });
  });
});

describe('roleForGroups', () => {
  const map = mapOf(
    'relay-admins=admin;relay-users=user;cn=staff,ou=groups,dc=switchyard,dc=test=viewer',
  );

  it('should give the highest role of the mapped groups', () => {
    expect(roleForGroups([USERS, ADMINS], map)).toBe('admin');
    expect(roleForGroups([USERS, STAFF], map)).toBe('viewer');
  });

  it('should match a group by name or by DN, case and blanks aside', () => {
    expect(roleForGroups([{ dn: 'cn=other', name: 'RELAY-USERS' }], map)).toBe('user');
    expect(roleForGroups([{ dn: 'CN=Staff, OU=Groups, DC=Switchyard, DC=Test' }], map)).toBe(
      'viewer',
    );
  });

  it('should fall back to the default role, else refuse, when no group is mapped', () => {
    const other = [{ dn: 'cn=other,dc=x', name: 'other' }];

    expect(roleForGroups(other, map)).toBeUndefined();
    expect(roleForGroups([], map)).toBeUndefined();
    expect(roleForGroups(other, map, 'viewer')).toBe('viewer');
  });
});
