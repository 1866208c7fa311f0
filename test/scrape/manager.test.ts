import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryManager, type TargetGroup } from '../../discovery/index.js';
import { LabelsBuilder, Labels } from '../../storage/index.js';
import { discoveryConfigs, populateLabels, formatDuration, parseDuration } from '../../src/scrape/index.js';
import { FakeTarget, TEXT, byName, config, loopOf, setup, stale, until } from './harness.js';

let targets: FakeTarget[];
let dir: string;
beforeEach(async () => {
  targets = [await new FakeTarget().start(), await new FakeTarget().start()];
  for (const t of targets) t.reply = { body: `m{port="${t.port}"} 1\n`, contentType: TEXT };
  dir = mkdtempSync(join(tmpdir(), 'sextant-scrape-'));
});
afterEach(async () => {
  for (const t of targets) await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

const groups = (...addrs: string[]): TargetGroup[] => [{ source: '0', targets: addrs.map((a) => ({ __address__: a })), labels: {} }];

describe('target building', () => {
  const cfg = config(`
scrape_configs:
  - job_name: j
    scrape_interval: 30s
    params: { module: [a, b] }
    relabel_configs:
      - source_labels: [__meta_keep]
        regex: 'no'
        action: drop
`).scrapeConfigs[0]!;
  const compiled = (l: Labels) => (l.get('__meta_keep') === 'no' ? null : l);

  it('adds job, scheme, path, interval, timeout, params; defaults instance; removes __meta_*', () => {
    const r = populateLabels(new LabelsBuilder(), cfg, { __address__: 'h:9100', __meta_x: 'y' }, { team: 'a' }, compiled);
    expect(r.kind).toBe('target');
    if (r.kind !== 'target') return;
    expect(r.labels.toObject()).toEqual({
      __address__: 'h:9100', __metrics_path__: '/metrics', __param_module: 'a', __scheme__: 'http',
      __scrape_interval__: '30s', __scrape_timeout__: '10s', instance: 'h:9100', job: 'j', team: 'a',
    });
    expect(r.discovered.get('__meta_x')).toBe('y');
  });

  it.each([
    [{ __address__: 'h:1', __meta_keep: 'no' }, 'dropped'],
    [{ __address__: '' }, 'error:no address'],
    [{ __address__: 'http://h:1/x' }, 'error:"http://h:1/x" is not a valid hostname'],
    [{ __address__: 'h:1', __scrape_interval__: '5s', __scrape_timeout__: '10s' }, 'error:scrape timeout cannot be greater than scrape interval ("10s" > "5s")'],
    [{ __address__: 'h:1', __scrape_interval__: 'x' }, 'error:error parsing scrape interval: not a valid duration string: "x"'],
  ])('%j → %s', (t, want) => {
    const r = populateLabels(new LabelsBuilder(), cfg, t, {}, compiled);
    expect(r.kind === 'error' ? `error:${r.error}` : r.kind).toBe(want);
  });

  it('formats and parses durations as Prometheus', () => {
    for (const [ms, s] of [[0, '0s'], [500, '500ms'], [90_000, '1m30s'], [86_400_000 * 14, '2w'], [86_400_000 * 15, '15d'], [3_600_000 * 25, '1d1h']] as const) {
      expect(formatDuration(ms)).toBe(s);
      expect(parseDuration(s)).toBe(ms);
    }
  });
});

describe('ScrapeManager', () => {
  const yaml = (extra = '', interval = '1h') => `
scrape_configs:
  - job_name: a
    scrape_interval: ${interval}
    scrape_timeout: 1s
${extra}
  - job_name: b
    scrape_interval: 1h
`;

  it('syncs targets, deduplicates them and answers the targets API', async () => {
    const { sm } = setup();
    sm.applyConfig(config(yaml(`    relabel_configs:
      - source_labels: [__address__]
        regex: 'drop.*'
        action: drop
    keep_dropped_targets: 1`)));
    expect(sm.scrapePools()).toEqual(['a', 'b']);
    sm.updateTargets(new Map([
      ['a', [...groups(targets[0]!.address, targets[0]!.address, 'drop1:1', 'drop2:1'), ...groups(targets[1]!.address)]],
      ['unknown', groups('x:1')],
    ]));
    const at = sm.activeTargets();
    expect(at.map((t) => t.scrapeUrl).sort()).toEqual([`http://${targets[0]!.address}/metrics`, `http://${targets[1]!.address}/metrics`].sort());
    expect(at[0]).toMatchObject({ scrapePool: 'a', health: 'unknown', lastError: '', lastScrape: 0, scrapeInterval: '1h', scrapeTimeout: '1s' });
    expect(at[0]!.labels).toEqual({ instance: at[0]!.discoveredLabels['__address__'], job: 'a' });
    expect(sm.droppedTargets()).toHaveLength(1);
    expect(sm.droppedTargetCounts()).toEqual({ a: 2, b: 0 });
  });

  it('keeps unchanged pools (same loop, same cache) across a reload, restarts changed ones reusing caches', async () => {
    const { sm, head } = setup();
    sm.applyConfig(config(yaml()));
    sm.updateTargets(new Map([['a', groups(targets[0]!.address)], ['b', groups(targets[1]!.address)]]));
    const la = loopOf(sm, 'a'), lb = loopOf(sm, 'b');
    await la.scrapeAndReport(1_000_000);
    await lb.scrapeAndReport(1_000_000);

    // Same config text: nothing restarts.
    sm.applyConfig(config(yaml()));
    expect(loopOf(sm, 'a')).toBe(la);
    expect(loopOf(sm, 'b')).toBe(lb);

    // Pool a changes its timeout: a new loop, the same cache; b untouched.
    sm.applyConfig(config(yaml().replace('scrape_timeout: 1s', 'scrape_timeout: 2s')));
    const la2 = loopOf(sm, 'a');
    expect(la2).not.toBe(la);
    expect(la2.cache).toBe(la.cache);
    expect(loopOf(sm, 'b')).toBe(lb);
    await la2.scrapeAndReport(1_015_000);
    expect(byName(head, 'scrape_series_added').find((s) => s.labels.get('job') === 'a')!.samples.at(-1)).toEqual([1_015_000, 0]);

    // honor_labels changes stored labels: a fresh cache.
    sm.applyConfig(config(yaml('    honor_labels: true').replace('scrape_timeout: 1s', 'scrape_timeout: 2s')));
    expect(loopOf(sm, 'a').cache).not.toBe(la.cache);
    await sm.stop();
  });

  it('writes stale markers when a target goes away (after two intervals) and when a pool is removed', async () => {
    const { sm, head } = setup({ startLoops: true });
    sm.applyConfig(config(yaml('', '200ms').replace('scrape_timeout: 1s', 'scrape_timeout: 100ms')));
    sm.updateTargets(new Map([['a', groups(targets[0]!.address, targets[1]!.address)]]));
    const ups = () => byName(head, 'up');
    await until(() => ups().length === 2 && ups().every((s) => s.samples.length >= 2), 'two scrapes of each target');

    // Target 1 disappears.
    sm.updateTargets(new Map([['a', groups(targets[0]!.address)]]));
    const gone = (name: string) => byName(head, name).find((s) => s.labels.get('instance') === targets[1]!.address)!;
    await until(() => stale(gone('up').samples.at(-1)?.[1]), 'stale up of the removed target');
    expect(stale(gone('m').samples.at(-1)?.[1])).toBe(true);
    expect(stale(gone('scrape_duration_seconds').samples.at(-1)?.[1])).toBe(true);
    // The other target keeps being scraped.
    const kept = () => byName(head, 'up').find((s) => s.labels.get('instance') === targets[0]!.address)!;
    expect(kept().samples.every(([, v]) => v === 1)).toBe(true);

    // The whole pool is removed by a reload.
    sm.applyConfig(config(`
scrape_configs:
  - job_name: b
    scrape_interval: 1h
`));
    await until(() => stale(kept().samples.at(-1)?.[1]), 'stale up of the removed pool');
    expect(sm.scrapePools()).toEqual(['b']);
    await sm.stop();
  });

  it('target_limit fails every target of the pool without scraping', async () => {
    const { sm, head, registry } = setup();
    sm.applyConfig(config(yaml('    target_limit: 1')));
    sm.updateTargets(new Map([['a', groups(targets[0]!.address, targets[1]!.address)]]));
    for (const l of sm.pool('a')!.loops.values()) await l.scrapeAndReport(1_000_000);
    expect(sm.activeTargets('a').map((t) => t.lastError)).toEqual([
      'target_limit exceeded (number of targets: 2, limit: 1)',
      'target_limit exceeded (number of targets: 2, limit: 1)',
    ]);
    expect(targets[0]!.requests.length + targets[1]!.requests.length).toBe(0);
    expect(byName(head, 'up').map((s) => s.samples[0]![1])).toEqual([0, 0]);
    expect(registry.expose()).toContain('prometheus_target_scrape_pool_exceeded_target_limit_total 1');
  });

  it('end to end with the discovery manager: file SD changes add and remove scraped targets', async () => {
    const file = join(dir, 'targets.yml');
    writeFileSync(file, `- targets: ['${targets[0]!.address}']\n  labels: {team: x}\n`);
    const cfg = config(`
scrape_configs:
  - job_name: files
    scrape_interval: 1h
    file_sd_configs:
      - files: ['${join(dir, '*.yml')}']
`);
    const { sm } = setup();
    sm.applyConfig(cfg);
    const dm = new DiscoveryManager((u) => sm.updateTargets(u), { updateIntervalMs: 10, fileDebounceMs: 5 });
    dm.applyConfig(discoveryConfigs(cfg));
    await until(() => sm.activeTargets().length === 1, 'first target');
    expect(sm.activeTargets()[0]!.labels).toEqual({ instance: targets[0]!.address, job: 'files', team: 'x' });
    expect(sm.activeTargets()[0]!.discoveredLabels['__meta_filepath']).toBe(file);
    const first = loopOf(sm, 'files');

    writeFileSync(file, `- targets: ['${targets[0]!.address}', '${targets[1]!.address}']\n  labels: {team: x}\n`);
    await until(() => sm.activeTargets().length === 2, 'second target');
    // The existing target kept its loop.
    expect([...sm.pool('files')!.loops.values()]).toContain(first);

    rmSync(file);
    await until(() => sm.activeTargets().length === 0, 'targets removed');
    dm.stop();
    await sm.stop();
  });
});
