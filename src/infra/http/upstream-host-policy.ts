import { isIP } from 'node:net';
import type { ConfigService } from 'src/config/config.service';

export interface UpstreamHostPolicyOptions {
  /** Hostnames, `*.example.com` for any subdomain; empty allows every host. */
  allowlist: string[];
  /** Plain http:// base URLs and proxies to hosts other than loopback. */
  allowInsecure: boolean;
  /**
   * Origins named by the operator's own configuration (ANTHROPIC_BASE_URL, OPENAI_BASE_URL,
   * CODEX_BASE_URL): always allowed, as the policy bounds what an admin token can change, not
   * what the operator set up.
   */
  trustedOrigins?: string[];
}

/** What the URL is for, named in refusals (`url`: a notification target's). */
export type UpstreamUrlRole = 'baseUrl' | 'proxy' | 'url';

/** Bounded: authorities come from accounts (a few hundred at most), never from clients. */
const MEMO_LIMIT = 1024;

function normaliseHost(host: string): string {
  const lower = host.toLowerCase().replace(/\.$/, '');
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/** localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.x): traffic that never leaves the box. */
export function isLoopbackHost(host: string): boolean {
  const h = normaliseHost(host);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    return h === '::1' || /^::ffff:127\./.test(h) || /^(0+:){7}0*1$/.test(h);
  }
  return false;
}

/**
 * Where account credentials may be sent. An admin token can change an account's base URL and
 * proxy; this policy bounds where that can point: an optional allowlist of hosts
 * (UPSTREAM_HOST_ALLOWLIST) and no plain http:// outside loopback unless
 * ALLOW_INSECURE_UPSTREAMS is set. Checked when an account is saved, when the pool loads it, and
 * again by UpstreamHttp right before a request leaves.
 */
export class UpstreamHostPolicy {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly allowInsecure: boolean;
  private readonly trusted: Set<string>;
  private readonly memo = new Map<string, string | null>();

  constructor(options: UpstreamHostPolicyOptions) {
    this.allowInsecure = options.allowInsecure;
    this.trusted = new Set(options.trustedOrigins ?? []);
    for (const raw of options.allowlist) {
      const entry = normaliseHost(raw.trim());
      if (entry === '') continue;
      if (entry.startsWith('*.')) this.suffixes.push(entry.slice(1));
      else this.exact.add(entry);
    }
  }

  /** Parses the comma-separated allowlist variable. */
  static parseAllowlist(value: string | undefined): string[] {
    return (value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }

  /** Whether an allowlist is configured (otherwise every host passes that part of the check). */
  get restricted(): boolean {
    return this.exact.size > 0 || this.suffixes.length > 0;
  }

  /** Whether plain http:// (and unencrypted SMTP) to hosts other than loopback is allowed. */
  get allowsInsecure(): boolean {
    return this.allowInsecure;
  }

  /** Whether nothing is ever refused: the send-time check can then be skipped entirely. */
  get permissive(): boolean {
    return !this.restricted && this.allowInsecure;
  }

  hostAllowed(host: string): boolean {
    if (!this.restricted) return true;
    const h = normaliseHost(host);
    return this.exact.has(h) || this.suffixes.some((suffix) => h.endsWith(suffix));
  }

  /** Why the URL may not be used for this role, or null when it may. */
  refusal(url: string, role: UpstreamUrlRole): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `${role} is not a valid URL`;
    }
    if (role === 'baseUrl' && this.trusted.has(parsed.origin)) return null;
    const host = parsed.hostname;
    if (!this.hostAllowed(host)) {
      return `${role} host ${normaliseHost(host)} is not in UPSTREAM_HOST_ALLOWLIST`;
    }
    if (parsed.protocol === 'http:' && !this.allowInsecure && !isLoopbackHost(host)) {
      return (
        `${role} uses plain http:// to ${normaliseHost(host)}, which would send secrets ` +
        'unencrypted; use https:// (or set ALLOW_INSECURE_UPSTREAMS=true)'
      );
    }
    return null;
  }

  /**
   * refusal() for the hot path: the verdict is memoised per scheme and authority, read from the
   * URL with string operations (no URL parse per request).
   */
  refusalCached(url: string, role: UpstreamUrlRole): string | null {
    if (this.permissive) return null;
    // The common case on the default configuration: any https host passes without a lookup.
    if (!this.restricted && url.startsWith('https://')) return null;
    const schemeEnd = url.indexOf('://');
    if (schemeEnd < 0) return this.refusal(url, role);
    const pathStart = url.indexOf('/', schemeEnd + 3);
    const origin = pathStart < 0 ? url : url.slice(0, pathStart);
    const memoKey = `${role} ${origin}`;
    let verdict = this.memo.get(memoKey);
    if (verdict === undefined) {
      verdict = this.refusal(origin, role);
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(memoKey, verdict);
    }
    return verdict;
  }
}

/** Thrown by UpstreamHttp when a request would go to a refused host; read as 'unreachable'. */
export class UpstreamHostRefusedError extends Error {
  readonly code = 'UPSTREAM_HOST_REFUSED';

  constructor(reason: string) {
    super(`upstream refused by policy: ${reason}`);
    this.name = 'UpstreamHostRefusedError';
  }
}

/** The policy of this process's configuration (static: the environment is read once). */
export function upstreamHostPolicyFrom(config: ConfigService): UpstreamHostPolicy {
  return new UpstreamHostPolicy({
    allowlist: UpstreamHostPolicy.parseAllowlist(config.env.UPSTREAM_HOST_ALLOWLIST),
    allowInsecure: config.env.ALLOW_INSECURE_UPSTREAMS,
    trustedOrigins: [
      config.env.ANTHROPIC_BASE_URL,
      config.env.OPENAI_BASE_URL,
      config.env.CODEX_BASE_URL,
      config.env.GEMINI_BASE_URL,
      config.env.CODE_ASSIST_BASE_URL,
      config.env.BEDROCK_BASE_URL,
      config.env.DROID_BASE_URL,
    ].map((url) => new URL(url).origin),
  });
}
