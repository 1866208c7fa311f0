/** Aggregation operators, computed per group over all steps with typed-array accumulators. */
import { Labels, LabelsBuilder, isValidLabelName } from '../../storage/index.js';
import type { AggregateExpr } from '../parser/ast.js';
import { EngineError } from './errors.js';
import type { Evaluator } from './engine.js';
import { typeName, unwrapParens } from './engine.js';
import { NAME_LIKE, newSeries, type StepSeries, type Val } from './types.js';

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

export function evalAggregate(ev: Evaluator, e: AggregateExpr): Val {
  const n = ev.n;
  let param: Float64Array | undefined;
  let strParam: string | undefined;
  if (e.param !== null) {
    const pv = ev.eval(e.param);
    if (pv.kind === 'scalar') param = pv.v;
    else if (pv.kind === 'string') strParam = pv.s;
    else throw new EngineError('execution', `expected scalar or string parameter, got ${typeName(pv)}`);
  }
  const v = ev.eval(e.expr);
  if (v.kind !== 'vector') throw new EngineError('execution', `expected instant vector in aggregation, got ${typeName(v)}`);
  const series = v.series;
  const op = e.op;

  if (op === 'count_values') return countValues(ev, e, series, strParam ?? '');
  if (op === 'topk' || op === 'bottomk' || op === 'limitk' || op === 'limit_ratio') return selectK(ev, e, series, param!);

  if (op === 'quantile') {
    const q = param!;
    for (let i = 0; i < n; i++) {
      const x = q[i]!;
      if (Number.isNaN(x) || x < 0 || x > 1) {
        ev.ctx.ann.warn(`quantile value should be between 0 and 1, got ${goFloat(x)}`, e.param!.posRange);
        break;
      }
    }
  }

  const grp = groupSeries(series, e);
  const G = grp.labels.length;
  const size = G * n;
  const count = new Float64Array(size);
  const acc = new Float64Array(size);
  const comp = new Float64Array(size);
  const mean = op === 'avg' || op === 'stddev' || op === 'stdvar' ? new Float64Array(size) : undefined;
  const incremental = op === 'avg' ? new Uint8Array(size) : undefined;
  const values: number[][] | undefined = op === 'quantile' ? [] : undefined;

  if (op === 'quantile') {
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
    void values;
    return { kind: 'vector', series: out };
  }

  for (let k = 0; k < series.length; k++) {
    ev.ctx.check();
    const s = series[k]!;
    const base = grp.groupOf[k]! * n;
    const sv = s.v;
    const sh = s.has;
    for (let i = 0; i < n; i++) {
      if (!sh[i]) continue;
      const f = sv[i]!;
      const j = base + i;
      const c = ++count[j]!;
      switch (op) {
        case 'sum':
          acc[j] = kahanSumInc(f, acc[j]!, comp[j]!);
          comp[j] = kahanC;
          break;
        case 'avg': {
          if (c === 1) {
            acc[j] = f;
            comp[j] = 0;
            break;
          }
          if (!incremental![j]) {
            const nv = kahanSumInc(f, acc[j]!, comp[j]!);
            if (nv !== Infinity && nv !== -Infinity) {
              acc[j] = nv;
              comp[j] = kahanC;
              break;
            }
            incremental![j] = 1;
            mean![j] = acc[j]! / (c - 1);
            comp[j] = comp[j]! / (c - 1);
          }
          const m = mean![j]!;
          if (m === Infinity || m === -Infinity) {
            if ((f === Infinity || f === -Infinity) && m > 0 === f > 0) break;
            if (f !== Infinity && f !== -Infinity && f === f) break;
          }
          const cur = m + comp[j]!;
          mean![j] = kahanSumInc(f / c - cur / c, cur, comp[j]!);
          comp[j] = kahanC;
          break;
        }
        case 'count':
        case 'group':
          break;
        case 'min':
          if (c === 1 || acc[j]! > f || acc[j] !== acc[j]) acc[j] = f;
          break;
        case 'max':
          if (c === 1 || acc[j]! < f || acc[j] !== acc[j]) acc[j] = f;
          break;
        case 'stddev':
        case 'stdvar': {
          if (c === 1) {
            mean![j] = f;
            acc[j] = f !== f || f === Infinity || f === -Infinity ? NaN : 0;
            break;
          }
          const delta = f - mean![j]!;
          mean![j] = mean![j]! + delta / c;
          acc[j] = acc[j]! + delta * (f - mean![j]!);
          break;
        }
        default:
          throw new EngineError('execution', `unknown aggregation ${op}`);
      }
    }
  }
  const out: StepSeries[] = [];
  for (let g = 0; g < G; g++) {
    const res = newSeries(grp.labels[g]!, n, grp.dropName[g]);
    const base = g * n;
    let any = false;
    for (let i = 0; i < n; i++) {
      const j = base + i;
      const c = count[j]!;
      if (c === 0) continue;
      any = true;
      res.has[i] = 1;
      let r: number;
      switch (op) {
        case 'sum':
          r = acc[j]! + comp[j]!;
          if (acc[j] === Infinity || acc[j] === -Infinity) r = acc[j]!;
          break;
        case 'avg':
          if (c === 1) r = acc[j]!;
          else if (incremental![j]) r = mean![j]! + comp[j]!;
          else r = (acc[j]! + comp[j]!) / c;
          break;
        case 'count':
          r = c;
          break;
        case 'group':
          r = 1;
          break;
        case 'min':
        case 'max':
          r = acc[j]!;
          break;
        case 'stdvar':
          r = acc[j]! / c;
          break;
        case 'stddev':
          r = Math.sqrt(acc[j]! / c);
          break;
        default:
          r = NaN;
      }
      res.v[i] = r;
    }
    if (any) out.push(res);
  }
  ev.ctx.hold(out.length * n);
  return { kind: 'vector', series: out };
}

/** Go's %g-like formatting of a float for messages. */
export function goFloat(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x !== x) return 'NaN';
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
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      lb.reset(s.labels);
      lb.set(label, formatFloatF(s.v[i]!));
      let g: Labels;
      if (by !== null) {
        lb.filter((name) => by.has(name));
        g = lb.labels();
      } else {
        lb.del(...without!);
        g = lb.labels();
      }
      const key = g.key();
      let res = out.get(key);
      if (res === undefined) {
        res = newSeries(g, n);
        out.set(key, res);
        order.push(res);
      }
      res.has[i] = 1;
      res.v[i] = res.v[i]! + 1;
    }
  }
  return { kind: 'vector', series: order };
}

/** Go's labels.Hash is xxhash; any uniform hash gives the documented limit_ratio behaviour. */
function ratioOffset(l: Labels): number {
  return l.hash() / 2 ** 53;
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
      if (Number.isNaN(r)) throw new EngineError('execution', `Ratio value is NaN`);
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
      if (Number.isNaN(k)) throw new EngineError('execution', `Parameter value is NaN`);
      if (k >= 9223372036854775807 || k < -9223372036854775808) throw new EngineError('execution', `Scalar value ${goFloat(k)} overflows int64`);
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
  const cmp = (a: number, b: number): number => {
    const va = series[a]!.v[idx]!;
    const vb = series[b]!.v[idx]!;
    // NaN sorts last for both directions.
    if (va !== va) return vb !== vb ? 0 : 1;
    if (vb !== vb) return -1;
    return top ? vb - va : va - vb;
  };
  let idx = 0;
  const instantOrder: number[] = [];
  for (let g = 0; g < G; g++) {
    ev.ctx.check();
    const mem = members[g]!;
    for (let i = 0; i < n; i++) {
      idx = i;
      cand.length = 0;
      for (const k of mem) if (series[k]!.has[i]) cand.push(k);
      if (cand.length === 0) continue;
      if (op === 'limit_ratio') {
        const r = ks[i]!;
        for (const k of cand) {
          const off = ratioOffset(series[k]!.labels);
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
      cand.sort(cmp);
      for (let c = 0; c < k; c++) mark(cand[c]!, i);
      if (n === 1) for (let c = 0; c < k; c++) instantOrder.push(cand[c]!);
    }
  }
  const out: StepSeries[] = [];
  if (n === 1 && op !== 'limit_ratio') {
    for (const k of instantOrder) out.push(outs[k]!);
  } else {
    for (const o of outs) if (o !== undefined) out.push(o);
  }
  ev.ctx.hold(out.length * n);
  void unwrapParens;
  return { kind: 'vector', series: out };
}
