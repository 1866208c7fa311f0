import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryManager, DiscoveryMetrics, KubernetesSD, StaticDiscoverer, type DiscovererConfig, type TargetGroup } from '../../discovery/index.js';
import { parseConfig } from '../../src/config/index.js';
import { Registry } from '../../src/metrics/index.js';
import { ScrapeManager, discoveryConfigs } from '../../src/scrape/index.js';
import { Head } from '../../storage/index.js';
import { FakeApiServer } from './kubernetes/fake-apiserver.js';
import { makePod } from './kubernetes/fixtures.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sextant-dm-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function consumer() {
  const updates: Map<string, TargetGroup[]>[] = [];
  const waiters: (() => void)[] = [];
  return {
    updates,
    fn: (u: Map<string, TargetGroup[]>) => {
      updates.push(u);
      for (const w of waiters.splice(0)) w();
    },
    async until(pred: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    last: () => updates[updates.length - 1]!,
  };
}

const addrs = (gs: TargetGroup[] | undefined) => (gs ?? []).flatMap((g) => g.targets.map((t) => t['__address__'])).sort();
const stat = (...targets: string[]): DiscovererConfig => ({ type: 'static', groups: [{ source: '', targets: targets.map((t) => ({ __address__: t })), labels: {} }] });

describe('StaticDiscoverer', () => {
  it('sends its groups once with index sources', async () => {
    const ac = new AbortController();
    const got: TargetGroup[][] = [];
    const p = new StaticDiscoverer([{ source: 'x', targets: [{ __address__: 'a' }], labels: { l: 'v' } }]).run(ac.signal, (g) => got.push(g));
    ac.abort();
    await p;
    expect(got).toEqual([[{ source: '0', targets: [{ __address__: 'a' }], labels: { l: 'v' } }]]);
  });
});

describe('DiscoveryManager', () => {
  it('sends every pool, merging static configs and giving empty pools no groups', async () => {
    const c = consumer();
    const dm = new DiscoveryManager(c.fn, { updateIntervalMs: 50 });
    dm.applyConfig(new Map([
      ['a', [stat('a:1'), stat('a:2')]],
      ['empty', []],
    ]));
    await c.until(() => c.updates.length >= 1, 'first update');
    expect(addrs(c.last().get('a'))).toEqual(['a:1', 'a:2']);
    expect(c.last().get('a')!.map((g) => g.source)).toEqual(['0', '1']);
    expect(c.last().get('empty')).toEqual([]);
    dm.stop();
  });

  it('coalesces updates: at most one send per interval', async () => {
    const c = consumer();
    const f = join(dir, 't.json');
    writeFileSync(f, '[{"targets":["f:1"]}]');
    const dm = new DiscoveryManager(c.fn, { updateIntervalMs: 400, fileDebounceMs: 5 });
    dm.applyConfig(new Map([['job', [{ type: 'file', config: { files: [f], refreshInterval: 60_000 } }]]]));
    await c.until(() => addrs(c.last()?.get('job')).length === 1, 'file target');
    const n = c.updates.length;
    // A burst of changes becomes one send.
    for (let i = 2; i <= 5; i++) {
      writeFileSync(f, JSON.stringify([{ targets: Array.from({ length: i }, (_, j) => `f:${j + 1}`) }]));
      await new Promise((r) => setTimeout(r, 30));
    }
    await c.until(() => addrs(c.last().get('job')).length === 5, 'burst applied');
    expect(c.updates.length).toBeLessThanOrEqual(n + 2);
    expect(c.updates.length - n).toBeGreaterThanOrEqual(1);
    expect(dm.delayedUpdates).toBeGreaterThanOrEqual(1);
    dm.stop();
  });

  it('keeps unchanged providers running across applyConfig and stops removed pools', async () => {
    const c = consumer();
    const metrics = new DiscoveryMetrics();
    const f = join(dir, 't.yml');
    writeFileSync(f, '- targets: ["f:1"]\n');
    const dm = new DiscoveryManager(c.fn, { updateIntervalMs: 20, fileDebounceMs: 5, metrics });
    const fileCfg: DiscovererConfig = { type: 'file', config: { files: [f], refreshInterval: 60_000 } };
    dm.applyConfig(new Map([
      ['files', [fileCfg]],
      ['gone', [stat('g:1')]],
    ]));
    await c.until(() => addrs(c.last()?.get('files')).length === 1 && addrs(c.last()?.get('gone')).length === 1, 'initial');
    const filesArray = c.last().get('files');
    const received = dm.receivedUpdates;

    // Same file config (another object), pool 'gone' removed, a new pool sharing the file provider.
    dm.applyConfig(new Map([
      ['files', [{ type: 'file', config: { files: [f], refreshInterval: 60_000 } }]],
      ['also', [{ type: 'file', config: { files: [f], refreshInterval: 60_000 } }]],
    ]));
    await c.until(() => c.last().has('also') && c.last().get('gone')?.length === 0, 'reload applied');
    // The file provider was not restarted: it sent nothing new, and 'files' is the same array.
    expect(dm.receivedUpdates).toBe(received);
    expect(c.last().get('files')).toBe(filesArray);
    expect(addrs(c.last().get('also'))).toEqual(['f:1']);
    const disc = metrics.families().find((x) => x.name === 'prometheus_sd_discovered_targets')!.collect();
    expect(disc).toEqual([
      { labels: { config: 'files', name: 'scrape' }, value: 1 },
      { labels: { config: 'also', name: 'scrape' }, value: 1 },
    ]);

    // A changed file is seen by both pools.
    writeFileSync(f, '- targets: ["f:1", "f:2"]\n');
    await c.until(() => addrs(c.last().get('also')).length === 2 && addrs(c.last().get('files')).length === 2, 'both pools updated');
    dm.stop();
  });
});

describe('DiscoveryManager with Kubernetes SD', () => {
  it('runs a kubernetes_sd_configs provider and feeds the scrape manager (annotation recipe)', async () => {
    const srv = await new FakeApiServer().start();
    const k8s = new KubernetesSD({ coalesceMs: 5, timing: { lingerMs: 0, initialBackoffMs: 20, maxBackoffMs: 200 } });
    srv.create('pods', makePod({ name: 'web-1', ip: '10.244.1.10', annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' }, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] }));
    srv.create('pods', makePod({ name: 'quiet', ip: '10.244.1.11' }));
    const cfg = parseConfig(`
scrape_configs:
  - job_name: kubernetes-pods
    scrape_interval: 1h
    kubernetes_sd_configs:
      - role: pod
        api_server: ${srv.url}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: 'true'
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: '([^:]+)(?::\\d+)?;(\\d+)'
        replacement: '$1:$2'
        target_label: __address__
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
`, '/tmp/prometheus.yml');
    const sm = new ScrapeManager({ appendable: new Head(), registry: new Registry(), startLoops: false });
    sm.applyConfig(cfg);
    const dm = new DiscoveryManager((u) => sm.updateTargets(u), { updateIntervalMs: 10, kubernetes: k8s });
    dm.applyConfig(discoveryConfigs(cfg));
    try {
      const deadline = Date.now() + 15_000;
      while (sm.activeTargets().length === 0) {
        if (Date.now() > deadline) throw new Error('no target discovered');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(sm.activeTargets().map((t) => [t.scrapeUrl, t.labels['pod']])).toEqual([['http://10.244.1.10:9102/metrics', 'web-1']]);
      expect(sm.droppedTargetCounts()).toEqual({ 'kubernetes-pods': 1 });
    } finally {
      dm.stop();
      await sm.stop();
      k8s.close();
      await srv.close();
    }
  });
});
