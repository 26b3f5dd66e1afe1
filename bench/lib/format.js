'use strict';
// Plain-text tables for the terminal.

function fixed(value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

function thousands(value) {
  return value === null || value === undefined ? '-' : Math.round(value).toLocaleString('en-US');
}

function mb(bytes) {
  return bytes === null || bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Renders rows (arrays of strings) under headers, numbers right-aligned. */
function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const numeric = headers.map((_, i) =>
    rows.every((r) => /^[-+]?[\d,.]+( ?(ms|MB|x|%))?$|^-$/.test(String(r[i]))),
  );
  const line = (cells) =>
    cells
      .map((c, i) => (numeric[i] ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The goals of a run as the table every mode ends with. */
function goalsTable(goals) {
  return table(
    ['goal', 'measured', 'result'],
    goals.map((g) => [g.goal, g.value, g.pass ? 'PASS' : 'MISS']),
  );
}

module.exports = { fixed, thousands, mb, table, goalsTable };
