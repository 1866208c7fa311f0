/**
 * storage: the time-series store on two data sets.
 *
 *  - `node-1s`: the real recording (../shared/fixtures/datasets: 2,700 node_exporter scrapes
 *    at 1 s, ~500 series each).
 *  - `synthetic-15s`: the series of ../shared/fixtures/exposition/node_exporter-1.5.0.txt
 *    replicated over many instances, scraped every 15 s for 4 h; each series' values follow a
 *    series of the recording (same series text, else same metric name) every 15th scrape,
 *    each instance at its own offset; counters keep growing across wrap-arounds.
 *
 * Figures: bytes_per_sample (block files after persisting everything ÷ samples) and the same
 * for Prometheus 2.42 (`promtool tsdb create-blocks-from openmetrics` on the very same
 * samples) and their ratio; append_samples_per_sec (Storage appender, WAL on, one commit per
 * scrape); wal_replay_samples_per_sec; select_samples_per_sec (all series over head + blocks);
 * head_bytes_per_series (RSS growth at 1,000,000 series, in a child process with --expose-gc).
 *
 * `npm run bench -- storage`; `SEXTANT_BENCH_SCALE=2` doubles the synthetic instances (default
 * 20 instances = 10,100 series; the memory figure always uses 1,000,000 series unless
 * SEXTANT_BENCH_HEAD_SERIES is set); `SEXTANT_BENCH_SKIP_PROMTOOL=1` skips Prometheus.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fork, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { Head, Labels, LabelsBuilder, Matcher, ValueType, openStorage, type Storage } from '../storage/index.js';
import { note, report } from './report.js';

const BENCH = 'storage';
const here = fileURLToPath(import.meta.url);
const FIXTURES = process.env.SEXTANT_FIXTURES ?? join(here, '..', '..', '..', '..', 'shared', 'fixtures');
const RECORDING = join(FIXTURES, 'datasets', 'node-exporter-1.5.0-1s-45m.scrapes.gz');
const EXPOSITION = join(FIXTURES, 'exposition', 'node_exporter-1.5.0.txt');
const PROMTOOL = '/usr/bin/promtool';
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Wall and CPU seconds of `fn` (this process, user + system). On the shared build machine
 * other jobs steal the cores, so rates are reported per CPU second ("one core"), with the
 * wall-clock time alongside.
 */
function timed<T>(fn: () => T): { result: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { result, wall, cpu: (c.user + c.system) / 1e6 };
}

// ------------------------------------------------------------------ exposition parsing

/** `name{a="b",…}` → labels (plus `extra`). Minimal text-format parsing for node_exporter output. */
function parseSeries(key: string, extra: readonly string[]): Labels {
  const b = new LabelsBuilder();
  const brace = key.indexOf('{');
  b.set('__name__', brace < 0 ? key : key.slice(0, brace));
  if (brace >= 0) {
    let p = brace + 1;
    while (p < key.length && key[p] !== '}') {
      const eq = key.indexOf('=', p);
      const name = key.slice(p, eq).trim();
      let v = '';
      let q = eq + 2; // after ="
      for (; q < key.length && key[q] !== '"'; q++) {
        if (key[q] === '\\') {
          q++;
          v += key[q] === 'n' ? '\n' : key[q];
        } else v += key[q];
      }
      b.set(name, v);
      p = q + 1;
      if (key[p] === ',') p++;
    }
  }
  for (let i = 0; i + 1 < extra.length; i += 2) b.set(extra[i]!, extra[i + 1]!);
  return b.labels();
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

/** Splits a sample line into its series text and value (no timestamps in these payloads). */
function splitLine(line: string): [string, number] | undefined {
  if (line === '' || line[0] === '#') return undefined;
  const end = line.lastIndexOf('}');
  const sp = line.indexOf(' ', end < 0 ? 0 : end);
  if (sp < 0) return undefined;
  return [line.slice(0, sp), parseValue(line.slice(sp + 1).trim().split(' ')[0]!)];
}

interface Recording {
  keys: string[];
  monotonic: boolean[];
  times: number[];
  /** values[series][scrape], NaN-boxed absence as undefined via `present`. */
  values: Float64Array[];
  present: Uint8Array[];
  samples: number;
}

function loadRecording(): Recording {
  const text = gunzipSync(fs.readFileSync(RECORDING)).toString('utf8');
  const keys: string[] = [];
  const index = new Map<string, number>();
  const types = new Map<string, string>();
  const times: number[] = [];
  const cols: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> | undefined;
  let samples = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('# SCRAPE ')) {
      times.push(Number(line.slice(9)));
      cur = [];
      cols.push(cur);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    const s = splitLine(line);
    if (s === undefined || cur === undefined) continue;
    let i = index.get(s[0]);
    if (i === undefined) {
      i = keys.length;
      index.set(s[0], i);
      keys.push(s[0]);
    }
    cur.push([i, s[1]]);
    samples++;
  }
  const n = times.length;
  const values = keys.map(() => new Float64Array(n));
  const present = keys.map(() => new Uint8Array(n));
  cols.forEach((col, j) => {
    for (const [i, v] of col) {
      values[i]![j] = v;
      present[i]![j] = 1;
    }
  });
  const monotonic = keys.map((k) => {
    const name = k.split('{')[0]!;
    const base = name.replace(/_(total|count|sum|bucket)$/, '');
    return types.get(name) === 'counter' || /_(total|count|sum|bucket)$/.test(name) || (types.get(base) ?? '') === 'summary' || (types.get(base) ?? '') === 'histogram';
  });
  return { keys, monotonic, times, values, present, samples };
}

// ------------------------------------------------------------------ data sets as scrapes

/** One data set: series labels and a generator of scrapes (t, series indices, values). */
interface DataSet {
  name: string;
  labels: Labels[];
  scrapes(fn: (t: number, idx: Int32Array, vals: Float64Array, n: number) => void): void;
  samples: number;
  mint: number;
  maxt: number;
}

function realDataSet(rec: Recording): DataSet {
  const labels = rec.keys.map((k) => parseSeries(k, ['job', 'node', 'instance', 'localhost:9100']));
  return {
    name: 'node-1s',
    labels,
    samples: rec.samples,
    mint: rec.times[0]!,
    maxt: rec.times.at(-1)!,
    scrapes(fn) {
      const idx = new Int32Array(rec.keys.length);
      const vals = new Float64Array(rec.keys.length);
      for (let j = 0; j < rec.times.length; j++) {
        let n = 0;
        for (let i = 0; i < rec.keys.length; i++) {
          if (rec.present[i]![j]) {
            idx[n] = i;
            vals[n++] = rec.values[i]![j]!;
          }
        }
        fn(rec.times[j]!, idx, vals, n);
      }
    },
  };
}

function syntheticDataSet(rec: Recording, instances: number, hours: number): DataSet {
  const lines = fs.readFileSync(EXPOSITION, 'utf8').split('\n').map(splitLine).filter((x): x is [string, number] => x !== undefined);
  const recIndex = new Map(rec.keys.map((k, i) => [k, i]));
  const byName = new Map<string, number>();
  rec.keys.forEach((k, i) => {
    const name = k.split('{')[0]!;
    if (!byName.has(name)) byName.set(name, i);
  });
  const src = lines.map(([k]) => recIndex.get(k) ?? byName.get(k.split('{')[0]!) ?? -1);
  const labels: Labels[] = [];
  for (let k = 0; k < instances; k++) {
    const inst = `node-${String(k).padStart(4, '0')}.example.internal:9100`;
    for (const [key] of lines) labels.push(parseSeries(key, ['job', 'node', 'instance', inst]));
  }
  const step = 15_000;
  const scrapes = (hours * 3_600_000) / step;
  const t0 = 1_795_477_200_000; // 2026-11-23T08:20:00Z, 2 h aligned
  const N = rec.times.length;
  const per = lines.length;
  return {
    name: 'synthetic-15s',
    labels,
    samples: scrapes * labels.length,
    mint: t0,
    maxt: t0 + (scrapes - 1) * step,
    scrapes(fn) {
      const idx = new Int32Array(labels.length);
      const vals = new Float64Array(labels.length);
      for (let s = 0; s < scrapes; s++) {
        // All instances scraped within the same 15 s, each at its own phase and ms jitter.
        let n = 0;
        for (let k = 0; k < instances; k++) {
          const pos = s * 15 + k * 37;
          const j = pos % N, wraps = Math.floor(pos / N);
          for (let q = 0; q < per; q++) {
            const r = src[q]!;
            let v = lines[q]![1];
            if (r >= 0 && rec.present[r]![j]) {
              v = rec.values[r]![j]!;
              if (rec.monotonic[r] && wraps > 0) v += wraps * (rec.values[r]![N - 1]! - rec.values[r]![0]!);
            }
            idx[n] = k * per + q;
            vals[n++] = v;
          }
        }
        fn(t0 + s * step, idx, vals, n);
      }
    },
  };
}

// ------------------------------------------------------------------ measurements

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

/** Appends a data set (one commit per scrape per instance, refs cached as a scrape cache does). */
function appendAll(db: Storage, ds: DataSet, jitter: boolean): number {
  const refs = new Float64Array(ds.labels.length);
  let samples = 0;
  const batch = 505;
  ds.scrapes((t, idx, vals, n) => {
    for (let a = 0; a < n; a += batch) {
      const app = db.appender();
      const end = Math.min(n, a + batch);
      const tj = jitter ? t + ((a / batch) % 7) * 3 : t;
      for (let i = a; i < end; i++) {
        const s = idx[i]!;
        refs[s] = app.append(refs[s]!, ds.labels[s]!, tj, vals[i]!);
      }
      app.commit();
      samples += end - a;
    }
  });
  return samples;
}

function selectAll(db: Storage, mint: number, maxt: number): { samples: number; series: number } {
  const q = db.querier(mint, maxt);
  const ss = q.select([new Matcher('=~', '__name__', '.+')], mint, maxt);
  let samples = 0, series = 0, sum = 0;
  while (ss.next()) {
    series++;
    const it = ss.at().iterator();
    while (it.next() !== ValueType.None) {
      samples++;
      sum += it.atT();
    }
  }
  q.close();
  if (sum === 0) note('(no samples selected)');
  return { samples, series };
}

function formatOM(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v !== v) return 'NaN';
  return String(v);
}

function labelsOM(l: Labels): string {
  const parts: string[] = [];
  l.forEach((n, v) => {
    if (n !== '__name__') parts.push(`${n}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  });
  return `${l.metricName()}{${parts.join(',')}}`;
}

/** Writes the data set as OpenMetrics and backfills it with promtool; returns the blocks' bytes. */
function prometheusBytes(ds: DataSet, work: string, jitter: boolean): number | undefined {
  if (!fs.existsSync(PROMTOOL) || process.env.SEXTANT_BENCH_SKIP_PROMTOOL === '1') {
    note(`${PROMTOOL} missing or skipped: no Prometheus comparison`);
    return undefined;
  }
  const file = join(work, `${ds.name}.om`);
  const out = join(work, `${ds.name}-prom`);
  const fd = fs.openSync(file, 'w');
  const texts = ds.labels.map(labelsOM);
  let buf: string[] = [];
  let size = 0;
  const flush = (): void => {
    fs.writeSync(fd, buf.join(''));
    buf = [];
    size = 0;
  };
  ds.scrapes((t, idx, vals, n) => {
    for (let i = 0; i < n; i++) {
      const tj = jitter ? t + ((Math.floor(i / 505)) % 7) * 3 : t;
      const line = `${texts[idx[i]!]} ${formatOM(vals[i]!)} ${(tj / 1000).toFixed(3)}\n`;
      buf.push(line);
      size += line.length;
      if (size > 1 << 22) flush();
    }
  });
  buf.push('# EOF\n');
  flush();
  fs.closeSync(fd);
  const t0 = performance.now();
  const r = spawnSync(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', '-q', file, out], { encoding: 'utf8', maxBuffer: 1 << 26 });
  fs.rmSync(file, { force: true });
  if (r.status !== 0) {
    note(`promtool failed (${r.status}): ${(r.stderr ?? '').slice(0, 2000)}`);
    return undefined;
  }
  note(`promtool backfill of ${ds.name}: ${round((performance.now() - t0) / 1000, 1)} s`);
  const bytes = dirBytes(out);
  fs.rmSync(out, { recursive: true, force: true });
  return bytes;
}

/** Persists everything (2 h blocks, then the rest of the head) into `snap`; returns block bytes. */
function blocksBytes(db: Storage, snap: string): number {
  db.compact();
  db.snapshot(snap);
  return dirBytes(join(snap, 'blocks'));
}

async function bytesFigures(ds: DataSet, work: string, jitter: boolean): Promise<void> {
  const dir = join(work, `${ds.name}-db`);
  const db = await openStorage({ dir, compactInterval: 0 });
  await db.ready;
  const ap = timed(() => appendAll(db, ds, jitter));
  const app = { samples: ap.result };
  note(`${ds.name}: ${ds.labels.length} series, ${app.samples} samples appended in ${round(ap.wall, 1)} s (${round(ap.cpu, 1)} s CPU)`);
  if (ds.name === 'synthetic-15s') report({ bench: BENCH, name: 'append_samples_per_sec', value: Math.round(app.samples / ap.cpu), unit: 'samples/s', dataset: ds.name, wall_samples_per_sec: Math.round(app.samples / ap.wall), note: 'per CPU second; Storage appender with WAL, one commit per 505-sample scrape' });
  await db.close();

  // Restart: replay the WAL.
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const db2 = await openStorage({ dir, compactInterval: 0 });
  await db2.ready;
  const replay = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const replayCpu = (cu.user + cu.system) / 1e6;
  if (ds.name === 'synthetic-15s') report({ bench: BENCH, name: 'wal_replay_samples_per_sec', value: Math.round(app.samples / replayCpu), unit: 'samples/s', dataset: ds.name, wall_seconds: round(replay), cpu_seconds: round(replayCpu) });

  const snap = join(work, `${ds.name}-snap`);
  const bw = timed(() => blocksBytes(db2, snap));
  const ours = bw.result;
  note(`${ds.name}: blocks written in ${round(bw.wall, 1)} s (${round(bw.cpu, 1)} s CPU; ${db2.blocks().length} persisted in place + the head)`);
  if (ds.name === 'synthetic-15s') report({ bench: BENCH, name: 'block_write_samples_per_sec', value: Math.round(app.samples / bw.cpu), unit: 'samples/s', dataset: ds.name, wall_seconds: round(bw.wall), note: 'head -> 2 h blocks (re-chunked, deflated, fsynced) + WAL checkpoint' });
  const ourBps = ours / app.samples;
  report({ bench: BENCH, name: 'bytes_per_sample', value: round(ourBps, 3), unit: 'bytes', dataset: ds.name, samples: app.samples, bytes: ours });

  const st = timed(() => selectAll(db2, ds.mint, ds.maxt + 60_000));
  const sel = st.result;
  if (sel.samples !== app.samples) note(`select returned ${sel.samples} samples, expected ${app.samples}`);
  report({ bench: BENCH, name: 'select_samples_per_sec', value: Math.round(sel.samples / st.cpu), unit: 'samples/s', dataset: ds.name, wall_samples_per_sec: Math.round(sel.samples / st.wall), series: sel.series, blocks: db2.blocks().length });
  await db2.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (process.env.SEXTANT_BENCH_KEEP) fs.cpSync(snap, join(process.env.SEXTANT_BENCH_KEEP, ds.name), { recursive: true });
  fs.rmSync(snap, { recursive: true, force: true });

  const prom = prometheusBytes(ds, work, jitter);
  if (prom !== undefined) {
    const promBps = prom / app.samples;
    report({ bench: BENCH, name: 'prometheus_bytes_per_sample', value: round(promBps, 3), unit: 'bytes', dataset: ds.name, bytes: prom });
    report({ bench: BENCH, name: 'bytes_per_sample_ratio', value: round(ourBps / promBps, 3), unit: 'ratio', dataset: ds.name, target: 0.8 });
  }
}

// ------------------------------------------------------------------ head memory (child)

async function headMemoryChild(seriesWanted: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const lines = fs.readFileSync(EXPOSITION, 'utf8').split('\n').map(splitLine).filter((x): x is [string, number] => x !== undefined);
  const bases = lines.map(([k]) => parseSeries(k, ['job', 'node']));
  const instances = Math.ceil(seriesWanted / bases.length);
  gc();
  const before = process.memoryUsage().rss;
  const head = new Head();
  const refs = new Float64Array(seriesWanted);
  const labels: Labels[] = new Array(seriesWanted);
  const b = new LabelsBuilder();
  for (let s = 0; s < seriesWanted; s++) {
    const k = Math.floor(s / bases.length);
    labels[s] = b.reset(bases[s % bases.length]!).set('instance', `node-${String(k).padStart(5, '0')}.example.internal:9100`).labels();
  }
  // 120 scrapes at 15 s (30 minutes): every series has one full chunk (closed at 120 samples).
  const scrapes = Number(process.env.SEXTANT_BENCH_HEAD_SCRAPES ?? '120');
  const t0 = 1_795_477_200_000;
  for (let r = 0; r < scrapes; r++) {
    for (let k = 0; k < instances; k++) {
      const app = head.appender();
      const end = Math.min(seriesWanted, (k + 1) * bases.length);
      for (let s = k * bases.length; s < end; s++) refs[s] = app.append(refs[s]!, labels[s]!, t0 + r * 15_000 + (k % 5), lines[s % bases.length]![1] + r * (s % 3));
      app.commit();
    }
  }
  labels.length = 0; // the head holds its own references
  gc();
  const after = process.memoryUsage().rss;
  process.send!({ series: head.numSeries, bytes: after - before, scrapes, chunkBytes: head.chunkBytes });
}

async function headMemory(): Promise<void> {
  const series = Number(process.env.SEXTANT_BENCH_HEAD_SERIES ?? '1000000');
  const res = await new Promise<{ series: number; bytes: number; scrapes: number; chunkBytes: number }>((resolve, reject) => {
    const p = fork(here, ['--head-memory-child', String(series)], { execArgv: ['--expose-gc'] });
    p.on('message', (m) => resolve(m as { series: number; bytes: number; scrapes: number; chunkBytes: number }));
    p.on('error', reject);
    p.on('exit', (code) => code !== 0 && reject(new Error(`head memory child exited ${code}`)));
  });
  report({ bench: BENCH, name: 'head_bytes_per_series', value: Math.round(res.bytes / res.series), unit: 'bytes', series: res.series, samples_per_series: res.scrapes, chunk_bytes_per_series: Math.round(res.chunkBytes / res.series) });
}

export async function run(_args: string[]): Promise<void> {
  const scale = Number(process.env.SEXTANT_BENCH_SCALE ?? '1');
  const work = fs.mkdtempSync(join(os.tmpdir(), 'sextant-bench-storage-'));
  try {
    const t0 = performance.now();
    const rec = loadRecording();
    note(`recording: ${rec.keys.length} series, ${rec.times.length} scrapes, ${rec.samples} samples (${round((performance.now() - t0) / 1000, 1)} s to load)`);
    await bytesFigures(realDataSet(rec), work, false);
    await bytesFigures(syntheticDataSet(rec, Math.max(1, Math.round(20 * scale)), 4), work, true);
    await headMemory();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === here && process.argv[2] === '--head-memory-child') {
  await headMemoryChild(Number(process.argv[3]));
}
