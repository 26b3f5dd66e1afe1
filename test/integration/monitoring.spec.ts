import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';
import {
  exposedMetrics,
  grafanaVariableMetricNames,
  isExposed,
  promqlMetricNames,
} from '../support/promql-names';

const ROOT = join(__dirname, '..', '..');
const RULES = join(ROOT, 'docker/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'docker/prometheus/alerts.test.yml');
const DASHBOARDS = join(ROOT, 'docker/grafana/dashboards');
const DATASOURCES = join(ROOT, 'docker/grafana/provisioning/datasources/prometheus.yaml');
const RUNBOOK = join(ROOT, 'docs/alerts.md');

/** Series Prometheus makes up for each scrape target; no application exposes them. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).error === undefined;
}

function promtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface AlertRule {
  alert: string;
  expr: string;
  for: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith("'") && trimmed.endsWith("'"))
    return trimmed.slice(1, -1).replace(/''/g, "'");
  if (trimmed.startsWith('"') && trimmed.endsWith('"')) return JSON.parse(trimmed) as string;
  return trimmed;
}

/**
 * The alert rules of docker/prometheus/alerts.yml, read line by line: the file's own layout
 * (`- alert:` items, inline or `|` block `expr`, `labels:` and `annotations:` maps of one-line
 * values). The count is checked against promtool's, so a rule this reader missed fails the test.
 */
function readAlertRules(text: string): AlertRule[] {
  const rules: AlertRule[] = [];
  const lines = text.split('\n');
  let rule: AlertRule | null = null;
  let section: 'labels' | 'annotations' | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const item = /^(\s*)- alert:\s*(\S+)\s*$/.exec(line);
    if (item !== null) {
      rule = { alert: item[2], expr: '', for: undefined, labels: {}, annotations: {} };
      rules.push(rule);
      section = null;
      continue;
    }
    if (rule === null) continue;
    const field = /^(\s*)([a-z_]+):\s?(.*)$/.exec(line);
    if (field === null) continue;
    const [, indent, key, value] = field as unknown as [string, string, string, string];
    if (key === 'expr') {
      section = null;
      if (value.trim() === '|') {
        const body: string[] = [];
        while (i + 1 < lines.length) {
          const next = lines[i + 1];
          if (next.trim() !== '' && next.search(/\S/) <= indent.length) break;
          body.push(next.trim());
          i++;
        }
        rule.expr = body.join('\n').trim();
      } else {
        rule.expr = unquote(value);
      }
    } else if (key === 'for') {
      rule.for = unquote(value);
      section = null;
    } else if (key === 'labels' || key === 'annotations') {
      section = key;
    } else if (section !== null && value !== '') {
      rule[section][key] = unquote(value);
    }
  }
  return rules;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string; type?: string };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: {
    list: { name: string; query: string | { query: string }; datasource?: { uid?: string } }[];
  };
}

function readDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard,
    }));
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Every query of the dashboards and rules, with where it comes from, and the names it reads. */
function queries(): { where: string; names: string[] }[] {
  const found: { where: string; names: string[] }[] = [];
  for (const rule of readAlertRules(readFileSync(RULES, 'utf8'))) {
    found.push({ where: `alerts.yml ${rule.alert}`, names: promqlMetricNames(rule.expr) });
  }
  for (const { file, dashboard } of readDashboards()) {
    for (const panel of allPanels(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) {
          found.push({ where: `${file} "${panel.title}"`, names: promqlMetricNames(target.expr) });
        }
      }
    }
    for (const variable of dashboard.templating?.list ?? []) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      found.push({ where: `${file} $${variable.name}`, names: grafanaVariableMetricNames(query) });
    }
  }
  return found;
}

describe('monitoring: alert rules and dashboards', () => {
  const provisionedUid = /uid:\s*(\S+)/.exec(readFileSync(DATASOURCES, 'utf8'))?.[1];

  describe('promql-names', () => {
    it('should name the metrics of a query, not its functions, labels or keywords', () => {
      expect(
        promqlMetricNames(
          'histogram_quantile(0.95, sum by (le, platform) (rate(a_bucket{x="{y}", z=~"$p"}[$__rate_interval])))' +
            ' / on (platform) group_left b > bool 1.5e3 and c offset 1h unless d',
        ).sort(),
      ).toEqual(['a_bucket', 'b', 'c', 'd']);
    });

    it('should accept histogram and summary series of exposed metrics only', () => {
      const exposed = exposedMetrics(
        '# HELP h x\n# TYPE h histogram\n# TYPE s summary\n# TYPE c_total counter\n',
      );
      expect(
        ['h_bucket', 'h_sum', 'h_count', 's_sum', 'c_total'].map((n) => isExposed(n, exposed)),
      ).toEqual([true, true, true, true, true]);
      expect(
        ['s_bucket', 'c_total_count', 'h', 'missing_total'].map((n) => isExposed(n, exposed)),
      ).toEqual([false, false, true, false]);
    });
  });

  describe('alert rules', () => {
    const rules = readAlertRules(readFileSync(RULES, 'utf8'));
    const runbook = readFileSync(RUNBOOK, 'utf8');

    it('should have at least ten alerts, each with for, severity, summary, description and a runbook', () => {
      expect(rules.length).toBeGreaterThanOrEqual(10);
      const problems: string[] = [];
      const anchors = new Set(
        [...runbook.matchAll(/^#{2,4} (\S+)\s*$/gm)].map((m) => m[1].toLowerCase()),
      );
      for (const rule of rules) {
        if (rule.expr === '') problems.push(`${rule.alert}: no expr`);
        if (rule.for === undefined) problems.push(`${rule.alert}: no for`);
        if (!['critical', 'warning', 'info'].includes(rule.labels.severity ?? '')) {
          problems.push(`${rule.alert}: severity ${rule.labels.severity}`);
        }
        for (const key of ['summary', 'description', 'runbook_url']) {
          if ((rule.annotations[key] ?? '') === '') problems.push(`${rule.alert}: no ${key}`);
        }
        const anchor = /^docs\/alerts\.md#(.+)$/.exec(rule.annotations.runbook_url ?? '')?.[1];
        if (anchor !== rule.alert.toLowerCase() || !anchors.has(anchor)) {
          problems.push(`${rule.alert}: runbook ${rule.annotations.runbook_url} has no heading`);
        }
      }
      expect(problems).toEqual([]);
      // The issue's list, each covered by an alert.
      expect(rules.map((r) => r.alert)).toEqual(
        expect.arrayContaining([
          'SwitchyardHighErrorRate',
          'SwitchyardNoRoutableAccount',
          'SwitchyardAccountsAuthFailed',
          'SwitchyardBudgetExhaustion',
          'SwitchyardUsageQueueBacklog',
          'SwitchyardOutboxBacklog',
          'SwitchyardHighTTFB',
          'SwitchyardDatabaseDown',
          'SwitchyardRedisDown',
          'SwitchyardEventLoopLag',
          'SwitchyardMemoryGrowth',
        ]),
      );
    });

    it('should keep k8s/prometheusrule.yaml generated from the same rules', () => {
      const result = spawnSync(
        process.execPath,
        [join(ROOT, 'scripts/sync-prometheus-rule.js'), '--check'],
        {
          encoding: 'utf8',
        },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });

    const withPromtool = promtoolAvailable() ? it : it.skip;
    if (!promtoolAvailable()) {
      if (process.env.REQUIRE_SERVICES === '1') {
        throw new Error(
          'promtool is not installed but REQUIRE_SERVICES=1 (apt-get install prometheus)',
        );
      }
      process.stderr.write('[skip] monitoring: promtool is not installed\n');
    }

    withPromtool('should pass promtool check rules, which finds as many rules as were read', () => {
      const result = promtool(['check', 'rules', RULES]);
      expect(result.output).toContain('SUCCESS');
      expect(result.status).toBe(0);
      expect(/SUCCESS: (\d+) rules found/.exec(result.output)?.[1]).toBe(String(rules.length));
    });

    withPromtool(
      'should fire the alerts of the rule unit tests as they expect (promtool test rules)',
      () => {
        const result = promtool(['test', 'rules', RULE_TESTS]);
        expect(result.output).toContain('SUCCESS');
        expect(result.status).toBe(0);
      },
    );
  });

  describe('dashboards', () => {
    const dashboards = readDashboards();

    it('should provision the datasource with a fixed uid', () => {
      expect(provisionedUid).toBe('prometheus');
    });

    it('should have the five dashboards, each with a unique uid, a title and panels', () => {
      expect(dashboards.map((d) => d.file)).toEqual([
        'accounts.json',
        'infrastructure.json',
        'keys-and-cost.json',
        'latency.json',
        'overview.json',
      ]);
      const uids = dashboards.map((d) => d.dashboard.uid);
      expect(new Set(uids).size).toBe(uids.length);
      for (const { dashboard } of dashboards) {
        expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
        expect(dashboard.title).toMatch(/^Switchyard \/ /);
        expect(dashboard.panels.length).toBeGreaterThan(0);
      }
    });

    it('should give every panel a unique id, a valid grid position and queries on the provisioned datasource', () => {
      const problems: string[] = [];
      for (const { file, dashboard } of dashboards) {
        const panels = allPanels(dashboard.panels);
        const ids = panels.map((p) => p.id);
        if (new Set(ids).size !== ids.length) problems.push(`${file}: duplicate panel ids`);
        for (const panel of panels) {
          const where = `${file} #${panel.id} "${panel.title}"`;
          const { x, y, w, h } = panel.gridPos;
          if (
            ![x, y, w, h].every(Number.isInteger) ||
            x < 0 ||
            y < 0 ||
            w < 1 ||
            h < 1 ||
            x + w > 24
          ) {
            problems.push(`${where}: gridPos ${JSON.stringify(panel.gridPos)}`);
          }
          if (panel.type === 'row') continue;
          if (panel.datasource?.uid !== provisionedUid) problems.push(`${where}: panel datasource`);
          if ((panel.targets ?? []).length === 0) problems.push(`${where}: no targets`);
          for (const target of panel.targets ?? []) {
            if (target.datasource?.uid !== provisionedUid)
              problems.push(`${where}: target datasource`);
            if ((target.expr ?? '').trim() === '') problems.push(`${where}: empty expr`);
          }
        }
        for (const variable of dashboard.templating?.list ?? []) {
          if (variable.datasource?.uid !== provisionedUid) {
            problems.push(`${file} $${variable.name}: datasource`);
          }
        }
        // Panels must not overlap: Grafana would move them around.
        const cells = new Set<string>();
        for (const panel of panels) {
          const { x, y, w, h } = panel.gridPos;
          for (let row = y; row < y + h; row++) {
            for (let col = x; col < x + w; col++) {
              const cell = `${row}:${col}`;
              if (cells.has(cell)) problems.push(`${file} #${panel.id}: overlaps at ${cell}`);
              cells.add(cell);
            }
          }
        }
      }
      expect(problems).toEqual([]);
    });
  });

  describe('every metric the dashboards and rules name is exposed on /metrics', () => {
    let h: RelayHarness;
    let exposition: string;

    beforeAll(async () => {
      h = await startRelayHarness();
      await h.createAccount({
        name: 'metrics-account',
        credentials: { apiKey: 'sk-ant-api03-metrics' },
      });
      const { secret } = await h.createKey();
      const res = await fetch(`${h.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': secret,
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 32,
          messages: [{ role: 'user', content: 'hello' }],
        }),
      });
      expect(res.status).toBe(200);
      await res.text();
      await h.flushUsage();
      const scrape = await fetch(`${h.url}/metrics`);
      expect(scrape.status).toBe(200);
      exposition = await scrape.text();
    }, 60_000);

    afterAll(async () => {
      await h?.close();
    });

    it('should label the relayed request with platform, model family, account and outcome', () => {
      expect(exposition).toMatch(
        /^switchyard_relay_requests_total\{platform="claude",family="sonnet",account="[^"]+",outcome="ok"\} 1$/m,
      );
      expect(exposition).toMatch(
        /^switchyard_relay_ttfb_seconds_count\{platform="claude",family="sonnet"\} 1$/m,
      );
      expect(exposition).toMatch(
        /^switchyard_relay_tokens_total\{platform="claude",family="sonnet",kind="output"\} [1-9]/m,
      );
      expect(exposition).toMatch(/^switchyard_accounts\{platform="claude",state="ok"\} 1$/m);
      expect(exposition).toMatch(/^switchyard_dependency_up\{dependency="database"\} 1$/m);
      expect(exposition).toMatch(/^switchyard_outbox_pending\{topic="notification"\} \d+$/m);
    });

    it('should print HELP and TYPE of metrics no event has touched yet', () => {
      expect(exposition).toContain('# TYPE switchyard_relay_failovers_total counter');
      expect(exposition).toContain('# TYPE switchyard_coordinator_call_duration_seconds histogram');
    });

    it('should expose every metric named by a dashboard query or an alert rule', () => {
      const exposed = exposedMetrics(exposition);
      const unknown: string[] = [];
      const all = queries();
      expect(all.length).toBeGreaterThan(50);
      for (const { where, names } of all) {
        if (names.length === 0) unknown.push(`${where}: names no metric`);
        for (const name of names) {
          if (!SYNTHETIC.has(name) && !isExposed(name, exposed)) unknown.push(`${where}: ${name}`);
        }
      }
      expect(unknown).toEqual([]);
    });
  });
});
