/**
 * promql: typical dashboard queries, Sextant's engine against a real Prometheus 2.42 on the
 * same data in the same run.
 *
 *  1. Generates a data set (seeded): 3,000 `http_requests_total` counter series, 120 classic
 *     histograms `http_request_duration_seconds` (11 buckets + sum + count), and
 *     node_exporter-shaped series for 10 hosts, at 30 s for 6 h. Every series has its own
 *     timestamp offset (whole seconds, never a multiple of 30 s) plus per-sample jitter, so no
 *     sample sits on a query step or window boundary (Prometheus 2.42 closes range selectors at
 *     both ends, 3.x leaves the start open).
 *  2. Writes it as one OpenMetrics file, backfills Prometheus with
 *     `promtool tsdb create-blocks-from openmetrics`, and starts `prometheus` on 127.0.0.1 on
 *     that data directory; appends the same samples into a Sextant `Head`.
 *  3. Runs each query as a 2 h / 30 s range query and as an instant query over HTTP against
 *     both: Prometheus's API and Sextant's query API (src/web/api, served in this process on
 *     127.0.0.1 over the Head), alternating, `--reps` times; reports the medians and the ratio,
 *     and compares the results (values within 1e-9 relative) printing any difference. With
 *     `--direct`, Sextant is timed through the engine plus JSON encoding instead of HTTP.
 *
 * `npm run bench -- promql [--hours 6] [--reps 5] [--only REGEX] [--direct]`
 * The generated data dir is cached in $TMPDIR/sextant-bench-promql-* between runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import Fastify from 'fastify';

import { Head, Labels } from '../storage/index.js';
import { Engine, type QueryValue } from '../promql/index.js';
import { queryApi } from '../src/web/api/query.js';
import { EngineQueryService, classifyEngineError } from '../src/web/api/engine.js';
import { setErrorClassifier } from '../src/web/api/index.js';
import { note, report } from './report.js';
import snappy from 'snappyjs';
import { encodeWriteRequest } from '../src/remote/codec.js';
import { freePort, settled, startServer, waitReady, type ServerProcess } from './_servers.js';

const BENCH = 'promql';
const STEP = 30_000;

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : def;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenSeries {
  labels: Labels;
  text: string;
}

/** One metric family's series and a sample generator per series. */
interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Series of the family in exposition order, with a function giving value at sample k. */
  series: { s: GenSeries; value: (k: number) => number; offset: number }[];
  /** Histograms: series are grouped per metric point (buckets, sum, count share an offset). */
  group?: number;
}

function lbl(name: string, pairs: [string, string][]): GenSeries {
  const all: string[] = ['__name__', name];
  for (const [k, v] of pairs) all.push(k, v);
  const labels = Labels.fromPairs(...all);
  const text = `${name}{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  return { labels, text };
}

function buildFamilies(points: number): Family[] {
  const rnd = mulberry32(42);
  const offsetFor = (): number => (3 + Math.floor(rnd() * 25)) * 1000; // 3..27 s
  const counter = (rate: number, resetAt = -1): ((k: number) => number) => {
    const vals = new Float64Array(points);
    let v = Math.floor(rnd() * 1000);
    for (let k = 0; k < points; k++) {
      if (k === resetAt) v = 0;
      v += Math.round(rate * 30 * (0.5 + rnd()));
      vals[k] = v;
    }
    return (k) => vals[k]!;
  };
  const gauge = (base: number, amp: number): ((k: number) => number) => {
    const vals = new Float64Array(points);
    let v = base;
    for (let k = 0; k < points; k++) {
      v = Math.max(0, v + (rnd() - 0.5) * amp);
      vals[k] = Math.round(v);
    }
    return (k) => vals[k]!;
  };
  const fams: Family[] = [];
  const jobs = ['api', 'web', 'auth'];
  const statuses = ['200', '201', '404', '500', '503'];
  const methods = ['GET', 'POST'];
  const reqs: Family = { name: 'http_requests', type: 'counter', series: [] };
  for (const job of jobs)
    for (let inst = 0; inst < 10; inst++)
      for (let h = 0; h < 10; h++)
        for (const status of statuses)
          for (const method of methods) {
            const s = lbl('http_requests_total', [['job', job], ['instance', `10.0.${jobs.indexOf(job)}.${inst}:8080`], ['handler', `/api/v1/h${h}`], ['status', status], ['method', method]]);
            const base = status === '200' ? 5 : status === '500' ? 0.2 : 1;
            reqs.series.push({ s, value: counter(base * (1 + h / 5), rnd() < 0.01 ? Math.floor(rnd() * points) : -1), offset: offsetFor() });
          }
  fams.push(reqs);

  const bounds = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf'];
  const hist: Family = { name: 'http_request_duration_seconds', type: 'histogram', series: [], group: bounds.length + 2 };
  for (const job of jobs)
    for (let inst = 0; inst < 10; inst++)
      for (let h = 0; h < 4; h++) {
        const common: [string, string][] = [['job', job], ['instance', `10.0.${jobs.indexOf(job)}.${inst}:8080`], ['handler', `/api/v1/h${h}`]];
        const offset = offsetFor();
        // Observations per step spread over buckets; cumulative counts.
        const counts = bounds.map(() => new Float64Array(points));
        const sums = new Float64Array(points);
        const cum = new Float64Array(bounds.length);
        let sum = 0;
        for (let k = 0; k < points; k++) {
          const obs = 20 + Math.floor(rnd() * 40);
          for (let o = 0; o < obs; o++) {
            const x = Math.exp(Math.log(0.002) + rnd() * Math.log(5000) * (0.6 + h / 10));
            sum += x;
            for (let b = 0; b < bounds.length; b++) if (b === bounds.length - 1 || x <= Number(bounds[b])) cum[b]!++;
          }
          for (let b = 0; b < bounds.length; b++) counts[b]![k] = cum[b]!;
          sums[k] = Math.round(sum * 1000) / 1000;
        }
        bounds.forEach((le, b) => hist.series.push({ s: lbl('http_request_duration_seconds_bucket', [...common, ['le', le]]), value: (k) => counts[b]![k]!, offset }));
        hist.series.push({ s: lbl('http_request_duration_seconds_sum', common), value: (k) => sums[k]!, offset });
        hist.series.push({ s: lbl('http_request_duration_seconds_count', common), value: (k) => counts[bounds.length - 1]![k]!, offset });
      }
  fams.push(hist);

  const hosts = Array.from({ length: 10 }, (_, i) => `node${i}:9100`);
  const cpu: Family = { name: 'node_cpu_seconds', type: 'counter', series: [] };
  const modes = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
  for (const host of hosts)
    for (let c = 0; c < 4; c++)
      for (const mode of modes)
        cpu.series.push({ s: lbl('node_cpu_seconds_total', [['instance', host], ['job', 'node'], ['cpu', String(c)], ['mode', mode]]), value: counter(mode === 'idle' ? 0.7 : 0.04), offset: offsetFor() });
  fams.push(cpu);
  const g = (name: string, mk: (host: string) => [[string, string][], (k: number) => number][]): void => {
    const f: Family = { name, type: 'gauge', series: [] };
    for (const host of hosts) for (const [pairs, value] of mk(host)) f.series.push({ s: lbl(name, [['instance', host], ['job', 'node'], ...pairs]), value, offset: offsetFor() });
    fams.push(f);
  };
  g('node_memory_MemAvailable_bytes', () => [[[], gauge(8e9, 5e7)]]);
  g('node_memory_MemTotal_bytes', () => [[[], () => 16e9]]);
  const mounts = ['/', '/var', '/data'];
  g('node_filesystem_avail_bytes', () => mounts.map((m) => [[['mountpoint', m], ['device', `/dev/sd${mounts.indexOf(m)}`]], gauge(4e10, 2e8)]));
  g('node_filesystem_size_bytes', () => mounts.map((m) => [[['mountpoint', m], ['device', `/dev/sd${mounts.indexOf(m)}`]], () => 1e11]));
  g('node_load1', () => {
    const vals = Float64Array.from({ length: points }, (_, k) => Math.round((1 + Math.sin(k / 40) + rnd()) * 100) / 100);
    return [[[], (k) => vals[k]!]];
  });
  g('node_uname_info', (host) => [[[['nodename', host.split(':')[0]!], ['release', '6.1.0-18-amd64']], () => 1]]);
  for (const dir of ['receive', 'transmit']) {
    const f: Family = { name: `node_network_${dir}_bytes`, type: 'counter', series: [] };
    for (const host of hosts) for (const dev of ['eth0', 'lo']) f.series.push({ s: lbl(`node_network_${dir}_bytes_total`, [['instance', host], ['job', 'node'], ['device', dev]]), value: counter(dev === 'eth0' ? 1e5 : 1e3), offset: offsetFor() });
    fams.push(f);
  }
  return fams;
}

/** Sample k's timestamp for a series: per-series offset, ±1 s jitter, never on a 30 s step. */
function sampleTime(base: number, k: number, offset: number, jitterSeed: number): number {
  const j = ((k * 2654435761 + jitterSeed) >>> 0) % 3; // 0, 1, 2 → -1, 0, +1 s
  return base + k * STEP + offset + (j - 1) * 1000;
}

async function writeOpenMetrics(path: string, fams: Family[], base: number, points: number): Promise<number> {
  const out = createWriteStream(path);
  let lines = 0;
  let buf = '';
  const flush = async (): Promise<void> => {
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
    buf = '';
  };
  for (const f of fams) {
    buf += `# TYPE ${f.name} ${f.type}\n`;
    if (f.group !== undefined) {
      for (let gi = 0; gi < f.series.length; gi += f.group) {
        const grp = f.series.slice(gi, gi + f.group);
        for (let k = 0; k < points; k++) {
          const t = sampleTime(base, k, grp[0]!.offset, gi);
          for (const x of grp) buf += `${x.s.text} ${x.value(k)} ${t / 1000}\n`;
          lines += grp.length;
          if (buf.length > 1 << 20) await flush();
        }
      }
    } else {
      f.series.forEach((x, si) => {
        for (let k = 0; k < points; k++) buf += `${x.s.text} ${x.value(k)} ${sampleTime(base, k, x.offset, si) / 1000}\n`;
        lines += points;
      });
      await flush();
    }
  }
  buf += '# EOF\n';
  await flush();
  await new Promise<void>((r) => out.end(() => r()));
  return lines;
}

interface FlatSeries {
  labels: Labels;
  value: (k: number) => number;
  offset: number;
  seed: number;
}

/** Every series with its sample generator, in a fixed order. */
function flatten(fams: Family[]): FlatSeries[] {
  const all: FlatSeries[] = [];
  for (const f of fams) {
    if (f.group !== undefined) {
      for (let gi = 0; gi < f.series.length; gi += f.group) {
        const grp = f.series.slice(gi, gi + f.group);
        for (const x of grp) all.push({ labels: x.s.labels, value: x.value, offset: grp[0]!.offset, seed: gi });
      }
    } else f.series.forEach((x, si) => all.push({ labels: x.s.labels, value: x.value, offset: x.offset, seed: si }));
  }
  return all;
}

/**
 * Pushes the samples into a Sextant server through its remote-write receiver, time-major
 * (every series' samples k..k+19 per request), as a sender would.
 */
async function loadServer(url: string, fams: Family[], base: number, points: number): Promise<void> {
  const all = flatten(fams);
  const labelPairs = all.map((x) => {
    const out: { name: string; value: string }[] = [];
    x.labels.forEach((name, value) => out.push({ name, value }));
    return out;
  });
  const K = 20;
  for (let k0 = 0; k0 < points; k0 += K) {
    const k1 = Math.min(points, k0 + K);
    const batch = all.map((x, i) => {
      const samples: { value: number; timestamp: number }[] = [];
      for (let k = k0; k < k1; k++) samples.push({ value: x.value(k), timestamp: sampleTime(base, k, x.offset, x.seed) });
      return { labels: labelPairs[i]!, samples };
    });
    const res = await fetch(`${url}/api/v1/write`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
      body: snappy.compress(encodeWriteRequest(batch)),
    });
    if (res.status !== 204) throw new Error(`remote write into Sextant: ${res.status} ${await res.text()}`);
  }
}

/** Appends in time order, one commit per 30 s round (as scrapes would), into a default Head. */
function loadHead(fams: Family[], base: number, points: number): Head {
  const head = new Head();
  const all = flatten(fams);
  const refs = new Array<number>(all.length).fill(0);
  for (let k = 0; k < points; k++) {
    const app = head.appender();
    for (let i = 0; i < all.length; i++) {
      const x = all[i]!;
      refs[i] = app.append(refs[i]!, x.labels, sampleTime(base, k, x.offset, x.seed), x.value(k));
    }
    app.commit();
  }
  return head;
}


/**
 * Where 2.42 and 3.x differ by design, the Sextant query that reproduces 2.42's result, used
 * only for the identity check (timings are always of the query itself). 2.42 closes subquery
 * ranges at both ends; 3.x leaves the start open, and subquery steps are aligned, so the step
 * exactly 1 h back is in 2.42's window but not in 3.x's: widening by 1 ms includes it.
 */
const COMPAT_242: Record<string, string> = {
  'max_over_time(rate(http_requests_total{job="api",status="500"}[5m])[1h:1m])':
    'max_over_time(rate(http_requests_total{job="api",status="500"}[5m])[3600001ms:1m])',
};

const QUERIES: string[] = [
  'sum by (job) (rate(http_requests_total[5m]))',
  'sum by (job, status) (rate(http_requests_total[5m]))',
  'sum by (handler) (rate(http_requests_total{job="api",status=~"5.."}[5m]))',
  'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))',
  'sum by (job) (rate(http_request_duration_seconds_sum[5m])) / sum by (job) (rate(http_request_duration_seconds_count[5m]))',
  'topk(10, sum by (instance) (rate(http_requests_total[5m])))',
  'bottomk(5, sum by (handler) (rate(http_requests_total[5m])))',
  'quantile by (job) (0.9, rate(http_requests_total[5m]))',
  'increase(http_requests_total{job="auth",method="POST"}[1h])',
  'sum by (status) (rate(http_requests_total[5m])) / ignoring(status) group_left sum(rate(http_requests_total[5m]))',
  'max_over_time(rate(http_requests_total{job="api",status="500"}[5m])[1h:1m])',
  'count by (job) (http_requests_total)',
  'absent(http_requests_total{job="missing"})',
  '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))',
  'sum without (cpu) (rate(node_cpu_seconds_total[5m]))',
  'avg_over_time(node_memory_MemAvailable_bytes[10m])',
  'node_memory_MemAvailable_bytes * on(instance) group_left(nodename) node_uname_info',
  'label_replace(sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])), "host", "$1", "instance", "([^:]+):.*")',
  'node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.45',
  'predict_linear(node_filesystem_avail_bytes[1h], 4 * 3600)',
  'sum by (instance) (irate(node_network_receive_bytes_total{device!="lo"}[5m]))',
  'stddev_over_time(node_load1[30m])',
  'deriv(node_memory_MemAvailable_bytes[15m])',
  'count(count by (instance) (node_cpu_seconds_total))',
];

interface Result {
  /** labels text → timestamps/values */
  series: Map<string, { t: number[]; v: number[] }>;
  scalar?: { t: number; v: number };
}

function fromSextant(v: QueryValue): Result {
  const series = new Map<string, { t: number[]; v: number[] }>();
  if (v.type === 'matrix') for (const s of v.series) series.set(s.labels.toString(), { t: Array.from(s.t), v: Array.from(s.v) });
  else if (v.type === 'vector') for (const s of v.samples) series.set(s.labels.toString(), { t: [s.t], v: [s.v] });
  else if (v.type === 'scalar') return { series, scalar: { t: v.t, v: v.v } };
  return { series };
}

function parseFloatProm(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

function fromPrometheus(data: { resultType: string; result: unknown }): Result {
  const series = new Map<string, { t: number[]; v: number[] }>();
  if (data.resultType === 'matrix') {
    for (const s of data.result as { metric: Record<string, string>; values: [number, string][] }[]) {
      series.set(Labels.from(s.metric).toString(), { t: s.values.map((p) => Math.round(p[0] * 1000)), v: s.values.map((p) => parseFloatProm(p[1])) });
    }
  } else if (data.resultType === 'vector') {
    for (const s of data.result as { metric: Record<string, string>; value: [number, string] }[]) {
      series.set(Labels.from(s.metric).toString(), { t: [Math.round(s.value[0] * 1000)], v: [parseFloatProm(s.value[1])] });
    }
  }
  return { series };
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function diff(a: Result, b: Result): string[] {
  const out: string[] = [];
  for (const [k, s] of a.series) {
    const o = b.series.get(k);
    if (!o) {
      out.push(`only in sextant: ${k}`);
      continue;
    }
    if (s.t.length !== o.t.length) {
      out.push(`${k}: ${s.t.length} points in sextant, ${o.t.length} in prometheus`);
      continue;
    }
    for (let i = 0; i < s.t.length; i++) {
      if (s.t[i] !== o.t[i] || !close(s.v[i]!, o.v[i]!)) {
        out.push(`${k}: at ${s.t[i]} sextant ${s.v[i]} vs prometheus ${o.v[i]} (t ${o.t[i]})`);
        break;
      }
    }
  }
  for (const k of b.series.keys()) if (!a.series.has(k)) out.push(`only in prometheus: ${k}`);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The JSON the HTTP API would send (values as strings), to charge Sextant for encoding too. */
function encode(v: QueryValue): string {
  const fmt = (x: number): string => (x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : String(x));
  if (v.type === 'matrix') {
    return JSON.stringify({
      resultType: 'matrix',
      result: v.series.map((s) => ({ metric: s.labels.toObject(), values: Array.from(s.t, (t, i) => [t / 1000, fmt(s.v[i]!)]) })),
    });
  }
  if (v.type === 'vector') return JSON.stringify({ resultType: 'vector', result: v.samples.map((s) => ({ metric: s.labels.toObject(), value: [s.t / 1000, fmt(s.v)] })) });
  return JSON.stringify({ resultType: v.type, result: [v.t / 1000, String(v.v)] });
}

export async function run(args: string[]): Promise<void> {
  const hours = Number(arg(args, 'hours', '6'));
  const reps = Number(arg(args, 'reps', '5'));
  const only = new RegExp(arg(args, 'only', '.*'));
  const points = Math.round((hours * 3_600_000) / STEP);
  if (!existsSync('/usr/bin/prometheus') || !existsSync('/usr/bin/promtool')) {
    note('promql bench: /usr/bin/prometheus or /usr/bin/promtool missing; nothing to compare against');
    return;
  }
  // Fixed, 2h-aligned time base so the cached Prometheus data dir stays valid between runs.
  const base = 1_790_000_000_000 - (1_790_000_000_000 % 7_200_000);
  const dir = join(tmpdir(), `sextant-bench-promql-${hours}h`);
  const fams = buildFamilies(points);
  const nSeries = fams.reduce((a, f) => a + f.series.length, 0);
  note(`promql bench: ${nSeries} series × ${points} samples (${hours} h at 30 s)`);

  if (!existsSync(join(dir, 'ready'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'data'), { recursive: true });
    const om = join(dir, 'data.om');
    let t0 = performance.now();
    const lines = await writeOpenMetrics(om, fams, base, points);
    note(`wrote ${lines} OpenMetrics lines in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const r = spawnSync('/usr/bin/promtool', ['tsdb', 'create-blocks-from', 'openmetrics', om, join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`promtool failed: ${r.stderr.toString().slice(-2000)}`);
    note(`promtool backfill took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    rmSync(om);
    writeFileSync(join(dir, 'ready'), '');
  }

  const direct = args.includes('--direct');
  // Default: Sextant as its own server process (like Prometheus), loaded by remote write.
  // --in-process: the engine and query API inside this process over a Head (client and
  // server then share one thread); --direct: the engine alone, no HTTP.
  const inProcess = direct || args.includes('--in-process');
  let t0 = performance.now();
  let head: Head | undefined;
  let server: ServerProcess | undefined;
  if (inProcess) head = loadHead(fams, base, points);
  else {
    server = await startServer('sextant', { args: ['--web.enable-remote-write-receiver', '--storage.tsdb.retention.time=100y', '--query.max-samples=500000000'] });
    await loadServer(server.url, fams, base, points);
    await settled(server.url);
  }
  const loadMs = performance.now() - t0;
  note(`loaded Sextant ${inProcess ? 'head' : 'server (remote write)'} in ${(loadMs / 1000).toFixed(1)} s`);
  report({ bench: BENCH, name: inProcess ? 'load_head' : 'load_server', value: Math.round(loadMs), unit: 'ms', series: nSeries, samples: nSeries * points });

  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
  const prom = spawn(
    '/usr/bin/prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=100y', '--query.max-samples=500000000'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const engine = new Engine();
  setErrorClassifier(classifyEngineError);
  const app = Fastify();
  let sxUrl = server?.url ?? '';
  if (head) {
    await app.register(queryApi, { service: new EngineQueryService(engine, head, { format: (q) => q, toJson: (q) => q }), defaultTimeoutMs: 120_000 });
    sxUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  }
  try {
    await waitReady(url, prom, 120_000);
    const end = base + points * STEP - 5 * 60_000; // inside the data, 30 s aligned
    const start = end - 2 * 3_600_000;
    const httpQuery = async (base: string, q: string, instant: boolean): Promise<{ ms: number; res: Result }> => {
      const body = new URLSearchParams(instant ? { query: q, time: String(end / 1000) } : { query: q, start: String(start / 1000), end: String(end / 1000), step: '30' });
      const t = performance.now();
      const r = await fetch(`${base}/api/v1/${instant ? 'query' : 'query_range'}`, { method: 'POST', body });
      const json = (await r.json()) as { status: string; data: { resultType: string; result: unknown }; error?: string };
      const ms = performance.now() - t;
      if (json.status !== 'success') throw new Error(`${base}: ${q}: ${json.error}`);
      return { ms, res: fromPrometheus(json.data) };
    };
    const promQuery = (q: string, instant: boolean): Promise<{ ms: number; res: Result }> => httpQuery(url, q, instant);
    const sxQuery = async (q: string, instant: boolean): Promise<{ ms: number; res: Result }> => (direct ? sxDirect(q, instant) : httpQuery(sxUrl, q, instant));
    const sxDirect = (q: string, instant: boolean): { ms: number; res: Result } => {
      const t = performance.now();
      const r = instant ? engine.instant(head!, q, end) : engine.range(head!, q, start, end, STEP);
      encode(r.value);
      const ms = performance.now() - t;
      return { ms, res: fromSextant(r.value) };
    };
    // The two stores must hold the same samples: count and sum every series over all the data.
    const dataEnd = base + points * STEP + 60_000;
    const names = [...new Set(fams.flatMap((f) => f.series.map((x) => x.s.labels.metricName())))];
    let dataDiffs = 0;
    for (const q of names.flatMap((n) => [`count_over_time(${n}[${hours * 60 + 2}m])`, `sum_over_time(${n}[${hours * 60 + 2}m])`])) {
      const body = new URLSearchParams({ query: q, time: String(dataEnd / 1000) });
      const json = (await (await fetch(`${url}/api/v1/query`, { method: 'POST', body })).json()) as { data: { resultType: string; result: unknown } };
      const sxJson = (await (await fetch(`${sxUrl}/api/v1/query`, { method: 'POST', body })).json()) as { data: { resultType: string; result: unknown } };
      const d = diff(fromPrometheus(sxJson.data), fromPrometheus(json.data));
      if (d.length > 0) {
        dataDiffs++;
        note(`DATA DIFF ${q}:\n  ${d.slice(0, 5).join('\n  ')} (${d.length} series)`);
      }
    }
    note(`data check (count_over_time and sum_over_time of every metric over all data): ${dataDiffs === 0 ? 'identical' : `${dataDiffs} differences`}`);
    // Warm-up both (JIT, page cache).
    for (const q of QUERIES.slice(0, 3)) {
      await promQuery(q, false);
      await sxQuery(q, false);
    }
    const ratios: number[] = [];
    const rows: string[] = [];
    let differences = 0;
    for (const [qi, q] of QUERIES.entries()) {
      if (!only.test(q)) continue;
      for (const instant of [false, true]) {
        const pt: number[] = [];
        const st: number[] = [];
        let pres: Result | undefined;
        let sres: Result | undefined;
        for (let r = 0; r < reps; r++) {
          const p = await promQuery(q, instant);
          const s = await sxQuery(q, instant);
          pt.push(p.ms);
          st.push(s.ms);
          pres = p.res;
          sres = s.res;
        }
        let d = diff(sres!, pres!);
        const compat = COMPAT_242[q];
        if (d.length > 0 && compat !== undefined) {
          const c = diff((await sxQuery(compat, instant)).res, pres!);
          note(`${instant ? 'instant' : 'range'} ${q}: ${d.length} series differ from 2.42 (3.x left-open subquery range); with 2.42's closed range (${compat}): ${c.length === 0 ? 'identical' : `${c.length} still differ`}`);
          d = c;
        }
        if (d.length > 0) {
          differences++;
          note(`DIFF ${instant ? 'instant' : 'range'} ${q}:\n  ${d.slice(0, 5).join('\n  ')}${d.length > 5 ? `\n  … ${d.length - 5} more` : ''}`);
        }
        const pm = median(pt);
        const sm = median(st);
        const ratio = sm / pm;
        ratios.push(ratio);
        const kind = instant ? 'instant' : 'range';
        report({ bench: BENCH, name: `q${qi + 1}_${kind}_sextant`, value: Number(sm.toFixed(2)), unit: 'ms', query: q });
        report({ bench: BENCH, name: `q${qi + 1}_${kind}_prometheus`, value: Number(pm.toFixed(2)), unit: 'ms', query: q });
        report({ bench: BENCH, name: `q${qi + 1}_${kind}_ratio`, value: Number(ratio.toFixed(3)), unit: 'x', identical: d.length === 0 });
        rows.push(`| ${qi + 1} | ${kind} | ${sm.toFixed(1)} | ${pm.toFixed(1)} | ${ratio.toFixed(2)} | ${d.length === 0 ? 'yes' : 'NO'} | \`${q}\` |`);
      }
    }
    report({ bench: BENCH, name: 'median_ratio', value: Number(median(ratios).toFixed(3)), unit: 'x' });
    report({ bench: BENCH, name: 'max_ratio', value: Number(Math.max(...ratios).toFixed(3)), unit: 'x' });
    report({ bench: BENCH, name: 'queries_with_differences', value: differences, unit: 'count' });
    note(['| # | kind | sextant ms | prometheus ms | ratio | identical | query |', '|---|---|---|---|---|---|---|', ...rows].join('\n'));
  } finally {
    await app.close();
    await server?.stop();
    prom.kill('SIGTERM');
    await new Promise((r) => (prom.exitCode !== null ? r(undefined) : prom.once('exit', r)));
    head?.close();
  }
}
