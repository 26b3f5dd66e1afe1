/**
 * `*` globs matched in time linear in the text, whatever the pattern and text are.
 *
 * A backtracking matcher (a RegExp built from the glob, or the two-pointer loop that retries
 * from the last star) costs up to text length x pattern length per call, and a client picks the
 * text (the model name): a 64 KB name against `claude-*-4*` blocked the event loop for seconds.
 * For `*`-only globs no backtracking is needed: the literal before the first star must be a
 * prefix, the one after the last star a suffix, and every literal in between can be taken at its
 * leftmost occurrence after the previous one (an earlier end never leaves less room for the
 * rest). Each literal is found with Knuth-Morris-Pratt, so the whole match reads each character
 * of the text a bounded number of times.
 */

interface Literal {
  text: string;
  /** KMP failure table: longest proper prefix of text[0..i] that is also its suffix. */
  fail: Int32Array;
}

function literal(text: string): Literal {
  const fail = new Int32Array(text.length);
  let k = 0;
  for (let i = 1; i < text.length; i++) {
    while (k > 0 && text.charCodeAt(i) !== text.charCodeAt(k)) k = fail[k - 1];
    if (text.charCodeAt(i) === text.charCodeAt(k)) k += 1;
    fail[i] = k;
  }
  return { text, fail };
}

/** Counts the inner-loop steps of a match, so tests can assert linear work without a clock. */
export interface StepCounter {
  steps: number;
}

/**
 * Index of the first occurrence of `lit` in `text` within [from, to), or -1. Every step either
 * advances `i` or shrinks `k`, and `k` grows only with `i`: at most 2 x (to - from) steps.
 */
function find(text: string, lit: Literal, from: number, to: number, counter?: StepCounter): number {
  const pattern = lit.text;
  const m = pattern.length;
  if (m === 0) return from;
  let k = 0;
  let steps = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    steps += 1;
    while (k > 0 && c !== pattern.charCodeAt(k)) {
      k = lit.fail[k - 1];
      steps += 1;
    }
    if (c === pattern.charCodeAt(k)) k += 1;
    if (k === m) {
      if (counter) counter.steps += steps;
      return i - m + 1;
    }
  }
  if (counter) counter.steps += steps;
  return -1;
}

/** A compiled glob: `*` matches any run of characters (also none), the rest literally. */
export class WildcardPattern {
  private readonly exact: string | null;
  private readonly head: string;
  private readonly tail: string;
  private readonly middle: Literal[];

  /** Case-insensitive patterns lower-case the pattern here and the text in `matches`. */
  constructor(
    pattern: string,
    private readonly caseInsensitive = true,
  ) {
    const source = caseInsensitive ? pattern.toLowerCase() : pattern;
    const parts = source.split('*');
    if (parts.length === 1) {
      this.exact = source;
      this.head = this.tail = '';
      this.middle = [];
      return;
    }
    this.exact = null;
    this.head = parts[0];
    this.tail = parts[parts.length - 1];
    this.middle = parts
      .slice(1, -1)
      .filter((part) => part.length > 0)
      .map(literal);
  }

  matches(input: string, counter?: StepCounter): boolean {
    if (!this.caseInsensitive) return this.matchesPrepared(input, counter);
    if (counter) counter.steps += input.length; // the lower-casing pass
    return this.matchesPrepared(input.toLowerCase(), counter);
  }

  /**
   * For callers testing one text against many patterns: the text already lower-cased when the
   * pattern is case-insensitive, so it is lower-cased once instead of once per pattern.
   */
  matchesPrepared(text: string, counter?: StepCounter): boolean {
    if (this.exact !== null) return text === this.exact;
    const { head, tail } = this;
    if (text.length < head.length + tail.length) return false;
    if (!text.startsWith(head) || !text.endsWith(tail)) return false;
    let from = head.length;
    const to = text.length - tail.length;
    for (const lit of this.middle) {
      const at = find(text, lit, from, to, counter);
      if (at === -1) return false;
      from = at + lit.text.length;
    }
    return true;
  }
}

/** One-off match; callers matching the same pattern often should keep a WildcardPattern. */
export function matchesWildcard(pattern: string, text: string, counter?: StepCounter): boolean {
  return new WildcardPattern(pattern).matches(text, counter);
}
