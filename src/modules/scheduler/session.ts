import { createHash } from 'node:crypto';

const LEGACY_SESSION = /_session_([0-9a-fA-F-]{8,})$/;
const SESSION_HEADERS = ['x-claude-code-session-id', 'x-session-id', 'session_id', 'x-session'];
/**
 * Longest session source read: real ones are under 200 characters. A longer one is ignored (no
 * stickiness) rather than matched or parsed, so a crafted id costs nothing on the hot path.
 */
export const MAX_SESSION_SOURCE_LENGTH = 1024;

/**
 * The conversation a request belongs to, for sticky routing: Claude Code's `metadata.user_id`
 * (legacy `user_<hash>_account_<uuid>_session_<uuid>` or the JSON form with `session_id`), else a
 * session header, else OpenAI's `user` (the end user an app names; their requests then share an
 * account and its prompt cache), else (when enabled) a hash of the first message. Returned
 * hashed, so the sticky key never carries client text.
 */
export function sessionOf(
  body: { metadata?: unknown; system?: unknown; messages?: unknown; user?: unknown },
  headers: Record<string, string | string[] | undefined>,
  contentHashing: boolean,
): string | null {
  const fromUserId = sessionFromUserId(body.metadata);
  if (fromUserId !== null) return digest(`u:${fromUserId}`);
  for (const name of SESSION_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && value.length > 0 && value.length <= MAX_SESSION_SOURCE_LENGTH)
      return digest(`h:${value}`);
  }
  const user = body.user;
  if (typeof user === 'string' && user.length > 0 && user.length <= MAX_SESSION_SOURCE_LENGTH)
    return digest(`o:${user}`);
  if (contentHashing) {
    const first = Array.isArray(body.messages) ? (body.messages[0] as unknown) : undefined;
    if (first !== undefined)
      return digest(`c:${JSON.stringify(body.system ?? '')}:${JSON.stringify(first)}`);
  }
  return null;
}

export function sessionFromUserId(metadata: unknown): string | null {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const userId = (metadata as { user_id?: unknown }).user_id;
  if (typeof userId !== 'string' || userId.length === 0) return null;
  if (userId.length > MAX_SESSION_SOURCE_LENGTH) return null;
  const legacy = LEGACY_SESSION.exec(userId);
  if (legacy !== null) return legacy[1];
  if (userId.startsWith('{')) {
    try {
      const parsed = JSON.parse(userId) as { session_id?: unknown };
      if (typeof parsed.session_id === 'string' && parsed.session_id.length > 0) {
        return parsed.session_id;
      }
    } catch {
      // not JSON after all: fall through to the other sources
    }
  }
  return null;
}

/** Session ids recur on every turn of a conversation: their digests are kept (short ones only). */
const MEMO_MAX_ENTRIES = 10_000;
const MEMO_MAX_LENGTH = 256;
const memo = new Map<string, string>();

function digest(value: string): string {
  const known = memo.get(value);
  if (known !== undefined) return known;
  const hashed = createHash('sha256').update(value).digest('base64url').slice(0, 22);
  if (value.length <= MEMO_MAX_LENGTH) {
    if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
    memo.set(value, hashed);
  }
  return hashed;
}
