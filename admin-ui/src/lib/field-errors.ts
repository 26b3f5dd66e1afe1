import { ApiError } from '@/api/client';
import { plainText } from '@/lib/format';

export interface FormErrors {
  /** Messages keyed by the form's field names. */
  fields: Record<string, string>;
  /** What belongs to no field (or the whole message when nothing does). */
  form?: string;
}

/**
 * Spreads an admin API error over a form's fields: class-validator messages (`VALIDATION_FAILED`,
 * each starting with its property path), `details.errors` (`{ key: message }`, the settings; or
 * `[message]`, each starting with its field, as notification targets answer),
 * `details.fields`, domain errors whose message starts with a field (`apiKeyId: no API key …`),
 * and codes that belong to one field (`byCode`, e.g. `USERNAME_TAKEN` → `username`).
 */
export function errorsByField(
  error: unknown,
  known: readonly string[],
  byCode: Record<string, string> = {},
): FormErrors {
  if (!error) return { fields: {} };
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: error instanceof Error ? error.message : plainText(error) };
  }
  // Longest names first, so `caps.limits.windowMinutes` wins over `caps`.
  const names = [...known].sort((a, b) => b.length - a.length);
  const fields: Record<string, string> = { ...error.fieldErrors(names) };
  const leftover: string[] = [];
  const fieldOf = (part: string) =>
    names.find(
      (field) =>
        part.startsWith(`${field}:`) ||
        part.startsWith(`${field} `) ||
        part.startsWith(`${field}.`),
    );
  const detailErrors = error.details.errors;
  if (Array.isArray(detailErrors)) {
    for (const entry of detailErrors) {
      const part = plainText(entry);
      const name = fieldOf(part);
      if (name) fields[name] = fields[name] ? `${fields[name]}; ${part}` : part;
      else leftover.push(part);
    }
  } else if (detailErrors && typeof detailErrors === 'object') {
    for (const [key, message] of Object.entries(detailErrors as Record<string, unknown>)) {
      fields[key] = String(message);
    }
  }
  const coded = byCode[error.code];
  if (coded) fields[coded] = error.message;
  if (
    (Object.keys(fields).length === 0 && leftover.length === 0) ||
    error.code === 'VALIDATION_FAILED'
  ) {
    for (const part of error.message.split('; ')) {
      if (Object.values(fields).some((message) => message.includes(part))) continue;
      const name = fieldOf(part);
      if (name) fields[name] = fields[name] ? `${fields[name]}; ${part}` : part;
      else leftover.push(part);
    }
  }
  const form =
    leftover.length > 0
      ? leftover.join('; ')
      : Object.keys(fields).length === 0
        ? error.message
        : undefined;
  return { fields, form };
}
