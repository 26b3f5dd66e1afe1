import { Transform, Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/**
 * The one convention of every admin list (docs/admin-api.md, Lists): `page` from 1, `pageSize`
 * up to MAX_PAGE_SIZE, `sortBy` from the list's own whitelist, `sortOrder` `asc` or `desc`, the
 * list's filters; the answer is `{ items, total, page, pageSize }` where `total` counts every
 * match across pages.
 */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** `?enabled=true` arrives as a string; anything but true/false is left for the validator to refuse. */
export const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** Query string paging of an admin list. Lists extend it with their filters and sort fields. */
export class PageQueryDto {
  /** 1-based. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page: number = 1;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  pageSize: number = DEFAULT_PAGE_SIZE;
}

/** A search term: trimmed, and an empty one means no search. */
export const TrimSearch = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  });

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** One page of a list already filtered and sorted in memory (small lists the server caches). */
export function pageOf<T>(items: readonly T[], query: { page: number; pageSize: number }): Page<T> {
  const start = (query.page - 1) * query.pageSize;
  return {
    items: items.slice(start, start + query.pageSize),
    total: items.length,
    page: query.page,
    pageSize: query.pageSize,
  };
}

type SortValue = string | number | boolean | null;

/**
 * A comparator by one field for in-memory lists, matching the SQL lists: strings ignore case,
 * nulls come last in both orders, and the tie-breaker (the list's natural order) keeps pages
 * stable when values repeat.
 */
export function compareBy<T>(
  value: (item: T) => SortValue,
  order: SortOrder,
  tieBreaker: (a: T, b: T) => number,
): (a: T, b: T) => number {
  const sign = order === 'asc' ? 1 : -1;
  return (a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
      return tieBreaker(a, b);
    }
    const left = typeof x === 'string' ? x.toLowerCase() : Number(x);
    const right = typeof y === 'string' ? y.toLowerCase() : Number(y);
    if (left < right) return -sign;
    if (left > right) return sign;
    return tieBreaker(a, b);
  };
}

/** Case-insensitive substring test over the given fields (null fields never match). */
export function containsText(term: string | undefined, ...fields: (string | null)[]): boolean {
  if (term === undefined) return true;
  const needle = term.toLowerCase();
  return fields.some((field) => field !== null && field.toLowerCase().includes(needle));
}
