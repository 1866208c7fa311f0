/**
 * Cross-check against the real Prometheus (Debian's 2.42): targets from file_sd go through
 * relabel chains in Prometheus, and /api/v1/targets gives each target's discovered labels and
 * its labels after relabeling (or lists it as dropped). Sextant's relabel() must produce the
 * same result from the same discovered labels, for every action including hashmod.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { compileRelabelConfigs, relabel } from '../../src/relabel/index.js';
import { Labels } from '../../storage/index.js';
import { getJson, missing, PROMETHEUS, startPrometheus, type Peer } from '../interop/peers.js';

const skip = missing(PROMETHEUS);

const groups: { targets: string[]; labels: Record<string, string> }[] = [
  {
    targets: ['10.0.0.1:9100', '10.0.0.2:9100', 'host-a:80', 'b.example.com:443', '[::1]:9090'],
    labels: {
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: 'web-1',
      __meta_kubernetes_pod_label_app: 'web',
      __meta_kubernetes_pod_label_tier: 'Front-İstanbul-ΟΔΟΣ-straße-ﬀ',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9102',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom',
      __meta_pair: 'zone=eu-west',
      cluster: 'Eu-1',
      copy: 'Eu-1',
    },
  },
  {
    targets: Array.from({ length: 40 }, (_, i) => `10.1.${i >> 3}.${i}:${8000 + i}`),
    labels: { __meta_kubernetes_namespace: 'kube-system', __meta_kubernetes_pod_name: 'p', cluster: 'us', copy: 'other' },
  },
];

/** Jobs: name → relabel_configs (YAML flow list items). */
const jobs: Record<string, string[]> = {
  hashmod: [
    `{source_labels: [__address__], target_label: shard, modulus: 7, action: hashmod}`,
    `{source_labels: [__address__, cluster], target_label: shard_big, modulus: 1099511627776, action: hashmod}`,
    `{source_labels: [__address__], target_label: shard3, modulus: 3, action: hashmod}`,
    `{source_labels: [shard3], regex: '1', action: drop}`,
  ],
  k8s: [
    `{source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], regex: 'true', action: keep}`,
    `{source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], regex: '(.+)', target_label: __metrics_path__}`,
    `{source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: __address__}`,
    `{action: labelmap, regex: '__meta_kubernetes_pod_label_(.+)'}`,
    `{source_labels: [__meta_kubernetes_namespace], target_label: namespace}`,
    `{source_labels: [__meta_kubernetes_pod_name], target_label: pod}`,
    `{source_labels: [tier], target_label: tier_lc, action: lowercase}`,
    `{source_labels: [tier, app], target_label: up_both, action: uppercase}`,
  ],
  equal: [
    `{source_labels: [cluster], target_label: copy, action: keepequal}`,
    `{source_labels: [__meta_kubernetes_namespace], target_label: cluster, action: dropequal}`,
  ],
  templates: [
    `{source_labels: [__meta_pair], regex: '(?P<k>\\w+)=(?P<v>[\\w-]+)', target_label: '\${k}', replacement: '\${v}'}`,
    `{source_labels: [__address__], regex: '(.*):(\\d+)', target_label: port_x, replacement: '$2x'}`,
    `{source_labels: [__address__], regex: '(.*):(\\d+)', target_label: port_y, replacement: '\${2}y$$'}`,
    `{source_labels: [__meta_kubernetes_namespace, cluster], separator: '/', regex: '(.*)/(.*)', target_label: nc, replacement: '$2.$1'}`,
    `{source_labels: [nomatch], regex: 'x(.*)', target_label: cluster, replacement: gone}`,
    `{source_labels: [missing], target_label: copy}`,
    `{source_labels: [__meta_kubernetes_pod_name], regex: 'web-(\\d)', target_label: 'idx_$1', replacement: 'pod$1'}`,
  ],
  labelops: [
    `{action: labelmap, regex: '__meta_kubernetes_(\\w+?)_(name|namespace)', replacement: 'm_\${2}_\${1}'}`,
    `{action: labeldrop, regex: 'copy|m_name_.*'}`,
    `{action: labelkeep, regex: '__.*|cluster|m_.*'}`,
  ],
};

interface ApiTarget {
  discoveredLabels: Record<string, string>;
  labels?: Record<string, string>;
  scrapePool?: string;
}

/** What Prometheus does after relabeling for the targets API: instance defaults, `__*` removed. */
function finish(ls: Labels): Record<string, string> {
  const o = ls.toObject();
  if (o['instance'] === undefined) o['instance'] = o['__address__']!;
  for (const k of Object.keys(o)) if (k.startsWith('__')) delete o[k];
  return o;
}

function key(o: Record<string, string>): string {
  return JSON.stringify(Object.entries(o).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

describe.skipIf(skip !== undefined)(`relabel vs Prometheus 2.42 ${skip ?? ''}`, () => {
  let prom: Peer;
  const configYaml =
    `global: {scrape_interval: 1h, scrape_timeout: 1s}\nscrape_configs:\n` +
    Object.entries(jobs)
      .map(([job, rules]) => `  - job_name: ${job}\n    file_sd_configs: [{files: [targets.json]}]\n    relabel_configs:\n${rules.map((r) => `      - ${r}`).join('\n')}\n`)
      .join('');
  const total = groups.reduce((n, g) => n + g.targets.length, 0);
  let active: ApiTarget[] = [];
  let dropped: ApiTarget[] = [];

  beforeAll(async () => {
    prom = await startPrometheus(configYaml, {
      prepare: async (dir) => writeFileSync(join(dir, 'targets.json'), JSON.stringify(groups)),
    });
    // File SD is read at start; wait (bounded) until every job has all its targets.
    for (let i = 0; i < 300; i++) {
      const r = await getJson<{ data: { activeTargets: ApiTarget[]; droppedTargets: ApiTarget[] } }>(prom.url, '/api/v1/targets');
      active = r.data.activeTargets;
      dropped = r.data.droppedTargets;
      if (active.length + dropped.length >= total * Object.keys(jobs).length) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
  });

  it('the config is valid for both', () => {
    expect(() => parseConfig(configYaml, 'cross.yml')).not.toThrow();
    expect(active.length + dropped.length).toBe(total * Object.keys(jobs).length);
  });

  it.each(Object.keys(jobs))('job %s: same kept/dropped targets and the same labels', (job) => {
    const cfg = parseConfig(configYaml, 'cross.yml').scrapeConfigs.find((s) => s.jobName === job)!;
    const compiled = compileRelabelConfigs(cfg.relabelConfigs);
    // Prometheus 2.42 reports discoveredLabels of active targets partly relabeled (its builder
    // aliases them), so the inputs are rebuilt here exactly as its populateLabels builds them.
    const file = dropped.concat(active).find((t) => t.discoveredLabels['__meta_filepath'])!.discoveredLabels['__meta_filepath']!;
    const expectedKept: string[] = [];
    let expectedDropped = 0;
    for (const g of groups) {
      for (const addr of g.targets) {
        const input = Labels.from({
          ...g.labels,
          __address__: addr,
          __meta_filepath: file,
          job,
          __scheme__: 'http',
          __metrics_path__: '/metrics',
          __scrape_interval__: '1h',
          __scrape_timeout__: '1s',
        });
        const out = relabel(input, compiled);
        if (out === null) expectedDropped++;
        else expectedKept.push(key(finish(out)));
      }
    }
    const theirsKept = active.filter((t) => t.scrapePool === job).map((t) => key(t.labels!));
    const theirsDropped = dropped.filter((t) => t.discoveredLabels['job'] === job);
    expect(theirsKept.sort()).toEqual(expectedKept.sort());
    expect(theirsDropped.length).toBe(expectedDropped);
    expect(expectedKept.length).toBeGreaterThan(0);
  });
});
