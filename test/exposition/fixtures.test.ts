import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatOpenMetricsFloat, OpenMetricsParser, PromTextParser, ProtobufParser } from '../../src/exposition/index.js';
import { Labels } from '../../storage/index.js';
import { byLabels, collect, FIXTURES, python, pythonMissing, TESTDATA } from './helpers.js';

const TEXT = [
  { file: 'node_exporter-1.5.0.txt', series: 505, families: 282 },
  { file: 'alertmanager-0.25.0.txt', series: 242, families: 75 },
  { file: 'prometheus-2.42.0.txt', series: 293, families: 160 },
  { file: 'pushgateway-1.5.1.txt', series: 60, families: 42 },
];

// python's own parser, as an independent reading of the same bytes: one JSON line per sample.
const PY_DUMP = `
import sys, json, math
from prometheus_client.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        v = s.value
        print(json.dumps([f.type, s.name, s.labels, 'NaN' if math.isnan(v) else repr(v)]))
`;

function pyLabels(type: string, name: string, labels: Record<string, string>): string {
  const pairs: string[] = ['__name__', name];
  for (const [k, v] of Object.entries(labels)) {
    let val = v;
    if ((type === 'histogram' && k === 'le') || (type === 'summary' && k === 'quantile')) val = formatOpenMetricsFloat(Number(v.replace(/inf/i, 'Infinity')));
    pairs.push(k, val);
  }
  return Labels.fromPairs(...pairs).toString();
}

describe('text fixtures', () => {
  it.each(TEXT)('$file: $series series, $families TYPE lines', ({ file, series, families }) => {
    const c = collect(new PromTextParser(readFileSync(FIXTURES + file)));
    expect(c.series.length).toBe(series);
    expect(c.type.size).toBe(families);
    // Keys are unique per series and label sets too.
    expect(new Set(c.series.map((r) => r.key)).size).toBe(series);
    expect(new Set(c.series.map((r) => r.labels)).size).toBe(series);
    expect(c.series.every((r) => r.ts === undefined && r.ct === undefined)).toBe(true);
  });

  const skip = pythonMissing();
  it.skipIf(skip !== '').each(TEXT)('$file: same series and values as python prometheus_client reads', ({ file }) => {
    const body = readFileSync(FIXTURES + file, 'utf8');
    const want = new Map<string, number>();
    for (const line of python(PY_DUMP, body).trim().split('\n')) {
      const [type, name, labels, v] = JSON.parse(line) as [string, string, Record<string, string>, string];
      want.set(pyLabels(type, name, labels), v === 'NaN' ? NaN : Number(v.replace('inf', 'Infinity')));
    }
    const got = byLabels(collect(new PromTextParser(Buffer.from(body))));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(got.get(k), k).toBe(v);
  });

  it('node_exporter: specific series', () => {
    const c = collect(new PromTextParser(readFileSync(FIXTURES + 'node_exporter-1.5.0.txt')));
    const m = byLabels(c);
    expect(m.get('{__name__="go_gc_duration_seconds", quantile="0.0"}')).toBe(0);
    expect(m.get('{__name__="go_gc_duration_seconds", quantile="1.0"}')).toBe(0);
    expect(m.get('{__name__="go_gc_duration_seconds", quantile="0.25"}')).toBe(0);
    expect(m.get('{__name__="go_memstats_buck_hash_sys_bytes"}')).toBe(1.445793e6);
    expect(m.get('{__name__="go_info", version="go1.19.8"}')).toBe(1);
    expect(c.type.get('go_gc_duration_seconds')).toBe('summary');
    expect(c.type.get('go_memstats_alloc_bytes_total')).toBe('counter');
    expect(c.help.get('go_goroutines')).toBe('Number of goroutines that currently exist.');
  });

  it('prometheus: histogram buckets normalised (le="1" is stored as le="1.0")', () => {
    const c = collect(new PromTextParser(readFileSync(FIXTURES + 'prometheus-2.42.0.txt')));
    const les = new Set(c.series.flatMap((r) => /le="([^"]*)"/.exec(r.labels)?.[1] ?? []));
    expect(les.has('+Inf')).toBe(true);
    expect([...les].every((le) => le === '+Inf' || /[.e]/.test(le))).toBe(true);
    // The raw key keeps the bytes as written.
    expect(c.series.some((r) => r.key.includes('le="1"'))).toBe(true);
  });

  it('pushgateway: empty label values are dropped (instance="")', () => {
    const m = byLabels(collect(new PromTextParser(readFileSync(FIXTURES + 'pushgateway-1.5.1.txt'))));
    expect(m.get('{__name__="backup_duration_seconds", job="backup", quantile="0.5"}')).toBe(12.5);
    expect(m.get('{__name__="backup_duration_seconds_count", job="backup"}')).toBe(10);
  });
});

describe('protobuf fixture', () => {
  const pb = collect(new ProtobufParser(readFileSync(FIXTURES + 'node_exporter-1.5.0.pb')));
  const txt = collect(new PromTextParser(readFileSync(FIXTURES + 'node_exporter-1.5.0.txt')));

  it('node_exporter-1.5.0.pb has the same series, HELP and TYPE as the text scrape', () => {
    expect(pb.series.length).toBe(505);
    expect(new Set(pb.series.map((r) => r.key)).size).toBe(505);
    expect(pb.series.map((r) => r.labels).sort()).toEqual(txt.series.map((r) => r.labels).sort());
    expect([...pb.type.entries()].sort()).toEqual([...txt.type.entries()].sort());
    expect([...pb.help.entries()].sort()).toEqual([...txt.help.entries()].sort());
  });

  it('values of series that did not change between the two scrapes are equal', () => {
    // The .pb and .txt files are two scrapes of the same exporter moments apart: the series
    // set is identical, constant series have identical values.
    const a = byLabels(txt);
    const b = byLabels(pb);
    for (const k of [
      '{__name__="go_info", version="go1.19.8"}',
      '{__name__="node_memory_MemTotal_bytes"}',
      '{__name__="process_max_fds"}',
      '{__name__="node_exporter_build_info", branch="debian/sid", goarch="amd64", goos="linux", goversion="go1.19.8", revision="1.5.0-1+b6", version="1.5.0"}',
    ]) {
      if (!a.has(k)) continue;
      expect(b.get(k), k).toBe(a.get(k));
    }
    let same = 0;
    for (const [k, v] of a) if (Object.is(b.get(k), v)) same++;
    expect(same).toBeGreaterThan(300);
  });

  it('expands the summary as Prometheus does (count, sum, then quantiles)', () => {
    const names = pb.series.filter((r) => r.labels.includes('go_gc_duration_seconds')).map((r) => r.labels);
    expect(names).toEqual([
      '{__name__="go_gc_duration_seconds_count"}',
      '{__name__="go_gc_duration_seconds_sum"}',
      '{__name__="go_gc_duration_seconds", quantile="0.0"}',
      '{__name__="go_gc_duration_seconds", quantile="0.25"}',
      '{__name__="go_gc_duration_seconds", quantile="0.5"}',
      '{__name__="go_gc_duration_seconds", quantile="0.75"}',
      '{__name__="go_gc_duration_seconds", quantile="1.0"}',
    ]);
  });
});

describe('OpenMetrics re-exposition of node_exporter (python prometheus_client)', () => {
  // testdata/node_exporter-1.5.0.om.txt was made by testdata/om_from_text.py from the text fixture.
  const om = collect(new OpenMetricsParser(readFileSync(TESTDATA + 'node_exporter-1.5.0.om.txt')));
  const txt = collect(new PromTextParser(readFileSync(FIXTURES + 'node_exporter-1.5.0.txt')));

  it('yields the same series and values as the text it came from', () => {
    expect(om.series.length).toBe(505);
    const a = byLabels(txt);
    const b = byLabels(om);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(b.get(k), k).toBe(v);
  });

  it('counter families are named without _total', () => {
    expect(om.type.get('go_memstats_alloc_bytes')).toBe('counter');
    expect(om.help.get('node_cpu_seconds')).toBe('Seconds the CPUs spent in each mode.');
  });
});
