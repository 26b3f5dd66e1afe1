/**
 * Secrets of keys created or rotated in this tab, by key id, so the setup page can fill them in
 * after the secret dialog closed. Held in memory only: gone on reload, never stored anywhere.
 */
const secrets = new Map<string, string>();

export function rememberSecret(keyId: string, secret: string): void {
  secrets.set(keyId, secret);
}

export function recalledSecret(keyId: string | null | undefined): string | undefined {
  return keyId ? secrets.get(keyId) : undefined;
}
