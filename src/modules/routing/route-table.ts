import { BoundedMemo } from 'src/common/text/bounded-memo';
import { WildcardPattern, type StepCounter } from 'src/common/text/wildcard';
import type { ModelAlias, ModelRoute, RouteMatch } from './model-route.types';

interface CompiledPattern {
  route: ModelRoute;
  glob: WildcardPattern;
}

/**
 * Answers per table, not per process: a reload builds a new table with an empty memo, so an
 * answer from the old routes can never outlive them. Keys are client-chosen model names, hence
 * the bounds; names longer than any real one are matched every time and never stored.
 */
const MEMO_LIMITS = { maxEntries: 4096, maxKeyLength: 256, maxKeyChars: 256 * 1024 };

export function isExactPattern(pattern: string): boolean {
  return !pattern.includes('*');
}

/** Evaluation order: exact names first, then patterns by position, then id. */
export function compareRoutes(a: ModelRoute, b: ModelRoute): number {
  const kind = Number(!isExactPattern(a.pattern)) - Number(!isExactPattern(b.pattern));
  if (kind !== 0) return kind;
  if (a.position !== b.position) return a.position - b.position;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One immutable snapshot of the model routes, compiled for matching: exact names in a map, the
 * patterns in order. Matching is linear in the model name (one lower-casing pass, one hash, and
 * one linear WildcardPattern pass per pattern) and answers from a bounded memo when it can.
 */
export class RouteTable {
  static readonly EMPTY = new RouteTable([]);

  /** Every route, disabled ones included, in evaluation order. */
  readonly routes: readonly ModelRoute[];
  readonly aliases: readonly ModelAlias[];
  private readonly exact = new Map<string, ModelRoute>();
  private readonly patterns: CompiledPattern[] = [];
  private readonly memo = new BoundedMemo<RouteMatch | null>(MEMO_LIMITS);

  constructor(routes: readonly ModelRoute[]) {
    this.routes = Object.freeze([...routes].sort(compareRoutes).map((r) => Object.freeze(r)));
    const aliases: ModelAlias[] = [];
    for (const route of this.routes) {
      if (!route.enabled) continue;
      const key = route.pattern.toLowerCase();
      if (isExactPattern(key)) {
        // Patterns are unique in SQL; should two rows still spell one name, the first one wins.
        if (this.exact.has(key)) continue;
        this.exact.set(key, route);
        aliases.push(
          Object.freeze({
            name: key,
            platform: route.platform,
            model: route.targetModel ?? key,
          }),
        );
      } else {
        this.patterns.push({ route, glob: new WildcardPattern(key) });
      }
    }
    aliases.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.aliases = Object.freeze(aliases);
  }

  /** The route a model name takes, or null when none matches. The result is shared: frozen. */
  route(model: string): RouteMatch | null {
    if (model.length === 0) return null;
    return this.memo.getOrCompute(model, (name) => this.match(name));
  }

  /** Uncached matching; the counter (tests) adds up the character steps taken. */
  match(model: string, counter?: StepCounter): RouteMatch | null {
    if (model.length === 0) return null;
    const lowered = model.toLowerCase();
    if (counter) counter.steps += model.length;
    const exact = this.exact.get(lowered);
    if (exact !== undefined) return matchOf(exact, model);
    for (const { route, glob } of this.patterns) {
      if (glob.matchesPrepared(lowered, counter)) return matchOf(route, model);
    }
    return null;
  }
}

function matchOf(route: ModelRoute, requested: string): RouteMatch {
  return Object.freeze({
    platform: route.platform,
    model: route.targetModel ?? requested,
    routeId: route.id,
  });
}
