/**
 * The PromQL engine. Every node is evaluated for all steps of a query at once: an instant vector
 * is a list of series, each a Float64Array of values plus a presence mask over the steps, and
 * range functions slide a window over each series' raw samples. No object per sample.
 */
import { Labels, LabelsBuilder, METRIC_NAME, ValueType, isStaleNaN, type Matcher, type Querier, type Queryable, type SampleIterator } from '../../storage/index.js';
import type {
  AggregateExpr,
  BinaryExpr,
  Call,
  Expr,
  MatrixSelector,
  PosRange,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from '../parser/ast.js';
import {
  Annotations,
  CANCELED_MESSAGE,
  EngineError,
  TIMEOUT_MESSAGE,
  TOO_MANY_SAMPLES_MESSAGE,
  formatAnnotation,
  type Annotation,
} from './errors.js';
import { evalAggregate } from './aggregate.js';
import { evalBinary } from './binary.js';
import { RANGE_FUNCTIONS, evalInstantFunction } from './functions.js';
import { dropMetricName, newSeries, presentCount, type RawSeries, type StepSeries, type Gen, type Val } from './types.js';
import type { QueryStats, QueryValue, RangeSeries, InstantSample } from './value.js';

export interface Logger {
  debug?(msg: string, fields?: Record<string, unknown>): void;
  info?(msg: string, fields?: Record<string, unknown>): void;
  warn?(msg: string, fields?: Record<string, unknown>): void;
}

export interface EngineOptions {
  /** `--query.lookback-delta`, ms (default 5m). */
  lookbackDelta?: number;
  /** `--query.timeout`, ms (default 2m). */
  timeout?: number;
  /** `--query.max-samples` (default 50,000,000). */
  maxSamples?: number;
  /** Step of subqueries written without one (`[1h:]`), ms: the global evaluation interval (default 1m). */
  noStepSubqueryInterval?: number;
  /**
   * Prometheus's `promql-delayed-name-removal` feature: `__name__` is removed at the end of the
   * evaluation instead of by each function (default false, as in Prometheus 3.5).
   */
  delayedNameRemoval?: boolean;
  /** Parses query text; promql/index.ts installs the parser's `parse`. */
  parse?: (query: string) => Expr;
  logger?: Logger;
}

export interface QueryOptions {
  signal?: AbortSignal;
  /** Overrides the engine's lookback delta for this query (ms). */
  lookbackDelta?: number;
  /** Overrides the engine's timeout for this query (ms). */
  timeout?: number;
}

export interface QueryResult {
  value: QueryValue;
  /** Warning annotations as the HTTP API prints them (`message (line:col)`). */
  warnings: string[];
  infos: string[];
  /** The same annotations, structured. */
  annotations: Annotation[];
  stats: QueryStats;
}

/** Query-wide state shared by the evaluator of a query and those of its subqueries. */
/** Evaluators with at least this many steps check the deadline on every series. */
const HEAVY_STEPS = 1024;

export class QueryContext {
  readonly ann = new Annotations();
  current = 0;
  peak = 0;
  total = 0;
  private ticks = 0;

  constructor(
    readonly querier: Querier,
    readonly lookback: number,
    readonly queryStart: number,
    readonly queryEnd: number,
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    readonly maxSamples: number,
    readonly noStepInterval: number,
    readonly delayed: boolean,
  ) {}

  /** Checks the deadline and cancellation; call regularly (cheap). */
  /** In the asynchronous API: ms of work between hand-backs to the event loop; 0 = never. */
  yieldEvery = 0;
  private lastYield = Date.now();

  /**
   * Checks the deadline and cancellation (cheap; call regularly). Returns true when the
   * asynchronous evaluation should hand the event loop back now (the caller then `yield`s).
   */
  check(heavy = false): boolean {
    // Every 16th call reads the clock; a `heavy` call (one whose unit of work spans many
    // steps) reads it every time, so a few long series still see the deadline.
    if ((this.ticks++ & 15) !== 0 && !heavy) return false;
    this.checkNow();
    if (this.yieldEvery === 0) return false;
    const now = Date.now();
    if (now - this.lastYield < this.yieldEvery) return false;
    this.lastYield = now;
    return true;
  }

  checkNow(): void {
    if (this.signal?.aborted) throw new EngineError('canceled', CANCELED_MESSAGE);
    if (Date.now() > this.deadline) throw new EngineError('timeout', TIMEOUT_MESSAGE);
  }

  hold(n: number): void {
    this.current += n;
    this.total += n;
    if (this.current > this.peak) this.peak = this.current;
    if (this.current > this.maxSamples) throw new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE);
  }

  release(n: number): void {
    this.current -= n;
  }
}

/** Growable sample buffers reused for every series a selector reads. */
class SampleBuffer {
  ts = new Float64Array(1024);
  vs = new Float64Array(1024);
  n = 0;

  push(t: number, v: number): void {
    if (this.n === this.ts.length) {
      const ts = new Float64Array(this.n * 2);
      ts.set(this.ts);
      const vs = new Float64Array(this.n * 2);
      vs.set(this.vs);
      this.ts = ts;
      this.vs = vs;
    }
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }

  /** Reads an iterator's samples in [mint, maxt]; stale markers kept or dropped. */
  fill(it: SampleIterator, mint: number, maxt: number, dropStale: boolean): number {
    this.n = 0;
    let vt = it.seek(mint);
    while (vt !== ValueType.None) {
      const t = it.atT();
      if (t > maxt) break;
      const v = it.atF();
      if (!(dropStale && v !== v && isStaleNaN(v))) this.push(t, v);
      vt = it.next();
    }
    return this.n;
  }
}

export function unwrapParens(e: Expr): Expr {
  while (e.kind === 'paren' || e.kind === 'step_invariant') e = e.expr;
  return e;
}

/** A range function: the value of one window ts/vs[lo, hi) ending at `rt`, or undefined for none. */
export type RangeFn = (
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  rt: number,
  range: number,
  step: number,
  params: readonly Float64Array[],
  env: RangeEnv,
) => number | undefined;

/** What a range function may need besides the window. */
export interface RangeEnv {
  readonly ctx: QueryContext;
  readonly call: Call;
  readonly labels: Labels;
  /** Step timestamps of the evaluator (predict_linear's intercept time). */
  readonly times: Float64Array;
  /** Set once per series by functions that warn about their input (to avoid per-step checks). */
  flag: number;
  /**
   * For rate/increase: resets[k] = number of counter resets among samples 1..k of the series,
   * so a window without resets skips the reset scan.
   */
  resets: Int32Array;
}

export class Evaluator {
  readonly n: number;
  readonly times: Float64Array;
  private readonly buf = new SampleBuffer();

  constructor(
    readonly ctx: QueryContext,
    readonly start: number,
    readonly end: number,
    readonly interval: number,
  ) {
    this.n = interval > 0 && end > start ? Math.floor((end - start) / interval) + 1 : 1;
    this.times = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) this.times[i] = start + i * interval;
  }

  *eval(e: Expr): Gen<Val> {
    if (this.ctx.check(this.n >= HEAVY_STEPS)) yield;
    switch (e.kind) {
      case 'number':
        return { kind: 'scalar', v: new Float64Array(this.n).fill(e.value) };
      case 'string':
        return { kind: 'string', s: e.value };
      case 'paren':
      case 'step_invariant':
        return yield* this.eval(e.expr);
      case 'unary': {
        const v = yield* this.eval(e.expr);
        if (e.op === '+') return v;
        if (v.kind === 'scalar') return { kind: 'scalar', v: v.v.map((x) => -x) };
        if (v.kind === 'vector') {
          for (const s of v.series) {
            for (let i = 0; i < this.n; i++) s.v[i] = -s.v[i]!;
            this.markDropName(s);
          }
          return this.checkDuplicatesIfEager(v);
        }
        throw new EngineError('execution', `unary expression only allowed on expressions of type scalar or instant vector, got ${typeName(v)}`);
      }
      case 'vector':
        return { kind: 'vector', series: yield* this.evalVectorSelector(e, false) };
      case 'matrix':
        return { kind: 'matrix', series: yield* this.matrixForInstant(e) };
      case 'subquery':
        return { kind: 'matrix', series: yield* this.subqueryForInstant(e) };
      case 'call':
        return yield* this.evalCall(e);
      case 'aggregate':
        return yield* evalAggregate(this, e);
      case 'binary':
        return yield* evalBinary(this, e);
      default:
        throw new EngineError('execution', `unhandled expression ${(e as Expr).kind}`);
    }
  }

  /** Removes `__name__` now, or flags it for removal at the end (delayed name removal). */
  markDropName(s: StepSeries): void {
    if (this.ctx.delayed) s.dropName = true;
    else s.labels = dropMetricName(s.labels);
  }

  /** Without delayed name removal, series that became equal after dropping names are an error. */
  checkDuplicatesIfEager(v: Val): Val {
    if (v.kind === 'vector' && !this.ctx.delayed) mergeSameLabels(v.series, true);
    return v;
  }

  *evalScalarArg(e: Expr): Gen<Float64Array> {
    const v = yield* this.eval(e);
    if (v.kind === 'scalar') return v.v;
    throw new EngineError('execution', `expected scalar, got ${typeName(v)}`);
  }

  /** The timestamp selectors read at for each step: `@` if present, minus the offset. */
  refTimes(timestamp: number | null, startOrEnd: 'start' | 'end' | null, offset: number): Float64Array {
    const at = timestamp ?? (startOrEnd === 'start' ? this.ctx.queryStart : startOrEnd === 'end' ? this.ctx.queryEnd : null);
    const rt = new Float64Array(this.n);
    if (at !== null) rt.fill(at - offset);
    else for (let i = 0; i < this.n; i++) rt[i] = this.times[i]! - offset;
    return rt;
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number, func?: string): ReturnType<Querier['select']> {
    try {
      return this.ctx.querier.select(matchers, mint, maxt, { step: this.interval, func });
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('execution', (err as Error).message, { cause: err });
    }
  }

  /**
   * An instant vector selector at every step: the newest sample in (rt - lookback, rt], unless it
   * is a staleness marker. With `timestamps`, values are the samples' timestamps in seconds.
   */
  *evalVectorSelector(vs: VectorSelector, timestamps: boolean, sink?: (s: StepSeries) => void): Gen<StepSeries[]> {
    const rt = this.refTimes(vs.timestamp, vs.startOrEnd, vs.offset);
    const lookback = this.ctx.lookback;
    const mint = rt[0]! - lookback + 1;
    const maxt = rt[this.n - 1]!;
    const set = this.select(vs.matchers, mint, maxt);
    const out: StepSeries[] = [];
    const buf = this.buf;
    const n = this.n;
    const scratch = sink ? newSeries(Labels.EMPTY, n) : undefined;
    while (set.next()) {
      if (this.ctx.check(this.n >= HEAVY_STEPS)) yield;
      const s = set.at();
      const cnt = buf.fill(s.iterator(), mint, maxt, false);
      if (cnt === 0) continue;
      const ts = buf.ts;
      const vals = buf.vs;
      let res: StepSeries | undefined;
      if (scratch) {
        scratch.has.fill(0);
        scratch.labels = s.labels;
        scratch.dropName = false;
      }
      let j = -1;
      for (let i = 0; i < n; i++) {
        const t = rt[i]!;
        while (j + 1 < cnt && ts[j + 1]! <= t) j++;
        if (j < 0) continue;
        const st = ts[j]!;
        if (st <= t - lookback) continue;
        const v = vals[j]!;
        if (v !== v && isStaleNaN(v)) continue;
        if (res === undefined) res = scratch ?? newSeries(s.labels, n);
        res.has[i] = 1;
        res.v[i] = timestamps ? st / 1000 : v;
      }
      if (res !== undefined) {
        if (sink) sink(res);
        else {
          this.ctx.hold(presentCount(res));
          out.push(res);
        }
      }
    }
    for (const w of set.warnings()) this.ctx.ann.warn(w);
    return out;
  }

  /** A range selector at an instant query's single step: the samples in (rt - range, rt]. */
  private *matrixForInstant(ms: MatrixSelector): Gen<RawSeries[]> {
    const vs = ms.vector;
    const rt = this.refTimes(vs.timestamp, vs.startOrEnd, vs.offset)[0]!;
    const set = this.select(vs.matchers, rt - ms.range + 1, rt);
    const out: RawSeries[] = [];
    while (set.next()) {
      if (this.ctx.check(this.n >= HEAVY_STEPS)) yield;
      const s = set.at();
      const cnt = this.buf.fill(s.iterator(), rt - ms.range + 1, rt, true);
      if (cnt === 0) continue;
      this.ctx.hold(cnt);
      out.push({ labels: s.labels, ts: this.buf.ts.slice(0, cnt), vs: this.buf.vs.slice(0, cnt), n: cnt, dropName: false });
    }
    return out;
  }

  private *subqueryForInstant(sq: SubqueryExpr): Gen<RawSeries[]> {
    const rt = this.refTimes(sq.timestamp, sq.startOrEnd, sq.offset)[0]!;
    const out: RawSeries[] = [];
    yield* this.forEachSubquerySeries(sq, rt, rt, (r) => {
      let lo = 0;
      while (lo < r.n && r.ts[lo]! <= rt - sq.range) lo++;
      let hi = r.n;
      while (hi > lo && r.ts[hi - 1]! > rt) hi--;
      if (hi > lo) out.push({ labels: r.labels, ts: r.ts.slice(lo, hi), vs: r.vs.slice(lo, hi), n: hi - lo, dropName: r.dropName });
    });
    return out;
  }

  /**
   * Evaluates a subquery's inner expression over the steps aligned to absolute multiples of its
   * step that cover (minRt - range, maxRt], and hands each result series over as raw samples.
   */
  *forEachSubquerySeries(sq: SubqueryExpr, minRt: number, maxRt: number, fn: (r: RawSeries) => void): Gen<void> {
    const step = sq.step > 0 ? sq.step : this.ctx.noStepInterval;
    const lowest = minRt - sq.range;
    let start = step * Math.trunc(lowest / step);
    if (start <= lowest) start += step;
    const end = maxRt;
    if (end < start) {
      return;
    }
    const child = new Evaluator(this.ctx, start, end, step);
    const v = yield* child.eval(sq.expr);
    if (v.kind !== 'vector') throw new EngineError('execution', `subquery is only allowed on instant vector, got ${typeName(v)}`);
    const times = child.times;
    for (const s of v.series) {
      if (this.ctx.check(this.n >= HEAVY_STEPS)) yield;
      let cnt = 0;
      for (let i = 0; i < child.n; i++) cnt += s.has[i]!;
      const ts = new Float64Array(cnt);
      const vs = new Float64Array(cnt);
      let k = 0;
      for (let i = 0; i < child.n; i++) {
        if (s.has[i]) {
          ts[k] = times[i]!;
          vs[k] = s.v[i]!;
          k++;
        }
      }
      fn({ labels: s.labels, ts, vs, n: cnt, dropName: s.dropName });
    }
    this.ctx.release(v.series.length * child.n);
  }

  /**
   * Hands each series of an instant-vector expression to `sink` without keeping them: selectors
   * and range functions reuse one scratch series (the sink must copy what it keeps).
   */
  *streamVector(e: Expr, sink: (s: StepSeries) => void): Gen<void> {
    const u = unwrapParens(e);
    if (u.kind === 'vector') {
      yield* this.evalVectorSelector(u, false, sink);
      return;
    }
    if (u.kind === 'call') {
      const fn = RANGE_FUNCTIONS[u.func.name];
      if (fn !== undefined) {
        yield* this.evalRangeFunction(u, fn, sink);
        return;
      }
    }
    const v = yield* this.eval(e);
    if (v.kind !== 'vector') throw new EngineError('execution', `expected instant vector, got ${typeName(v)}`);
    for (const s of v.series) sink(s);
  }

  private *evalCall(call: Call): Gen<Val> {
    const name = call.func.name;
    const rangeFn = RANGE_FUNCTIONS[name];
    if (rangeFn !== undefined) return yield* this.evalRangeFunction(call, rangeFn);
    return yield* evalInstantFunction(this, call);
  }

  /**
   * A function over a range vector (a range selector or a subquery): for each series, a window
   * (rt - range, rt] slides over its samples; both ends only move forward.
   */
  *evalRangeFunction(call: Call, fn: RangeFn, sink?: (s: StepSeries) => void): Gen<Val> {
    const name = call.func.name;
    let mIdx = -1;
    for (let i = 0; i < call.args.length; i++) {
      const k = unwrapParens(call.args[i]!).kind;
      if (k === 'matrix' || k === 'subquery') {
        mIdx = i;
        break;
      }
    }
    if (mIdx < 0) throw new EngineError('execution', `${name}: expected a range vector argument`);
    const params: Float64Array[] = [];
    for (let i = 0; i < call.args.length; i++) if (i !== mIdx) params.push(yield* this.evalScalarArg(call.args[i]!));
    const arg = unwrapParens(call.args[mIdx]!) as MatrixSelector | SubqueryExpr;
    const n = this.n;
    const out: StepSeries[] = [];
    const keepName = name === 'last_over_time';
    const isCounterFn = name === 'rate' || name === 'increase';
    const range = arg.range;
    const env: RangeEnv = { ctx: this.ctx, call, labels: Labels.EMPTY, times: this.times, flag: 0, resets: new Int32Array(0) };
    const scratch = sink ? newSeries(Labels.EMPTY, n) : undefined;
    // Series of one selector with a fixed metric name cannot become equal by losing the name.
    const fixedName = arg.kind === 'matrix' && arg.vector.matchers.some((m) => m.name === METRIC_NAME && m.type === '=');
    const dups = sink && !keepName && !this.ctx.delayed && !fixedName ? new Map<string, Uint8Array>() : undefined;
    let lastCheckedName = '\x00';
    const apply = (labels: Labels, ts: Float64Array, vs: Float64Array, cnt: number, rt: Float64Array, dropName: boolean): void => {
      let res: StepSeries | undefined;
      if (scratch) {
        scratch.has.fill(0);
        scratch.labels = labels;
        scratch.dropName = dropName;
      }
      let lo = 0;
      let hi = 0;
      (env as { labels: Labels }).labels = labels;
      env.flag = 0;
      if (isCounterFn) {
        if (env.resets.length < cnt) env.resets = new Int32Array(Math.max(cnt, env.resets.length * 2));
        const r = env.resets;
        r[0] = 0;
        for (let k = 1; k < cnt; k++) r[k] = r[k - 1]! + (vs[k]! < vs[k - 1]! ? 1 : 0);
      }
      for (let i = 0; i < n; i++) {
        const t = rt[i]!;
        while (hi < cnt && ts[hi]! <= t) hi++;
        while (lo < hi && ts[lo]! <= t - range) lo++;
        if (hi === lo) continue;
        const v = fn(ts, vs, lo, hi, t, range, i, params, env);
        if (v === undefined) continue;
        if (res === undefined) res = scratch ?? newSeries(labels, n, dropName);
        res.has[i] = 1;
        res.v[i] = v;
      }
      if (res === undefined) return;
      if (isCounterFn) {
        const mn = labels.get(METRIC_NAME);
        if (mn !== lastCheckedName && mn !== '' && !/(_total|_sum|_count|_bucket)$/.test(mn)) {
          this.ctx.ann.info(`metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${goQuote(mn)}`, call.args[mIdx]!.posRange);
        }
        lastCheckedName = mn;
      }
      if (!keepName) this.markDropName(res);
      if (sink) {
        if (dups !== undefined && res.labels !== labels) {
          // Without delayed name removal, series equal after dropping their names collide.
          const k = res.labels.key();
          const seen = dups.get(k);
          if (seen === undefined) dups.set(k, res.has.slice());
          else {
            for (let i = 0; i < n; i++) {
              if (res.has[i] && seen[i]) throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
              seen[i] = seen[i]! | res.has[i]!;
            }
          }
        }
        sink(res);
        return;
      }
      this.ctx.hold(presentCount(res));
      out.push(res);
    };
    if (arg.kind === 'matrix') {
      const vs = arg.vector;
      const rt = this.refTimes(vs.timestamp, vs.startOrEnd, vs.offset);
      const mint = rt[0]! - range + 1;
      const maxt = rt[n - 1]!;
      const set = this.select(vs.matchers, mint, maxt, name);
      while (set.next()) {
        if (this.ctx.check(this.n >= HEAVY_STEPS)) yield;
        const s = set.at();
        const cnt = this.buf.fill(s.iterator(), mint, maxt, true);
        if (cnt === 0) continue;
        this.ctx.hold(cnt);
        apply(s.labels, this.buf.ts, this.buf.vs, cnt, rt, false);
        this.ctx.release(cnt);
      }
      for (const w of set.warnings()) this.ctx.ann.warn(w);
    } else {
      const rt = this.refTimes(arg.timestamp, arg.startOrEnd, arg.offset);
      yield* this.forEachSubquerySeries(arg, rt[0]!, rt[n - 1]!, (r) => apply(r.labels, r.ts, r.vs, r.n, rt, r.dropName));
    }
    return this.checkDuplicatesIfEager({ kind: 'vector', series: out });
  }
}

/**
 * Merges series with equal labels that never have a value at the same step; equal labels with
 * a value at the same step are Prometheus's "vector cannot contain metrics with the same labelset".
 * With `inPlace`, the array is rewritten.
 */
export function mergeSameLabels(series: StepSeries[], inPlace: boolean): StepSeries[] {
  if (series.length < 2) return series;
  const byKey = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  for (const s of series) {
    const key = s.labels.key();
    const prev = byKey.get(key);
    if (prev === undefined) {
      byKey.set(key, s);
      out.push(s);
      continue;
    }
    for (let i = 0; i < s.has.length; i++) {
      if (!s.has[i]) continue;
      if (prev.has[i]) throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
      prev.has[i] = 1;
      prev.v[i] = s.v[i]!;
    }
  }
  if (inPlace && out.length !== series.length) {
    series.length = 0;
    series.push(...out);
  }
  return out;
}

export function typeName(v: Val): string {
  switch (v.kind) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    case 'scalar':
      return 'scalar';
    case 'string':
      return 'string';
  }
}

/** Go's %q for the ASCII-safe common case (falls back to JSON escaping). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Overall [mint, maxt] the query reads, to open one querier (as Prometheus's FindMinMaxTime). */
function queryTimeRange(e: Expr, start: number, end: number, lookback: number, qStart: number, qEnd: number, noStep: number): [number, number] {
  let mint = Infinity;
  let maxt = -Infinity;
  const visit = (x: Expr, s: number, en: number): void => {
    switch (x.kind) {
      case 'vector':
      case 'matrix': {
        const vs = x.kind === 'vector' ? x : x.vector;
        const range = x.kind === 'matrix' ? x.range : lookback;
        const at = vs.timestamp ?? (vs.startOrEnd === 'start' ? qStart : vs.startOrEnd === 'end' ? qEnd : null);
        const a = (at ?? s) - vs.offset - range;
        const b = (at ?? en) - vs.offset;
        if (a < mint) mint = a;
        if (b > maxt) maxt = b;
        return;
      }
      case 'subquery': {
        const at = x.timestamp ?? (x.startOrEnd === 'start' ? qStart : x.startOrEnd === 'end' ? qEnd : null);
        const step = x.step > 0 ? x.step : noStep;
        visit(x.expr, (at ?? s) - x.offset - x.range - step, (at ?? en) - x.offset);
        return;
      }
      case 'paren':
      case 'step_invariant':
      case 'unary':
        visit(x.expr, s, en);
        return;
      case 'call':
        for (const a of x.args) visit(a, s, en);
        return;
      case 'aggregate':
        visit(x.expr, s, en);
        if (x.param) visit(x.param, s, en);
        return;
      case 'binary':
        visit(x.lhs, s, en);
        visit(x.rhs, s, en);
        return;
      default:
        return;
    }
  };
  visit(e, start, end);
  if (mint === Infinity) return [start, end];
  return [mint, maxt];
}

export class Engine {
  readonly lookbackDelta: number;
  readonly timeout: number;
  readonly maxSamples: number;
  readonly noStepSubqueryInterval: number;
  readonly delayedNameRemoval: boolean;
  private readonly parseFn: ((q: string) => Expr) | undefined;
  readonly logger: Logger | undefined;

  constructor(opts: EngineOptions = {}) {
    this.lookbackDelta = opts.lookbackDelta ?? 5 * 60_000;
    this.timeout = opts.timeout ?? 2 * 60_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.noStepSubqueryInterval = opts.noStepSubqueryInterval ?? 60_000;
    this.delayedNameRemoval = opts.delayedNameRemoval ?? false;
    this.parseFn = opts.parse;
    this.logger = opts.logger;
  }

  private toExpr(query: string | Expr): { expr: Expr; text: string | undefined } {
    if (typeof query !== 'string') return { expr: query, text: undefined };
    if (this.parseFn === undefined) throw new EngineError('internal', 'no PromQL parser installed (pass EngineOptions.parse)');
    try {
      return { expr: this.parseFn(query), text: query };
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('bad_data', (err as Error).message, { cause: err });
    }
  }

  /**
   * Evaluates `query` at `t` (ms), synchronously: the event loop is blocked until it returns,
   * so `opts.signal` is only seen if it is already aborted. Servers use {@link instantAsync}.
   */
  instant(queryable: Queryable, query: string | Expr, t: number, opts: QueryOptions = {}): QueryResult {
    const { expr, text } = this.toExpr(query);
    return runSync(this.exec(queryable, expr, text, t, t, 0, opts, false));
  }

  /** Evaluates `query` at start, start+step, … ≤ end (ms), synchronously. */
  range(queryable: Queryable, query: string | Expr, start: number, end: number, step: number, opts: QueryOptions = {}): QueryResult {
    const { expr, text } = this.toExpr(query);
    this.checkRange(expr, start, end, step);
    return runSync(this.exec(queryable, expr, text, start, end, step, opts, false));
  }

  /**
   * As {@link instant}, but hands the event loop back every few ms of work, so other requests
   * are served meanwhile and an aborted `opts.signal` (client gone) stops the evaluation.
   */
  instantAsync(queryable: Queryable, query: string | Expr, t: number, opts: QueryOptions = {}): Promise<QueryResult> {
    try {
      const { expr, text } = this.toExpr(query);
      return runAsync(this.exec(queryable, expr, text, t, t, 0, opts, true), opts.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** As {@link range}, yielding to the event loop (see {@link instantAsync}). */
  rangeAsync(queryable: Queryable, query: string | Expr, start: number, end: number, step: number, opts: QueryOptions = {}): Promise<QueryResult> {
    try {
      const { expr, text } = this.toExpr(query);
      this.checkRange(expr, start, end, step);
      return runAsync(this.exec(queryable, expr, text, start, end, step, opts, true), opts.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private checkRange(expr: Expr, start: number, end: number, step: number): void {
    if (step <= 0) throw new EngineError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (end < start) throw new EngineError('bad_data', 'end timestamp must not be before start time');
    const t = exprType(expr);
    if (t !== 'vector' && t !== 'scalar') {
      throw new EngineError('bad_data', `invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`);
    }
  }

  private *exec(
    queryable: Queryable,
    expr: Expr,
    text: string | undefined,
    start: number,
    end: number,
    step: number,
    opts: QueryOptions,
    yielding: boolean,
  ): Gen<QueryResult> {
    const began = performance.now();
    if (opts.signal?.aborted) throw new EngineError('canceled', CANCELED_MESSAGE);
    const lookback = opts.lookbackDelta ?? this.lookbackDelta;
    const [mint, maxt] = queryTimeRange(expr, start, end, lookback, start, end, this.noStepSubqueryInterval);
    const querier = queryable.querier(mint, maxt);
    try {
      const ctx = new QueryContext(
        querier,
        lookback,
        start,
        end,
        Date.now() + (opts.timeout ?? this.timeout),
        opts.signal,
        this.maxSamples,
        this.noStepSubqueryInterval,
        this.delayedNameRemoval,
      );
      if (yielding) ctx.yieldEvery = YIELD_EVERY_MS;
      const ev = new Evaluator(ctx, start, end, step);
      const v = yield* ev.eval(expr);
      const value = step === 0 ? toInstantValue(v, ev, ctx) : toRangeValue(v, ev, ctx);
      const annotations = ctx.ann.all();
      return {
        value,
        warnings: annotations.filter((a) => a.kind === 'warning').map((a) => formatAnnotation(a, text)),
        infos: annotations.filter((a) => a.kind === 'info').map((a) => formatAnnotation(a, text)),
        annotations,
        stats: { totalSamples: ctx.total, peakSamples: ctx.peak, evalMs: performance.now() - began },
      };
    } finally {
      querier.close();
    }
  }
}

/** Work between two hand-backs to the event loop in the asynchronous API. */
const YIELD_EVERY_MS = 10;

function runSync<T>(g: Gen<T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

async function runAsync<T>(g: Gen<T>, signal: AbortSignal | undefined): Promise<T> {
  try {
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new EngineError('canceled', CANCELED_MESSAGE);
    }
  } finally {
    // Closes the querier (the generator's finally) when cancelled between steps.
    g.return(undefined as T);
  }
}

/** Static type of an expression (for range-query validation). */
export function exprType(e: Expr): 'vector' | 'scalar' | 'matrix' | 'string' {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vector':
    case 'aggregate':
      return 'vector';
    case 'matrix':
    case 'subquery':
      return 'matrix';
    case 'paren':
    case 'step_invariant':
    case 'unary':
      return exprType(e.expr);
    case 'call': {
      const r = e.func.returnType;
      return r === 'none' ? 'vector' : r;
    }
    case 'binary': {
      const l = exprType(e.lhs);
      const r = exprType(e.rhs);
      return l === 'scalar' && r === 'scalar' ? 'scalar' : 'vector';
    }
  }
}

/** With delayed name removal: drop flagged names, then no two series may have equal labels. */
function finalSeries(series: StepSeries[], ctx: QueryContext): StepSeries[] {
  if (!ctx.delayed) return series;
  const seen = new Set<string>();
  for (const s of series) {
    if (s.dropName) {
      s.labels = dropMetricName(s.labels);
      s.dropName = false;
    }
  }
  for (const s of series) {
    let any = false;
    for (let i = 0; i < s.has.length; i++) if (s.has[i]) { any = true; break; }
    if (!any) continue;
    const k = s.labels.key();
    if (seen.has(k)) throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
  return series;
}

function toInstantValue(v: Val, ev: Evaluator, ctx: QueryContext): QueryValue {
  const t = ev.start;
  switch (v.kind) {
    case 'scalar':
      return { type: 'scalar', t, v: v.v[0]! };
    case 'string':
      return { type: 'string', t, v: v.s };
    case 'matrix': {
      const series: RangeSeries[] = [];
      const seen = new Set<string>();
      for (const r of v.series) {
        const labels = r.dropName && ctx.delayed ? dropMetricName(r.labels) : r.labels;
        if (ctx.delayed) {
          const k = labels.key();
          if (seen.has(k)) throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
          seen.add(k);
        }
        series.push({ labels, t: r.ts.subarray(0, r.n), v: r.vs.subarray(0, r.n) });
      }
      return { type: 'matrix', series };
    }
    case 'vector': {
      const samples: InstantSample[] = [];
      for (const s of finalSeries(v.series, ctx)) if (s.has[0]) samples.push({ labels: s.labels, t, v: s.v[0]! });
      return { type: 'vector', samples };
    }
  }
}

function toRangeValue(v: Val, ev: Evaluator, ctx: QueryContext): QueryValue {
  const series: RangeSeries[] = [];
  if (v.kind === 'scalar') {
    series.push({ labels: Labels.EMPTY, t: ev.times.slice(), v: v.v.slice() });
    return { type: 'matrix', series };
  }
  if (v.kind !== 'vector') throw new EngineError('execution', `invalid expression type "${typeName(v)}" for range query, must be Scalar or instant Vector`);
  const merged = mergeSameLabels(finalSeries(v.series, ctx), false);
  for (const s of merged) {
    let cnt = 0;
    for (let i = 0; i < ev.n; i++) cnt += s.has[i]!;
    if (cnt === 0) continue;
    if (cnt === ev.n) {
      // A value at every step (the common case): hand out the step grid and the values as they
      // are instead of copying them. Result arrays are read-only for callers.
      series.push({ labels: s.labels, t: ev.times, v: s.v });
      continue;
    }
    const t = new Float64Array(cnt);
    const vals = new Float64Array(cnt);
    let k = 0;
    for (let i = 0; i < ev.n; i++) {
      if (s.has[i]) {
        t[k] = ev.times[i]!;
        vals[k] = s.v[i]!;
        k++;
      }
    }
    series.push({ labels: s.labels, t, v: vals });
  }
  series.sort((a, b) => Labels.compare(a.labels, b.labels));
  return { type: 'matrix', series };
}

export { LabelsBuilder };
export type { PosRange, VectorMatching, AggregateExpr, BinaryExpr };
