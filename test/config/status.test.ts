/**
 * Config.source against what Prometheus 2.42 serves on /api/v1/status/config for the same file:
 * every key and value Prometheus prints must be in Sextant's output, except the remote write
 * queue defaults, which changed in 3.x (2500/200/500 → 10000/50/2000).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { getJson, missing, PROMETHEUS, startPrometheus, type Peer } from '../interop/peers.js';

const skip = missing(PROMETHEUS);

const CONFIG = `global:
  scrape_interval: 15s
  external_labels: {dc: eu}
rule_files: ['rules/*.yml']
scrape_configs:
  - job_name: a
    basic_auth: {username: u, password: p}
    body_size_limit: 10MB
    sample_limit: 5
    params: {module: [x]}
    static_configs: [{targets: ['x:1'], labels: {env: prod}}]
    relabel_configs:
      - {source_labels: [a, b], regex: 'on', action: keep}
      - {source_labels: [b], target_label: c, modulus: 4, action: hashmod}
      - {regex: '__meta_(.+)', action: labelmap}
    metric_relabel_configs: [{source_labels: [__name__], regex: 'go_.*', action: drop}]
    file_sd_configs: [{files: [sd.json], refresh_interval: 1m}]
    tls_config: {ca_file: ca.pem, server_name: s}
  - job_name: b
    scheme: https
    scrape_interval: 5s
    honor_labels: true
    bearer_token: tok
    metrics_path: /m
remote_write:
  - url: http://r/w
    name: q
    remote_timeout: 10s
    headers: {X-A: b}
    write_relabel_configs: [{source_labels: [__name__], regex: 'x.*', action: drop}]
alerting:
  alert_relabel_configs: [{action: labeldrop, regex: x}]
  alertmanagers: [{timeout: 5s, path_prefix: /am, static_configs: [{targets: ['am:9093']}]}]
`;

/** Paths (a.b[0].c) where `theirs` has a value `ours` lacks or differs on. */
function missingIn(ours: unknown, theirs: unknown, path: string, out: string[]): void {
  if (theirs !== null && typeof theirs === 'object') {
    if (ours === null || typeof ours !== 'object') {
      out.push(`${path}: ${JSON.stringify(theirs)} vs ${JSON.stringify(ours)}`);
      return;
    }
    for (const [k, v] of Object.entries(theirs as Record<string, unknown>)) {
      missingIn((ours as Record<string, unknown>)[k], v, Array.isArray(theirs) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out);
    }
    return;
  }
  if (ours !== theirs) out.push(`${path}: ${JSON.stringify(theirs)} vs ${JSON.stringify(ours)}`);
}

describe.skipIf(skip !== undefined)(`Config.source vs Prometheus 2.42 /api/v1/status/config ${skip ?? ''}`, () => {
  let prom: Peer;
  beforeAll(async () => {
    prom = await startPrometheus(CONFIG);
  }, 90_000);
  afterAll(async () => {
    await prom?.stop();
  });

  it('has every key and value Prometheus prints', async () => {
    const r = await getJson<{ data: { yaml: string } }>(prom.url, '/api/v1/status/config');
    const theirs = parseYaml(r.data.yaml) as Record<string, unknown>;
    const ours = parseYaml(parseConfig(CONFIG, join(prom.dir, 'prometheus.yml')).source) as Record<string, unknown>;
    const diffs: string[] = [];
    missingIn(ours, theirs, '', diffs);
    const expected = diffs.filter((d) => !d.startsWith('remote_write[0].queue_config.'));
    expect(expected).toEqual([]);
    // The queue defaults are the 3.x ones.
    expect(diffs.filter((d) => d.startsWith('remote_write[0].queue_config.')).length).toBeGreaterThan(0);
  });
});
