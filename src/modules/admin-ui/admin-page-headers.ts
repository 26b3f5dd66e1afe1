import { createHash } from 'node:crypto';

/** Inline `<script>` (without src) and `<style>` elements, by tag, in page order. */
const INLINE = /<(script|style)(\s[^>]*)?>([\s\S]*?)<\/\1\s*>/gi;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export interface AdminPageOptions {
  /**
   * Allow inline styles ('unsafe-inline' in style-src) instead of hashing the page's own <style>
   * elements. The admin UI needs it: its component libraries set style attributes (Radix
   * positioning, recharts) and inject <style> elements at run time (react-remove-scroll), which
   * no hash computed from the served page can cover. Scripts stay strict either way.
   * See docs/decisions.md.
   */
  inlineStyles?: boolean;
}

/**
 * Security headers for the admin pages. The Content-Security-Policy allows exactly the page's own
 * inline scripts (by hash, computed from the page served) and same-origin assets and API calls,
 * nothing else: an injected script or a form posting elsewhere does not run. Inline styles are
 * allowed by hash too, unless `inlineStyles` is set. The page can never be framed (clickjacking
 * of the admin UI).
 */
export function adminPageHeaders(
  html: string,
  options: AdminPageOptions = {},
): Record<string, string> {
  const scripts: string[] = [];
  const styles: string[] = [];
  for (const match of html.matchAll(INLINE)) {
    const [, tag, attributes = '', content] = match;
    if (tag.toLowerCase() === 'script') {
      if (!/\ssrc\s*=/i.test(` ${attributes}`)) scripts.push(sha256(content));
    } else {
      styles.push(sha256(content));
    }
  }
  // A hash in style-src would make browsers ignore 'unsafe-inline': one or the other.
  const styleSrc = options.inlineStyles
    ? "style-src 'self' 'unsafe-inline'"
    : ["style-src 'self'", ...styles].join(' ');
  const csp = [
    "default-src 'none'",
    ["script-src 'self'", ...scripts].join(' '),
    styleSrc,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
}
