/**
 * A LIKE pattern for "contains, ignoring case" (compare with `lower(column) like ? escape '\'`):
 * `\` escapes LIKE's wildcards, spelled out in every LIKE so SQLite and PostgreSQL agree.
 */
export function likeContains(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
