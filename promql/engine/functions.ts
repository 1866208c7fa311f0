/**
 * PromQL functions on float samples. Range functions (`RANGE_FUNCTIONS`) see one window of one
 * series at a time as slices of Float64Arrays; instant functions map whole step-series.
 */
import { Labels, LabelsBuilder, METRIC_NAME, Matcher as MatcherCtor, isValidLabelName, type Matcher } from '../../storage/index.js';
import { RE2JS } from 're2js';
import type { Call, Expr } from '../parser/ast.js';
import { EngineError } from './errors.js';
import { goQuote, mergeSameLabels, typeName, unwrapParens, type Evaluator, type RangeEnv, type RangeFn } from './engine.js';
import { goFloat, kahanSumInc, lastKahanC, quantile } from './aggregate.js';
import { dropMetricName, newSeries, type StepSeries, type Gen, type Val } from './types.js';

// ---------------------------------------------------------------------------------------------
// Range functions

function extrapolatedRate(ts: Float64Array, vs: Float64Array, lo: number, hi: number, rt: number, range: number, isCounter: boolean, isRate: boolean, resets?: Int32Array): number | undefined {
  const cnt = hi - lo;
  if (cnt < 2) return undefined;
  const rangeStart = rt - range;
  const rangeEnd = rt;
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  let result = vs[hi - 1]! - vs[lo]!;
  if (isCounter && (resets === undefined || resets[hi - 1] !== resets[lo])) {
    let prev = vs[lo]!;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avgBetween = sampledInterval / (cnt - 1);
  const threshold = avgBetween * 1.1;
  let extrapolateTo = sampledInterval;
  if (durationToStart >= threshold) durationToStart = avgBetween / 2;
  if (isCounter && result > 0 && vs[lo]! >= 0) {
    const durationToZero = sampledInterval * (vs[lo]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  extrapolateTo += durationToStart;
  if (durationToEnd >= threshold) durationToEnd = avgBetween / 2;
  extrapolateTo += durationToEnd;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= range / 1000;
  return result * factor;
}

function instantValue(ts: Float64Array, vs: Float64Array, lo: number, hi: number, isRate: boolean): number | undefined {
  if (hi - lo < 2) return undefined;
  const last = vs[hi - 1]!;
  const prev = vs[hi - 2]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = ts[hi - 1]! - ts[hi - 2]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Least-squares slope and intercept (at interceptTime) of the window, with compensated sums. */
function linearRegression(ts: Float64Array, vs: Float64Array, lo: number, hi: number, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = vs[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1e3;
    sumX = kahanSumInc(x, sumX, cX);
    cX = lastKahanC();
    sumY = kahanSumInc(y, sumY, cY);
    cY = lastKahanC();
    sumXY = kahanSumInc(x * y, sumXY, cXY);
    cXY = lastKahanC();
    sumX2 = kahanSumInc(x * x, sumX2, cX2);
    cX2 = lastKahanC();
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function windowValues(vs: Float64Array, lo: number, hi: number): number[] {
  const out: number[] = new Array(hi - lo);
  for (let i = lo; i < hi; i++) out[i - lo] = vs[i]!;
  return out;
}

function warnQuantile(env: RangeEnv, q: number): void {
  if (Number.isNaN(q) || q < 0 || q > 1) {
    env.ctx.ann.warn(`quantile value should be between 0 and 1, got ${goFloat(q)}`, env.call.args[0]!.posRange);
  }
}

function stdvar(vs: Float64Array, lo: number, hi: number): number {
  let count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = lo; i < hi; i++) {
    const f = vs[i]!;
    count++;
    const delta = f - (mean + cMean);
    mean = kahanSumInc(delta / count, mean, cMean);
    cMean = lastKahanC();
    aux = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
    cAux = lastKahanC();
  }
  return (aux + cAux) / count;
}

function goFixed6(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x !== x) return 'NaN';
  return x.toFixed(6);
}

export const RANGE_FUNCTIONS: Record<string, RangeFn> = {
  rate: (ts, vs, lo, hi, rt, range, _i, _p, env) => extrapolatedRate(ts, vs, lo, hi, rt, range, true, true, env.resets),
  increase: (ts, vs, lo, hi, rt, range, _i, _p, env) => extrapolatedRate(ts, vs, lo, hi, rt, range, true, false, env.resets),
  delta: (ts, vs, lo, hi, rt, range) => extrapolatedRate(ts, vs, lo, hi, rt, range, false, false),
  irate: (ts, vs, lo, hi) => instantValue(ts, vs, lo, hi, true),
  idelta: (ts, vs, lo, hi) => instantValue(ts, vs, lo, hi, false),
  deriv: (ts, vs, lo, hi) => (hi - lo < 2 ? undefined : linearRegression(ts, vs, lo, hi, ts[lo]!)[0]),
  predict_linear: (ts, vs, lo, hi, _rt, _range, i, params, env) => {
    if (hi - lo < 2) return undefined;
    const [slope, intercept] = linearRegression(ts, vs, lo, hi, env.times[i]!);
    return slope * params[0]![i]! + intercept;
  },
  resets: (_ts, vs, lo, hi) => {
    let r = 0;
    for (let i = lo + 1; i < hi; i++) if (vs[i]! < vs[i - 1]!) r++;
    return r;
  },
  changes: (_ts, vs, lo, hi) => {
    let r = 0;
    for (let i = lo + 1; i < hi; i++) {
      const a = vs[i]!, b = vs[i - 1]!;
      if (a !== b && !(a !== a && b !== b)) r++;
    }
    return r;
  },
  avg_over_time: (_ts, vs, lo, hi) => {
    let sum = vs[lo]!, c = 0, mean = 0, incremental = false, count = 1;
    for (let i = lo + 1; i < hi; i++) {
      const f = vs[i]!;
      count = i - lo + 1;
      if (!incremental) {
        const ns = kahanSumInc(f, sum, c);
        if (ns !== Infinity && ns !== -Infinity) {
          sum = ns;
          c = lastKahanC();
          continue;
        }
        incremental = true;
        mean = sum / (count - 1);
        c /= count - 1;
      }
      const q = (count - 1) / count;
      mean = kahanSumInc(f / count, q * mean, q * c);
      c = lastKahanC();
    }
    if (incremental) return mean + c;
    return sum / count + c / count;
  },
  sum_over_time: (_ts, vs, lo, hi) => {
    let sum = 0, c = 0;
    for (let i = lo; i < hi; i++) {
      sum = kahanSumInc(vs[i]!, sum, c);
      c = lastKahanC();
    }
    return sum === Infinity || sum === -Infinity ? sum : sum + c;
  },
  count_over_time: (_ts, _vs, lo, hi) => hi - lo,
  min_over_time: (_ts, vs, lo, hi) => {
    let m = vs[lo]!;
    for (let i = lo; i < hi; i++) if (vs[i]! < m || m !== m) m = vs[i]!;
    return m;
  },
  max_over_time: (_ts, vs, lo, hi) => {
    let m = vs[lo]!;
    for (let i = lo; i < hi; i++) if (vs[i]! > m || m !== m) m = vs[i]!;
    return m;
  },
  quantile_over_time: (_ts, vs, lo, hi, _rt, _range, i, params, env) => {
    const q = params[0]![i]!;
    warnQuantile(env, q);
    return quantile(q, vs.subarray(lo, hi));
  },
  stdvar_over_time: (_ts, vs, lo, hi) => stdvar(vs, lo, hi),
  stddev_over_time: (_ts, vs, lo, hi) => Math.sqrt(stdvar(vs, lo, hi)),
  last_over_time: (_ts, vs, _lo, hi) => vs[hi - 1]!,
  present_over_time: () => 1,
  mad_over_time: (_ts, vs, lo, hi) => {
    const vals = windowValues(vs, lo, hi);
    const median = quantile(0.5, vals);
    for (let i = 0; i < vals.length; i++) vals[i] = Math.abs(vals[i]! - median);
    return quantile(0.5, vals);
  },
  ts_of_min_over_time: (ts, vs, lo, hi) => {
    let m = vs[lo]!, t = ts[lo]!;
    for (let i = lo; i < hi; i++) if (vs[i]! <= m || m !== m) { m = vs[i]!; t = ts[i]!; }
    return t / 1000;
  },
  ts_of_max_over_time: (ts, vs, lo, hi) => {
    let m = vs[lo]!, t = ts[lo]!;
    for (let i = lo; i < hi; i++) if (vs[i]! >= m || m !== m) { m = vs[i]!; t = ts[i]!; }
    return t / 1000;
  },
  ts_of_last_over_time: (ts, _vs, _lo, hi) => ts[hi - 1]! / 1000,
  double_exponential_smoothing: (_ts, vs, lo, hi, _rt, _range, i, params) => {
    const sf = params[0]![i]!;
    const tf = params[1]![i]!;
    if (!(sf > 0 && sf < 1)) throw new EngineError('execution', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${goFixed6(sf)}`);
    if (!(tf > 0 && tf < 1)) throw new EngineError('execution', `invalid trend factor. Expected: 0 < tf < 1, got: ${goFixed6(tf)}`);
    const l = hi - lo;
    if (l < 2) return undefined;
    let s0 = 0;
    let s1 = vs[lo]!;
    let b = vs[lo + 1]! - vs[lo]!;
    for (let k = 1; k < l; k++) {
      const x = sf * vs[lo + k]!;
      if (k - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
};

// ---------------------------------------------------------------------------------------------
// Instant functions

function* vectorArg(ev: Evaluator, e: Expr, fname: string): Gen<StepSeries[]> {
  const v = yield* ev.eval(e);
  if (v.kind !== 'vector') throw new EngineError('execution', `${fname}: expected instant vector argument, got ${typeName(v)}`);
  return v.series;
}

function* stringArg(ev: Evaluator, e: Expr): Gen<string> {
  const u = unwrapParens(e);
  if (u.kind === 'string') return u.value;
  const v = yield* ev.eval(e);
  if (v.kind === 'string') return v.s;
  throw new EngineError('execution', `expected string argument, got ${typeName(v)}`);
}

function mapValues(ev: Evaluator, series: StepSeries[], f: (x: number, i: number) => number): Val {
  const n = ev.n;
  for (const s of series) {
    const v = s.v;
    for (let i = 0; i < n; i++) if (s.has[i]) v[i] = f(v[i]!, i);
    ev.markDropName(s);
  }
  return ev.checkDuplicatesIfEager({ kind: 'vector', series });
}

const MATH: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (x) => (x < 0 ? -1 : x > 0 ? 1 : x),
  acos: Math.acos,
  acosh: Math.acosh,
  asin: Math.asin,
  asinh: Math.asinh,
  atan: Math.atan,
  atanh: Math.atanh,
  cos: Math.cos,
  cosh: Math.cosh,
  sin: Math.sin,
  sinh: Math.sinh,
  tan: Math.tan,
  tanh: Math.tanh,
  deg: (x) => (x * 180) / Math.PI,
  rad: (x) => (x * Math.PI) / 180,
};

const DATE: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

/** Labels for absent()/absent_over_time(): the equality matchers of a plain selector. */
function absentLabels(e: Expr): Labels {
  const u = unwrapParens(e);
  let matchers: readonly Matcher[];
  if (u.kind === 'vector') matchers = u.matchers;
  else if (u.kind === 'matrix') matchers = u.vector.matchers;
  else return Labels.EMPTY;
  const b = new LabelsBuilder();
  const has = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      b.set(m.name, m.value);
      has.add(m.name);
    } else b.del(m.name);
  }
  return b.labels();
}

function absentResult(ev: Evaluator, present: StepSeries[], arg: Expr): Val {
  const n = ev.n;
  const res = newSeries(absentLabels(arg), n);
  let any = false;
  for (let i = 0; i < n; i++) {
    let found = false;
    for (const s of present) if (s.has[i]) { found = true; break; }
    if (!found) {
      res.has[i] = 1;
      res.v[i] = 1;
      any = true;
    }
  }
  return { kind: 'vector', series: any ? [res] : [] };
}

/** Go's regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$. */
function expandTemplate(template: string, groups: (string | null)[], named: Map<string, number>): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      if (close < 0) {
        out += c;
        continue;
      }
      name = template.slice(i + 2, close);
      end = close;
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        out += c;
        continue;
      }
    } else {
      let j = i + 1;
      while (j < template.length && /[A-Za-z0-9_]/.test(template[j]!)) j++;
      if (j === i + 1) {
        out += c;
        continue;
      }
      name = template.slice(i + 1, j);
      end = j - 1;
    }
    i = end;
    let idx: number | undefined;
    if (/^[0-9]+$/.test(name)) idx = Number(name);
    else idx = named.get(name);
    if (idx !== undefined && idx < groups.length) out += groups[idx] ?? '';
  }
  return out;
}

interface CompiledReplace {
  re: RE2JS;
  named: Map<string, number>;
}
const replaceCache = new Map<string, CompiledReplace>();

function compileReplace(pattern: string): CompiledReplace {
  const hit = replaceCache.get(pattern);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?s:${pattern})$`);
  } catch (err) {
    throw new EngineError('execution', `invalid regular expression in label_replace(): ${pattern}`, { cause: err });
  }
  const named = new Map<string, number>();
  const ng = re.namedGroups();
  for (const [k, v] of Object.entries(ng)) named.set(k, v);
  const c = { re, named };
  if (replaceCache.size > 1000) replaceCache.clear();
  replaceCache.set(pattern, c);
  return c;
}

function* labelReplace(ev: Evaluator, call: Call): Gen<Val> {
  const series = yield* vectorArg(ev, call.args[0]!, 'label_replace');
  const dst = yield* stringArg(ev, call.args[1]!);
  const repl = yield* stringArg(ev, call.args[2]!);
  const src = yield* stringArg(ev, call.args[3]!);
  const pattern = yield* stringArg(ev, call.args[4]!);
  const { re, named } = compileReplace(pattern);
  if (!isValidLabelName(dst)) throw new EngineError('execution', `invalid destination label name in label_replace(): ${dst}`);
  const cache = new Map<string, string | null>();
  for (const s of series) {
    const srcVal = s.labels.get(src);
    let res = cache.get(srcVal);
    if (res === undefined) {
      const m = re.matcher(srcVal);
      if (m.matches()) {
        const groups: (string | null)[] = [];
        for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g));
        res = expandTemplate(repl, groups, named);
      } else res = null;
      cache.set(srcVal, res);
    }
    if (res === null) continue;
    s.labels = new LabelsBuilder(s.labels).set(dst, res).labels();
    if (dst === METRIC_NAME) s.dropName = false;
  }
  mergeSameLabels(series, true);
  return { kind: 'vector', series };
}

function* labelJoin(ev: Evaluator, call: Call): Gen<Val> {
  const series = yield* vectorArg(ev, call.args[0]!, 'label_join');
  const dst = yield* stringArg(ev, call.args[1]!);
  const sep = yield* stringArg(ev, call.args[2]!);
  const srcs: string[] = [];
  for (let i = 3; i < call.args.length; i++) {
    const s = yield* stringArg(ev, call.args[i]!);
    if (!isValidLabelName(s)) throw new EngineError('execution', `invalid source label name in label_join(): ${s}`);
    srcs.push(s);
  }
  if (!isValidLabelName(dst)) throw new EngineError('execution', `invalid destination label name in label_join(): ${dst}`);
  for (const s of series) {
    const val = srcs.map((n) => s.labels.get(n)).join(sep);
    s.labels = new LabelsBuilder(s.labels).set(dst, val).labels();
    if (dst === METRIC_NAME) s.dropName = false;
  }
  mergeSameLabels(series, true);
  return { kind: 'vector', series };
}

/** Natural ordering of strings (digit runs compared as numbers), as Prometheus's sort_by_label. */
export function naturalCompare(a: string, b: string): number {
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i), cb = b.charCodeAt(j);
    const da = ca >= 48 && ca <= 57, db = cb >= 48 && cb <= 57;
    if (da && db) {
      let ie = i, je = j;
      while (ie < a.length && a.charCodeAt(ie) >= 48 && a.charCodeAt(ie) <= 57) ie++;
      while (je < b.length && b.charCodeAt(je) >= 48 && b.charCodeAt(je) <= 57) je++;
      const na = a.slice(i, ie).replace(/^0+/, ''), nb = b.slice(j, je).replace(/^0+/, '');
      if (na.length !== nb.length) return na.length - nb.length;
      if (na !== nb) return na < nb ? -1 : 1;
      i = ie;
      j = je;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

/** Set by {@link bucketQuantile}: the counts had to be made monotonic. */
let forcedMonotonic = false;

/**
 * Prometheus's classic-histogram quantile over buckets sorted by upper bound with equal bounds
 * already merged: `ub[0..len)` upper bounds, `cnt[0..len)` cumulative counts (modified: made
 * monotonic). Sets {@link forcedMonotonic}.
 */
export function bucketQuantile(q: number, ub: Float64Array, cnt: Float64Array, len: number): number {
  forcedMonotonic = false;
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (len === 0 || ub[len - 1] !== Infinity) return NaN;
  forcedMonotonic = ensureMonotonic(cnt, len);
  if (len < 2) return NaN;
  const observations = cnt[len - 1]!;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < len - 1 && !(cnt[b]! >= rank)) b++;
  if (b === len - 1) return ub[len - 2]!;
  if (b === 0 && ub[0]! <= 0) return ub[0]!;
  let bucketStart = 0;
  const bucketEnd = ub[b]!;
  let count = cnt[b]!;
  if (b > 0) {
    bucketStart = ub[b - 1]!;
    count -= cnt[b - 1]!;
    rank -= cnt[b - 1]!;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function almostEqual(a: number, b: number, eps: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  const minNormal = 2.2250738585072014e-308;
  if (a === 0 || b === 0 || absSum < minNormal) return diff < eps * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

function ensureMonotonic(cnt: Float64Array, len: number): boolean {
  let forced = false;
  let prev = cnt[0]!;
  for (let i = 1; i < len; i++) {
    const cur = cnt[i]!;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12)) {
      cnt[i] = prev;
      continue;
    }
    if (cur < prev) {
      cnt[i] = prev;
      forced = true;
      continue;
    }
    prev = cur;
  }
  return forced;
}

/** Prometheus's classic-histogram fraction of observations in (lower, upper]; buckets as for {@link bucketQuantile}. */
export function bucketFraction(lower: number, upper: number, ub: Float64Array, cnt: Float64Array, len: number): number {
  if (len === 0 || ub[len - 1] !== Infinity) return NaN;
  const count = cnt[len - 1]!;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0, lowerRank = 0, upperRank = 0, lowerSet = false, upperSet = false;
  for (let i = 0; i < len; i++) {
    let lowerBound = i > 0 ? ub[i - 1]! : -Infinity;
    const upperBound = ub[i]!;
    const c = cnt[i]!;
    if (i === 0 && upperBound > 0) lowerBound = 0;
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = lowerBound === -Infinity ? rank : rank + ((c - rank) * (lower - lowerBound)) / (upperBound - lowerBound);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = lowerBound === -Infinity ? rank : rank + ((c - rank) * (upper - lowerBound)) / (upperBound - lowerBound);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = c;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

function* classicHistogram(ev: Evaluator, call: Call, fraction: boolean): Gen<Val> {
  const n = ev.n;
  const p1 = yield* ev.evalScalarArg(call.args[0]!);
  const p2 = fraction ? yield* ev.evalScalarArg(call.args[1]!) : undefined;
  const vecArg = call.args[fraction ? 2 : 1]!;
  const series = yield* vectorArg(ev, vecArg, call.func.name);
  if (!fraction) {
    for (let i = 0; i < n; i++) {
      const q = p1[i]!;
      if (Number.isNaN(q) || q < 0 || q > 1) {
        ev.ctx.ann.warn(`quantile value should be between 0 and 1, got ${goFloat(q)}`, call.args[0]!.posRange);
        break;
      }
    }
  }
  interface Group {
    labels: Labels;
    name: string;
    uppers: number[];
    members: StepSeries[];
    dropName: boolean;
  }
  const groups = new Map<string, Group>();
  const order: Group[] = [];
  for (const s of series) {
    const le = s.labels.get('le');
    const upper = parseGoFloat(le);
    const name = s.labels.get(METRIC_NAME);
    if (le === '' || Number.isNaN(upper)) {
      ev.ctx.ann.warn(`bucket label "le" is missing or has a malformed value of ${goQuote(le)} for metric name ${goQuote(name)}`, vecArg.posRange);
      continue;
    }
    const base = s.labels.without('le');
    const labels = ev.ctx.delayed ? base : dropMetricName(base);
    const key = labels.key();
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels, name, uppers: [], members: [], dropName: ev.ctx.delayed };
      groups.set(key, g);
      order.push(g);
    }
    g.uppers.push(upper);
    g.members.push(s);
  }
  const out: StepSeries[] = [];
  let ub = new Float64Array(16);
  let cnt = new Float64Array(16);
  for (const g of order) {
    // Bucket bounds are fixed per series: sort the group's members by bound once.
    const idx = g.uppers.map((_, k) => k).sort((a, b) => g.uppers[a]! - g.uppers[b]!);
    const uppers = Float64Array.from(idx, (k) => g.uppers[k]!);
    const members = idx.map((k) => g.members[k]!);
    if (ub.length < members.length) {
      ub = new Float64Array(members.length);
      cnt = new Float64Array(members.length);
    }
    const res = newSeries(g.labels, n, g.dropName);
    let any = false;
    for (let i = 0; i < n; i++) {
      let len = 0;
      for (let m = 0; m < members.length; m++) {
        const s = members[m]!;
        if (!s.has[i]) continue;
        const u = uppers[m]!;
        if (len > 0 && ub[len - 1] === u) cnt[len - 1] = cnt[len - 1]! + s.v[i]!;
        else {
          ub[len] = u;
          cnt[len] = s.v[i]!;
          len++;
        }
      }
      if (len === 0) continue;
      let v: number;
      if (fraction) v = bucketFraction(p1[i]!, p2![i]!, ub, cnt, len);
      else {
        v = bucketQuantile(p1[i]!, ub, cnt, len);
        if (forcedMonotonic) {
          ev.ctx.ann.info(
            `input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${goQuote(g.name)}`,
            vecArg.posRange,
          );
        }
      }
      res.has[i] = 1;
      res.v[i] = v;
      any = true;
    }
    if (any) out.push(res);
  }
  return ev.checkDuplicatesIfEager({ kind: 'vector', series: out });
}

/** Go's strconv.ParseFloat for label values such as "+Inf", "0.5", "1e3". NaN when invalid. */
export function parseGoFloat(s: string): number {
  const t = s.trim();
  if (t === '' || t !== s) return NaN;
  const lower = t.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  if (/^[+-]?0x/i.test(t)) {
    const v = Number(t.replace(/^\+/, ''));
    return v;
  }
  if (!/^[+-]?(\d[\d_]*\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return NaN;
  return Number(t.replace(/_/g, ''));
}

const INFO_IDENTIFYING = ['instance', 'job'];

/**
 * info(v, [data-label-selector]) (experimental): adds the data labels of the info series
 * (default `target_info`) that share `instance` and `job` with each series; among several, the
 * one with the newest sample wins. Data-label matchers restrict which info series and labels count.
 */
function* infoFunction(ev: Evaluator, call: Call): Gen<Val> {
  const n = ev.n;
  const series = yield* vectorArg(ev, call.args[0]!, 'info');
  const sel = call.args[1] !== undefined ? unwrapParens(call.args[1]) : undefined;
  const selMatchers = sel !== undefined && sel.kind === 'vector' ? sel.matchers : [];
  const nameMatchers = selMatchers.filter((m) => m.name === METRIC_NAME);
  const dataMatchers = selMatchers.filter((m) => m.name !== METRIC_NAME);
  const infoMatchers: Matcher[] = nameMatchers.length > 0 ? [...nameMatchers] : [new MatcherCtor('=', METRIC_NAME, 'target_info')];
  for (const m of dataMatchers) infoMatchers.push(m);
  const infoVs = {
    kind: 'vector' as const,
    name: '',
    matchers: infoMatchers,
    offset: 0,
    timestamp: null,
    startOrEnd: null,
    posRange: call.posRange,
  };
  const infos = yield* ev.evalVectorSelector(infoVs, true);
  const byId = new Map<string, StepSeries[]>();
  for (const s of infos) {
    const key = INFO_IDENTIFYING.map((l) => s.labels.get(l)).join('\xff');
    const list = byId.get(key);
    if (list) list.push(s);
    else byId.set(key, [s]);
  }
  const dataNames = new Set(dataMatchers.map((m) => m.name));
  const required = dataMatchers.some((m) => !m.matches(''));
  const isInfoName = (nm: string): boolean => (nameMatchers.length > 0 ? nameMatchers.every((m) => m.matches(nm)) : nm === 'target_info');
  const out = new Map<string, StepSeries>();
  const order: StepSeries[] = [];
  const emit = (labels: Labels, s: StepSeries, i: number): void => {
    const k = labels.key();
    let o = out.get(k);
    if (o === undefined) {
      o = newSeries(labels, n, s.dropName);
      out.set(k, o);
      order.push(o);
    }
    if (o.has[i]) throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
    o.has[i] = 1;
    o.v[i] = s.v[i]!;
  };
  for (const s of series) {
    if (isInfoName(s.labels.get(METRIC_NAME))) {
      for (let i = 0; i < n; i++) if (s.has[i]) emit(s.labels, s, i);
      continue;
    }
    const list = byId.get(INFO_IDENTIFYING.map((l) => s.labels.get(l)).join('\xff'));
    const cache = new Map<StepSeries, Labels>();
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      let best: StepSeries | undefined;
      if (list !== undefined) for (const inf of list) if (inf.has[i] && (best === undefined || inf.v[i]! > best.v[i]!)) best = inf;
      if (best === undefined) {
        if (!required) emit(s.labels, s, i);
        continue;
      }
      let labels = cache.get(best);
      if (labels === undefined) {
        const b = new LabelsBuilder(s.labels);
        best.labels.forEach((ln, lv) => {
          if (ln === METRIC_NAME || INFO_IDENTIFYING.includes(ln)) return;
          if (dataNames.size > 0 && !dataNames.has(ln)) return;
          if (!s.labels.has(ln)) b.set(ln, lv);
        });
        labels = b.labels();
        cache.set(best, labels);
      }
      emit(labels, s, i);
    }
  }
  return { kind: 'vector', series: order };
}

export function* evalInstantFunction(ev: Evaluator, call: Call): Gen<Val> {
  const name = call.func.name;
  const n = ev.n;
  const args = call.args;
  const math = MATH[name];
  if (math !== undefined) return mapValues(ev, yield* vectorArg(ev, args[0]!, name), math);
  const date = DATE[name];
  if (date !== undefined) {
    if (args.length === 0) {
      const s = newSeries(Labels.EMPTY, n);
      for (let i = 0; i < n; i++) {
        s.has[i] = 1;
        s.v[i] = date(new Date(ev.times[i]!));
      }
      return { kind: 'vector', series: [s] };
    }
    return mapValues(ev, yield* vectorArg(ev, args[0]!, name), (x) => (Number.isFinite(x) ? date(new Date(Math.trunc(x) * 1000)) : NaN));
  }
  switch (name) {
    case 'time': {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = ev.times[i]! / 1000;
      return { kind: 'scalar', v };
    }
    case 'pi':
      return { kind: 'scalar', v: new Float64Array(n).fill(Math.PI) };
    case 'vector': {
      const sc = yield* ev.evalScalarArg(args[0]!);
      const s = newSeries(Labels.EMPTY, n);
      s.has.fill(1);
      s.v.set(sc);
      return { kind: 'vector', series: [s] };
    }
    case 'scalar': {
      const series = yield* vectorArg(ev, args[0]!, name);
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let cnt = 0;
        let val = NaN;
        for (const s of series) {
          if (s.has[i]) {
            cnt++;
            val = s.v[i]!;
            if (cnt > 1) break;
          }
        }
        v[i] = cnt === 1 ? val : NaN;
      }
      return { kind: 'scalar', v };
    }
    case 'round': {
      const series = yield* vectorArg(ev, args[0]!, name);
      const to = args.length > 1 ? yield* ev.evalScalarArg(args[1]!) : undefined;
      return mapValues(ev, series, (x, i) => {
        const inv = 1 / (to ? to[i]! : 1);
        return Math.floor(x * inv + 0.5) / inv;
      });
    }
    case 'clamp': {
      const series = yield* vectorArg(ev, args[0]!, name);
      const lo = yield* ev.evalScalarArg(args[1]!);
      const hi = yield* ev.evalScalarArg(args[2]!);
      for (const s of series) for (let i = 0; i < n; i++) if (hi[i]! < lo[i]!) s.has[i] = 0;
      return mapValues(ev, series.filter((s) => s.has.some((h) => h === 1)), (x, i) => Math.max(lo[i]!, Math.min(hi[i]!, x)));
    }
    case 'clamp_min': {
      const series = yield* vectorArg(ev, args[0]!, name);
      const lo = yield* ev.evalScalarArg(args[1]!);
      return mapValues(ev, series, (x, i) => Math.max(lo[i]!, x));
    }
    case 'clamp_max': {
      const series = yield* vectorArg(ev, args[0]!, name);
      const hi = yield* ev.evalScalarArg(args[1]!);
      return mapValues(ev, series, (x, i) => Math.min(hi[i]!, x));
    }
    case 'timestamp': {
      const u = unwrapParens(args[0]!);
      if (u.kind === 'vector') {
        const series = yield* ev.evalVectorSelector(u, true);
        for (const s of series) ev.markDropName(s);
        return ev.checkDuplicatesIfEager({ kind: 'vector', series });
      }
      return mapValues(ev, yield* vectorArg(ev, args[0]!, name), (_x, i) => ev.times[i]! / 1000);
    }
    case 'absent':
      return absentResult(ev, yield* vectorArg(ev, args[0]!, name), args[0]!);
    case 'absent_over_time': {
      const present = yield* ev.eval({ ...call, func: { ...call.func, name: 'present_over_time' } });
      if (present.kind !== 'vector') throw new EngineError('execution', 'absent_over_time: expected a range vector');
      return absentResult(ev, present.series, args[0]!);
    }
    case 'label_replace':
      return yield* labelReplace(ev, call);
    case 'label_join':
      return yield* labelJoin(ev, call);
    case 'sort':
    case 'sort_desc': {
      const series = yield* vectorArg(ev, args[0]!, name);
      if (n !== 1) return { kind: 'vector', series };
      const desc = name === 'sort_desc';
      const present = series.filter((s) => s.has[0]);
      present.sort((a, b) => {
        const va = a.v[0]!, vb = b.v[0]!;
        if (va !== va) return vb !== vb ? 0 : 1;
        if (vb !== vb) return -1;
        return desc ? vb - va : va - vb;
      });
      return { kind: 'vector', series: present };
    }
    case 'sort_by_label':
    case 'sort_by_label_desc': {
      const series = yield* vectorArg(ev, args[0]!, name);
      const names: string[] = [];
      for (let i = 1; i < args.length; i++) names.push(yield* stringArg(ev, args[i]!));
      const desc = name === 'sort_by_label_desc';
      series.sort((a, b) => {
        for (const l of names) {
          const c = naturalCompare(a.labels.get(l), b.labels.get(l));
          if (c !== 0) return desc ? -c : c;
        }
        const c = Labels.compare(a.labels, b.labels);
        return desc ? -c : c;
      });
      return { kind: 'vector', series };
    }
    case 'histogram_quantile':
      return yield* classicHistogram(ev, call, false);
    case 'histogram_fraction':
      return yield* classicHistogram(ev, call, true);
    case 'histogram_count':
    case 'histogram_sum':
    case 'histogram_avg':
    case 'histogram_stddev':
    case 'histogram_stdvar': {
      // Native histograms only: float samples are ignored.
      yield* vectorArg(ev, args[0]!, name);
      return { kind: 'vector', series: [] };
    }
    case 'info':
      return yield* infoFunction(ev, call);
    default:
      throw new EngineError('bad_data', `unknown function with name "${name}"`);
  }
}

