/**
 * Reading the claims of a JWT an admin pasted (Codex's ID and access tokens). The signature is
 * not checked: the claims only fill in facts (account id, plan, expiry) about credentials the
 * admin already holds, and the upstream verifies the token itself on every request.
 */

const JWT = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;

/** Whether the text has the shape of a compact JWS (three base64url parts). */
export function isJwt(token: string): boolean {
  return JWT.test(token);
}

/** The payload object of a JWT, or null when the token is not one or its payload is not JSON. */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const match = JWT.exec(token);
  if (match === null) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** A string claim inside an object claim: `claim(c, 'https://api.openai.com/auth', 'x')`. */
export function nestedClaim(
  claims: Record<string, unknown> | null,
  namespace: string,
  name: string,
): string | undefined {
  const inner = claims?.[namespace];
  if (typeof inner !== 'object' || inner === null) return undefined;
  const value = (inner as Record<string, unknown>)[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The `exp` claim (epoch seconds) as epoch ms, or undefined. */
export function expiryOf(claims: Record<string, unknown> | null): number | undefined {
  const exp = claims?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) && exp > 0
    ? Math.round(exp * 1000)
    : undefined;
}
