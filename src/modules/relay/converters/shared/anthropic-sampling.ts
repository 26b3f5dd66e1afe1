import { Json, fail, given, quote, requireString } from './openai-params';

/**
 * Token limits, extended thinking and sampling for Messages requests converted from OpenAI
 * requests. `reasoning` arguments name, for error messages, what turned thinking on in the
 * client's request (`reasoning_effort or thinking`, `reasoning.effort`); null when thinking is off.
 */

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** Thinking budget per OpenAI reasoning effort; `max` plus the answer room stays within 32,000. */
export const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 24576,
  max: 27648,
};

/** `max_tokens` when the client sets no limit, and the answer room added to a thinking budget. */
export const DEFAULT_MAX_TOKENS = 4096;

/** `max_tokens` for adaptive thinking (the `thinking` extension) when the client sets no limit. */
export const ADAPTIVE_THINKING_MAX_TOKENS = THINKING_BUDGETS.high + DEFAULT_MAX_TOKENS;

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

export type ThinkingPlan =
  | { kind: 'none' }
  | { kind: 'disabled' }
  | { kind: 'effort'; effort: ReasoningEffort }
  | { kind: 'budget'; budget: number; display: unknown }
  | { kind: 'adaptive'; display: unknown };

/** Whether a plan turns thinking on. */
export function thinkingActive(plan: ThinkingPlan): boolean {
  return plan.kind !== 'none' && plan.kind !== 'disabled';
}

/** An OpenAI reasoning effort (`none` turns thinking off). */
export function effortPlan(effort: unknown, param: string): ThinkingPlan {
  if (effort === 'none') return { kind: 'disabled' };
  if (typeof effort === 'string' && Object.hasOwn(THINKING_BUDGETS, effort)) {
    return { kind: 'effort', effort: effort as ReasoningEffort };
  }
  return fail(
    param,
    `unsupported value ${quote(effort)}; use none, minimal, low, medium, high, xhigh or max`,
    'unsupported_value',
  );
}

/** The client's output cap: the parameter that set it and its value. */
export interface OutputCap {
  param: string;
  value: unknown;
}

function withDisplay(config: Json, display: unknown): Json {
  if (given(display)) config.display = display;
  return config;
}

/**
 * `max_tokens` and `thinking` for the Messages request. The client's cap counts thinking, as
 * OpenAI's counts reasoning, and is never raised. Without a cap, `uncapped(budget)` decides
 * `max_tokens` (budget 0 without thinking).
 */
export function resolveLimits(
  cap: OutputCap | null,
  thinking: ThinkingPlan,
  uncapped: (budget: number) => number,
): { maxTokens: number; thinking?: Json } {
  let limit: number | null = null;
  if (cap !== null) {
    const value = cap.value;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      fail(cap.param, `must be a positive integer (got ${quote(value)})`, 'invalid_value');
    }
    limit = value;
  }
  switch (thinking.kind) {
    case 'none':
      return { maxTokens: limit ?? uncapped(0) };
    case 'disabled':
      return { maxTokens: limit ?? uncapped(0), thinking: { type: 'disabled' } };
    case 'adaptive':
      return {
        maxTokens: limit ?? uncapped(THINKING_BUDGETS.high),
        thinking: withDisplay({ type: 'adaptive' }, thinking.display),
      };
    case 'budget': {
      if (limit !== null && limit <= thinking.budget) {
        fail(
          'thinking.budget_tokens',
          `must be less than ${cap?.param} (${limit})`,
          'invalid_value',
        );
      }
      return {
        maxTokens: limit ?? uncapped(thinking.budget),
        thinking: withDisplay(
          { type: 'enabled', budget_tokens: thinking.budget },
          thinking.display,
        ),
      };
    }
    case 'effort': {
      let budget = THINKING_BUDGETS[thinking.effort];
      if (limit === null) {
        return {
          maxTokens: uncapped(budget),
          thinking: { type: 'enabled', budget_tokens: budget },
        };
      }
      // The client's cap counts thinking, as OpenAI's counts reasoning: keep it, shrink the budget.
      if (limit <= MIN_THINKING_BUDGET) {
        fail(
          cap?.param ?? null,
          `must be more than ${MIN_THINKING_BUDGET} with a reasoning effort: Claude's smallest ` +
            `thinking budget is ${MIN_THINKING_BUDGET} tokens`,
          'integer_below_min_value',
        );
      }
      if (limit <= budget) budget = Math.max(MIN_THINKING_BUDGET, Math.floor(limit / 2));
      return { maxTokens: limit, thinking: { type: 'enabled', budget_tokens: budget } };
    }
  }
}

/** `temperature`: 0 to 1 on Claude (refused above, not clamped); 1 or absent with thinking. */
export function samplingTemperature(value: unknown, reasoning: string | null): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail('temperature', 'must be a number', 'invalid_type');
  }
  if (value < 0)
    fail('temperature', `must be at least 0 (got ${value})`, 'decimal_below_min_value');
  if (value > 1) {
    fail('temperature', `Claude models accept 0 to 1 (got ${value})`, 'decimal_above_max_value');
  }
  if (reasoning !== null && value !== 1) {
    fail(
      'temperature',
      `must be 1 (or absent) with ${reasoning} on Claude models`,
      'unsupported_value',
    );
  }
  return value;
}

/**
 * `top_p`; 1 is left out: it is the untruncated default, and newer Claude models refuse
 * `temperature` and `top_p` together. With thinking Claude accepts 0.95 to 1.
 */
export function nucleus(value: unknown, reasoning: string | null): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail('top_p', 'must be a number', 'invalid_type');
  if (value < 0 || value > 1)
    fail('top_p', `must be between 0 and 1 (got ${value})`, 'invalid_value');
  if (reasoning !== null && value < 0.95) {
    fail(
      'top_p',
      `must be between 0.95 and 1 with ${reasoning} on Claude models`,
      'unsupported_value',
    );
  }
  return value === 1 ? undefined : value;
}

/** `safety_identifier` (OpenAI's successor of `user` for abuse tracking), else `user`. */
export function endUser(body: Json): string | undefined {
  for (const key of ['safety_identifier', 'user']) {
    const value = body[key];
    if (!given(value)) continue;
    const text = requireString(value, key);
    if (text.length > 0) return text;
  }
  return undefined;
}
