/** Aggregation operators, computed per group over all steps with typed-array accumulators. */
import { Labels, LabelsBuilder, isValidLabelName } from '../../storage/index.js';
import type { AggregateExpr } from '../parser/ast.js';
import { EngineError } from './errors.js';
import type { Evaluator } from './engine.js';
import { typeName } from './engine.js';
import { prometheusLabelsHash } from './xxhash.js';
import { NAME_LIKE, newSeries, type StepSeries, type Gen, type Val } from './types.js';

/** Neumaier-compensated summation step; returns the new sum, the new compensation in kahanC. */
let kahanC = 0;
export function kahanSumInc(inc: number, sum: number, c: number): number {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  kahanC = c;
  return t;
}
export function lastKahanC(): number {
  return kahanC;
}

let qbuf = new Float64Array(64);

/**
 * Prometheus's quantile (linear interpolation between ranks) over `values[0..n)`. NaNs sort
 * first, as in Prometheus; the numbers are sorted natively as a Float64Array.
 */
export function quantile(q: number, values: ArrayLike<number>, n = values.length): number {
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (qbuf.length < n) qbuf = new Float64Array(Math.max(n, qbuf.length * 2));
  for (let i = 0; i < n; i++) qbuf[i] = values[i]!;
  const sorted = qbuf.subarray(0, n).sort(); // NaNs last
  let nans = 0;
  while (nans < n && sorted[n - 1 - nans] !== sorted[n - 1 - nans]) nans++;
  const at = (i: number): number => (i < nans ? NaN : sorted[i - nans]!);
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return at(lower) * (1 - weight) + at(upper) * weight;
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64). */
export function formatFloatF(f: number): string {
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f !== f) return 'NaN';
  const s = String(f);
  if (!s.includes('e')) return s;
  const neg = f < 0;
  const [mant, expS] = (neg ? s.slice(1) : s).split('e') as [string, string];
  const exp = Number(expS);
  const digits = mant.replace('.', '');
  const pointPos = (mant.indexOf('.') < 0 ? mant.length : mant.indexOf('.')) + exp;
  let out: string;
  if (pointPos <= 0) out = '0.' + '0'.repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + '.' + digits.slice(pointPos);
  return (neg ? '-' : '') + out;
}

interface Grouping {
  /** Group index per input series. */
  readonly groupOf: Int32Array;
  readonly labels: Labels[];
  readonly dropName: boolean[];
}

/** The group key of a label set: values of the `by` labels, or all labels but the `without` ones. */
function groupKey(l: Labels, byNames: readonly string[] | null, without: ReadonlySet<string> | null): string {
  let key = '';
  if (byNames !== null) {
    for (const name of byNames) key += l.get(name) + '\xff';
    return key;
  }
  for (let i = 0; i < l.size; i++) {
    const name = l.nameAt(i);
    if (!without!.has(name)) key += name + '\xfe' + l.valueAt(i) + '\xff';
  }
  return key;
}

function groupSeries(series: StepSeries[], e: AggregateExpr): Grouping {
  const groupOf = new Int32Array(series.length);
  const labels: Labels[] = [];
  const dropName: boolean[] = [];
  const index = new Map<string, number>();
  const byNames = e.without ? null : [...new Set(e.grouping)].sort();
  const withoutSet = e.without ? new Set<string>([...e.grouping, ...NAME_LIKE]) : null;
  const withoutList = e.without ? [...e.grouping, ...NAME_LIKE] : [];
  for (let k = 0; k < series.length; k++) {
    const s = series[k]!;
    const key = groupKey(s.labels, byNames, withoutSet);
    let idx = index.get(key);
    if (idx === undefined) {
      idx = labels.length;
      index.set(key, idx);
      labels.push(byNames !== null ? (byNames.length === 0 ? Labels.EMPTY : s.labels.only(...byNames)) : s.labels.without(...withoutList));
      dropName.push(false);
    }
    if (s.dropName && labels[idx]!.has('__name__')) dropName[idx] = true;
    groupOf[k] = idx;
  }
  return { groupOf, labels, dropName };
}

export function* evalAggregate(ev: Evaluator, e: AggregateExpr): Gen<Val> {
  const n = ev.n;
  let param: Float64Array | undefined;
  let strParam: string | undefined;
  if (e.param !== null) {
    const pv = yield* ev.eval(e.param);
    if (pv.kind === 'scalar') param = pv.v;
    else if (pv.kind === 'string') strParam = pv.s;
    else throw new EngineError('execution', `expected scalar or string parameter, got ${typeName(pv)}`);
  }
  const op = e.op;
  if (op !== 'count_values' && op !== 'topk' && op !== 'bottomk' && op !== 'limitk' && op !== 'limit_ratio' && op !== 'quantile') {
    const agg = new SimpleAggregation(op, n, e);
    yield* ev.streamVector(e.expr, (s) => agg.add(s));
    const out = agg.finish();
    ev.ctx.hold(out.length * n);
    return { kind: 'vector', series: out };
  }
  const v = yield* ev.eval(e.expr);
  if (v.kind !== 'vector') throw new EngineError('execution', `expected instant vector in aggregation, got ${typeName(v)}`);
  const series = v.series;

  if (op === 'count_values') return countValues(ev, e, series, strParam ?? '');
  if (op !== 'quantile') return selectK(ev, e, series, param!);

  const q = param!;
  for (let i = 0; i < n; i++) {
    const x = q[i]!;
    if (Number.isNaN(x) || x < 0 || x > 1) {
      ev.ctx.ann.warn(`quantile value should be between 0 and 1, got ${goFloat(x)}`, e.param!.posRange);
      break;
    }
  }
  const grp = groupSeries(series, e);
  const G = grp.labels.length;
  {
    const members: StepSeries[][] = Array.from({ length: G }, () => []);
    for (let k = 0; k < series.length; k++) members[grp.groupOf[k]!]!.push(series[k]!);
    const out: StepSeries[] = [];
    for (let g = 0; g < G; g++) {
      const res = newSeries(grp.labels[g]!, n, grp.dropName[g]);
      const mem = members[g]!;
      const buf = new Float64Array(mem.length);
      let any = false;
      for (let i = 0; i < n; i++) {
        let cnt = 0;
        for (const s of mem) if (s.has[i]) buf[cnt++] = s.v[i]!;
        if (cnt === 0) continue;
        res.has[i] = 1;
        res.v[i] = quantile(param![i]!, buf, cnt);
        any = true;
      }
      if (any) out.push(res);
    }
    return { kind: 'vector', series: out };
  }
}

interface AggGroup {
  readonly labels: Labels;
  dropName: boolean;
  readonly count: Float64Array;
  readonly acc: Float64Array;
  readonly comp: Float64Array;
  readonly mean: Float64Array | undefined;
  readonly incremental: Uint8Array | undefined;
}

/** sum, avg, count, group, min, max, stddev, stdvar: per-group accumulators over all steps. */
class SimpleAggregation {
  private readonly groups: AggGroup[] = [];
  private readonly index = new Map<string, AggGroup>();
  private readonly byNames: string[] | null;
  private readonly withoutSet: Set<string> | null;
  private readonly withoutList: string[];

  constructor(
    private readonly op: string,
    private readonly n: number,
    e: AggregateExpr,
  ) {
    this.byNames = e.without ? null : [...new Set(e.grouping)].sort();
    this.withoutSet = e.without ? new Set<string>([...e.grouping, ...NAME_LIKE]) : null;
    this.withoutList = e.without ? [...e.grouping, ...NAME_LIKE] : [];
  }

  add(s: StepSeries): void {
    const key = groupKey(s.labels, this.byNames, this.withoutSet);
    let g = this.index.get(key);
    const n = this.n;
    if (g === undefined) {
      const byNames = this.byNames;
      const labels = byNames !== null ? (byNames.length === 0 ? Labels.EMPTY : s.labels.only(...byNames)) : s.labels.without(...this.withoutList);
      const needMean = this.op === 'avg' || this.op === 'stddev' || this.op === 'stdvar';
      g = {
        labels,
        dropName: false,
        count: new Float64Array(n),
        acc: new Float64Array(n),
        comp: new Float64Array(n),
        mean: needMean ? new Float64Array(n) : undefined,
        incremental: this.op === 'avg' ? new Uint8Array(n) : undefined,
      };
      this.index.set(key, g);
      this.groups.push(g);
    }
    if (s.dropName && g.labels.has('__name__')) g.dropName = true;
    const { count, acc, comp } = g;
    const sv = s.v;
    const sh = s.has;
    switch (this.op) {
      case 'sum':
        for (let i = 0; i < n; i++) {
          if (!sh[i]) continue;
          count[i]!++;
          const inc = sv[i]!;
          const sum = acc[i]!;
          const t = sum + inc;
          if (t === Infinity || t === -Infinity) comp[i] = 0;
          else if (Math.abs(sum) >= Math.abs(inc)) comp[i] = comp[i]! + (sum - t + inc);
          else comp[i] = comp[i]! + (inc - t + sum);
          acc[i] = t;
        }
        return;
      case 'count':
      case 'group':
        for (let i = 0; i < n; i++) if (sh[i]) count[i]!++;
        return;
      case 'min':
        for (let i = 0; i < n; i++) {
          if (!sh[i]) continue;
          const f = sv[i]!;
          if (++count[i]! === 1 || acc[i]! > f || acc[i] !== acc[i]) acc[i] = f;
        }
        return;
      case 'max':
        for (let i = 0; i < n; i++) {
          if (!sh[i]) continue;
          const f = sv[i]!;
          if (++count[i]! === 1 || acc[i]! < f || acc[i] !== acc[i]) acc[i] = f;
        }
        return;
      case 'stddev':
      case 'stdvar': {
        const mean = g.mean!;
        for (let i = 0; i < n; i++) {
          if (!sh[i]) continue;
          const f = sv[i]!;
          const c = ++count[i]!;
          if (c === 1) {
            mean[i] = f;
            acc[i] = f !== f || f === Infinity || f === -Infinity ? NaN : 0;
            continue;
          }
          const delta = f - mean[i]!;
          mean[i] = mean[i]! + delta / c;
          acc[i] = acc[i]! + delta * (f - mean[i]!);
        }
        return;
      }
      case 'avg': {
        const mean = g.mean!;
        const incremental = g.incremental!;
        for (let i = 0; i < n; i++) {
          if (!sh[i]) continue;
          const f = sv[i]!;
          const c = ++count[i]!;
          if (c === 1) {
            acc[i] = f;
            comp[i] = 0;
            continue;
          }
          if (!incremental[i]) {
            const nv = kahanSumInc(f, acc[i]!, comp[i]!);
            if (nv !== Infinity && nv !== -Infinity) {
              acc[i] = nv;
              comp[i] = kahanC;
              continue;
            }
            incremental[i] = 1;
            mean[i] = acc[i]! / (c - 1);
            comp[i] = comp[i]! / (c - 1);
          }
          const q = (c - 1) / c;
          mean[i] = kahanSumInc(f / c, q * mean[i]!, q * comp[i]!);
          comp[i] = kahanC;
        }
        return;
      }
      default:
        throw new EngineError('execution', `unknown aggregation ${this.op}`);
    }
  }

  finish(): StepSeries[] {
    const out: StepSeries[] = [];
    const n = this.n;
    for (const g of this.groups) {
      const res = newSeries(g.labels, n, g.dropName);
      const { count, acc, comp } = g;
      let any = false;
      for (let i = 0; i < n; i++) {
        const c = count[i]!;
        if (c === 0) continue;
        any = true;
        res.has[i] = 1;
        let r: number;
        switch (this.op) {
          case 'sum':
            r = acc[i] === Infinity || acc[i] === -Infinity ? acc[i]! : acc[i]! + comp[i]!;
            break;
          case 'avg':
            if (c === 1) r = acc[i]!;
            else if (g.incremental![i]) r = g.mean![i]! + comp[i]!;
            else r = acc[i]! / c + comp[i]! / c;
            break;
          case 'count':
            r = c;
            break;
          case 'group':
            r = 1;
            break;
          case 'min':
          case 'max':
            r = acc[i]!;
            break;
          case 'stdvar':
            r = acc[i]! / c;
            break;
          case 'stddev':
            r = Math.sqrt(acc[i]! / c);
            break;
          default:
            r = NaN;
        }
        res.v[i] = r;
      }
      if (any) out.push(res);
    }
    return out;
  }
}

/** Go's %g / %v of a float64 (shortest digits; exponent form below 1e-4 and from 1e6). */
export function goFloat(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x !== x) return 'NaN';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expS] = x.toExponential().split('e') as [string, string];
  const exp = Number(expS);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(x);
}

function countValues(ev: Evaluator, e: AggregateExpr, series: StepSeries[], label: string): Val {
  const n = ev.n;
  if (!isValidLabelName(label)) throw new EngineError('execution', `invalid label name ${JSON.stringify(label)}`);
  const by = e.without ? null : new Set([...e.grouping, label]);
  const without = e.without ? [...e.grouping, ...NAME_LIKE] : null;
  const out = new Map<string, StepSeries>();
  const order: StepSeries[] = [];
  const lb = new LabelsBuilder();
  for (const s of series) {
    // The group labels without the value label, once per series; the value label is added
    // only when a (group, value) pair is first seen.
    lb.reset(s.labels);
    lb.del(label);
    if (by !== null) lb.filter((name) => by.has(name));
    else lb.del(...without!);
    const base = lb.labels();
    const baseKey = base.key();
    // `without (…)` naming the value label removes it again, as Prometheus's grouping does.
    const addValue = by !== null || !e.grouping.includes(label);
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      const value = addValue ? formatFloatF(s.v[i]!) : '';
      const key = baseKey + '\xfd' + value;
      let res = out.get(key);
      if (res === undefined) {
        res = newSeries(addValue ? new LabelsBuilder(base).set(label, value).labels() : base, n);
        out.set(key, res);
        order.push(res);
      }
      res.has[i] = 1;
      res.v[i] = res.v[i]! + 1;
    }
  }
  return { kind: 'vector', series: order };
}

/** vectorByValueHeap.Less (topk) / vectorByReverseValueHeap.Less (bottomk): NaN is "least". */
function heapLess(vi: number, vj: number, top: boolean): boolean {
  if (vi !== vi) return true;
  return top ? vi < vj : vi > vj;
}

/** The k series Prometheus's topk/bottomk keep among `cand` (in input order), in heap order. */
function selectHeap(cand: readonly number[], k: number, val: (c: number) => number, top: boolean): number[] {
  const h: number[] = [];
  const less = (i: number, j: number): boolean => heapLess(val(h[i]!), val(h[j]!), top);
  const swap = (i: number, j: number): void => {
    const t = h[i]!;
    h[i] = h[j]!;
    h[j] = t;
  };
  const up = (j: number): void => {
    for (;;) {
      const i = Math.trunc((j - 1) / 2);
      if (i === j || !less(j, i)) break;
      swap(i, j);
      j = i;
    }
  };
  const down = (i0: number, n: number): boolean => {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && less(j2, j1)) j = j2;
      if (!less(j, i)) break;
      swap(i, j);
      i = j;
    }
    return i > i0;
  };
  for (const c of cand) {
    if (h.length < k) {
      h.push(c);
      up(h.length - 1);
      continue;
    }
    const v = val(c);
    const v0 = val(h[0]!);
    const replace = top ? v0 < v || (v0 !== v0 && v === v) : v0 > v || (v0 !== v0 && v === v);
    if (replace) {
      h[0] = c;
      if (k > 1 && !down(0, h.length)) up(0);
    }
  }
  return h;
}

/** Insertion sort (stable), as Go's sort.Sort does for short slices. */
function stableSort(xs: number[], less: (a: number, b: number) => boolean): number[] {
  const a = xs.slice();
  for (let i = 1; i < a.length; i++) {
    for (let j = i; j > 0 && less(a[j]!, a[j - 1]!); j--) {
      const t = a[j]!;
      a[j] = a[j - 1]!;
      a[j - 1] = t;
    }
  }
  return a;
}

/** Prometheus's sample offset for limit_ratio: labels.Hash() / MaxUint64. */
function ratioOffset(l: Labels): number {
  return Number(prometheusLabelsHash(l)) / 18446744073709551615;
}

function selectK(ev: Evaluator, e: AggregateExpr, series: StepSeries[], param: Float64Array): Val {
  const n = ev.n;
  const op = e.op;
  const grp = groupSeries(series, e);
  const G = grp.labels.length;
  const members: number[][] = Array.from({ length: G }, () => []);
  for (let k = 0; k < series.length; k++) members[grp.groupOf[k]!]!.push(k);

  const ks = new Float64Array(n);
  if (op === 'limit_ratio') {
    let warned = false;
    for (let i = 0; i < n; i++) {
      let r = param[i]!;
      if (Number.isNaN(r)) throw new EngineError('execution', `Ratio value ${goFloat(r)} is NaN`);
      if (r < -1 || r > 1) {
        const capped = r < -1 ? -1 : 1;
        if (!warned) ev.ctx.ann.warn(`ratio value should be between -1 and 1, got ${goFloat(r)}, capping to ${goFloat(capped)}`, e.param!.posRange);
        warned = true;
        r = capped;
      }
      ks[i] = r;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const k = param[i]!;
      if (!(k <= 9223372036854774784 && k >= -9223372036854775808)) throw new EngineError('execution', `Scalar value ${goFloat(k)} overflows int64`);
      ks[i] = Math.trunc(k);
    }
  }

  // Output: copies of the input series, present only where selected.
  const outs: (StepSeries | undefined)[] = new Array(series.length);
  const mark = (k: number, i: number): void => {
    let o = outs[k];
    if (o === undefined) {
      const s = series[k]!;
      o = newSeries(s.labels, n, s.dropName);
      o.v.set(s.v);
      outs[k] = o;
    }
    o.has[i] = 1;
  };
  const cand: number[] = [];
  const top = op === 'topk';
  const instantOrder: number[] = [];
  const offsets = new Float64Array(series.length).fill(-1);
  for (let g = 0; g < G; g++) {
    ev.ctx.check();
    const mem = members[g]!;
    for (let i = 0; i < n; i++) {
      cand.length = 0;
      for (const k of mem) if (series[k]!.has[i]) cand.push(k);
      if (cand.length === 0) continue;
      if (op === 'limit_ratio') {
        const r = ks[i]!;
        for (const k of cand) {
          let off = offsets[k]!;
          if (off < 0) off = offsets[k] = ratioOffset(series[k]!.labels);
          if ((r >= 0 && off < r) || (r < 0 && off >= 1 + r)) mark(k, i);
        }
        continue;
      }
      const k = Math.min(ks[i]!, cand.length);
      if (k < 1) continue;
      if (op === 'limitk') {
        for (let c = 0; c < k; c++) mark(cand[c]!, i);
        if (n === 1) for (let c = 0; c < k; c++) instantOrder.push(cand[c]!);
        continue;
      }
      // Prometheus's heap of k elements (container/heap), so ties resolve as they do there.
      const heap = selectHeap(cand, k, (a) => series[a]!.v[i]!, top);
      for (const c of heap) mark(c, i);
      if (n === 1) {
        // sort.Sort(sort.Reverse(heap)): insertion sort (stable) for the small k of dashboards.
        const lessRev = (a: number, b: number): boolean => heapLess(series[b]!.v[i]!, series[a]!.v[i]!, top);
        const ordered = stableSort(heap, lessRev);
        for (const c of ordered) instantOrder.push(c);
      }
    }
  }
  const out: StepSeries[] = [];
  if (n === 1 && op !== 'limit_ratio') {
    for (const k of instantOrder) out.push(outs[k]!);
  } else {
    for (const o of outs) if (o !== undefined) out.push(o);
  }
  ev.ctx.hold(out.length * n);
  return { kind: 'vector', series: out };
}
