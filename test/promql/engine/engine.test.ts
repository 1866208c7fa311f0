// Engine behaviour beyond the upstream scripts: error kinds and texts, limits, cancellation,
// annotations with positions, @ start()/end(), subquery step alignment, both name-removal modes.
import { describe, expect, test } from 'vitest';
import { Head, Labels, STALE_NAN } from '../../../storage/index.js';
import { Engine, EngineError, checkRangeResolution, type QueryValue } from '../../../promql/index.js';

function load(series: Record<string, (number | null)[]>, interval = 60_000): Head {
  const head = new Head();
  const app = head.appender();
  for (const [text, values] of Object.entries(series)) {
    const m = /^(\w+)(?:\{(.*)\})?$/.exec(text)!;
    const pairs = ['__name__', m[1]!];
    for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      pairs.push(k!, v!.replace(/"/g, ''));
    }
    const labels = Labels.fromPairs(...pairs);
    let ref = 0;
    values.forEach((v, i) => {
      if (v !== null) ref = app.append(ref, labels, i * interval, v);
    });
  }
  app.commit();
  return head;
}

function vec(v: QueryValue): Record<string, number> {
  expect(v.type).toBe('vector');
  const out: Record<string, number> = {};
  if (v.type === 'vector') for (const s of v.samples) out[s.labels.toString()] = s.v;
  return out;
}

function errorOf(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('engine', () => {
  const head = load({
    'http_requests_total{job="a",instance="1"}': [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    'http_requests_total{job="a",instance="2"}': [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200],
    'http_requests_total{job="b",instance="1"}': [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50],
    'up{job="a",instance="1"}': [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    'up{job="a",instance="2"}': [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    'up{job="b",instance="1"}': [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    'gauge{job="a"}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  });
  const engine = new Engine();

  test('instant and range queries return Prometheus-shaped values', () => {
    expect(vec(engine.instant(head, 'sum by (job) (rate(http_requests_total[5m]))', 600_000).value)).toEqual({
      '{job="a"}': 0.5,
      '{job="b"}': 5 / 60,
    });
    const r = engine.range(head, 'sum(up)', 0, 600_000, 60_000);
    expect(r.value.type).toBe('matrix');
    if (r.value.type === 'matrix') {
      expect(r.value.series).toHaveLength(1);
      expect(Array.from(r.value.series[0]!.t)).toEqual([0, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000, 540_000, 600_000]);
      expect(Array.from(r.value.series[0]!.v)).toEqual(new Array(11).fill(3));
    }
    const s = engine.instant(head, '1 + 2', 1000).value;
    expect(s).toEqual({ type: 'scalar', t: 1000, v: 3 });
    const str = engine.instant(head, '"hello"', 1000).value;
    expect(str).toEqual({ type: 'string', t: 1000, v: 'hello' });
  });

  test('range selectors at an instant query return a matrix with sample timestamps', () => {
    const v = engine.instant(head, 'gauge[2m]', 600_000).value;
    expect(v.type).toBe('matrix');
    if (v.type === 'matrix') {
      expect(Array.from(v.series[0]!.t)).toEqual([540_000, 600_000]);
      expect(Array.from(v.series[0]!.v)).toEqual([10, 11]);
    }
  });

  test('a range query of a range vector is bad_data', () => {
    const err = errorOf(() => engine.range(head, 'gauge[5m]', 0, 60_000, 15_000));
    expect(err.type).toBe('bad_data');
    expect(err.message).toBe('invalid expression type "range vector" for range query, must be Scalar or instant Vector');
  });

  test('parse errors are bad_data with the position', () => {
    const err = errorOf(() => engine.instant(head, 'sum(up', 0));
    expect(err.type).toBe('bad_data');
    expect(err.message).toMatch(/^1:\d+: parse error: /);
  });

  test('many-to-many and duplicate-series errors use Prometheus wording', () => {
    const dup = errorOf(() => engine.instant(head, 'up / on(job) http_requests_total', 600_000));
    expect(dup.type).toBe('execution');
    expect(dup.message).toMatch(/^found duplicate series for the match group \{job="a"\} on the right hand-side of the operation: \[.*\];many-to-many matching not allowed: matching labels must be unique on one side$/);
    const many = errorOf(() => engine.instant(head, 'up / on(job) group_left http_requests_total', 600_000));
    expect(many.message).toMatch(/^found duplicate series for the match group \{job="a"\} on the right hand-side/);
    const gl = errorOf(() => engine.instant(head, 'http_requests_total / on(job) group_right up', 600_000));
    expect(gl.message).toMatch(/^found duplicate series for the match group \{job="a"\} on the left hand-side/);
    const dupOut = errorOf(() => engine.instant(head, 'up * on(job) group_left() sum without (instance) (http_requests_total) + ignoring(instance) group_left up', 600_000));
    expect(dupOut.message).toMatch(/found duplicate series|multiple matches/);
    const m2o = errorOf(() => engine.instant(head, 'sum by (job, instance) (up) / on(job) sum by (job) (up)', 600_000));
    expect(m2o.message).toBe('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
    // With group_left it works.
    expect(Object.keys(vec(engine.instant(head, 'sum by (job, instance) (up) / on(job) group_left sum by (job) (up)', 600_000).value))).toHaveLength(3);
  });

  test('rate over a non-counter name gives the info annotation with its position', () => {
    const r = engine.instant(head, 'rate(gauge[5m])', 600_000);
    expect(r.infos).toEqual(['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "gauge" (1:6)']);
    expect(r.warnings).toEqual([]);
    expect(engine.instant(head, 'rate(http_requests_total[5m])', 600_000).infos).toEqual([]);
  });

  test('warnings for quantile parameters out of range', () => {
    const r = engine.instant(head, 'quantile(2, up)', 600_000);
    expect(r.warnings).toEqual(['PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)']);
    expect(vec(r.value)).toEqual({ '{}': Infinity });
  });

  test('@ start() / end() and offset', () => {
    const r = engine.range(head, 'gauge @ end()', 0, 300_000, 60_000);
    if (r.value.type !== 'matrix') throw new Error('matrix expected');
    expect(Array.from(r.value.series[0]!.v)).toEqual([6, 6, 6, 6, 6, 6]);
    expect(r.value.series[0]!.labels.toString()).toBe('{__name__="gauge", job="a"}');
    const s = engine.range(head, 'gauge @ start()', 120_000, 300_000, 60_000);
    if (s.value.type !== 'matrix') throw new Error('matrix expected');
    expect(Array.from(s.value.series[0]!.v)).toEqual([3, 3, 3, 3]);
    expect(vec(engine.instant(head, 'gauge offset 3m', 600_000).value)).toEqual({ '{__name__="gauge", job="a"}': 8 });
    expect(vec(engine.instant(head, 'gauge @ 120', 600_000).value)).toEqual({ '{__name__="gauge", job="a"}': 3 });
  });

  test('subqueries evaluate at absolute multiples of their step', () => {
    const v = engine.instant(head, 'gauge[5m:2m]', 610_000).value;
    if (v.type !== 'matrix') throw new Error('matrix expected');
    expect(Array.from(v.series[0]!.t)).toEqual([360_000, 480_000, 600_000]);
    expect(Array.from(v.series[0]!.v)).toEqual([7, 9, 11]);
  });

  test('lookback delta and staleness markers end a series', () => {
    const h = new Head();
    const app = h.appender();
    const l = Labels.fromPairs('__name__', 'x');
    app.append(0, l, 0, 1);
    app.append(0, l, 60_000, 2);
    app.append(0, l, 120_000, STALE_NAN);
    app.commit();
    expect(vec(engine.instant(h, 'x', 90_000).value)).toEqual({ '{__name__="x"}': 2 });
    expect(vec(engine.instant(h, 'x', 130_000).value)).toEqual({});
    expect(vec(engine.instant(h, 'x', 60_000 + 300_000).value)).toEqual({});
    expect(vec(engine.instant(h, 'x', 60_000 + 299_999, { lookbackDelta: 300_000 }).value)).toEqual({});
    const h2 = new Head();
    const a2 = h2.appender();
    a2.append(0, l, 60_000, 2);
    a2.commit();
    expect(vec(engine.instant(h2, 'x', 60_000 + 299_999).value)).toEqual({ '{__name__="x"}': 2 });
    expect(vec(engine.instant(h2, 'x', 60_000 + 300_000).value)).toEqual({});
    expect(vec(engine.instant(h2, 'x', 120_000, { lookbackDelta: 30_000 }).value)).toEqual({});
  });

  test('too many samples is an execution error with Prometheus text', () => {
    const small = new Engine({ maxSamples: 10 });
    const err = errorOf(() => small.range(head, 'http_requests_total', 0, 600_000, 60_000));
    expect(err.type).toBe('execution');
    expect(err.message).toBe('query processing would load too many samples into memory in query execution');
  });

  test('an aborted signal cancels, an expired timeout times out', () => {
    const ac = new AbortController();
    ac.abort();
    const err = errorOf(() => engine.instant(head, 'up', 0, { signal: ac.signal }));
    expect(err.type).toBe('canceled');
    const slow = new Engine({ timeout: -1 });
    const t = errorOf(() => slow.range(head, 'sum_over_time(up[1m:1s])', 0, 600_000, 1000));
    expect(t.type).toBe('timeout');
    expect(t.message).toBe('query timed out in expression evaluation');
  });

  test('a timeout that expires while a few series with many steps are evaluated is still seen', () => {
    // Two series, a 1 ms-step subquery over 20 minutes: 1.2 M steps per series and far fewer
    // than 16 series, so only per-series checks on large evaluators can notice the deadline.
    const two = load({ 'a{i="1"}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 'a{i="2"}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] });
    const quick = new Engine({ timeout: 1 });
    const t = errorOf(() => quick.range(two, 'sum(rate(a[1m:1ms]))', 0, 1_200_000, 60_000));
    expect(t.type).toBe('timeout');
  });

  test('the asynchronous API serves the event loop and stops when the client goes away', async () => {
    const big = new Head();
    const app = big.appender();
    for (let i = 0; i < 2000; i++) {
      const l = Labels.fromPairs('__name__', 'm_total', 'i', String(i));
      let ref = 0;
      for (let k = 0; k < 240; k++) ref = app.append(ref, l, k * 15_000, k);
    }
    app.commit();
    const q = 'sum(rate(m_total[5m])) + sum(rate(m_total[10m])) + sum(rate(m_total[15m])) + sum(rate(m_total[20m]))';
    // Same result as the synchronous API.
    const sync = engine.range(big, q, 1_200_000, 3_600_000, 15_000);
    const asyncRes = await engine.rangeAsync(big, q, 1_200_000, 3_600_000, 15_000);
    expect(asyncRes.value).toEqual(sync.value);
    // A timer set before the query fires while it runs (the loop is handed back)…
    // (the query takes seconds of work, so it must yield; the first timer tick aborts it).
    let ticks = 0;
    const ac = new AbortController();
    const timer = setInterval(() => {
      ticks++;
      ac.abort();
    }, 1);
    const p = engine.rangeAsync(big, `${q} + ${q} + ${q}`, 0, 3_600_000, 1000, { signal: ac.signal });
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    clearInterval(timer);
    // …and aborting the signal (the HTTP client went away) cancels it.
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).type).toBe('canceled');
    expect((err as EngineError).message).toBe('query was canceled in expression evaluation');
    expect(ticks).toBeGreaterThan(0);
    expect(big.openReaders).toBe(0);
    await expect(engine.instantAsync(big, 'sum(', 0)).rejects.toMatchObject({ type: 'bad_data' });
  });

  test('the 11,000 points check for the HTTP layer', () => {
    expect(() => checkRangeResolution(0, 11_000_000, 1000)).not.toThrow();
    expect(() => checkRangeResolution(0, 11_001_000, 1000)).toThrow('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  });

  test('name removal: eager by default (3.5), delayed when enabled', () => {
    const h = load({ 'a_total{env="1"}': [0, 60, 120], 'b_total{env="1"}': [0, 60, 120] });
    const eager = new Engine();
    expect(errorOf(() => eager.instant(h, 'rate({env="1"}[2m])', 120_000)).message).toBe('vector cannot contain metrics with the same labelset');
    // Also when the colliding series stream straight into an aggregation.
    expect(errorOf(() => eager.instant(h, 'sum by (env) (rate({env="1"}[2m]))', 120_000)).message).toBe('vector cannot contain metrics with the same labelset');
    const delayed = new Engine({ delayedNameRemoval: true });
    expect(vec(delayed.instant(h, 'sum by (env) (rate({env="1"}[2m]))', 120_000).value)).toEqual({ '{env="1"}': 2 });
    expect(vec(delayed.instant(h, 'label_replace(rate({env="1"}[2m]), "__name__", "r_$1", "__name__", "(.+)")', 120_000).value)).toEqual({
      '{__name__="r_a_total", env="1"}': 1,
      '{__name__="r_b_total", env="1"}': 1,
    });
    expect(errorOf(() => delayed.instant(h, 'sum by (__name__) (rate({env="1"}[2m]))', 120_000)).message).toBe('vector cannot contain metrics with the same labelset');
  });

  test('info() adds target_info data labels by instance and job', () => {
    const h = load({
      'req_total{job="a",instance="1"}': [1, 2, 3],
      'req_total{job="a",instance="2"}': [1, 2, 3],
      'target_info{job="a",instance="1",k8s_cluster="c1",region="eu"}': [1, 1, 1],
    });
    expect(vec(engine.instant(h, 'info(req_total)', 120_000).value)).toEqual({
      '{__name__="req_total", instance="1", job="a", k8s_cluster="c1", region="eu"}': 3,
      '{__name__="req_total", instance="2", job="a"}': 3,
    });
    expect(vec(engine.instant(h, 'info(req_total, {k8s_cluster=~".+"})', 120_000).value)).toEqual({
      '{__name__="req_total", instance="1", job="a", k8s_cluster="c1"}': 3,
    });
  });

  test('topk and sort order instant results', () => {
    const r = engine.instant(head, 'topk(2, http_requests_total)', 600_000).value;
    if (r.type !== 'vector') throw new Error('vector expected');
    expect(r.samples.map((s) => s.v)).toEqual([200, 100]);
    const s = engine.instant(head, 'sort(http_requests_total)', 600_000).value;
    if (s.type !== 'vector') throw new Error('vector expected');
    expect(s.samples.map((x) => x.v)).toEqual([50, 100, 200]);
  });
});
