/**
 * `npm run bench -- remote-write-receive [--series N] [--samples-per-series N] [--concurrency N]`:
 * the same pre-built remote-write requests (snappy-compressed WriteRequests of 2,000 samples,
 * Prometheus's default max_samples_per_send, series split over shards as a sender does) posted to
 * Sextant's and to Prometheus 2.42's `/api/v1/write` in the same run. Reported: samples/s
 * accepted by each, server CPU seconds per million samples, and the ratios.
 */
import { request } from 'node:http';
import snappy from 'snappyjs';
import { encodeWriteRequest, type WriteSeries } from '../src/remote/codec.js';
import { report, note } from './report.js';
import { havePrometheus, startServer, type ServerProcess } from './_servers.js';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

const PER_REQUEST = 2000;

/**
 * node_exporter-like series, values evolving like counters. Series are split over `shards` as a
 * sender's queue manager does (each series always in the same shard, in time order), so
 * concurrent requests never race on one series.
 */
function buildRequests(series: number, perSeries: number, start: number, shards: number): Buffer[][] {
  const labels = Array.from({ length: series }, (_, s) => [
    { name: '__name__', value: `node_metric_${s % 300}_total` },
    { name: 'cpu', value: String(s % 8) },
    { name: 'instance', value: `host-${Math.floor(s / 300)}:9100` },
    { name: 'job', value: 'node' },
  ]);
  const values = new Float64Array(series).map((_, s) => s * 1000);
  const out: Buffer[][] = Array.from({ length: shards }, () => []);
  const batches: WriteSeries[][] = Array.from({ length: shards }, () => []);
  const flush = (shard: number) => {
    if (batches[shard]!.length === 0) return;
    out[shard]!.push(Buffer.from(snappy.compress(encodeWriteRequest(batches[shard]!))));
    batches[shard] = [];
  };
  for (let k = 0; k < perSeries; k++) {
    const t = start + k * 1000;
    for (let s = 0; s < series; s++) {
      values[s] += (s % 5) + 0.25;
      const shard = s % shards;
      batches[shard]!.push({ labels: labels[s]!, samples: [{ value: values[s]!, timestamp: t }] });
      if (batches[shard]!.length === PER_REQUEST) flush(shard);
    }
  }
  for (let shard = 0; shard < shards; shard++) flush(shard);
  return out;
}

function post(base: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/api/v1/write`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-protobuf',
          'Content-Encoding': 'snappy',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
          'Content-Length': body.length,
        },
        agent: keepAlive,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

import { Agent } from 'node:http';
const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 });

/** Sends every shard's requests in order, the shards concurrently. */
async function send(server: ServerProcess, shards: Buffer[][]): Promise<{ seconds: number; cpu: number; failed: number }> {
  const cpu0 = server.cpuSeconds();
  const t0 = performance.now();
  let failed = 0;
  await Promise.all(
    shards.map(async (requests) => {
      for (const body of requests) {
        const status = await post(server.url, body);
        if (status !== 204 && status !== 200) failed++;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, cpu: server.cpuSeconds() - cpu0, failed };
}

export async function run(args: string[]): Promise<void> {
  const series = arg(args, 'series', 10_000);
  const perSeries = arg(args, 'samples-per-series', 100);
  const concurrency = arg(args, 'concurrency', 4);
  const start = Date.now() - perSeries * 1000 - 60_000;
  const shards = buildRequests(series, perSeries, start, concurrency);
  const samples = series * perSeries;
  note(`remote-write-receive: ${shards.reduce((n, s) => n + s.length, 0)} requests, ${samples} samples, ${concurrency} shards`);

  const servers: ServerProcess[] = [];
  try {
    servers.push(await startServer('sextant', { args: ['--web.enable-remote-write-receiver'] }));
    if (havePrometheus()) servers.push(await startServer('prometheus', { args: ['--web.enable-remote-write-receiver'] }));
    else note('remote-write-receive: /usr/bin/prometheus missing; Sextant only');
    const rate: Record<string, number> = {};
    for (const s of servers) {
      const r = await send(s, shards);
      if (r.failed > 0) note(`${s.name}: ${r.failed} requests not accepted`);
      rate[s.name] = samples / r.seconds;
      const prefix = s.name === 'sextant' ? '' : 'prometheus_';
      report({ bench: 'remote-write-receive', name: `${prefix}samples_per_sec`, value: Math.round(samples / r.seconds), unit: 'samples/s', server: s.name });
      report({ bench: 'remote-write-receive', name: `${prefix}cpu_seconds_per_million_samples`, value: Math.round((r.cpu / samples) * 1e6 * 100) / 100, unit: 's', server: s.name });
      report({ bench: 'remote-write-receive', name: `${prefix}rss_bytes_after`, value: s.rssBytes(), unit: 'bytes', server: s.name });
      report({ bench: 'remote-write-receive', name: `${prefix}failed_requests`, value: r.failed, unit: 'requests', server: s.name });
    }
    if (rate.prometheus) {
      report({ bench: 'remote-write-receive', name: 'samples_per_sec_ratio', value: Math.round((rate.sextant! / rate.prometheus) * 100) / 100, unit: 'sextant/prometheus' });
    }
  } finally {
    keepAlive.destroy();
    for (const s of servers) await s.stop();
  }
}
