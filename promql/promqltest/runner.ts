/**
 * The promqltest script runner (format: ../shared/conformance/promql/FORMAT.md): `load`,
 * `clear`, `eval instant|range` with `expect …` lines and the older `eval_fail|warn|info|ordered`
 * forms. Evals that need native histograms are skipped (counted, with the reason).
 */
import { readFileSync } from 'node:fs';
import { RE2JS } from 're2js';
import { Head, Labels, STALE_NAN, matchesAll, type Matcher } from '../../storage/index.js';
import type { Expr } from '../parser/ast.js';
import { Engine } from '../engine/engine.js';
import { EngineError } from '../engine/errors.js';
import type { QueryResult } from '../engine/engine.js';
import type { QueryValue } from '../engine/value.js';

export interface PromqltestParser {
  parse(query: string): Expr;
}

export type EvalStatus = 'pass' | 'fail' | 'skip';

export interface EvalOutcome {
  readonly file: string;
  /** 1-based line of the eval command. */
  readonly line: number;
  readonly query: string;
  readonly status: EvalStatus;
  /** Why it failed or was skipped (multi-line, readable). */
  readonly message?: string;
}

/** One value of a series description: a number, missing (`_`), or a histogram literal. */
type SeqValue = number | null | 'histogram';

const STALE = STALE_NAN;

/** Parses Prometheus durations (`1h30m`, `10s53ms`, `0`, `-5m`) to ms. */
export function parseDurationMs(s: string): number {
  const m = /^(-)?(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
  if (s === '0' || s === '-0') return 0;
  if (m === null || s === '' || s === '-') throw new Error(`invalid duration "${s}"`);
  const [, neg, y, w, d, h, mi, sec, ms] = m;
  const v =
    Number(y ?? 0) * 365 * 86_400_000 +
    Number(w ?? 0) * 7 * 86_400_000 +
    Number(d ?? 0) * 86_400_000 +
    Number(h ?? 0) * 3_600_000 +
    Number(mi ?? 0) * 60_000 +
    Number(sec ?? 0) * 1000 +
    Number(ms ?? 0);
  return neg ? -v : v;
}

function parseNumber(s: string): number {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  if (s === '' || !/^[+-]?(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i.test(s)) throw new Error(`invalid number "${s}"`);
  if (/^[+-]?0x/i.test(s)) return s.startsWith('-') ? -Number(s.slice(1)) : Number(s.replace(/^\+/, ''));
  return Number(s);
}

/** Expands `a+bxN`, `a-bxN`, `axN`, `_xN`, `_`, `stale` and numbers. */
export function expandValues(text: string): SeqValue[] {
  const out: SeqValue[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text.startsWith('{{', i)) {
      const end = text.indexOf('}}', i);
      if (end < 0) throw new Error(`unterminated histogram literal in "${text}"`);
      i = end + 2;
      let rep = 1;
      const m = /^x(\d+)/.exec(text.slice(i));
      if (m) {
        rep = Number(m[1]) + 1;
        i += m[0].length;
      }
      for (let k = 0; k < rep; k++) out.push('histogram');
      continue;
    }
    let j = i;
    while (j < text.length && !/\s/.test(text[j]!)) j++;
    const tok = text.slice(i, j);
    i = j;
    if (tok === '_') {
      out.push(null);
      continue;
    }
    if (tok === 'stale') {
      out.push(STALE);
      continue;
    }
    let m = /^_x(\d+)$/.exec(tok);
    if (m) {
      for (let k = 0; k < Number(m[1]); k++) out.push(null);
      continue;
    }
    m = /^(.+?)x(\d+)$/.exec(tok);
    if (m) {
      const body = m[1]!;
      const times = Number(m[2]);
      // Split "a+b" / "a-b" at the operator that is not a sign or an exponent sign.
      let opIdx = -1;
      for (let k = 1; k < body.length; k++) {
        const c = body[k]!;
        if ((c === '+' || c === '-') && !/[eE]/.test(body[k - 1]!)) {
          opIdx = k;
          break;
        }
        if ((c === '+' || c === '-') && /[eE]/.test(body[k - 1]!) && /inf/i.test(body.slice(0, k))) {
          opIdx = k;
          break;
        }
      }
      let start: number;
      let inc = 0;
      if (opIdx < 0) start = parseNumber(body);
      else {
        start = parseNumber(body.slice(0, opIdx));
        inc = parseNumber(body.slice(opIdx + 1));
        if (body[opIdx] === '-') inc = -inc;
      }
      let v = start;
      for (let k = 0; k <= times; k++) {
        out.push(v);
        v += inc;
      }
      continue;
    }
    out.push(parseNumber(tok));
  }
  return out;
}

/** Splits `metric{a="b"} values…` into the selector text and the rest. */
function splitSeriesLine(line: string): [string, string] {
  let i = 0;
  while (i < line.length && line[i] !== '{' && !/\s/.test(line[i]!)) i++;
  if (i < line.length && line[i] === '{') {
    let quote = '';
    for (i = i + 1; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (c === '\\' && quote !== '`') i++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === "'" || c === '`') quote = c;
      else if (c === '}') {
        i++;
        break;
      }
    }
  }
  return [line.slice(0, i), line.slice(i)];
}

function labelsOfSelector(parser: PromqltestParser, text: string): Labels {
  if (/^\{\s*\}$/.test(text)) return Labels.EMPTY;
  const e = parser.parse(text);
  if (e.kind !== 'vector') throw new Error(`not a series selector: ${text}`);
  const pairs: string[] = [];
  for (const m of e.matchers) {
    if (m.type !== '=') throw new Error(`series descriptions take only = matchers: ${text}`);
    pairs.push(m.name, m.value);
  }
  return Labels.fromPairs(...pairs);
}

interface ExpectLine {
  type: 'fail' | 'warn' | 'info' | 'no_warn' | 'no_info' | 'ordered';
  match?: 'msg' | 'regex';
  text?: string;
}

interface EvalCmd {
  line: number;
  query: string;
  instant: boolean;
  start: number;
  end: number;
  step: number;
  expects: ExpectLine[];
  expectedScalar?: number;
  expected: { labels: Labels; values: SeqValue[]; line: number }[];
  histogram: boolean;
}

const EVAL_RE = /^(eval(?:_fail|_warn|_info|_ordered)?)\s+(instant|range)\s+(.*)$/;

function parseExpect(line: string): ExpectLine {
  const m = /^expect\s+(fail|warn|info|no_warn|no_info|ordered)(?:\s+(msg|regex)\s*:\s?(.*))?\s*$/.exec(line);
  if (m === null) throw new Error(`invalid expect line: ${line}`);
  return { type: m[1] as ExpectLine['type'], match: m[2] as ExpectLine['match'], text: m[3] };
}

/** Go's almost.Equal with the test epsilon. */
function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const eps = 1e-6;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < eps * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

function fmtNum(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function fmtValues(values: SeqValue[]): string {
  return values.map((v) => (v === null ? '_' : v === 'histogram' ? '{{…}}' : fmtNum(v))).join(' ');
}

function regexMatch(pattern: string, s: string): boolean {
  try {
    return RE2JS.compile(pattern).matcher(s).find();
  } catch {
    return new RegExp(pattern).test(s);
  }
}

export interface RunOptions {
  engine?: Engine;
}

/** Runs one script; returns an outcome per eval. */
export function runPromqltest(text: string, file: string, parser: PromqltestParser, opts: RunOptions = {}): EvalOutcome[] {
  const engine =
    opts.engine ?? new Engine({ parse: parser.parse, delayedNameRemoval: true, lookbackDelta: 5 * 60_000, noStepSubqueryInterval: 60_000, timeout: 100_000 });
  const rawLines = text.split('\n');
  const lines = rawLines.map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
  const outcomes: EvalOutcome[] = [];
  const newHead = (): Head => new Head({ chunkRange: 24 * 3_600_000 });
  let head = newHead();
  let histogramSeries: Labels[] = [];

  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line === '') {
      i++;
      continue;
    }
    if (line === 'clear') {
      head.close();
      head = newHead();
      histogramSeries = [];
      i++;
      continue;
    }
    const load = /^load(_with_nhcb)?\s+(\S+)$/.exec(line);
    if (load) {
      const interval = parseDurationMs(load[2]!);
      const withNhcb = load[1] !== undefined;
      // As Go's runner: a later line for the same series replaces the earlier one.
      const defs = new Map<string, { labels: Labels; values: SeqValue[]; histogram: boolean }>();
      let j = i + 1;
      for (; j < lines.length && lines[j] !== ''; j++) {
        const [sel, rest] = splitSeriesLine(lines[j]!);
        try {
          const labels = labelsOfSelector(parser, sel);
          const histogram = rest.includes('{{');
          defs.set(labels.key(), { labels, values: histogram ? [] : expandValues(rest), histogram });
        } catch (err) {
          throw new Error(`${file}:${j + 1}: bad load line: ${(err as Error).message}`);
        }
      }
      const app = head.appender();
      for (const { labels, values, histogram } of defs.values()) {
        let ref = 0;
        if (histogram) histogramSeries.push(labels);
        values.forEach((v, k) => {
          if (v === null || v === 'histogram') return;
          ref = app.append(ref, labels, k * interval, v);
        });
        if (withNhcb) {
          const name = labels.metricName();
          if (name.endsWith('_bucket')) histogramSeries.push(labels.builder().set('__name__', name.slice(0, -7)).del('le').labels());
        }
      }
      app.commit();
      i = j;
      continue;
    }
    const ev = EVAL_RE.exec(line);
    if (!ev) throw new Error(`${file}:${i + 1}: unknown command: ${line}`);
    const variant = ev[1]!;
    const cmd: EvalCmd = { line: i + 1, query: '', instant: ev[2] === 'instant', start: 0, end: 0, step: 0, expects: [], expected: [], histogram: false };
    if (cmd.instant) {
      const m = /^at\s+(\S+)\s+(.*)$/.exec(ev[3]!);
      if (!m) throw new Error(`${file}:${i + 1}: invalid instant eval: ${line}`);
      cmd.start = cmd.end = parseDurationMs(m[1]!);
      cmd.query = m[2]!;
    } else {
      const m = /^from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$/.exec(ev[3]!);
      if (!m) throw new Error(`${file}:${i + 1}: invalid range eval: ${line}`);
      cmd.start = parseDurationMs(m[1]!);
      cmd.end = parseDurationMs(m[2]!);
      cmd.step = parseDurationMs(m[3]!);
      cmd.query = m[4]!;
    }
    if (variant === 'eval_fail') cmd.expects.push({ type: 'fail' });
    if (variant === 'eval_warn') cmd.expects.push({ type: 'warn' });
    if (variant === 'eval_info') cmd.expects.push({ type: 'info' });
    if (variant === 'eval_ordered') cmd.expects.push({ type: 'ordered' });
    let j = i + 1;
    for (; j < lines.length && lines[j] !== ''; j++) {
      const l = lines[j]!;
      if (l.startsWith('expect ')) {
        cmd.expects.push(parseExpect(l));
        continue;
      }
      const efm = /^expected_fail_(message|regexp)\s+(.*)$/.exec(l);
      if (efm) {
        const f = cmd.expects.find((e) => e.type === 'fail');
        const e: ExpectLine = { type: 'fail', match: efm[1] === 'message' ? 'msg' : 'regex', text: efm[2] };
        if (f && f.text === undefined) Object.assign(f, e);
        else cmd.expects.push(e);
        continue;
      }
      if (l.includes('{{')) {
        cmd.histogram = true;
        continue;
      }
      if (/^(?:[-+]?[0-9.][^\s]*|[-+]?(?:NaN|Inf))$/i.test(l)) {
        cmd.expectedScalar = parseNumber(l.split(/\s+/)[0]!);
        continue;
      }
      try {
        const [sel, rest] = splitSeriesLine(l);
        cmd.expected.push({ labels: labelsOfSelector(parser, sel), values: expandValues(rest), line: j + 1 });
      } catch (err) {
        throw new Error(`${file}:${j + 1}: bad expected series: ${(err as Error).message}`);
      }
    }
    i = j;
    outcomes.push(runEval(engine, parser, head, histogramSeries, cmd, file));
  }
  head.close();
  return outcomes;
}

function selectorsOf(e: Expr, out: Matcher[][]): void {
  switch (e.kind) {
    case 'vector':
      out.push([...e.matchers]);
      return;
    case 'matrix':
      out.push([...e.vector.matchers]);
      return;
    case 'subquery':
    case 'paren':
    case 'unary':
    case 'step_invariant':
      selectorsOf(e.expr, out);
      return;
    case 'call':
      for (const a of e.args) selectorsOf(a, out);
      return;
    case 'aggregate':
      selectorsOf(e.expr, out);
      if (e.param) selectorsOf(e.param, out);
      return;
    case 'binary':
      selectorsOf(e.lhs, out);
      selectorsOf(e.rhs, out);
      return;
    default:
      return;
  }
}

function runEval(engine: Engine, parser: PromqltestParser, head: Head, histogramSeries: Labels[], cmd: EvalCmd, file: string): EvalOutcome {
  const base = { file, line: cmd.line, query: cmd.query };
  const where = cmd.instant ? `at ${cmd.start / 1000}s` : `from ${cmd.start / 1000}s to ${cmd.end / 1000}s step ${cmd.step / 1000}s`;
  const fail = (msg: string): EvalOutcome => ({ ...base, status: 'fail', message: `${file}:${cmd.line}: ${cmd.query} (${where})\n${msg}` });
  if (cmd.histogram) return { ...base, status: 'skip', message: 'expects native histogram samples' };
  const expectFail = cmd.expects.filter((e) => e.type === 'fail');
  let expr: Expr;
  try {
    expr = parser.parse(cmd.query);
  } catch (err) {
    if (expectFail.length > 0) return checkFailure(base, fail, expectFail, (err as Error).message);
    return fail(`unexpected parse error: ${(err as Error).message}`);
  }
  if (histogramSeries.length > 0) {
    const sels: Matcher[][] = [];
    selectorsOf(expr, sels);
    for (const ms of sels) {
      for (const l of histogramSeries) {
        if (matchesAll(ms, (n) => l.get(n))) return { ...base, status: 'skip', message: `selects native histogram series ${l.toString()}` };
      }
    }
  }
  let res: QueryResult;
  try {
    res = cmd.instant ? engine.instant(head, expr, cmd.start) : engine.range(head, expr, cmd.start, cmd.end, cmd.step);
  } catch (err) {
    if (expectFail.length > 0) return checkFailure(base, fail, expectFail, (err as Error).message);
    if (!(err instanceof EngineError) && !(err instanceof Error)) throw err;
    return fail(`unexpected error: ${(err as Error).message}`);
  }
  if (expectFail.length > 0) return fail(`expected the query to fail, but it returned ${describeValue(res.value)}`);

  // Annotations.
  const problems: string[] = [];
  const warnings = res.annotations.filter((a) => a.kind === 'warning').map((a) => a.message);
  const infos = res.annotations.filter((a) => a.kind === 'info').map((a) => a.message);
  for (const [kind, got] of [['warn', warnings], ['info', infos]] as const) {
    const exps = cmd.expects.filter((e) => e.type === kind);
    const no = cmd.expects.some((e) => e.type === `no_${kind}`);
    if (no && got.length > 0) problems.push(`expected no ${kind} annotations, got: ${got.join(' | ')}`);
    for (const e of exps) {
      if (got.length === 0) {
        problems.push(`expected ${kind} annotation${e.text !== undefined ? ` "${e.text}"` : ''}, got none`);
        continue;
      }
      if (e.text === undefined) continue;
      const ok = got.some((g) => (e.match === 'regex' ? regexMatch(e.text!, g) : g === e.text));
      if (!ok) problems.push(`expected ${kind} annotation ${e.match}: ${e.text}\n  got: ${got.join(' | ')}`);
    }
    if (exps.some((e) => e.text !== undefined)) {
      for (const g of got) {
        if (!exps.some((e) => e.text === undefined || (e.match === 'regex' ? regexMatch(e.text!, g) : g === e.text))) {
          problems.push(`unexpected ${kind} annotation: ${g}`);
        }
      }
    }
  }
  const ordered = cmd.expects.some((e) => e.type === 'ordered');
  const diff = compareValue(cmd, res.value, ordered);
  if (diff) problems.push(diff);
  if (problems.length === 0 && cmd.instant && !usesStartOrEnd(expr)) {
    const c = rangeConsistency(engine, head, expr, cmd.start, res.value);
    if (c) problems.push(c);
  }
  if (problems.length > 0) return fail(problems.join('\n'));
  return { ...base, status: 'pass' };
}

/** `@ start()` / `@ end()` mean other times in a range query, so no consistency check then. */
function usesStartOrEnd(e: Expr): boolean {
  switch (e.kind) {
    case 'vector':
      return e.startOrEnd !== null;
    case 'matrix':
      return e.vector.startOrEnd !== null;
    case 'subquery':
      return e.startOrEnd !== null || usesStartOrEnd(e.expr);
    case 'paren':
    case 'unary':
    case 'step_invariant':
      return usesStartOrEnd(e.expr);
    case 'call':
      return e.args.some(usesStartOrEnd);
    case 'aggregate':
      return usesStartOrEnd(e.expr) || (e.param !== null && usesStartOrEnd(e.param));
    case 'binary':
      return usesStartOrEnd(e.lhs) || usesStartOrEnd(e.rhs);
    default:
      return false;
  }
}

/**
 * As Go's runner does: an instant query's result must equal the middle step of the same query
 * run as a range query from t-1m to t+1m (catches range-only evaluation bugs).
 */
function rangeConsistency(engine: Engine, head: Head, expr: Expr, t: number, inst: QueryValue): string | undefined {
  if (inst.type !== 'vector' && inst.type !== 'scalar') return undefined;
  let r: QueryResult;
  try {
    r = engine.range(head, expr, t - 60_000, t + 60_000, 60_000);
  } catch (err) {
    return `range-mode consistency: the range query failed: ${(err as Error).message}`;
  }
  if (r.value.type !== 'matrix') return `range-mode consistency: range query returned ${r.value.type}`;
  const got = new Map<string, number>();
  for (const s of r.value.series) {
    for (let i = 0; i < s.t.length; i++) if (s.t[i] === t) got.set(s.labels.key(), s.v[i]!);
  }
  const want = new Map<string, { labels: Labels; v: number }>();
  if (inst.type === 'scalar') want.set(Labels.EMPTY.key(), { labels: Labels.EMPTY, v: inst.v });
  else for (const s of inst.samples) want.set(s.labels.key(), { labels: s.labels, v: s.v });
  const lines: string[] = [];
  for (const [k, w] of want) {
    const g = got.get(k);
    if (g === undefined) lines.push(`  ${w.labels.toString()} ${fmtNum(w.v)} missing at the middle step of the range query`);
    else if (!almostEqual(g, w.v)) lines.push(`  ${w.labels.toString()} instant ${fmtNum(w.v)} but range ${fmtNum(g)}`);
  }
  for (const k of got.keys()) if (!want.has(k)) lines.push(`  unexpected series in range mode: ${k.replace(/\xff/g, ',')}`);
  return lines.length > 0 ? `range-mode consistency (t-1m..t+1m step 1m differs from the instant result):\n${lines.join('\n')}` : undefined;
}

function checkFailure(base: { file: string; line: number; query: string }, fail: (m: string) => EvalOutcome, exps: ExpectLine[], message: string): EvalOutcome {
  for (const e of exps) {
    if (e.text === undefined) continue;
    const ok = e.match === 'regex' ? regexMatch(e.text, message) : message === e.text;
    if (!ok) return fail(`expected error ${e.match === 'regex' ? 'matching' : ''} "${e.text}"\n  got: "${message}"`);
  }
  return { ...base, status: 'pass' };
}

function describeValue(v: QueryValue): string {
  switch (v.type) {
    case 'scalar':
      return `scalar ${fmtNum(v.v)}`;
    case 'string':
      return `string ${JSON.stringify(v.v)}`;
    case 'vector':
      return v.samples.length === 0 ? 'an empty vector' : `vector:\n${v.samples.map((s) => `    ${s.labels.toString()} ${fmtNum(s.v)}`).join('\n')}`;
    case 'matrix':
      return v.series.length === 0 ? 'an empty matrix' : `matrix:\n${v.series.map((s) => `    ${s.labels.toString()} ${Array.from(s.v, fmtNum).join(' ')}`).join('\n')}`;
  }
}

function compareValue(cmd: EvalCmd, v: QueryValue, ordered: boolean): string | undefined {
  if (cmd.expectedScalar !== undefined) {
    if (v.type !== 'scalar') return `expected scalar ${fmtNum(cmd.expectedScalar)}, got ${describeValue(v)}`;
    if (!almostEqual(cmd.expectedScalar, v.v)) return `expected scalar ${fmtNum(cmd.expectedScalar)}, got ${fmtNum(v.v)}`;
    return undefined;
  }
  const expected = new Map<string, { labels: Labels; values: SeqValue[]; line: number; index: number }>();
  cmd.expected.forEach((e, index) => expected.set(e.labels.key(), { ...e, index }));
  const lines: string[] = [];
  if (v.type === 'scalar') return `expected ${cmd.expected.length === 0 ? 'no result' : 'a vector'}, got scalar ${fmtNum(v.v)}`;
  if (v.type === 'string') return `expected a vector, got string ${JSON.stringify(v.v)}`;
  if (v.type === 'vector') {
    if (!cmd.instant) return 'range query returned a vector';
    const seen = new Set<string>();
    v.samples.forEach((s, pos) => {
      const k = s.labels.key();
      const e = expected.get(k);
      if (e === undefined) {
        lines.push(`+ ${s.labels.toString()} ${fmtNum(s.v)}   (unexpected)`);
        return;
      }
      seen.add(k);
      const ev = e.values[0];
      if (e.values.length !== 1 || typeof ev !== 'number') lines.push(`  ${s.labels.toString()}: expected values "${fmtValues(e.values)}" for an instant query`);
      else if (!almostEqual(ev, s.v)) lines.push(`~ ${s.labels.toString()} expected ${fmtNum(ev)}, got ${fmtNum(s.v)}`);
      if (ordered && e.index !== pos) lines.push(`  ${s.labels.toString()} at position ${pos}, expected at ${e.index}`);
    });
    for (const [k, e] of expected) if (!seen.has(k)) lines.push(`- ${e.labels.toString()} ${fmtValues(e.values)}   (missing)`);
  } else {
    if (ordered) lines.push('expected ordered result, but query returned a matrix');
    const seen = new Set<string>();
    for (const s of v.series) {
      const k = s.labels.key();
      const e = expected.get(k);
      const got = Array.from(s.v, fmtNum).join(' ');
      if (e === undefined) {
        lines.push(`+ ${s.labels.toString()} ${got}   (unexpected)`);
        continue;
      }
      seen.add(k);
      const expT: number[] = [];
      const expV: number[] = [];
      e.values.forEach((val, idx) => {
        if (typeof val === 'number') {
          expT.push(cmd.start + idx * cmd.step);
          expV.push(val);
        }
      });
      let same = expT.length === s.t.length;
      for (let q = 0; same && q < expT.length; q++) if (expT[q] !== s.t[q] || !almostEqual(expV[q]!, s.v[q]!)) same = false;
      if (!same) {
        const gotSteps: string[] = [];
        if (cmd.step > 0) {
          let q = 0;
          for (let t = cmd.start; t <= cmd.end; t += cmd.step) {
            if (q < s.t.length && s.t[q] === t) gotSteps.push(fmtNum(s.v[q++]!));
            else gotSteps.push('_');
          }
        }
        lines.push(`~ ${s.labels.toString()}\n    expected: ${fmtValues(e.values)}\n    got:      ${cmd.step > 0 ? gotSteps.join(' ') : got}`);
      }
    }
    for (const [k, e] of expected) if (!seen.has(k)) lines.push(`- ${e.labels.toString()} ${fmtValues(e.values)}   (missing)`);
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** Runs files; prints failures and the summary line; resolves to the exit code. */
export async function runPromqltestFiles(files: string[], out: NodeJS.WritableStream, parser: PromqltestParser): Promise<number> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const f of files) {
    let outcomes: EvalOutcome[];
    try {
      outcomes = runPromqltest(readFileSync(f, 'utf8'), f, parser);
    } catch (err) {
      out.write(`${f}: ${(err as Error).message}\n`);
      failed++;
      continue;
    }
    for (const o of outcomes) {
      if (o.status === 'pass') passed++;
      else if (o.status === 'skip') skipped++;
      else {
        failed++;
        out.write(`FAIL ${o.message}\n\n`);
      }
    }
  }
  out.write(`promqltest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  return failed > 0 ? 1 : 0;
}
