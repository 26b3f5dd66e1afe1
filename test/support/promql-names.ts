/**
 * The metric names a PromQL expression reads: a small tokenizer, enough for the dashboards' and
 * alert rules' queries (promtool cannot print a query's syntax tree). It drops string literals
 * (label values, Grafana `$variables` inside them), range and subquery brackets (`[5m]`,
 * `[$__rate_interval]`), label matchers (`{...}`), the label lists of `by`, `without`, `on`,
 * `ignoring`, `group_left` and `group_right`, numbers and durations, then keeps each identifier
 * that is neither a keyword nor a function call (an identifier followed by `(`).
 */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'atan2',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

const LABEL_LIST = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

export function promqlMetricNames(expr: string): string[] {
  let text = expr
    // String literals first: a label value may hold any character, braces included.
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(LABEL_LIST, ' ');
  // `@ start()` / `@ 1609746000` modifiers carry no metric.
  text = text.replace(/@\s*(start|end)\s*\(\s*\)/g, ' ');
  const names = new Set<string>();
  const token =
    /([0-9][0-9a-zA-Z_.]*(?:[eE][+-]?[0-9]+)?)|(\$[a-zA-Z_][a-zA-Z0-9_]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g;
  for (const match of text.matchAll(token)) {
    const [, number, variable, identifier, call] = match;
    if (number !== undefined || variable !== undefined || identifier === undefined) continue;
    if (call !== undefined) continue;
    if (KEYWORDS.has(identifier.toLowerCase())) continue;
    names.add(identifier);
  }
  return [...names];
}

/**
 * A Grafana variable query's metric names: `label_values(metric{...}, label)` reads its first
 * argument only; `query_result(expr)` and `metrics(...)` are not used here and are refused.
 */
export function grafanaVariableMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.exec(query);
  if (labelValues !== null) return promqlMetricNames(labelValues[1]);
  if (/^\s*label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.test(query)) return [];
  throw new Error(`unsupported Grafana variable query: ${query}`);
}

/** The metrics of a Prometheus text exposition: name -> type, from its `# TYPE` lines. */
export function exposedMetrics(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match !== null) types.set(match[1], match[2]);
  }
  return types;
}

/**
 * Whether a name a query reads is exposed: the metric itself, or a histogram's `_bucket`,
 * `_sum` or `_count` series, or a summary's `_sum` or `_count`.
 */
export function isExposed(name: string, exposed: Map<string, string>): boolean {
  if (exposed.has(name)) return true;
  const suffix = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (suffix === null) return false;
  const [, base, part] = suffix as unknown as [string, string, string];
  const type = exposed.get(base);
  if (type === 'histogram') return true;
  return type === 'summary' && part !== 'bucket';
}
