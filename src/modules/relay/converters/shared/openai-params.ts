import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';

/**
 * Reading an OpenAI request body (Chat Completions or Responses) field by field: type checks and
 * refusals that become a 400 in OpenAI's shape naming the parameter (`param`) and OpenAI's
 * fine-grained `code`.
 */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent for OpenAI: missing or null. */
export function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Refuses the request: a 400 naming `param` (null: the request as a whole). */
export function fail(param: string | null, reason: string, code = 'invalid_value'): never {
  throw new OpenAIRequestException(param, param === null ? reason : `${param}: ${reason}`, code);
}

/** A value as it may appear in an error message: JSON, cut short. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string') fail(param, 'must be a string', 'invalid_type');
  return value;
}

export function requireObject(value: unknown, param: string): Json {
  if (!isObject(value)) fail(param, 'must be an object', 'invalid_type');
  return value;
}

export function requireArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) fail(param, 'must be an array', 'invalid_type');
  return value;
}

/** A parameter Claude cannot honour: refused unless it holds its neutral value. */
export interface Refusal {
  param: string;
  neutral: (value: unknown) => boolean;
  reason: string;
  code: string;
}

/** For refusals of parameters that have no neutral value. */
export const never = (): boolean => false;

/**
 * Refuses top-level fields outside `known` (as OpenAI does, code `unknown_parameter`), then every
 * refusal whose parameter is given with other than its neutral value.
 */
export function checkFields(
  body: Json,
  known: ReadonlySet<string>,
  refusals: readonly Refusal[],
): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key)) fail(key, `unknown parameter '${key}'`, 'unknown_parameter');
  }
  for (const { param, neutral, reason, code } of refusals) {
    const value = body[param];
    if (given(value) && !neutral(value)) fail(param, `${reason} (got ${quote(value)})`, code);
  }
}
