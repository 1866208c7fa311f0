import { describe, expect, it } from 'vitest';
import { ExpositionError, MetricFamilyType, ProtobufParser } from '../../src/exposition/index.js';
import { isStaleNaN, STALE_NAN } from '../../storage/index.js';
import { collect } from './helpers.js';

/** Varint-delimited MetricFamily messages built with protobufjs from plain objects. */
function pb(...families: Record<string, unknown>[]): Buffer {
  return Buffer.concat(families.map((f) => MetricFamilyType.encodeDelimited(MetricFamilyType.fromObject(f)).finish()));
}

const COUNTER = 0, GAUGE = 1, SUMMARY = 2, UNTYPED = 3, HISTOGRAM = 4, GAUGE_HISTOGRAM = 5;

function rows(body: Buffer): [string, number, number | undefined][] {
  return collect(new ProtobufParser(body)).series.map((r) => [r.labels, r.value, r.ts]);
}

describe('protobuf MetricFamily parser', () => {
  it('classic histogram without a +Inf bucket gets one (value = count), le formatted as Prometheus', () => {
    const body = pb({
      name: 'h',
      type: HISTOGRAM,
      metric: [
        {
          label: [{ name: 'a', value: 'b' }],
          timestampMs: 1234,
          histogram: { sampleCount: 4, sampleSum: 2.5, bucket: [{ upperBound: 0.1, cumulativeCount: 1 }, { upperBound: 1, cumulativeCount: 3 }, { upperBound: 1e6, cumulativeCount: 3 }] },
        },
      ],
    });
    expect(rows(body)).toEqual([
      ['{__name__="h_count", a="b"}', 4, 1234],
      ['{__name__="h_sum", a="b"}', 2.5, 1234],
      ['{__name__="h_bucket", a="b", le="0.1"}', 1, 1234],
      ['{__name__="h_bucket", a="b", le="1.0"}', 3, 1234],
      ['{__name__="h_bucket", a="b", le="1e+06"}', 3, 1234],
      ['{__name__="h_bucket", a="b", le="+Inf"}', 4, 1234],
    ]);
  });

  it('histogram with its own +Inf bucket, float counts, gauge histogram', () => {
    const body = pb(
      { name: 'h', type: HISTOGRAM, metric: [{ histogram: { sampleCountFloat: 2.5, sampleSum: 1, bucket: [{ upperBound: Infinity, cumulativeCountFloat: 2.5 }] } }] },
      { name: 'g', type: GAUGE_HISTOGRAM, metric: [{ histogram: { sampleCount: 1, sampleSum: 1, bucket: [{ upperBound: 5, cumulativeCount: 1 }] } }] },
    );
    expect(rows(body)).toEqual([
      ['{__name__="h_count"}', 2.5, undefined],
      ['{__name__="h_sum"}', 1, undefined],
      ['{__name__="h_bucket", le="+Inf"}', 2.5, undefined],
      ['{__name__="g_count"}', 1, undefined],
      ['{__name__="g_sum"}', 1, undefined],
      ['{__name__="g_bucket", le="5.0"}', 1, undefined],
      ['{__name__="g_bucket", le="+Inf"}', 1, undefined],
    ]);
  });

  it('native-histogram-only metrics are skipped; histograms with classic buckets too are expanded', () => {
    const body = pb({
      name: 'n',
      type: HISTOGRAM,
      metric: [
        { label: [{ name: 'x', value: 'native' }], histogram: { sampleCount: 3, sampleSum: 1, schema: 3, zeroThreshold: 1e-128, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [3] } },
        { label: [{ name: 'x', value: 'both' }], histogram: { sampleCount: 3, sampleSum: 1, schema: 3, bucket: [{ upperBound: 1, cumulativeCount: 3 }] } },
      ],
    });
    const c = collect(new ProtobufParser(body));
    expect(c.type.get('n')).toBe('histogram');
    expect(c.series.map((r) => r.labels)).toEqual([
      '{__name__="n_count", x="both"}',
      '{__name__="n_sum", x="both"}',
      '{__name__="n_bucket", le="1.0", x="both"}',
      '{__name__="n_bucket", le="+Inf", x="both"}',
    ]);
  });

  it('counter, gauge, untyped, summary; help, unit, type entries in order; created timestamps; timestamp 0 means none', () => {
    const body = pb(
      { name: 'c_total', help: 'a counter', unit: 'seconds', type: COUNTER, metric: [{ counter: { value: 5, createdTimestamp: { seconds: 1700000000, nanos: 123456789 } }, timestampMs: 0 }] },
      { name: 'empty', type: GAUGE, metric: [] },
      { name: 'g', type: GAUGE, metric: [{ gauge: { value: -1.5 }, timestampMs: -5 }] },
      { name: 'u', type: UNTYPED, metric: [{ untyped: { value: 7 } }] },
      { name: 's', type: SUMMARY, metric: [{ summary: { sampleCount: 2, sampleSum: 3, quantile: [{ quantile: 0.5, value: 1 }, { quantile: 1, value: 2 }], createdTimestamp: { seconds: 10 } } }] },
    );
    const p = new ProtobufParser(body);
    const seen: string[] = [];
    for (let k = p.next(); k !== null; k = p.next()) {
      if (k === 'help') seen.push(`help ${p.family()} ${p.help()}`);
      else if (k === 'unit') seen.push(`unit ${p.family()} ${p.unit()}`);
      else if (k === 'type') seen.push(`type ${p.family()} ${p.type()}`);
      else seen.push(`${p.value()} ts=${p.timestamp()} ct=${p.createdTimestamp()}`);
    }
    expect(seen).toEqual([
      'help c_total a counter',
      'unit c_total seconds',
      'type c_total counter',
      '5 ts=undefined ct=1700000000123',
      'help g ',
      'type g gauge',
      '-1.5 ts=-5 ct=undefined',
      'help u ',
      'type u unknown',
      '7 ts=undefined ct=undefined',
      'help s ',
      'type s summary',
      '2 ts=undefined ct=10000',
      '3 ts=undefined ct=10000',
      '1 ts=undefined ct=10000',
      '2 ts=undefined ct=10000',
    ]);
  });

  it('exemplars of counters and buckets', () => {
    const ex = (id: string, v: number, ts?: number) => ({ label: [{ name: 'trace_id', value: id }], value: v, ...(ts ? { timestamp: { seconds: ts, nanos: 5e8 } } : {}) });
    const body = pb(
      { name: 'c_total', type: COUNTER, metric: [{ counter: { value: 1, exemplar: ex('abc', 0.5, 100) } }] },
      { name: 'h', type: HISTOGRAM, metric: [{ histogram: { sampleCount: 1, sampleSum: 1, bucket: [{ upperBound: 1, cumulativeCount: 1, exemplar: ex('def', 0.7) }] } }] },
    );
    const p = new ProtobufParser(body);
    const got: unknown[] = [];
    for (let k = p.next(); k !== null; k = p.next()) {
      if (k !== 'series') continue;
      const e = p.exemplar();
      got.push(e ? [e.labels.toString(), e.value, e.timestamp] : null);
    }
    expect(got).toEqual([['{trace_id="abc"}', 0.5, 100500], null, null, ['{trace_id="def"}', 0.7, undefined], null]);
  });

  it('series keys are stable and distinct', () => {
    const fam = { name: 'h', type: HISTOGRAM, metric: [{ label: [{ name: 'a', value: 'b' }], histogram: { sampleCount: 1, sampleSum: 1, bucket: [{ upperBound: 1, cumulativeCount: 1 }] } }] };
    const k1 = collect(new ProtobufParser(pb(fam))).series.map((r) => r.key);
    const k2 = collect(new ProtobufParser(pb(fam))).series.map((r) => r.key);
    expect(k1).toEqual(k2);
    expect(new Set(k1).size).toBe(4);
  });

  it('NaN payloads are preserved (staleness marker)', () => {
    const p = new ProtobufParser(pb({ name: 'g', type: GAUGE, metric: [{ gauge: { value: STALE_NAN } }] }));
    p.next();
    p.next();
    expect(p.next()).toBe('series');
    expect(isStaleNaN(p.value())).toBe(true);
  });

  it.each([
    { name: 'truncated body', body: pb({ name: 'g', type: GAUGE, metric: [{ gauge: { value: 1 } }] }).subarray(0, 10), msg: 'truncated' },
    { name: 'empty name', body: pb({ name: '', type: GAUGE, metric: [{ gauge: { value: 1 } }] }), msg: 'invalid metric name' },
    { name: 'duplicate label', body: pb({ name: 'g', type: GAUGE, metric: [{ label: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }], gauge: { value: 1 } }] }), msg: 'label name "a" is not unique' },
    {
      name: 'duplicate among many labels',
      body: pb({ name: 'g', type: GAUGE, metric: [{ label: [...Array.from({ length: 30 }, (_, i) => ({ name: `l${i}`, value: 'v' })), { name: 'l7', value: 'x' }], gauge: { value: 1 } }] }),
      msg: 'label name "l7" is not unique',
    },
    { name: '__name__ label', body: pb({ name: 'g', type: GAUGE, metric: [{ label: [{ name: '__name__', value: 'x' }], gauge: { value: 1 } }] }), msg: 'label name "__name__" is not unique' },
    { name: 'le label on a histogram', body: pb({ name: 'h', type: HISTOGRAM, metric: [{ label: [{ name: 'le', value: '1' }], histogram: { bucket: [{ upperBound: 1 }] } }] }), msg: 'label name "le" is not unique' },
    { name: 'unknown type', body: pb({ name: 'g', type: 9, metric: [{ gauge: { value: 1 } }] }), msg: 'unknown metric type 9' },
  ])('$name is an error naming the message', ({ body, msg }) => {
    const second = Buffer.concat([pb({ name: 'ok', type: GAUGE, metric: [{ gauge: { value: 1 } }] }), body]);
    let err: unknown;
    try {
      collect(new ProtobufParser(second));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExpositionError);
    expect((err as ExpositionError).line).toBe(2);
    expect((err as ExpositionError).reason).toContain(msg);
  });
});
