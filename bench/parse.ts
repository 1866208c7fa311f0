/**
 * parse: throughput of the exposition parsers over real payloads.
 *
 * For each payload (the node_exporter scrape as text, as OpenMetrics and as protobuf, plus the
 * other text fixtures) two loops run for a fixed time after a warm-up:
 *  - `cache`: next() + seriesKey() + value(), what a scrape whose cache knows every series does;
 *  - `full`:  next() + seriesKey() + labels(builder) + value(), a scrape with a cold cache.
 * Figures (per CPU second of this process, GC included): samples/s, MB/s of body, ns/sample,
 * and the ratio to Prometheus's text parser at ~200 MiB/s on a fast core (issue 3).
 *
 * `npm run bench -- parse [--seconds S]`
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { OpenMetricsParser, PromTextParser, ProtobufParser, type MetricParser } from '../src/exposition/index.js';
import { LabelsBuilder } from '../storage/index.js';
import { note, report } from './report.js';

const BENCH = 'parse';
const root = new URL('../../', import.meta.url).pathname; // dist/bench/ → repo root
const FIX = root + '../shared/fixtures/exposition/';

interface Payload {
  name: string;
  body: Buffer;
  make: (b: Buffer) => MetricParser;
}

const PAYLOADS: Payload[] = [
  { name: 'node_exporter.text', body: readFileSync(FIX + 'node_exporter-1.5.0.txt'), make: (b) => new PromTextParser(b) },
  { name: 'node_exporter.om', body: readFileSync(root + 'test/exposition/testdata/node_exporter-1.5.0.om.txt'), make: (b) => new OpenMetricsParser(b) },
  { name: 'node_exporter.proto', body: readFileSync(FIX + 'node_exporter-1.5.0.pb'), make: (b) => new ProtobufParser(b) },
  { name: 'prometheus.text', body: readFileSync(FIX + 'prometheus-2.42.0.txt'), make: (b) => new PromTextParser(b) },
  { name: 'alertmanager.text', body: readFileSync(FIX + 'alertmanager-0.25.0.txt'), make: (b) => new PromTextParser(b) },
  { name: 'pushgateway.text', body: readFileSync(FIX + 'pushgateway-1.5.1.txt'), make: (b) => new PromTextParser(b) },
];

let sink = 0;

function cacheLoop(p: MetricParser): number {
  let n = 0;
  for (let k = p.next(); k !== null; k = p.next()) {
    if (k !== 'series') continue;
    sink += p.seriesKey().length + p.value();
    n++;
  }
  return n;
}

function fullLoop(p: MetricParser, lb: LabelsBuilder): number {
  let n = 0;
  for (let k = p.next(); k !== null; k = p.next()) {
    if (k !== 'series') continue;
    sink += p.seriesKey().length + p.value();
    p.labels(lb);
    sink += lb.size;
    n++;
  }
  return n;
}

function measure(pl: Payload, mode: 'cache' | 'full', seconds: number): { samples: number; bytes: number; ms: number } {
  const lb = new LabelsBuilder();
  const once = () => (mode === 'cache' ? cacheLoop(pl.make(pl.body)) : fullLoop(pl.make(pl.body), lb));
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) once();
  let samples = 0;
  let bytes = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const end = t0 + seconds * 1000;
  let t = t0;
  // Bounded by time: each iteration parses the whole payload once.
  while (t < end) {
    for (let i = 0; i < 10; i++) {
      samples += once();
      bytes += pl.body.length;
    }
    t = performance.now();
  }
  // CPU time of the process (this loop, GC included): steadier than wall time on a shared machine.
  const c = process.cpuUsage(c0);
  return { samples, bytes, ms: (c.user + c.system) / 1000 };
}

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--seconds');
  const seconds = i >= 0 ? Number(args[i + 1]) : 2;
  const PROM_MIBS = 200;
  for (const pl of PAYLOADS) {
    for (const mode of ['cache', 'full'] as const) {
      const r = measure(pl, mode, seconds);
      const sps = r.samples / (r.ms / 1000);
      const mbs = r.bytes / (r.ms / 1000) / 1e6;
      const mibs = r.bytes / (r.ms / 1000) / (1 << 20);
      const ns = (r.ms * 1e6) / r.samples;
      note(`${pl.name} ${mode}: ${(sps / 1e6).toFixed(2)} M samples/s, ${mbs.toFixed(0)} MB/s, ${ns.toFixed(0)} ns/sample`);
      const extra = { payload: pl.name, mode, bytes: pl.body.length };
      report({ bench: BENCH, name: `${pl.name}.${mode}.samples_per_sec`, value: Math.round(sps), unit: 'samples/s', ...extra });
      report({ bench: BENCH, name: `${pl.name}.${mode}.mb_per_sec`, value: Number(mbs.toFixed(1)), unit: 'MB/s', ...extra });
      report({ bench: BENCH, name: `${pl.name}.${mode}.ns_per_sample`, value: Math.round(ns), unit: 'ns', ...extra });
      if (pl.name.endsWith('.text')) {
        report({ bench: BENCH, name: `${pl.name}.${mode}.ratio_to_prometheus`, value: Number((mibs / PROM_MIBS).toFixed(2)), unit: 'x', ...extra });
      }
    }
  }
  if (sink === 42) note('');
}
