/**
 * `npm run bench -- api [--series N] [--points N] [--repeats N]`: the same query_range answer
 * (default 1,000 series × 1,000 points at 15 s) served by Sextant and by Prometheus 2.42 from
 * the same samples, in the same run. Prometheus gets the samples by backfill (`promtool tsdb
 * create-blocks-from openmetrics`), Sextant through its remote-write receiver. Measured (with
 * curl as the client when installed): time to the last byte of the response over loopback,
 * plain and gzip (compressed bytes, not decompressed), median of the repeats, and the
 * ratio sextant/prometheus (goal: at most 1). The two bodies are compared byte for byte.
 */
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import snappy from 'snappyjs';
import { encodeWriteRequest, type WriteSeries } from '../src/remote/codec.js';
import { report, note } from './report.js';
import { havePrometheus, median, PROMTOOL, settled, startServer, type ServerProcess } from './_servers.js';

const STEP = 15_000;
const execFileAsync = promisify(execFile);
const HAVE_CURL = existsSync('/usr/bin/curl');

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** Counters with irregular increments, like real request counters. */
function dataset(series: number, points: number, start: number): { labels: Array<{ name: string; value: string }>; values: Float64Array }[] {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out = [];
  for (let s = 0; s < series; s++) {
    const values = new Float64Array(points);
    let v = Math.floor(rand() * 1e6);
    for (let k = 0; k < points; k++) {
      v += Math.floor(rand() * 50);
      values[k] = v;
    }
    out.push({
      labels: [
        { name: '__name__', value: 'bench_requests_total' },
        { name: 'code', value: ['200', '404', '500'][s % 3]! },
        { name: 'instance', value: `10.0.${(s >> 8) & 255}.${s & 255}:8080` },
        { name: 'job', value: 'api' },
      ],
      values,
    });
  }
  void start;
  return out;
}

function openMetrics(data: ReturnType<typeof dataset>, start: number): string {
  const parts: string[] = ['# TYPE bench_requests_total unknown\n'];
  for (const s of data) {
    const lbl = s.labels.slice(1).map((l) => `${l.name}="${l.value}"`).join(',');
    for (let k = 0; k < s.values.length; k++) parts.push(`bench_requests_total{${lbl}} ${s.values[k]} ${(start + k * STEP) / 1000}\n`);
  }
  parts.push('# EOF\n');
  return parts.join('');
}

/** Pushes the samples in time order (all series of a slice of timestamps per request), as a sender would. */
async function remoteWrite(url: string, data: ReturnType<typeof dataset>, start: number): Promise<void> {
  const points = data[0]!.values.length;
  const perRequest = Math.max(1, Math.floor(100_000 / data.length));
  for (let k0 = 0; k0 < points; k0 += perRequest) {
    const k1 = Math.min(points, k0 + perRequest);
    const batch: WriteSeries[] = data.map((s) => {
      const samples = [];
      for (let k = k0; k < k1; k++) samples.push({ value: s.values[k]!, timestamp: start + k * STEP });
      return { labels: s.labels, samples };
    });
    const res = await fetch(`${url}/api/v1/write`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
      body: snappy.compress(encodeWriteRequest(batch)),
    });
    if (res.status !== 204) throw new Error(`remote write into Sextant failed: ${res.status} ${await res.text()}`);
  }
}

/**
 * Time to the last byte as curl measures it (a native client, so the figure is the server's
 * and the loopback's, not this process's JSON-reading speed); falls back to Node's client.
 */
async function curlTime(base: string, path: string, gzip: boolean): Promise<number> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', ...(gzip ? ['-H', 'Accept-Encoding: gzip'] : []), `${base}${path}`];
  const { stdout } = await execFileAsync('curl', args);
  const [code, total] = stdout.trim().split(' ');
  if (code !== '200') throw new Error(`${base}${path}: HTTP ${code}`);
  return Number(total) * 1000;
}

/** GETs `path`, reading every byte; resolves to the wall time (ms) and the raw body. */
function timeToLastByte(base: string, path: string, gzip: boolean): Promise<{ ms: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${base}${path}`, { headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${base}${path}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 500)}`));
        else resolve({ ms: performance.now() - t0, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function run(args: string[]): Promise<void> {
  if (!havePrometheus()) {
    note('api bench: /usr/bin/prometheus or promtool missing (apt-get install prometheus); nothing to compare against');
    return;
  }
  const series = arg(args, 'series', 1000);
  const points = arg(args, 'points', 1000);
  const repeats = arg(args, 'repeats', 15);
  const end = Math.floor((Date.now() - 15 * 60_000) / STEP) * STEP;
  const start = end - (points - 1) * STEP;
  const data = dataset(series, points, start);
  note(`api bench: ${series} series × ${points} points`);

  let prom: ServerProcess | undefined;
  let sextant: ServerProcess | undefined;
  try {
    prom = await startServer('prometheus', {
      prepare: (dir) => {
        const om = join(dir, 'data.om');
        writeFileSync(om, openMetrics(data, start));
        const r = spawnSync(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', '-q', om, join(dir, 'data')], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`promtool: ${r.stderr}`);
      },
    });
    sextant = await startServer('sextant', { args: ['--web.enable-remote-write-receiver'] });
    await remoteWrite(sextant.url, data, start);
    await settled(sextant.url);

    const path = `/api/v1/query_range?query=bench_requests_total&start=${start / 1000}&end=${end / 1000}&step=15`;
    const [a, b] = await Promise.all([timeToLastByte(sextant.url, path, false), timeToLastByte(prom.url, path, false)]);
    const identical = a.body.equals(b.body);
    if (!identical) note(`api bench: bodies differ (sextant ${a.body.length} B, prometheus ${b.body.length} B)`);
    report({ bench: 'api', name: 'response_bytes', value: a.body.length, unit: 'bytes' });
    report({ bench: 'api', name: 'responses_identical', value: identical ? 1 : 0, unit: 'bool' });

    for (const gzip of [false, true]) {
      const times: Record<string, number[]> = { sextant: [], prometheus: [] };
      for (let i = 0; i < repeats; i++) {
        // Alternate the order so neither server always runs on a warmer machine.
        for (const s of i % 2 ? [prom, sextant] : [sextant, prom]) {
          times[s.name]!.push(HAVE_CURL ? await curlTime(s.url, path, gzip) : (await timeToLastByte(s.url, path, gzip)).ms);
        }
      }
      const sx = median(times.sextant!);
      const pr = median(times.prometheus!);
      const suffix = gzip ? '_gzip' : '';
      report({ bench: 'api', name: `query_range_ttlb_ms${suffix}`, value: Math.round(sx * 10) / 10, unit: 'ms', server: 'sextant' });
      report({ bench: 'api', name: `prometheus_query_range_ttlb_ms${suffix}`, value: Math.round(pr * 10) / 10, unit: 'ms', server: 'prometheus' });
      report({ bench: 'api', name: `query_range_ttlb_ratio${suffix}`, value: Math.round((sx / pr) * 100) / 100, unit: 'sextant/prometheus' });
    }
  } finally {
    await sextant?.stop();
    await prom?.stop();
  }
}
