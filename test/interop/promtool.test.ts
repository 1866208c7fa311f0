/**
 * promtool (Prometheus 2.42) as a client: `promtool query instant|range|series|labels` against
 * Sextant print exactly what they print against a real Prometheus holding the same samples.
 * Prometheus gets the samples by backfill (`promtool tsdb create-blocks-from openmetrics`),
 * Sextant through its remote-write receiver.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWriteRequest, type WriteSeries } from '../../src/remote/codec.js';
import { missing, PROMETHEUS, PROMTOOL, startPrometheus, startSextant, type Peer } from './peers.js';

const run = promisify(execFile);
const skip = missing(PROMETHEUS, PROMTOOL);

// Three hours ago, aligned to the minute: old enough to sit in a backfilled block for
// Prometheus, recent enough for both servers' retention.
const T0 = Math.floor((Date.now() - 3 * 3600_000) / 60_000) * 60_000;
const STEP = 15_000;
const POINTS = 120; // 30 minutes

function dataset(): WriteSeries[] {
  const out: WriteSeries[] = [];
  for (const job of ['api', 'db']) {
    for (let i = 0; i < 3; i++) {
      const samples: Array<{ timestamp: number; value: number }> = [];
      const gauge: Array<{ timestamp: number; value: number }> = [];
      for (let k = 0; k < POINTS; k++) {
        samples.push({ timestamp: T0 + k * STEP, value: (i + 1) * k * 7 + (job === 'db' ? 3 : 0) });
        // Distinct per series, so topk/bottomk never depend on how ties are broken.
        gauge.push({ timestamp: T0 + k * STEP, value: Math.sin(k / 10 + i) * 100 + 0.125 * i + (job === 'db' ? 0.5 : 0) });
      }
      const base = [
        { name: 'instance', value: `host-${i}:9100` },
        { name: 'job', value: job },
      ];
      out.push({ labels: [{ name: '__name__', value: 'http_requests_total' }, { name: 'code', value: i === 2 ? '500' : '200' }, ...base], samples });
      out.push({ labels: [{ name: '__name__', value: 'temperature_celsius' }, ...base], samples: gauge });
    }
  }
  return out;
}

function openMetrics(series: WriteSeries[]): string {
  const byName = new Map<string, WriteSeries[]>();
  for (const s of series) {
    const n = s.labels.find((l) => l.name === '__name__')!.value;
    byName.set(n, [...(byName.get(n) ?? []), s]);
  }
  let out = '';
  for (const [name, list] of byName) {
    out += `# TYPE ${name} ${name.endsWith('_total') ? 'unknown' : 'gauge'}\n`;
    for (const s of list) {
      const lbl = s.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}="${l.value}"`).join(',');
      for (const p of s.samples) out += `${name}{${lbl}} ${p.value} ${p.timestamp / 1000}\n`;
    }
  }
  return out + '# EOF\n';
}

describe.skipIf(skip !== undefined)(`promtool query against Sextant and Prometheus 2.42${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let prom: Peer;
  let sextant: Peer;

  beforeAll(async () => {
    const series = dataset();
    // Prometheus: backfilled blocks in its data dir before it starts.
    prom = await startPrometheus('global: {scrape_interval: 1h}\n', {
      prepare: async (dir) => {
        mkdirSync(join(dir, 'data'), { recursive: true });
        writeFileSync(join(dir, 'data.om'), openMetrics(series));
        await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'data.om'), join(dir, 'data')]);
      },
    });
    sextant = await startSextant('global: {scrape_interval: 1h}\n', { args: ['--web.enable-remote-write-receiver'] });
    const res = await fetch(`${sextant.url}/api/v1/write`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
      body: snappy.compress(encodeWriteRequest(series)),
    });
    expect(res.status, await res.text()).toBe(204);
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await sextant?.stop();
  });

  /** `promtool query <cmd> <flags...> <server> [arg]`, against both servers. */
  const both = async (cmd: string, flags: string[], arg?: string) => {
    const promtool = async (peer: Peer) =>
      (await run(PROMTOOL, ['query', cmd, ...flags, peer.url, ...(arg === undefined ? [] : [arg])])).stdout;
    const [a, b] = await Promise.all([promtool(sextant), promtool(prom)]);
    return { sextant: a, prometheus: b };
  };

  const at = (k: number) => String((T0 + k * STEP) / 1000);
  // Range selectors are left-open in 3.x ((t-r, t]) and closed in 2.42 ([t-r, t]); Sextant
  // follows 3.5. Evaluating between scrape timestamps keeps the two comparable.
  const between = (k: number) => String((T0 + k * STEP + 7_000) / 1000);

  it.each([
    'http_requests_total',
    'sum by (job) (rate(http_requests_total[5m]))',
    'topk(2, temperature_celsius)',
    // (avg_over_time differs from 2.42 in the last digit: 3.5 sums with Kahan compensation.)
    'max_over_time(temperature_celsius[10m]) > 0',
    'http_requests_total{code="500"} / ignoring(code) group_left temperature_celsius',
  ])('instant %s', async (expr) => {
    const r = await both('instant', [`--time=${between(100)}`], expr);
    expect(r.prometheus.length).toBeGreaterThan(0);
    expect(r.sextant).toBe(r.prometheus);
  });

  it.each(['sum(rate(http_requests_total[2m]))', 'max by (instance) (temperature_celsius)'])('range %s', async (expr) => {
    const r = await both('range', [`--start=${between(10)}`, `--end=${between(110)}`, '--step=60s'], expr);
    expect(r.prometheus.length).toBeGreaterThan(0);
    expect(r.sextant).toBe(r.prometheus);
  });

  it('series and labels', async () => {
    const s = await both('series', ['--match=http_requests_total{job="api"}', `--start=${at(0)}`, `--end=${at(119)}`]);
    expect(s.prometheus).toContain('host-0:9100');
    expect(s.sextant).toBe(s.prometheus);
    const l = await both('labels', [`--start=${at(0)}`, `--end=${at(119)}`], 'instance');
    expect(l.sextant).toBe(l.prometheus);
  });
});

