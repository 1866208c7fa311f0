/** Binary operators: arithmetic, comparisons and set operators, with vector matching. */
import { Labels, LabelsBuilder } from '../../storage/index.js';
import type { BinaryExpr, BinaryOp, VectorMatching } from '../parser/ast.js';
import { EngineError } from './errors.js';
import { typeName, type Evaluator } from './engine.js';
import { NAME_LIKE, anyPresent, newSeries, type StepSeries, type Gen, type Val } from './types.js';

const COMPARISON = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);

/** Go's math.Pow special cases where they differ from JS `**`. */
export function goPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x === 1) return 1;
  if ((x === -1) && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

/** Applies an arithmetic operator. */
export function arith(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    case '^':
      return goPow(a, b);
    case 'atan2':
      return Math.atan2(a, b);
    default:
      throw new EngineError('execution', `operator "${op}" not allowed here`);
  }
}

export function compare(op: BinaryOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    default:
      throw new EngineError('execution', `operator "${op}" is not a comparison`);
  }
}

export function* evalBinary(ev: Evaluator, e: BinaryExpr): Gen<Val> {
  const lhs = yield* ev.eval(e.lhs);
  const rhs = yield* ev.eval(e.rhs);
  const op = e.op;
  const n = ev.n;
  if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const a = lhs.v[i]!;
      const b = rhs.v[i]!;
      out[i] = COMPARISON.has(op) ? (compare(op, a, b) ? 1 : 0) : arith(op, a, b);
    }
    return { kind: 'scalar', v: out };
  }
  if (lhs.kind === 'vector' && rhs.kind === 'scalar') return ev.checkDuplicatesIfEager(vectorScalar(ev, op, lhs.series, rhs.v, false, e.returnBool));
  if (lhs.kind === 'scalar' && rhs.kind === 'vector') return ev.checkDuplicatesIfEager(vectorScalar(ev, op, rhs.series, lhs.v, true, e.returnBool));
  if (lhs.kind === 'vector' && rhs.kind === 'vector') {
    const matching: VectorMatching = e.matching ?? { card: op === 'and' || op === 'or' || op === 'unless' ? 'many-to-many' : 'one-to-one', matchingLabels: [], on: false, include: [] };
    switch (op) {
      case 'and':
        return { kind: 'vector', series: setAnd(lhs.series, rhs.series, matching, n, false) };
      case 'unless':
        return { kind: 'vector', series: setAnd(lhs.series, rhs.series, matching, n, true) };
      case 'or':
        return { kind: 'vector', series: setOr(lhs.series, rhs.series, matching, n) };
      default:
        return ev.checkDuplicatesIfEager({ kind: 'vector', series: vectorVector(ev, op, lhs.series, rhs.series, matching, e.returnBool) });
    }
  }
  throw new EngineError('execution', `binary expression must contain only scalar and instant vector types, got ${typeName(lhs)} and ${typeName(rhs)}`);
}

function vectorScalar(ev: Evaluator, op: BinaryOp, vec: StepSeries[], sc: Float64Array, swap: boolean, returnBool: boolean): Val {
  const n = ev.n;
  const isCmp = COMPARISON.has(op);
  const out: StepSeries[] = [];
  for (const s of vec) {
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      const x = s.v[i]!;
      const y = sc[i]!;
      if (isCmp) {
        const keep = swap ? compare(op, y, x) : compare(op, x, y);
        if (returnBool) s.v[i] = keep ? 1 : 0;
        else if (!keep) {
          s.has[i] = 0;
          continue;
        }
      } else {
        s.v[i] = swap ? arith(op, y, x) : arith(op, x, y);
      }
      any = true;
    }
    if (!any) continue;
    if (!isCmp || returnBool) ev.markDropName(s);
    out.push(s);
  }
  return { kind: 'vector', series: out };
}

/** Label names a signature leaves out for `ignoring`: the listed ones and the metric name. */
function signatureFn(matching: VectorMatching): (l: Labels) => string {
  const names = matching.matchingLabels;
  if (matching.on) {
    const sorted = [...names].sort();
    return (l) => {
      let s = '';
      for (const name of sorted) {
        const v = l.get(name);
        if (v !== '') s += name + '\xfe' + v + '\xff';
      }
      return s;
    };
  }
  const skip = new Set<string>([...names, '__name__']);
  return (l) => {
    let s = '';
    for (let i = 0; i < l.size; i++) {
      const name = l.nameAt(i);
      if (!skip.has(name)) s += name + '\xfe' + l.valueAt(i) + '\xff';
    }
    return s;
  };
}

function groupBySig(series: StepSeries[], sig: (l: Labels) => string): Map<string, StepSeries[]> {
  const m = new Map<string, StepSeries[]>();
  for (const s of series) {
    const k = sig(s.labels);
    const list = m.get(k);
    if (list) list.push(s);
    else m.set(k, [s]);
  }
  return m;
}

function presentIn(list: StepSeries[] | undefined, i: number): boolean {
  if (list === undefined) return false;
  for (const s of list) if (s.has[i]) return true;
  return false;
}

function setAnd(lhs: StepSeries[], rhs: StepSeries[], matching: VectorMatching, n: number, unless: boolean): StepSeries[] {
  const sig = signatureFn(matching);
  const right = groupBySig(rhs, sig);
  const out: StepSeries[] = [];
  for (const s of lhs) {
    const list = right.get(sig(s.labels));
    for (let i = 0; i < n; i++) {
      if (s.has[i] && presentIn(list, i) === !unless) continue;
      s.has[i] = 0;
    }
    if (anyPresent(s)) out.push(s);
  }
  return out;
}

function setOr(lhs: StepSeries[], rhs: StepSeries[], matching: VectorMatching, n: number): StepSeries[] {
  const sig = signatureFn(matching);
  const left = groupBySig(lhs, sig);
  const out: StepSeries[] = [...lhs];
  for (const s of rhs) {
    const list = left.get(sig(s.labels));
    if (list !== undefined) for (let i = 0; i < n; i++) if (s.has[i] && presentIn(list, i)) s.has[i] = 0;
    if (anyPresent(s)) out.push(s);
  }
  return out;
}

/** Prometheus's Labels.MatchLabels: the labels a match group is made of, for error messages. */
function matchLabels(l: Labels, matching: VectorMatching): Labels {
  if (matching.on) return l.only(...matching.matchingLabels);
  return l.without(...matching.matchingLabels, '__name__');
}

function vectorVector(ev: Evaluator, op: BinaryOp, lhsIn: StepSeries[], rhsIn: StepSeries[], matching: VectorMatching, returnBool: boolean): StepSeries[] {
  const n = ev.n;
  const card = matching.card;
  if (card === 'many-to-many') throw new EngineError('execution', 'many-to-many only allowed for set operators');
  const swapped = card === 'one-to-many';
  const many = swapped ? rhsIn : lhsIn;
  const one = swapped ? lhsIn : rhsIn;
  const sig = signatureFn(matching);
  const isCmp = COMPARISON.has(op);
  const oneSide = swapped ? 'left' : 'right';

  // The 'one' side must have at most one series per match group at every step.
  const oneBySig = groupBySig(one, sig);
  for (const list of oneBySig.values()) {
    if (list.length < 2) continue;
    for (let i = 0; i < n; i++) {
      let first: StepSeries | undefined;
      for (const s of list) {
        if (!s.has[i]) continue;
        if (first === undefined) first = s;
        else {
          throw new EngineError(
            'execution',
            `found duplicate series for the match group ${matchLabels(s.labels, matching).toString()} on the ${oneSide} hand-side of the operation: [${s.labels.toString()}, ${first.labels.toString()}];many-to-many matching not allowed: matching labels must be unique on one side`,
          );
        }
      }
    }
  }

  const out = new Map<string, StepSeries>();
  const outList: StepSeries[] = [];
  const matchedAt = new Map<string, Uint8Array>();
  const lb = new LabelsBuilder();
  const dropName = !isCmp || returnBool;
  for (const ms of many) {
    ev.ctx.check();
    const key = sig(ms.labels);
    const list = oneBySig.get(key);
    if (list === undefined) continue;
    let matched = matchedAt.get(key);
    let lastOne: StepSeries | undefined;
    let target: StepSeries | undefined;
    for (let i = 0; i < n; i++) {
      if (!ms.has[i]) continue;
      let os: StepSeries | undefined;
      for (const s of list) if (s.has[i]) { os = s; break; }
      if (os === undefined) continue;
      let fl = ms.v[i]!;
      let fr = os.v[i]!;
      if (swapped) {
        const t = fl;
        fl = fr;
        fr = t;
      }
      let value: number;
      if (isCmp) {
        const keep = compare(op, fl, fr);
        if (returnBool) value = keep ? 1 : 0;
        else if (!keep) continue;
        else value = fl;
      } else value = arith(op, fl, fr);

      if (card === 'one-to-one') {
        if (matched === undefined) {
          matched = new Uint8Array(n);
          matchedAt.set(key, matched);
        }
        if (matched[i]) throw new EngineError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matched[i] = 1;
      }
      if (os !== lastOne || target === undefined) {
        lastOne = os;
        const labels = resultMetric(lb, ms.labels, os.labels, matching, dropName && !ev.ctx.delayed);
        const k = labels.key();
        target = out.get(k);
        if (target === undefined) {
          target = newSeries(labels, n, dropName && ev.ctx.delayed);
          out.set(k, target);
          outList.push(target);
        }
      }
      if (target.has[i]) {
        if (card === 'one-to-one') throw new EngineError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        throw new EngineError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
      }
      target.has[i] = 1;
      target.v[i] = value;
    }
  }
  return outList;
}

function resultMetric(lb: LabelsBuilder, lhs: Labels, rhs: Labels, matching: VectorMatching, dropName: boolean): Labels {
  lb.reset(lhs);
  if (dropName) lb.del(...NAME_LIKE);
  if (matching.card === 'one-to-one') {
    if (matching.on) {
      const keep = new Set(matching.matchingLabels);
      lb.filter((name) => keep.has(name));
    } else lb.del(...matching.matchingLabels);
  }
  for (const name of matching.include) {
    const v = rhs.get(name);
    if (v !== '') lb.set(name, v);
    else lb.del(name);
  }
  return lb.labels();
}
