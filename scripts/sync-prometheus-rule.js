#!/usr/bin/env node
// Writes k8s/prometheusrule.yaml (a Prometheus Operator PrometheusRule) from the alert rules of
// docker/prometheus/alerts.yml, so both deployments alert alike from one source. `--check` exits
// 1 when the file is out of date (test/integration/monitoring.spec.ts runs it).
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'docker/prometheus/alerts.yml');
const target = join(root, 'k8s/prometheusrule.yaml');

const HEADER = `# Generated from docker/prometheus/alerts.yml by \`node scripts/sync-prometheus-rule.js\`:
# edit that file, then run the script. Alert rules for the Prometheus Operator; needs the
# monitoring.coreos.com CRDs, so it is not in kustomization.yaml's resources by default. Your
# Prometheus may select rules by label (kube-prometheus-stack: \`release: <helm release name>\`).
# The SwitchyardDown alert matches job="switchyard", the ServiceMonitor's job name when the
# Service is called switchyard. Runbooks: docs/alerts.md.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: switchyard
  labels:
    app.kubernetes.io/name: switchyard
    app.kubernetes.io/component: server
spec:
`;

function render() {
  const lines = readFileSync(source, 'utf8').split('\n');
  // The source's own header comments describe the compose setup; the groups start at `groups:`.
  const start = lines.findIndex((line) => line.startsWith('groups:'));
  if (start === -1) throw new Error(`${source} has no top-level groups:`);
  const body = lines
    .slice(start)
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');
  return `${HEADER}${body}`;
}

const rendered = render();
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== rendered) {
    process.stderr.write(`${target} is out of date: run node scripts/sync-prometheus-rule.js\n`);
    process.exit(1);
  }
} else {
  writeFileSync(target, rendered);
}
