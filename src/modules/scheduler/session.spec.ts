import { MAX_SESSION_SOURCE_LENGTH, sessionFromUserId, sessionOf } from './session';

describe('sessionFromUserId', () => {
  it('should read the legacy Claude Code user id', () => {
    expect(
      sessionFromUserId({
        user_id: 'user_abc_account_1111-2222_session_9a8b7c6d-1111-2222-3333-444455556666',
      }),
    ).toBe('9a8b7c6d-1111-2222-3333-444455556666');
  });

  it('should read the JSON form with session_id', () => {
    expect(
      sessionFromUserId({ user_id: JSON.stringify({ device_id: 'd', session_id: 's-1' }) }),
    ).toBe('s-1');
  });

  it('should give null when there is no session in the user id', () => {
    expect(sessionFromUserId({ user_id: 'plain-user' })).toBeNull();
    expect(sessionFromUserId(undefined)).toBeNull();
    expect(sessionFromUserId({ user_id: '{not json' })).toBeNull();
  });

  it('should ignore a user id longer than the cap instead of matching or parsing it', () => {
    const hex = 'a'.repeat(MAX_SESSION_SOURCE_LENGTH);
    expect(sessionFromUserId({ user_id: `user_x_session_${hex}` })).toBeNull();
    const crafted = JSON.stringify({ session_id: 's'.repeat(1_000_000) });
    expect(sessionFromUserId({ user_id: crafted })).toBeNull();
    expect(sessionFromUserId({ user_id: '_session_'.repeat(200_000) })).toBeNull();
  });
});

describe('sessionOf', () => {
  const messages = [{ role: 'user', content: 'first' }];

  it('should prefer metadata, then a session header, then content hashing when enabled', () => {
    const meta = sessionOf(
      { metadata: { user_id: JSON.stringify({ session_id: 's' }) } },
      { 'x-session-id': 'h' },
      true,
    );
    const header = sessionOf({ messages }, { 'x-session-id': 'h' }, true);
    const content = sessionOf({ messages }, {}, true);
    expect(new Set([meta, header, content]).size).toBe(3);
    expect(sessionOf({ messages }, {}, false)).toBeNull();
  });

  it('should give the same digest for the same conversation and never the raw text', () => {
    const a = sessionOf({ messages }, {}, true);
    expect(
      sessionOf({ messages: [...messages, { role: 'assistant', content: 'x' }] }, {}, true),
    ).toBe(a);
    expect(a).not.toContain('first');
  });

  it('should ignore a session header longer than the cap', () => {
    const long = 'x'.repeat(MAX_SESSION_SOURCE_LENGTH + 1);
    expect(sessionOf({}, { 'x-session-id': long }, false)).toBeNull();
    expect(sessionOf({}, { 'x-session-id': long.slice(1) }, false)).not.toBeNull();
  });

  it("should keep an OpenAI app's end user on one account when it names the user", () => {
    const alice = sessionOf({ user: 'alice', messages }, {}, false);
    expect(alice).not.toBeNull();
    expect(sessionOf({ user: 'alice', messages: [] }, {}, false)).toBe(alice);
    expect(sessionOf({ user: 'bob', messages }, {}, false)).not.toBe(alice);
    expect(alice).not.toContain('alice');
    const header = sessionOf({ user: 'alice' }, { 'x-session-id': 'h' }, false);
    expect(header).not.toBe(alice);
    expect(sessionOf({ user: 'x'.repeat(MAX_SESSION_SOURCE_LENGTH + 1) }, {}, false)).toBeNull();
  });
});
