import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Head, Labels, Matcher, STALE_NAN, StorageError, ValueType, Wal, isStaleNaN, type Querier, type SampleIterator } from '../../storage/index.js';
import { XorChunk } from '../../storage/chunks/index.js';

const L = (...nv: string[]): Labels => Labels.fromPairs(...nv);
const HOUR = 3_600_000;

/** All samples of a select, as `{labels → [[t, v], …]}` in series order. */
function dump(q: Querier, matchers: Matcher[], mint = -Infinity, maxt = Infinity): Array<[string, Array<[number, number]>]> {
  const ss = q.select(matchers, mint, maxt);
  const out: Array<[string, Array<[number, number]>]> = [];
  while (ss.next()) {
    const s = ss.at();
    out.push([s.labels.toString(), samples(s.iterator())]);
  }
  return out;
}

function samples(it: SampleIterator): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 0; k < 1_000_000 && it.next() !== ValueType.None; k++) out.push([it.atT(), it.atF()]);
  return out;
}

function query(head: Head, matchers: Matcher[], mint = -Infinity, maxt = Infinity): Array<[string, Array<[number, number]>]> {
  const q = head.querier(-Infinity, Infinity);
  try {
    return dump(q, matchers, mint, maxt);
  } finally {
    q.close();
  }
}

function errCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StorageError) return err.code;
    throw err;
  }
  return 'none';
}

const m = (type: '=' | '!=' | '=~' | '!~', name: string, value: string): Matcher => new Matcher(type, name, value);

describe('Head append and select', () => {
  it('commits a batch and returns series sorted by labels', () => {
    const head = new Head();
    const app = head.appender();
    app.append(0, L('__name__', 'up', 'job', 'b'), 1000, 1);
    app.append(0, L('__name__', 'up', 'job', 'a'), 1000, 0);
    app.append(0, L('__name__', 'up', 'job', 'a', 'x', '1'), 1000, 5);
    app.append(0, L('__name__', 'down', 'job', 'a'), 1000, 7);
    app.commit();
    expect(query(head, [m('=', '__name__', 'up')])).toEqual([
      ['{__name__="up", job="a"}', [[1000, 0]]],
      ['{__name__="up", job="a", x="1"}', [[1000, 5]]],
      ['{__name__="up", job="b"}', [[1000, 1]]],
    ]);
    expect(head.numSeries).toBe(4);
    expect(head.samplesAppended).toBe(4);
    expect(head.minTime).toBe(1000);
    expect(head.maxTime).toBe(1000);
  });

  it('returns stable refs; a ref is honoured with or without labels', () => {
    const head = new Head();
    const ls = L('__name__', 'x');
    let app = head.appender();
    const ref = app.append(0, ls, 1, 1);
    expect(ref).toBeGreaterThan(0);
    expect(app.append(ref, ls, 2, 2)).toBe(ref);
    app.commit();
    app = head.appender();
    expect(app.append(ref, Labels.EMPTY, 3, 3)).toBe(ref);
    expect(app.append(0, L('__name__', 'x'), 4, 4)).toBe(ref);
    app.commit();
    expect(head.findRef(ls)).toBe(ref);
    expect(head.seriesLabels(ref)?.equals(ls)).toBe(true);
    expect(query(head, [m('=', '__name__', 'x')])[0]![1]).toEqual([[1, 1], [2, 2], [3, 3], [4, 4]]);
  });

  it('a ref paired with other labels goes to the series of the labels', () => {
    const head = new Head();
    const app = head.appender();
    const a = app.append(0, L('__name__', 'a'), 1, 1);
    const b = app.append(a, L('__name__', 'b'), 1, 2);
    expect(b).not.toBe(a);
    app.commit();
    expect(query(head, [m('=~', '__name__', 'a|b')]).map(([l, s]) => [l, s])).toEqual([
      ['{__name__="a"}', [[1, 1]]],
      ['{__name__="b"}', [[1, 2]]],
    ]);
  });

  it('nothing is visible before commit, and rollback discards the batch', () => {
    const head = new Head();
    const app = head.appender();
    app.append(0, L('__name__', 'x'), 1, 1);
    expect(query(head, [m('=', '__name__', 'x')])).toEqual([]);
    app.rollback();
    expect(query(head, [m('=', '__name__', 'x')])).toEqual([]);
    expect(head.samplesAppended).toBe(0);
    expect(() => app.commit()).toThrow(/after commit\(\) or rollback\(\)/);
    // The series can be appended to afterwards from t=1 again.
    const app2 = head.appender();
    app2.append(0, L('__name__', 'x'), 1, 2);
    app2.commit();
    expect(query(head, [m('=', '__name__', 'x')])[0]![1]).toEqual([[1, 2]]);
  });

  it('a select sees a commit wholly or not at all, even if iterated later', () => {
    const head = new Head();
    let app = head.appender();
    for (let i = 0; i < 10; i++) app.append(0, L('__name__', 'm', 'i', String(i)), 1000, 1);
    app.commit();
    const q = head.querier(0, 10_000);
    const ss = q.select([m('=', '__name__', 'm')], 0, 10_000);
    // Commit a second batch across all series, then iterate the first select.
    app = head.appender();
    for (let i = 0; i < 10; i++) app.append(0, L('__name__', 'm', 'i', String(i)), 2000, 2);
    app.commit();
    let n = 0;
    while (ss.next()) {
      expect(samples(ss.at().iterator())).toEqual([[1000, 1]]);
      n++;
    }
    expect(n).toBe(10);
    expect(dump(q, [m('=', '__name__', 'm')]).every(([, s]) => s.length === 2)).toBe(true);
    q.close();
  });

  it('rejects out-of-order and duplicate samples per sample; the rest of the batch commits', () => {
    const head = new Head();
    const ls = L('__name__', 'x');
    let app = head.appender();
    app.append(0, ls, 100, 1);
    app.commit();
    app = head.appender();
    const other = app.append(0, L('__name__', 'y'), 100, 9);
    expect(errCode(() => app.append(0, ls, 99, 5))).toBe('out_of_order');
    expect(errCode(() => app.append(0, ls, 100, 2))).toBe('duplicate_sample');
    expect(app.append(0, ls, 100, 1)).toBeGreaterThan(0); // identical: accepted silently
    app.append(0, ls, 200, 3);
    expect(errCode(() => app.append(0, ls, 150, 5))).toBe('out_of_order'); // against the batch
    expect(errCode(() => app.append(0, ls, 200, 4))).toBe('duplicate_sample');
    app.append(0, ls, 200, 3); // identical to the pending one
    app.append(other, L('__name__', 'y'), 101, 10);
    app.commit();
    expect(head.outOfOrderSamples).toBe(2);
    expect(head.duplicateSamples).toBe(2);
    expect(query(head, [m('=~', '__name__', 'x|y')])).toEqual([
      ['{__name__="x"}', [[100, 1], [200, 3]]],
      ['{__name__="y"}', [[100, 9], [101, 10]]],
    ]);
  });

  it('an identical duplicate compares bits: the stale marker equals itself, NaN payloads differ', () => {
    const head = new Head();
    const ls = L('__name__', 'x');
    const app = head.appender();
    app.append(0, ls, 1, STALE_NAN);
    app.append(0, ls, 1, STALE_NAN);
    expect(errCode(() => app.append(0, ls, 1, NaN))).toBe('duplicate_sample');
    app.commit();
    const [[, got]] = query(head, [m('=', '__name__', 'x')]) as [[string, Array<[number, number]>]];
    expect(got.length).toBe(1);
    expect(isStaleNaN(got[0]![1])).toBe(true);
  });

  it('two appenders interleaving on one series: the later commit drops what no longer fits', () => {
    const head = new Head();
    const ls = L('__name__', 'x');
    const a = head.appender();
    const b = head.appender();
    a.append(0, ls, 10, 1);
    a.append(0, ls, 30, 3);
    b.append(0, ls, 20, 2);
    b.append(0, ls, 40, 4);
    a.commit();
    b.commit(); // 20 is now out of order; 40 still fits
    expect(head.outOfOrderSamples).toBe(1);
    expect(query(head, [m('=', '__name__', 'x')])[0]![1]).toEqual([[10, 1], [30, 3], [40, 4]]);
    expect(head.activeAppenders).toBe(0);
  });

  it('validates labels and timestamps', () => {
    const head = new Head();
    const app = head.appender();
    expect(errCode(() => app.append(0, Labels.EMPTY, 1, 1))).toBe('invalid_labels');
    expect(errCode(() => app.append(0, L('__name__', 'x', 'bad', 'a\ud800'), 1, 1))).toBe('invalid_labels');
    expect(errCode(() => app.append(0, L('__name__', 'x'), 1.5, 1))).toBe('invalid_sample');
    expect(errCode(() => app.append(0, L('__name__', 'x'), NaN, 1))).toBe('invalid_sample');
    expect(errCode(() => app.append(0, L('__name__', 'x'), 2 ** 60, 1))).toBe('invalid_sample');
    expect(errCode(() => app.append(0, L('__name__', 'x'), -(2 ** 60), 1))).toBe('invalid_sample');
    expect(app.append(0, L('__name__', 'x', 'ünïcödé name', 'ok'), -5, 1)).toBeGreaterThan(0);
    app.commit();
    expect(query(head, [m('=', 'ünïcödé name', 'ok')])[0]![1]).toEqual([[-5, 1]]);
  });

  it('rejects samples older than the appendable window (too_old), counting them', () => {
    const head = new Head();
    let app = head.appender();
    app.append(0, L('__name__', 'x'), 10 * HOUR, 1);
    app.commit();
    app = head.appender();
    // maxt - chunkRange/2 = 9 h
    expect(errCode(() => app.append(0, L('__name__', 'new'), 9 * HOUR - 1, 1))).toBe('too_old');
    app.append(0, L('__name__', 'new'), 9 * HOUR, 1);
    app.commit();
    expect(head.tooOldSamples).toBe(1);
  });

  it('keeps values bit-exact, including NaN payloads, ±Inf and ±0', () => {
    const head = new Head();
    const f = new Float64Array(1), u = new Uint32Array(f.buffer);
    u[1] = 0x7ff80000;
    u[0] = 0x1234;
    const payloadNaN = f[0]!;
    const vals = [STALE_NAN, Infinity, -Infinity, 0, -0, payloadNaN, 1e308, -5e-324];
    const app = head.appender();
    vals.forEach((v, i) => app.append(0, L('__name__', 'x'), i, v));
    app.commit();
    const got = query(head, [m('=', '__name__', 'x')])[0]![1];
    const bits = (v: number): string => {
      f[0] = v;
      return `${u[1]!.toString(16)}:${u[0]!.toString(16)}`;
    };
    expect(isStaleNaN(got[0]![1])).toBe(true);
    expect(got.slice(1).map(([, v]) => bits(v))).toEqual(vals.slice(1).map(bits));
  });
});

describe('Head chunks', () => {
  it('cuts chunks at 120 samples and at multiples of the block range', () => {
    const head = new Head();
    const ls = L('__name__', 'x');
    const app = head.appender();
    // 1 s samples from 1h59m to 2h07m: the boundary at 2h cuts the first chunk.
    const start = 2 * HOUR - 60_000;
    for (let i = 0; i < 480; i++) app.append(0, ls, start + i * 1000, i);
    app.commit();
    const cs = head.chunkSeries(-Infinity, Infinity);
    expect(cs.next()).toBe(true);
    const chunks = cs.at().chunks;
    expect(cs.next()).toBe(false);
    cs.close();
    expect(chunks.map((c) => c.numSamples)).toEqual([60, 120, 120, 120, 60]);
    expect(chunks[0]!.maxt).toBe(2 * HOUR - 1000);
    expect(chunks[1]!.mint).toBe(2 * HOUR);
    for (const c of chunks) {
      const it = XorChunk.iterator(c.bytes);
      let k = 0, lastT = NaN;
      while (it.next() !== ValueType.None) {
        lastT = it.atT();
        k++;
      }
      expect(k).toBe(c.numSamples);
      expect(lastT).toBe(c.maxt);
    }
    expect(head.numChunks).toBe(5);
  });

  it('handles negative timestamps and block boundaries below zero', () => {
    const head = new Head();
    const app = head.appender();
    for (let i = -5; i <= 5; i++) app.append(0, L('__name__', 'x'), i * HOUR, i);
    app.commit();
    expect(query(head, [m('=', '__name__', 'x')])[0]![1]).toEqual(Array.from({ length: 11 }, (_, k) => [(k - 5) * HOUR, k - 5]));
  });

  it('iterators seek across chunks and clip to [mint, maxt]', () => {
    const head = new Head({ samplesPerChunk: 10 });
    const app = head.appender();
    for (let i = 0; i < 100; i++) app.append(0, L('__name__', 'x'), i * 10, i);
    app.commit();
    const q = head.querier(-Infinity, Infinity);
    const ss = q.select([m('=', '__name__', 'x')], 155, 705);
    expect(ss.next()).toBe(true);
    const it = ss.at().iterator();
    expect(it.seek(0)).toBe(ValueType.Float);
    expect(it.atT()).toBe(160);
    expect(it.seek(333)).toBe(ValueType.Float);
    expect(it.atT()).toBe(340);
    expect(it.seek(100)).toBe(ValueType.Float); // never backwards
    expect(it.atT()).toBe(340);
    expect(it.next()).toBe(ValueType.Float);
    expect(it.atT()).toBe(350);
    expect(it.seek(700)).toBe(ValueType.Float);
    expect(it.atF()).toBe(70);
    expect(it.next()).toBe(ValueType.None);
    expect(it.seek(0)).toBe(ValueType.None);
    const all = samples(ss.at().iterator());
    expect(all[0]).toEqual([160, 16]);
    expect(all.at(-1)).toEqual([700, 70]);
    expect(all.length).toBe(55);
    q.close();
  });

  it('grows open chunks through every cell size with noisy values', () => {
    const head = new Head({ samplesPerChunk: 1000 });
    const app = head.appender();
    let x = 1;
    const want: Array<[number, number]> = [];
    for (let i = 0; i < 1000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const v = x / 7.1;
      want.push([i * 1000 + (x % 97), v]);
    }
    for (const [t, v] of want) app.append(0, L('__name__', 'x'), t, v);
    app.commit();
    expect(query(head, [m('=', '__name__', 'x')])[0]![1]).toEqual(want);
    // The 4 KiB cell limit cut chunks before 1000 samples.
    expect(head.numChunks).toBeGreaterThan(1);
  });
});

describe('Head index and matchers', () => {
  const head = new Head();
  const app = head.appender();
  const series = [
    L('__name__', 'http_requests_total', 'job', 'api', 'method', 'GET', 'code', '200'),
    L('__name__', 'http_requests_total', 'job', 'api', 'method', 'POST', 'code', '500'),
    L('__name__', 'http_requests_total', 'job', 'web', 'method', 'GET'),
    L('__name__', 'http_errors_total', 'job', 'web', 'code', '404'),
    L('__name__', 'up', 'job', 'api'),
    L('__name__', 'up', 'job', 'web'),
    L('__name__', 'up', 'job', 'db', 'env', ''),
  ];
  for (const s of series) app.append(0, s, 1000, 1);
  app.commit();

  const names = (ms: Matcher[]): string[] => query(head, ms).map(([l]) => l);

  it.each([
    { ms: [m('=', '__name__', 'up')], want: 3 },
    { ms: [m('=', 'job', 'api')], want: 3 },
    { ms: [m('=', 'job', 'api'), m('=', '__name__', 'up')], want: 1 },
    { ms: [m('!=', 'job', 'api'), m('=', '__name__', 'up')], want: 2 },
    { ms: [m('=~', 'job', 'api|web'), m('=', '__name__', 'up')], want: 2 },
    { ms: [m('!~', 'job', 'api|web'), m('=', '__name__', 'up')], want: 1 },
    { ms: [m('=~', '__name__', 'http_.*')], want: 4 },
    { ms: [m('=~', '__name__', 'http_.*_total'), m('=~', 'code', '[45]..')], want: 2 },
    { ms: [m('=~', '__name__', '.*_total')], want: 4 },
    { ms: [m('=', '__name__', 'http_requests_total'), m('=', 'code', '')], want: 1 }, // lacks code
    { ms: [m('=', '__name__', 'http_requests_total'), m('!=', 'code', '')], want: 2 },
    { ms: [m('=', '__name__', 'http_requests_total'), m('=~', 'code', '2..|')], want: 2 }, // empty matches absent
    { ms: [m('=', '__name__', 'http_requests_total'), m('!~', 'code', '2..')], want: 2 },
    { ms: [m('=', '__name__', 'up'), m('=~', 'job', '.*')], want: 3 },
    { ms: [m('=', '__name__', 'up'), m('=~', 'job', '.+')], want: 3 },
    { ms: [m('=', '__name__', 'up'), m('=', 'env', '')], want: 3 }, // env="" means absent
    { ms: [m('=', '__name__', 'nope')], want: 0 },
    { ms: [m('=', 'nolabel', 'x')], want: 0 },
    { ms: [m('!=', 'nolabel', 'x'), m('=', '__name__', 'up')], want: 3 },
    { ms: [m('=~', 'job', '(?i)API'), m('=', '__name__', 'up')], want: 1 },
    { ms: [m('!=', 'job', 'api')], want: 4 }, // no positive matcher: from all series
  ])('$ms.0 $ms.1 selects $want', ({ ms, want }) => {
    expect(names(ms)).toHaveLength(want);
  });

  it('labelNames and labelValues, with and without matchers', () => {
    const q = head.querier(-Infinity, Infinity);
    expect(q.labelNames([], 0, 2000)).toEqual(['__name__', 'code', 'job', 'method']);
    expect(q.labelNames([m('=', '__name__', 'up')], 0, 2000)).toEqual(['__name__', 'job']);
    expect(q.labelValues('job', [], 0, 2000)).toEqual(['api', 'db', 'web']);
    expect(q.labelValues('code', [m('=', 'job', 'api')], 0, 2000)).toEqual(['200', '500']);
    expect(q.labelValues('nope', [], 0, 2000)).toEqual([]);
    expect(q.labelValues('job', [], 5000, 6000)).toEqual([]); // outside the head's time range
    q.close();
    expect(() => q.labelNames([], 0, 1)).toThrow(StorageError);
  });

  it('reports statistics like /api/v1/status/tsdb', () => {
    const st = head.stats(2);
    expect(st.numSeries).toBe(7);
    expect(st.chunkCount).toBe(7);
    expect(st.minTime).toBe(1000);
    expect(st.maxTime).toBe(1000);
    expect(st.seriesCountByMetricName).toEqual([
      { name: 'http_requests_total', value: 3 },
      { name: 'up', value: 3 },
    ]);
    // __name__, code and job all have 3 values: ties sort by name.
    expect(st.labelValueCountByLabelName).toEqual([
      { name: '__name__', value: 3 },
      { name: 'code', value: 3 },
    ]);
    expect(st.seriesCountByLabelValuePair).toEqual([
      { name: '__name__=http_requests_total', value: 3 },
      { name: '__name__=up', value: 3 },
    ]);
    expect(head.stats(4).seriesCountByLabelValuePair.map((x) => x.name)).toEqual(['__name__=http_requests_total', '__name__=up', 'job=api', 'job=web']);
    // __name__: 19 bytes × 3 + 17 + 2 × 3
    expect(head.stats(10).memoryInBytesByLabelName.find((s) => s.name === '__name__')?.value).toBe(19 * 3 + 17 + 2 * 3);
    expect(st.numLabelPairs).toBe(3 + 3 + 2 + 3);
  });
});

describe('Head truncation', () => {
  it('drops old chunks and empty series, cleans the index, invalidates refs', () => {
    const head = new Head({ chunkRange: 1000 });
    let app = head.appender();
    const old = app.append(0, L('__name__', 'old', 'k', 'shared'), 100, 1);
    const live = app.append(0, L('__name__', 'live', 'k', 'shared'), 100, 1);
    for (let t = 200; t < 3000; t += 100) app.append(live, L('__name__', 'live', 'k', 'shared'), t, t);
    app.commit();
    expect(head.numChunks).toBe(4);
    const st = head.truncate(2000);
    expect(st).toEqual({ seriesRemoved: 1, chunksRemoved: 3 });
    expect(head.numSeries).toBe(1);
    expect(head.numChunks).toBe(1);
    expect(head.minTime).toBe(2000);
    expect(head.hasSeries(old)).toBe(false);
    expect(head.hasSeries(live)).toBe(true);
    // The live series' chunk from 2000 on; its chunk [1000, 1900] went with the truncation.
    expect(query(head, [m('=', 'k', 'shared')]).map(([l, s]) => [l, s.length])).toEqual([['{__name__="live", k="shared"}', 10]]);
    const q = head.querier(-Infinity, Infinity);
    expect(q.labelValues('__name__', [], 0, 5000)).toEqual(['live']);
    q.close();
    app = head.appender();
    expect(errCode(() => app.append(live, Labels.EMPTY, 1999, 1))).toBe('too_old');
    // The old ref is dead: with labels it creates a new series; without, it is an error.
    const again = app.append(old, L('__name__', 'old', 'k', 'shared'), 3500, 2);
    expect(again).not.toBe(old);
    expect(errCode(() => app.append(old, Labels.EMPTY, 3600, 2))).toBe('invalid_labels');
    app.commit();
    expect(head.seriesRemoved).toBe(1);
    expect(head.truncations).toBe(1);
  });

  it('an open querier keeps reading what truncation and reuse would overwrite', () => {
    const head = new Head({ chunkRange: 1000, samplesPerChunk: 5 });
    let app = head.appender();
    for (let i = 0; i < 50; i++) for (let t = 0; t < 900; t += 100) app.append(0, L('__name__', 'x', 'i', String(i)), t, t + i);
    app.commit();
    const q = head.querier(-Infinity, Infinity);
    const ss = q.select([m('=', '__name__', 'x')], -Infinity, Infinity);
    head.truncate(5000);
    expect(head.numSeries).toBe(0);
    // Fill the head again with different data; freed cells must not be reused under q.
    app = head.appender();
    for (let i = 0; i < 50; i++) for (let t = 5000; t < 5900; t += 100) app.append(0, L('__name__', 'y', 'i', String(i)), t, -1);
    app.commit();
    let n = 0;
    while (ss.next()) {
      const i = Number(ss.at().labels.get('i'));
      expect(samples(ss.at().iterator())).toEqual(Array.from({ length: 9 }, (_, k) => [k * 100, k * 100 + i]));
      n++;
    }
    expect(n).toBe(50);
    q.close();
    expect(head.openReaders).toBe(0);
  });

  it('queries stop at the min valid time even inside a chunk that straddles it', () => {
    const head = new Head({ chunkRange: 1000, samplesPerChunk: 1000 });
    const app = head.appender();
    for (let t = 2000; t < 2900; t += 100) app.append(0, L('__name__', 'x'), t, t);
    app.commit();
    head.setMinValidTime(2450); // as if a block up to 2450 existed
    expect(query(head, [m('=', '__name__', 'x')])[0]![1].map(([t]) => t)).toEqual([2500, 2600, 2700, 2800]);
  });

  it('keeps a series that an uncommitted appender is writing to', () => {
    const head = new Head({ chunkRange: 1000 });
    const app = head.appender();
    const ref = app.append(0, L('__name__', 'x'), 5000, 1);
    head.truncate(4000);
    expect(head.hasSeries(ref)).toBe(true);
    app.commit();
    expect(query(head, [m('=', '__name__', 'x')])[0]![1]).toEqual([[5000, 1]]);
  });
});

describe('Head chunkSeries (block persistence hook)', () => {
  it('hands out the chunks of [mint, maxt), re-encoding the ones that straddle it', () => {
    const head = new Head({ samplesPerChunk: 10 });
    const app = head.appender();
    for (let t = 0; t < 100; t++) app.append(0, L('__name__', 'b'), t, t);
    for (let t = 50; t < 60; t++) app.append(0, L('__name__', 'a'), t, -t);
    app.append(0, L('__name__', 'c'), 500, 1); // outside the range
    app.commit();
    const cs = head.chunkSeries(25, 75);
    const got: Array<[string, number[], Array<[number, number, number]>]> = [];
    while (cs.next()) {
      const s = cs.at();
      expect(head.seriesLabels(s.ref)?.equals(s.labels)).toBe(true);
      const ts: number[] = [];
      for (const c of s.chunks) {
        const it = XorChunk.iterator(c.bytes);
        while (it.next() !== ValueType.None) ts.push(it.atT());
      }
      got.push([s.labels.toString(), ts, s.chunks.map((c) => [c.mint, c.maxt, c.numSamples])]);
    }
    cs.close();
    expect(head.openReaders).toBe(0);
    expect(got.map(([l]) => l)).toEqual(['{__name__="a"}', '{__name__="b"}']); // sorted, c excluded
    expect(got[0]![1]).toEqual(Array.from({ length: 10 }, (_, k) => 50 + k));
    expect(got[1]![1]).toEqual(Array.from({ length: 50 }, (_, k) => 25 + k));
    expect(got[1]![2][0]).toEqual([25, 29, 5]); // the chunk [20, 29] clipped
    expect(got[1]![2].at(-1)).toEqual([70, 74, 5]);
  });
});

describe('Head deletion', () => {
  it('tombstones hide samples from queries and from chunkSeries', () => {
    const head = new Head({ samplesPerChunk: 4 });
    const app = head.appender();
    for (let t = 0; t < 20; t++) {
      app.append(0, L('__name__', 'x', 'job', 'a'), t, t);
      app.append(0, L('__name__', 'x', 'job', 'b'), t, t);
    }
    app.commit();
    expect(head.delete([m('=', 'job', 'a')], 3, 10)).toBe(1);
    expect(head.delete([m('=', 'job', 'a')], 12, 12)).toBe(1);
    const got = query(head, [m('=', '__name__', 'x')]);
    const a = got[0]![1].map(([t]) => t);
    expect(a).toEqual([0, 1, 2, 11, 13, 14, 15, 16, 17, 18, 19]);
    expect(got[1]![1]).toHaveLength(20);
    // Deleting everything hides the series.
    head.delete([m('=', 'job', 'b')], -Infinity, Infinity);
    expect(query(head, [m('=', '__name__', 'x')]).map(([l]) => l)).toEqual(['{__name__="x", job="a"}']);
    const cs = head.chunkSeries(0, 100);
    const seen: number[] = [];
    while (cs.next()) {
      for (const c of cs.at().chunks) {
        const it = XorChunk.iterator(c.bytes);
        while (it.next() !== ValueType.None) seen.push(it.atT());
      }
    }
    cs.close();
    expect(seen).toEqual(a);
  });
});

describe('Head WAL replay edge cases', () => {
  it('a series recreated under a new ref after truncation replays into one series', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sextant-head-'));
    try {
      const wal = Wal.open(dir);
      const head = new Head({ chunkRange: 1000 });
      head.replayWal(wal);
      let app = head.appender();
      const r1 = app.append(0, L('__name__', 'x'), 100, 1);
      app.commit();
      head.truncate(2000); // x had no data at or after 2000: removed
      app = head.appender();
      const r2 = app.append(r1, L('__name__', 'x'), 2500, 2);
      app.commit();
      expect(r2).not.toBe(r1);
      wal.close();
      const again = new Head({ chunkRange: 1000 });
      again.setMinValidTime(2000); // what a block up to 2000 would set
      const st = again.replayWal(Wal.open(dir));
      expect(st.head.samplesTooOld).toBe(1);
      expect(query(again, [m('=', '__name__', 'x')])).toEqual([['{__name__="x"}', [[2500, 2]]]]);
      expect(again.hasSeries(r2)).toBe(true); // samples logged under r2 still resolve
      expect(again.numSeries).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Head against a model', () => {
  it.each([1, 2, 3])('random appends, truncations and selects agree with a plain model (seed %i)', (seed) => {
    let s = seed;
    const rnd = (): number => {
      s = (s * 1664525 + 1013904223) % 4294967296;
      return s / 4294967296;
    };
    const head = new Head({ chunkRange: 10_000, samplesPerChunk: 7 });
    const model = new Map<string, Array<[number, number]>>();
    const labelsOf = new Map<string, Labels>();
    const lastT = new Map<string, number>();
    let now = 0;
    let floor = -Infinity;
    for (let round = 0; round < 60; round++) {
      const app = head.appender();
      now += 1 + Math.floor(rnd() * 1000);
      const pending = new Map<string, Array<[number, number]>>();
      for (let k = 0; k < 30; k++) {
        const id = `s${Math.floor(rnd() * 40)}`;
        const ls = labelsOf.get(id) ?? L('__name__', 'm', 'id', id, 'grp', String(id.length % 3));
        labelsOf.set(id, ls);
        const t = now + Math.floor(rnd() * 50) - 25;
        const v = Math.floor(rnd() * 5);
        const prev = pending.get(id)?.at(-1)?.[0] ?? lastT.get(id) ?? -Infinity;
        const minValid = Math.max(floor, head.maxTime === -Infinity ? -Infinity : head.maxTime - 5000);
        try {
          app.append(0, ls, t, v);
          expect(t > prev || (t === prev && (pending.get(id)?.at(-1)?.[1] ?? model.get(id)?.at(-1)?.[1]) === v)).toBe(true);
          expect(t >= minValid).toBe(true);
          if (t > prev) pending.set(id, [...(pending.get(id) ?? []), [t, v]]);
        } catch (err) {
          expect(err).toBeInstanceOf(StorageError);
          expect(t <= prev || t < minValid).toBe(true);
        }
      }
      if (rnd() < 0.2) {
        app.rollback();
      } else {
        app.commit();
        for (const [id, xs] of pending) {
          model.set(id, [...(model.get(id) ?? []), ...xs]);
          lastT.set(id, xs.at(-1)![0]);
        }
      }
      if (rnd() < 0.1) {
        const cut = Math.floor(now / 10_000) * 10_000 - 10_000;
        head.truncate(cut);
        floor = Math.max(floor, cut);
        // Whole chunks go: the model keeps samples of chunks ending at or after cut, so
        // compare only what lies at or after cut from here on.
        for (const [id, xs] of model) {
          const kept = xs.filter(([t]) => t >= cut);
          if (kept.length === 0) {
            model.delete(id);
            lastT.delete(id);
          } else model.set(id, kept);
        }
      }
      const lo = now - Math.floor(rnd() * 20_000), hi = lo + Math.floor(rnd() * 20_000);
      const got = query(head, [m('=', '__name__', 'm')], lo, hi)
        .map(([l, xs]) => [l, xs.filter(([t]) => t >= floor)] as const)
        .filter(([, xs]) => xs.length > 0);
      const want = [...model]
        .map(([id, xs]) => [labelsOf.get(id)!.toString(), xs.filter(([t]) => t >= lo && t <= hi && t >= floor)] as const)
        .filter(([, xs]) => xs.length > 0)
        .sort((a, b) => Labels.compare(labelsOf.get(a[0].match(/id="(s\d+)"/)![1]!)!, labelsOf.get(b[0].match(/id="(s\d+)"/)![1]!)!));
      expect(got).toEqual(want);
    }
  });
});
