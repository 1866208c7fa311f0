/**
 * Printing the AST back to PromQL: `formatExpr` is Prometheus's String() (canonical, one line),
 * `prettify` its Pretty(0) (what /api/v1/format_query returns: lines of at most 100 bytes,
 * two-space indent), and `astToJson` the tree /api/v1/parse_query returns.
 */
import { METRIC_NAME, isLegacyLabelName } from '../../storage/index.js';
import type { Matcher } from '../../storage/index.js';
import type {
  AggregateExpr,
  BinaryExpr,
  DurationExpr,
  Expr,
  MatrixSelector,
  SubqueryExpr,
  VectorSelector,
} from './ast.js';
import { assertNever } from './ast.js';
import { goQuote } from './lexer.js';
import { formatDuration } from './parser.js';

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  let mant = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  let sign = '';
  if (mant.startsWith('-')) {
    sign = '-';
    mant = mant.slice(1);
  }
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot < 0 ? mant.length : dot) + exp;
  if (intLen <= 0) return `${sign}0.${'0'.repeat(-intLen)}${digits}`;
  if (intLen >= digits.length) return sign + digits + '0'.repeat(intLen - digits.length);
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Go's strconv.Quote, with lone surrogates U+DC80..U+DCFF printed as the bytes they stand for. */
export function quote(s: string): string {
  return goQuote(s);
}

function labelName(n: string): string {
  return isLegacyLabelName(n) ? n : quote(n);
}

function labelList(ls: readonly string[]): string {
  return ls.map(labelName).join(', ');
}

/** A label matcher as Prometheus prints it: `job=~"api|web"`, `"my.label"="x"`. */
export function formatMatcher(m: Matcher): string {
  return labelName(m.name) + m.type + quote(m.value);
}

function durationExprString(e: DurationExpr): string {
  return formatExpr(e);
}

function atString(timestamp: number | null, startOrEnd: 'start' | 'end' | null): string {
  if (timestamp !== null) return ' @ ' + (timestamp / 1000).toFixed(3);
  if (startOrEnd === 'start') return ' @ start()';
  if (startOrEnd === 'end') return ' @ end()';
  return '';
}

function offsetString(offset: number, offsetExpr: DurationExpr | undefined): string {
  if (offsetExpr) return ' offset ' + durationExprString(offsetExpr);
  if (offset > 0) return ' offset ' + formatDuration(offset);
  if (offset < 0) return ' offset -' + formatDuration(-offset);
  return '';
}

function selectorBody(v: VectorSelector): string {
  const parts: string[] = [];
  for (const m of v.matchers) {
    if (m.name === METRIC_NAME && m.type === '=' && m.value === v.name && m.value !== '') continue;
    parts.push(formatMatcher(m));
  }
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return parts.length > 0 ? `${v.name}{${parts.join(',')}}` : v.name;
}

function matchingString(b: BinaryExpr): string {
  const vm = b.matching;
  if (!vm) return '';
  let out = '';
  const grouped = vm.card === 'many-to-one' || vm.card === 'one-to-many';
  if (vm.matchingLabels.length > 0 || vm.on || grouped) {
    out = ` ${vm.on ? 'on' : 'ignoring'} (${labelList(vm.matchingLabels)})`;
  }
  if (grouped) out += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${labelList(vm.include)})`;
  return out;
}

function aggOpString(a: AggregateExpr): string {
  if (a.without) return `${a.op} without (${labelList(a.grouping)}) `;
  if (a.grouping.length > 0) return `${a.op} by (${labelList(a.grouping)}) `;
  return a.op;
}

function matrixSuffix(m: MatrixSelector): string {
  const range = m.rangeExpr ? durationExprString(m.rangeExpr) : formatDuration(m.range);
  return `[${range}]${atString(m.vector.timestamp, m.vector.startOrEnd)}${offsetString(m.vector.offset, m.vector.offsetExpr)}`;
}

function subquerySuffix(s: SubqueryExpr): string {
  const range = s.rangeExpr ? durationExprString(s.rangeExpr) : formatDuration(s.range);
  const step = s.step !== 0 && !s.stepExpr ? formatDuration(s.step) : s.stepExpr ? durationExprString(s.stepExpr) : '';
  return `[${range}:${step}]${atString(s.timestamp, s.startOrEnd)}${offsetString(s.offset, s.offsetExpr)}`;
}

/** Canonical one-line PromQL for `e` (Prometheus's Expr.String()). */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      if (e.duration) return e.value < 0 ? '-' + formatDuration(Math.round(-e.value * 1000)) : formatDuration(Math.round(e.value * 1000));
      return formatFloat(e.value);
    case 'string':
      return quote(e.value);
    case 'vector':
      return selectorBody(e) + atString(e.timestamp, e.startOrEnd) + offsetString(e.offset, e.offsetExpr);
    case 'matrix':
      return selectorBody(e.vector) + matrixSuffix(e);
    case 'subquery':
      return formatExpr(e.expr) + subquerySuffix(e);
    case 'call':
      return `${e.func.name}(${e.args.map(formatExpr).join(', ')})`;
    case 'aggregate':
      return `${aggOpString(e)}(${e.param ? formatExpr(e.param) + ', ' : ''}${formatExpr(e.expr)})`;
    case 'binary':
      return `${formatExpr(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${matchingString(e)} ${formatExpr(e.rhs)}`;
    case 'unary':
      return e.op + formatExpr(e.expr);
    case 'paren':
      return `(${formatExpr(e.expr)})`;
    case 'step_invariant':
      return formatExpr(e.expr);
    default:
      return assertNever(e);
  }
}

const MAX_LINE = 100;

function byteLen(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function indent(n: number): string {
  return '  '.repeat(n);
}

/** Prometheus's prettier: Expr.Pretty(0), as /api/v1/format_query returns it. */
export function prettify(e: Expr): string {
  return pretty(e, 0);
}

function pretty(e: Expr, level: number): string {
  const flat = formatExpr(e);
  const split = byteLen(flat) > MAX_LINE;
  switch (e.kind) {
    case 'aggregate': {
      if (!split) return indent(level) + flat;
      let s = indent(level) + aggOpString(e) + '(\n';
      if (e.param) s += pretty(e.param, level + 1) + ',\n';
      return s + pretty(e.expr, level + 1) + '\n' + indent(level) + ')';
    }
    case 'binary':
      if (!split) return indent(level) + flat;
      return `${pretty(e.lhs, level + 1)}\n${indent(level)}${e.op}${e.returnBool ? ' bool' : ''}${matchingString(e)}\n${pretty(e.rhs, level + 1)}`;
    case 'call':
      if (!split) return indent(level) + flat;
      return `${indent(level)}${e.func.name}(\n${e.args.map((a) => pretty(a, level + 1)).join(',\n')}\n${indent(level)})`;
    case 'paren':
      if (!split) return indent(level) + flat;
      return `${indent(level)}(\n${pretty(e.expr, level + 1)}\n${indent(level)})`;
    case 'step_invariant':
      return pretty(e.expr, level);
    case 'subquery':
      if (!split) return flat;
      return pretty(e.expr, level) + subquerySuffix(e);
    case 'unary':
      return indent(level) + e.op + pretty(e.expr, level).trim();
    case 'matrix':
    case 'vector':
    case 'number':
    case 'string':
      return indent(level) + flat;
    default:
      return assertNever(e);
  }
}

/** A JSON value (what JSON.stringify receives). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function matchersJson(ms: readonly Matcher[]): Json {
  return ms.map((m) => ({ name: m.name, type: m.type, value: m.value }));
}

/**
 * The tree Prometheus's /api/v1/parse_query returns (web/api translateAST), with keys in the
 * order Go's encoding/json writes map keys (sorted).
 */
export function astToJson(e: Expr): Json {
  switch (e.kind) {
    case 'aggregate':
      return {
        expr: astToJson(e.expr),
        grouping: [...e.grouping],
        op: e.op,
        param: e.param ? astToJson(e.param) : null,
        type: 'aggregation',
        without: e.without,
      };
    case 'binary':
      return {
        bool: e.returnBool,
        lhs: astToJson(e.lhs),
        matching: e.matching
          ? { card: e.matching.card, include: [...e.matching.include], labels: [...e.matching.matchingLabels], on: e.matching.on }
          : null,
        op: e.op,
        rhs: astToJson(e.rhs),
        type: 'binaryExpr',
      };
    case 'call':
      return {
        args: e.args.map(astToJson),
        func: { argTypes: [...e.func.argTypes], name: e.func.name, returnType: e.func.returnType, variadic: e.func.variadic },
        type: 'call',
      };
    case 'matrix':
      return {
        matchers: matchersJson(e.vector.matchers),
        name: e.vector.name,
        offset: e.vector.offset,
        range: e.range,
        startOrEnd: e.vector.startOrEnd,
        timestamp: e.vector.timestamp,
        type: 'matrixSelector',
      };
    case 'subquery':
      return {
        expr: astToJson(e.expr),
        offset: e.offset,
        range: e.range,
        startOrEnd: e.startOrEnd,
        step: e.step,
        timestamp: e.timestamp,
        type: 'subquery',
      };
    case 'number':
      return { type: 'numberLiteral', val: formatFloat(e.value) };
    case 'paren':
      return { expr: astToJson(e.expr), type: 'parenExpr' };
    case 'string':
      return { type: 'stringLiteral', val: e.value };
    case 'unary':
      return { expr: astToJson(e.expr), op: e.op, type: 'unaryExpr' };
    case 'vector':
      return {
        matchers: matchersJson(e.matchers),
        name: e.name,
        offset: e.offset,
        startOrEnd: e.startOrEnd,
        timestamp: e.timestamp,
        type: 'vectorSelector',
      };
    case 'step_invariant':
      return astToJson(e.expr);
    default:
      return assertNever(e);
  }
}
