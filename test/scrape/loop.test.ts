import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Matcher } from '../../storage/index.js';
import { FakeTarget, OPENMETRICS, PROTOBUF, SYNTHETIC, TEXT, byName, config, loopOf, read, setup, stale, valueAt } from './harness.js';

const FIX = '/work/shared/fixtures/exposition';
const nodeText = readFileSync(`${FIX}/node_exporter-1.5.0.txt`);
const nodePb = readFileSync(`${FIX}/node_exporter-1.5.0.pb`);
const seriesLines = (b: Buffer) => b.toString().split('\n').filter((l) => l !== '' && !l.startsWith('#'));

let target: FakeTarget;
beforeEach(async () => {
  target = await new FakeTarget().start();
});
afterEach(async () => {
  await target.stop();
});

function job(extra = '', name = 'node'): string {
  return `
scrape_configs:
  - job_name: ${name}
    scrape_interval: 1h
    scrape_timeout: 2s
    static_configs:
      - targets: ['${target.address}']
${extra}`;
}

async function scrapeOnce(yaml: string, t = 1_000_000) {
  const h = setup();
  h.sm.applyConfig(config(yaml));
  h.sm.updateTargets(new Map([['node', config(yaml).scrapeConfigs[0]!.staticConfigs as never]]));
  const loop = loopOf(h.sm, 'node');
  await loop.scrapeAndReport(t);
  return { ...h, loop };
}

describe('scrape loop against a real HTTP target', () => {
  it('stores every series of the node_exporter text fixture with target labels, and the synthetic series', async () => {
    target.reply = { body: nodeText, contentType: TEXT };
    const { head, loop, sm } = await scrapeOnce(job());
    const n = seriesLines(nodeText).length;
    const all = read(head);
    expect(all.length).toBe(n + SYNTHETIC.length);
    for (const s of all) {
      expect(s.labels.get('job')).toBe('node');
      expect(s.labels.get('instance')).toBe(target.address);
      expect(s.samples.length).toBe(1);
      expect(s.samples[0]![0]).toBe(1_000_000);
    }
    expect(valueAt(head, 'up', 1_000_000)).toBe(1);
    expect(valueAt(head, 'scrape_samples_scraped', 1_000_000)).toBe(n);
    expect(valueAt(head, 'scrape_samples_post_metric_relabeling', 1_000_000)).toBe(n);
    expect(valueAt(head, 'scrape_series_added', 1_000_000)).toBe(n);
    expect(valueAt(head, 'scrape_duration_seconds', 1_000_000)).toBeGreaterThan(0);
    // A line of the fixture, labels and value as written.
    const gi = byName(head, 'go_info');
    expect(gi[0]!.labels.get('version')).toBe('go1.19.8');
    // quantile values normalised to Prometheus's float formatting as in 3.x.
    expect(byName(head, 'go_gc_duration_seconds').map((x) => x.labels.get('quantile')).sort()).toEqual(['0.0', '0.25', '0.5', '0.75', '1.0']);

    // Second scrape: every series from the cache, none added.
    await loop.scrapeAndReport(1_015_000);
    expect(valueAt(head, 'scrape_series_added', 1_015_000)).toBe(0);
    expect(valueAt(head, 'scrape_samples_scraped', 1_015_000)).toBe(n);
    expect(loop.cache.series.size).toBe(n);

    // Request headers as Prometheus sends them.
    const req = target.requests[0]!;
    expect(req.headers['accept']).toMatch(/^application\/openmetrics-text;version=1\.0\.0;escaping=allow-utf-8;q=0\.6,/);
    expect(req.headers['accept-encoding']).toBe('gzip');
    expect(req.headers['x-prometheus-scrape-timeout-seconds']).toBe('2');
    expect(req.url).toBe('/metrics');
    // Metadata for the targets API.
    const md = sm.targetMetadata().find((m) => m.metric === 'go_goroutines')!;
    expect(md).toMatchObject({ type: 'gauge', help: 'Number of goroutines that currently exist.', unit: '', scrapePool: 'node' });
    expect(sm.metadata().get('node_cpu_seconds_total')).toEqual([{ type: 'counter', help: 'Seconds the CPUs spent in each mode.', unit: '' }]);
  });

  it('parses the protobuf fixture by Content-Type', async () => {
    target.reply = { body: nodePb, contentType: PROTOBUF };
    const { head, loop } = await scrapeOnce(job());
    expect(loop.target.lastError).toBe('');
    expect(valueAt(head, 'up', 1_000_000)).toBe(1);
    const scraped = valueAt(head, 'scrape_samples_scraped', 1_000_000)!;
    expect(scraped).toBeGreaterThan(300);
    expect(read(head).length).toBe(scraped + SYNTHETIC.length);
    // Summaries expand into quantile series, _sum and _count, with 3.x float formatting.
    expect(byName(head, 'go_gc_duration_seconds').map((s) => s.labels.get('quantile')).sort()).toEqual(['0.0', '0.25', '0.5', '0.75', '1.0']);
    expect(byName(head, 'go_gc_duration_seconds_count').length).toBe(1);
  });

  it('parses OpenMetrics with UNIT metadata and gunzips bodies', async () => {
    const om = [
      '# TYPE http_requests counter',
      '# HELP http_requests Requests.',
      'http_requests_total{code="200"} 10',
      'http_requests_created{code="200"} 1.7e9',
      '# TYPE temp_celsius gauge',
      '# UNIT temp_celsius celsius',
      'temp_celsius 21.5',
      '# EOF',
      '',
    ].join('\n');
    target.reply = { body: om, contentType: OPENMETRICS, gzip: true };
    const { head, sm, loop } = await scrapeOnce(job());
    expect(loop.target.lastError).toBe('');
    expect(valueAt(head, 'temp_celsius', 1_000_000)).toBe(21.5);
    expect(byName(head, 'http_requests_total')[0]!.samples[0]![1]).toBe(10);
    expect(sm.metadata().get('temp_celsius')).toEqual([{ type: 'gauge', help: '', unit: 'celsius' }]);
  });

  it('a failed scrape stores only up=0 and the synthetic series, and marks previous series stale', async () => {
    target.reply = { body: 'a 1\nb{x="1"} 2\n', contentType: TEXT };
    const { head, loop } = await scrapeOnce(job());
    expect(byName(head, 'a')[0]!.samples).toEqual([[1_000_000, 1]]);

    // As Prometheus, the counts of a body that failed half-way are reported (here: 1 line read).
    for (const [i, reply, err, counted] of [
      [1, { status: 500, body: 'oops' }, 'server returned HTTP status 500 Internal Server Error', 0],
      [2, { body: 'a 1\nb{x="1" 2\n', contentType: TEXT }, 'line 2', 1],
      [3, { body: 'a 1\n', contentType: '' }, 'non-compliant scrape target sending blank Content-Type', 0],
    ] as const) {
      const t = 1_000_000 + i * 15_000;
      target.reply = reply;
      await loop.scrapeAndReport(t);
      expect(loop.target.health).toBe('down');
      expect(loop.target.lastError).toContain(err);
      expect(valueAt(head, 'up', t)).toBe(0);
      expect(valueAt(head, 'scrape_samples_post_metric_relabeling', t)).toBe(counted);
      expect(valueAt(head, 'scrape_series_added', t)).toBe(0);
    }
    // Stale markers were written at the first failure only; nothing else from the failed bodies.
    expect(byName(head, 'a')[0]!.samples.length).toBe(2);
    expect(stale(byName(head, 'a')[0]!.samples[1]![1])).toBe(true);
    expect(byName(head, 'b')[0]!.samples[1]![0]).toBe(1_015_000);
    expect(read(head).length).toBe(2 + SYNTHETIC.length);

    // Recovery.
    target.reply = { body: 'a 5\n', contentType: TEXT };
    await loop.scrapeAndReport(1_100_000);
    expect(loop.target.health).toBe('up');
    expect(byName(head, 'a')[0]!.samples.at(-1)).toEqual([1_100_000, 5]);
  });

  it('writes stale markers for series that disappear between scrapes', async () => {
    target.reply = { body: 'a 1\nb 2\nc{l="x"} 3\n', contentType: TEXT };
    const { head, loop } = await scrapeOnce(job());
    target.reply = { body: 'a 1\nc{l="x"} 4\n', contentType: TEXT };
    await loop.scrapeAndReport(1_015_000);
    expect(stale(byName(head, 'b')[0]!.samples[1]?.[1])).toBe(true);
    expect(byName(head, 'b')[0]!.samples[1]![0]).toBe(1_015_000);
    expect(byName(head, 'c')[0]!.samples[1]).toEqual([1_015_000, 4]);
    // Marked once, not again.
    await loop.scrapeAndReport(1_030_000);
    expect(byName(head, 'b')[0]!.samples.length).toBe(2);
  });

  it('honor_timestamps and track_timestamps_staleness', async () => {
    target.reply = { body: 'ts 1 900000\nplain 2\n', contentType: TEXT };
    let r = await scrapeOnce(job());
    expect(byName(r.head, 'ts')[0]!.samples).toEqual([[900_000, 1]]);
    target.reply = { body: 'plain 2\n', contentType: TEXT };
    await r.loop.scrapeAndReport(1_015_000);
    // A series with its own timestamp gets no stale marker by default.
    expect(byName(r.head, 'ts')[0]!.samples.length).toBe(1);

    target.reply = { body: 'ts 1 900000\nplain 2\n', contentType: TEXT };
    r = await scrapeOnce(job('    honor_timestamps: false'));
    expect(byName(r.head, 'ts')[0]!.samples).toEqual([[1_000_000, 1]]);

    r = await scrapeOnce(job('    track_timestamps_staleness: true'));
    target.reply = { body: 'plain 2\n', contentType: TEXT };
    await r.loop.scrapeAndReport(1_015_000);
    expect(stale(byName(r.head, 'ts')[0]!.samples[1]?.[1])).toBe(true);
  });

  it('honor_labels: conflicts become exported_* unless honored', async () => {
    target.reply = { body: 'm{job="theirs",instance="i",exported_job="x"} 1\n', contentType: TEXT };
    let r = await scrapeOnce(job());
    let l = byName(r.head, 'm')[0]!.labels.toObject();
    expect(l).toEqual({ __name__: 'm', job: 'node', instance: target.address, exported_job: 'x', exported_exported_job: 'theirs', exported_instance: 'i' });
    r = await scrapeOnce(job('    honor_labels: true'));
    l = byName(r.head, 'm')[0]!.labels.toObject();
    expect(l).toEqual({ __name__: 'm', job: 'theirs', instance: 'i', exported_job: 'x' });
  });

  it('metric_relabel_configs drop series, and the cache remembers the drop', async () => {
    target.reply = { body: 'keep_me{cluster_name="prod"} 1\ndrop_me{cluster_name="test-1"} 2\nrename 3\n', contentType: TEXT };
    const { head, loop } = await scrapeOnce(
      job(`    metric_relabel_configs:
      - source_labels: [cluster_name]
        regex: test-.*
        action: drop
      - source_labels: [__name__]
        regex: rename
        target_label: renamed
        replacement: yes`),
    );
    expect(read(head).map((s) => s.labels.metricName()).sort()).toEqual(['keep_me', 'rename', ...SYNTHETIC].sort());
    expect(byName(head, 'rename')[0]!.labels.get('renamed')).toBe('yes');
    expect(valueAt(head, 'scrape_samples_scraped', 1_000_000)).toBe(3);
    expect(valueAt(head, 'scrape_samples_post_metric_relabeling', 1_000_000)).toBe(2);
    await loop.scrapeAndReport(1_015_000);
    expect(valueAt(head, 'scrape_samples_post_metric_relabeling', 1_015_000)).toBe(2);
    expect(loop.cache.series.size).toBe(3);
  });

  it.each([
    ['    sample_limit: 2', 'sample limit exceeded', 'prometheus_target_scrapes_exceeded_sample_limit_total 1'],
    ['    label_limit: 3', 'label_limit exceeded (metric: b, number of labels: 4, limit: 3)', 'prometheus_target_scrape_pool_exceeded_label_limits_total 1'],
    ['    label_name_length_limit: 5', 'label_name_length_limit exceeded (metric: a, label name: __name__, length: 8, limit: 5)', 'prometheus_target_scrape_pool_exceeded_label_limits_total 1'],
    ['    label_value_length_limit: 16', 'label_value_length_limit exceeded (metric: c, label name: long, value: "abcdefghijklmnopq", length: 17, limit: 16)', 'prometheus_target_scrape_pool_exceeded_label_limits_total 1'],
    ['    body_size_limit: 30B', 'body size limit exceeded', 'prometheus_target_scrapes_exceeded_body_size_limit_total 1'],
  ])('limit %s fails the whole scrape', async (extra, err, metric) => {
    target.reply = { body: 'a 1\nb{x="1"} 2\nc{long="abcdefghijklmnopq"} 3\n', contentType: TEXT };
    const { head, loop, registry } = await scrapeOnce(job(extra));
    expect(loop.target.lastError).toBe(err);
    expect(valueAt(head, 'up', 1_000_000)).toBe(0);
    expect(read(head).map((s) => s.labels.metricName()).sort()).toEqual(SYNTHETIC);
    if (extra.includes('sample_limit')) expect(valueAt(head, 'scrape_samples_scraped', 1_000_000)).toBe(3);
    expect(registry.expose()).toContain(metric);
  });

  it('times out with Go\'s wording and sends the timeout header', async () => {
    target.reply = { body: 'a 1\n', contentType: TEXT, delay: 1500 };
    const { head, loop } = await scrapeOnce(job().replace('scrape_timeout: 2s', 'scrape_timeout: 300ms'));
    expect(loop.target.lastError).toBe(`Get "http://${target.address}/metrics": context deadline exceeded`);
    expect(target.requests[0]!.headers['x-prometheus-scrape-timeout-seconds']).toBe('0.3');
    expect(valueAt(head, 'up', 1_000_000)).toBe(0);
  });

  it('counts out-of-order and duplicate samples without failing the scrape', async () => {
    target.reply = { body: 'x 1 5000\ny 1\n', contentType: TEXT };
    const { head, loop, registry } = await scrapeOnce(job());
    target.reply = { body: 'x 1 4000\ny 1\ny 2\n', contentType: TEXT };
    await loop.scrapeAndReport(1_015_000);
    expect(loop.target.health).toBe('up');
    expect(valueAt(head, 'up', 1_015_000)).toBe(1);
    const text = registry.expose();
    expect(text).toContain('prometheus_target_scrapes_sample_out_of_order_total 1');
    expect(text).toContain('prometheus_target_scrapes_sample_duplicate_timestamp_total 1');
  });

  it('sends basic auth, bearer tokens, params and metrics_path', async () => {
    target.reply = { body: 'a 1\n', contentType: TEXT };
    await scrapeOnce(job(`    metrics_path: /probe
    params:
      module: [http_2xx]
      target: ['a b']
    basic_auth:
      username: u
      password: p`));
    expect(target.requests[0]!.url).toBe('/probe?module=http_2xx&target=a+b');
    expect(target.requests[0]!.headers['authorization']).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
    await scrapeOnce(job(`    authorization:
      credentials: tok`));
    expect(target.requests[1]!.headers['authorization']).toBe('Bearer tok');
  });

  it('follows redirects unless disabled', async () => {
    target.paths.set('/metrics', { status: 302, body: '', headers: { Location: '/real' } });
    target.paths.set('/real', { body: 'a 1\n', contentType: TEXT });
    let r = await scrapeOnce(job());
    expect(r.loop.target.health).toBe('up');
    r = await scrapeOnce(job('    follow_redirects: false'));
    expect(r.loop.target.lastError).toBe('server returned HTTP status 302 Found');
  });
});
