import { actionOf, resourceOf, targetIdFromBody, targetIdFromParams } from './audit-route';

describe('resourceOf', () => {
  it.each([
    ['admin/api/accounts', 'accounts'],
    ['/admin/api/account-groups/', 'account-groups'],
    ['admin/api/oauth/codex', 'oauth.codex'],
    ['admin/api/me/keys', 'me.keys'],
    [['admin/api/keys', 'v2/keys'], 'keys'],
    [undefined, 'admin'],
  ])('should name %p %p', (path, resource) => {
    expect(resourceOf(path)).toBe(resource);
  });
});

describe('actionOf', () => {
  it('should join the resource and the handler in snake_case', () => {
    expect(actionOf('accounts', 'resetHealth')).toBe('accounts.reset_health');
    expect(actionOf('account-groups', 'setMembers')).toBe('account-groups.set_members');
    expect(actionOf('keys', 'rotate')).toBe('keys.rotate');
  });
});

describe('targetIdFromParams', () => {
  it('should prefer :id, then :model, then a lone parameter', () => {
    expect(targetIdFromParams({ id: 'a', other: 'b' })).toBe('a');
    expect(targetIdFromParams({ model: 'claude-x' })).toBe('claude-x');
    expect(targetIdFromParams({ slug: 's' })).toBe('s');
    expect(targetIdFromParams({ a: '1', b: '2' })).toBeNull();
    expect(targetIdFromParams({})).toBeNull();
  });
});

describe('targetIdFromBody', () => {
  it('should take the id of an object answer only', () => {
    expect(targetIdFromBody({ id: 'x' })).toBe('x');
    expect(targetIdFromBody([{ id: 'x' }])).toBeNull();
    expect(targetIdFromBody('x')).toBeNull();
    expect(targetIdFromBody(undefined)).toBeNull();
  });
});
