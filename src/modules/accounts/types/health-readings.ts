import type { ResponseHeaders } from './account-type.descriptor';

/**
 * Small pure readings of upstream responses shared by every family's health rules: one header,
 * retry-after, the latest future time, the error message of a JSON error body.
 */

function findCaseInsensitive(
  headers: ResponseHeaders,
  name: string,
): string | string[] | undefined {
  // Node lower-cases incoming header names; this only serves callers that build their own maps.
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** The first value of a header (name in lower case), trimmed; undefined when absent or blank. */
export function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name] ?? findCaseInsensitive(headers, name);
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** A non-negative decimal number as it appears in headers and bodies (`12`, `42.5`). */
export function decimal(value: string | undefined): number | null {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return null;
  return Number(value);
}

/** Epoch seconds (`1790814600`) as epoch ms. */
export function epochSeconds(value: string | undefined): number | null {
  const seconds = decimal(value);
  return seconds === null ? null : Math.round(seconds * 1000);
}

export function isoDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : null;
}

/** `retry-after`: a delay in seconds or an HTTP date. */
export function retryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const seconds = decimal(value);
  if (seconds !== null) return now + Math.ceil(seconds * 1000);
  return isoDate(value);
}

/** The latest of the times after `now`, or null when none is. */
export function latestFuture(values: readonly (number | null)[], now: number): number | null {
  let latest: number | null = null;
  for (const value of values) {
    if (value !== null && value > now && (latest === null || value > latest)) latest = value;
  }
  return latest;
}

/** Error bodies are read up to this many characters: enough for any error, bounded for junk. */
export const MAX_INSPECTED = 4096;

/** The JSON object of an error body, or null when the body is not one. */
export function jsonObject(bodyText: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(bodyText.slice(0, MAX_INSPECTED));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    // Not JSON (an HTML error page, a proxy's plain text, a truncated body).
    return null;
  }
}

/** A string property of an object-valued property: `field(body, 'error', 'message')`. */
export function nestedString(
  object: Record<string, unknown> | null,
  parent: string,
  name: string,
): string | undefined {
  const inner = object?.[parent];
  if (typeof inner !== 'object' || inner === null) return undefined;
  const value = (inner as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The human message of an error body: `error` as a string, `error.message`, `message`; the
 * (bounded) text itself when the body is not JSON or names none.
 */
export function errorMessage(bodyText: string): string {
  const body = jsonObject(bodyText);
  if (body !== null) {
    if (typeof body.error === 'string') return body.error;
    const nested = nestedString(body, 'error', 'message');
    if (nested !== undefined) return nested;
    if (typeof body.message === 'string') return body.message;
  }
  return bodyText.slice(0, MAX_INSPECTED);
}

/** Text for the health history: one line, at most 200 characters. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
