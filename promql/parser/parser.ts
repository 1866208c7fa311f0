/**
 * A recursive-descent (precedence-climbing) PromQL parser producing the AST of ast.ts.
 *
 * It reproduces the behaviour of Prometheus 3.5's yacc grammar: operator precedence
 * (`or` < `and`/`unless` < comparisons < `+ -` < `* / % atan2` < `^`, right-associative `^`,
 * unary minus binding like `*`), postfix modifiers (`[range]`, `[range:step]`, `offset`, `@`)
 * binding to the operand right before them, and the same two phases of errors: syntax errors
 * (reported where they occur, in Prometheus's words, including the context yacc's error rules
 * give them) and then, for a syntactically valid query, the type checks of checkAST.
 * The first error is thrown as a {@link ParseError}.
 */
import { Labels, LabelsBuilder, Matcher, MatcherError, METRIC_NAME, isValidLabelName, STALE_NAN } from '../../storage/index.js';
import type { MatchType } from '../../storage/index.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  DurationExpr,
  Expr,
  MatrixSelector,
  NumberLiteral,
  ParenExpr,
  PosRange,
  StringLiteral,
  SubqueryExpr,
  UnaryExpr,
  ValueTypeName,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { assertNever } from './ast.js';
import { ParseError } from './errors.js';
import { AGGREGATORS, getFunction } from './functions.js';
import { Lexer, tokenDesc, isAggregatorToken, type Token, type TokenType } from './lexer.js';

export interface ParseOptions {
  /**
   * Accept the experimental functions and aggregations (Prometheus's
   * `--enable-feature=promql-experimental-functions`). Default true.
   */
  readonly experimentalFunctions?: boolean;
  /**
   * Accept arithmetic in ranges, subquery steps and offsets (`foo[5m+1m]`, `offset (1h/2)`):
   * Prometheus's `--enable-feature=promql-duration-expr`. Default true.
   */
  readonly durationExpressions?: boolean;
  /** Lines to add to reported line numbers (for queries embedded in files). */
  readonly lineOffset?: number;
}

/** Longest query accepted, in UTF-16 code units (Prometheus has no limit; this bounds work). */
export const MAX_QUERY_LENGTH = 1 << 20;
/** Deepest nesting of parentheses, calls and operators accepted. */
export const MAX_DEPTH = 1000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const BINARY_PREC: Partial<Record<TokenType, number>> = {
  LOR: 1,
  LAND: 2,
  LUNLESS: 2,
  EQLC: 3,
  NEQ: 3,
  LTE: 3,
  LSS: 3,
  GTE: 3,
  GTR: 3,
  ADD: 4,
  SUB: 4,
  MUL: 5,
  DIV: 5,
  MOD: 5,
  ATAN2: 5,
  POW: 6,
};
const POW_PREC = 6;

const BINARY_OP: Partial<Record<TokenType, BinaryOp>> = {
  LOR: 'or',
  LAND: 'and',
  LUNLESS: 'unless',
  EQLC: '==',
  NEQ: '!=',
  LTE: '<=',
  LSS: '<',
  GTE: '>=',
  GTR: '>',
  ADD: '+',
  SUB: '-',
  MUL: '*',
  DIV: '/',
  MOD: '%',
  ATAN2: 'atan2',
  POW: '^',
};

const COMPARISON_OPS = new Set<BinaryOp>(['==', '!=', '<=', '<', '>=', '>']);
const SET_OPS = new Set<BinaryOp>(['and', 'or', 'unless']);

export function isComparisonOp(op: BinaryOp): boolean {
  return COMPARISON_OPS.has(op);
}
export function isSetOp(op: BinaryOp): boolean {
  return SET_OPS.has(op);
}

/** Tokens that may name a metric or label although they are keywords (Prometheus's metric_identifier / maybe_label). */
const LABEL_LIKE = new Set<TokenType>([
  'AVG', 'BOTTOMK', 'BY', 'COUNT', 'COUNT_VALUES', 'GROUP', 'IDENTIFIER', 'LAND', 'LOR', 'LUNLESS', 'MAX',
  'METRIC_IDENTIFIER', 'MIN', 'OFFSET', 'QUANTILE', 'STDDEV', 'STDVAR', 'SUM', 'TOPK', 'WITHOUT', 'START', 'END',
  'LIMITK', 'LIMIT_RATIO', 'BOOL', 'GROUP_LEFT', 'GROUP_RIGHT', 'IGNORING', 'ON', 'ATAN2',
]);
const METRIC_IDENT = new Set<TokenType>([
  'AVG', 'BOTTOMK', 'BY', 'COUNT', 'COUNT_VALUES', 'GROUP', 'IDENTIFIER', 'LAND', 'LOR', 'LUNLESS', 'MAX',
  'METRIC_IDENTIFIER', 'MIN', 'OFFSET', 'QUANTILE', 'STDDEV', 'STDVAR', 'SUM', 'TOPK', 'WITHOUT', 'START', 'END',
  'LIMITK', 'LIMIT_RATIO',
]);

const MATCH_OPS: Partial<Record<TokenType, MatchType>> = { EQL: '=', NEQ: '!=', EQL_REGEX: '=~', NEQ_REGEX: '!~' };

/** Largest duration in seconds that fits Go's time.Duration. */
const MAX_DURATION_SECONDS = 2 ** 63 / 1e9;

// ---------------------------------------------------------------------------------------------
// Literals

/** Go's strconv.ParseInt(s, 0, 64) then ParseFloat, as Prometheus reads number tokens. */
export function parseNumberLiteral(text: string): number | undefined {
  const s = text;
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  if (!underscoresOk(s)) return undefined;
  const t = s.replace(/_/g, '');
  let sign = 1;
  let body = t;
  if (body.startsWith('+') || body.startsWith('-')) {
    if (body[0] === '-') sign = -1;
    body = body.slice(1);
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) {
    const v = BigInt(body);
    if (v > 2n ** 63n - (sign > 0 ? 1n : 0n)) return undefined;
    return sign * Number(v);
  }
  if (/^0[oO]?[0-7]+$/.test(body)) {
    const digits = body.replace(/^0[oO]?/, '');
    const v = BigInt('0o' + digits);
    if (v <= 2n ** 63n - (sign > 0 ? 1n : 0n)) return sign * Number(v);
  }
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return sign * Number(body);
  return undefined;
}

function underscoresOk(s: string): boolean {
  if (!s.includes('_')) return true;
  // Underscores only between digits, or between a base prefix and a digit.
  const body = s.replace(/^[+-]/, '');
  let prev = '^';
  let i = 0;
  if (/^0[xXoObB]/.test(body)) {
    prev = '0';
    i = 2;
  }
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (c === '_') {
      if (!/[0-9a-fA-F]/.test(prev) && !(i === 2 && prev === '0')) return false;
    } else if (prev === '_' && !/[0-9a-fA-F]/.test(c)) {
      return false;
    }
    prev = c;
  }
  return prev !== '_';
}

const DURATION_UNITS: ReadonlyArray<[string, number]> = [
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
];

/**
 * Prometheus's model.ParseDuration: `1h30m`, `5m`, `90s`, `1y2w`, units in decreasing order,
 * integers only. Returns milliseconds. Throws Error with Prometheus's message.
 */
export function parseDuration(s: string): number {
  const hit = durationCache.get(s);
  if (hit !== undefined) return hit;
  const ms = parseDurationUncached(s);
  if (durationCache.size >= 1000) durationCache.clear();
  durationCache.set(s, ms);
  return ms;
}

const durationCache = new Map<string, number>();

function parseDurationUncached(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new Error('empty duration string');
  let rest = s;
  let total = 0n;
  let lastUnit = -1;
  while (rest !== '') {
    const m = /^(\d+)([^\d]*)/.exec(rest);
    if (!m || m[2] === '') throw new Error(`not a valid duration string: "${s}"`);
    const unitIdx = DURATION_UNITS.findIndex(([u]) => u === m[2]);
    if (unitIdx < 0) throw new Error(`unknown unit "${m[2]}" in duration "${s}"`);
    if (unitIdx <= lastUnit) throw new Error(`not a valid duration string: "${s}"`);
    lastUnit = unitIdx;
    const v = BigInt(m[1]!);
    const multNs = BigInt(DURATION_UNITS[unitIdx]![1]) * 1_000_000n;
    if (v > 2n ** 63n / multNs) throw new Error('duration out of range');
    total += v * multNs;
    if (total > 2n ** 63n - 1n) throw new Error('duration out of range');
    rest = rest.slice(m[0].length);
  }
  return Number(total / 1_000_000n) + Number(total % 1_000_000n) / 1e6;
}

/** Prometheus's model.Duration.String(): `1h30m`, `5m`, `0s`; years and weeks only when exact. */
export function formatDuration(ms: number): string {
  let rest = Math.trunc(ms);
  if (rest === 0) return '0s';
  let out = '';
  if (rest < 0) {
    out = '-';
    rest = -rest;
  }
  const units: Array<[string, number, boolean]> = [
    ['y', 365 * 24 * 3600 * 1000, true],
    ['w', 7 * 24 * 3600 * 1000, true],
    ['d', 24 * 3600 * 1000, false],
    ['h', 3600 * 1000, false],
    ['m', 60 * 1000, false],
    ['s', 1000, false],
    ['ms', 1, false],
  ];
  for (const [u, mult, exact] of units) {
    if (exact && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${u}`;
      rest -= v * mult;
    }
  }
  return out;
}

/**
 * Unquotes a PromQL string token (with its quotes): Go escapes for '…' and "…", none for `…`.
 * `\x` and octal escapes give bytes; bytes that are not valid UTF-8 are kept as lone
 * surrogates U+DC80–U+DCFF (so that they make label names invalid, as in Prometheus).
 */
export function unquoteString(tok: string): string {
  const q = tok[0];
  const body = tok.slice(1, -1);
  if (q === '`') return body;
  if (!body.includes('\\')) return body;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) {
      out += decodeBytes(bytes);
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      flush();
      out += ch;
      continue;
    }
    const e = body[++i]!;
    switch (e) {
      case 'a':
        flush();
        out += '\x07';
        break;
      case 'b':
        flush();
        out += '\b';
        break;
      case 'f':
        flush();
        out += '\f';
        break;
      case 'n':
        flush();
        out += '\n';
        break;
      case 'r':
        flush();
        out += '\r';
        break;
      case 't':
        flush();
        out += '\t';
        break;
      case 'v':
        flush();
        out += '\v';
        break;
      case '\\':
      case '"':
      case "'":
        flush();
        out += e;
        break;
      case 'x':
        bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case 'u':
        flush();
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case 'U':
        flush();
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        bytes.push(parseInt(body.slice(i, i + 3), 8) & 0xff);
        i += 2;
    }
  }
  flush();
  return out;
}

/** UTF-8 decode with invalid bytes mapped to U+DC80..U+DCFF (surrogate escape). */
function decodeBytes(b: number[]): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    let cp = 0;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
      continue;
    }
    let ok = i + n < b.length;
    for (let k = 1; ok && k <= n; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    const min = n === 1 ? 0x80 : n === 2 ? 0x800 : 0x10000;
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += n + 1;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/** Go's %f (6 decimals), for the @ bounds error. */
function goF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Math.abs(v) >= 1e21) return BigInt(v).toString() + '.000000';
  return v.toFixed(6);
}

// ---------------------------------------------------------------------------------------------
// Types

export function typeOf(e: Expr): ValueTypeName {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vector':
      return 'vector';
    case 'matrix':
    case 'subquery':
      return 'matrix';
    case 'call':
      return e.func.returnType;
    case 'aggregate':
      return 'vector';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'unary':
    case 'paren':
    case 'step_invariant':
      return typeOf(e.expr);
    default:
      return assertNever(e);
  }
}

/** The type of `e` where it does not depend on subexpressions (binary, unary, paren: callers know). */
function typeOfShallow(e: Expr): ValueTypeName {
  switch (e.kind) {
    case 'binary':
    case 'unary':
    case 'paren':
    case 'step_invariant':
      return 'vector';
    default:
      return typeOf(e);
  }
}

/** Prometheus's DocumentedType. */
export function documentedType(t: ValueTypeName): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  private readonly lex: Lexer;
  private tok: Token;
  private ahead: Token | null = null;
  private lastClosing = 0;
  private readonly ctx: string[] = [];
  private depth = 0;
  readonly input: string;
  private readonly experimental: boolean;
  private readonly durationExprs: boolean;
  private readonly lineOffset: number;

  constructor(input: string, opts: ParseOptions = {}, seriesDesc = false) {
    this.input = input;
    this.experimental = opts.experimentalFunctions ?? true;
    this.durationExprs = opts.durationExpressions ?? true;
    this.lineOffset = opts.lineOffset ?? 0;
    if (input.length > MAX_QUERY_LENGTH) {
      throw new ParseError(input, { start: 0, end: 0 }, `query too long (${input.length} characters, limit ${MAX_QUERY_LENGTH})`);
    }
    this.lex = new Lexer(input, seriesDesc);
    this.tok = this.fetch();
  }

  // --- tokens and errors

  private fetch(): Token {
    for (;;) {
      const t = this.lex.next();
      if (t.type === 'COMMENT') continue;
      if (t.type === 'ERROR') throw this.error({ start: t.pos, end: this.input.length }, t.val);
      if (t.type === 'RIGHT_BRACE' || t.type === 'RIGHT_PAREN' || t.type === 'RIGHT_BRACKET' || t.type === 'DURATION' || t.type === 'NUMBER') {
        this.lastClosing = t.pos + t.val.length;
      }
      return t;
    }
  }

  private at(t: TokenType): boolean {
    return this.tok.type === t;
  }

  private advance(): Token {
    const t = this.tok;
    if (this.ahead) {
      this.tok = this.ahead;
      this.ahead = null;
    } else {
      this.tok = this.fetch();
    }
    return t;
  }

  /** The token after the current one (lexed early; lexer errors surface here). */
  private peekNext(): Token {
    this.ahead ??= this.fetch();
    return this.ahead;
  }

  error(range: PosRange, msg: string): ParseError {
    return new ParseError(this.input, range, msg, this.lineOffset);
  }

  private tokRange(t: Token): PosRange {
    return { start: t.pos, end: t.pos + t.val.length };
  }

  /** Prometheus's parser.unexpected(context, expected) for the current token. */
  unexpected(context: string, expected: string): ParseError {
    let msg = 'unexpected ' + tokenDesc(this.tok);
    if (context !== '') msg += ' in ' + context;
    if (expected !== '') msg += ', expected ' + expected;
    return this.error(this.tokRange(this.tok), msg);
  }

  /** An unexpected token where only an enclosing error rule applies. */
  private unexpectedHere(): ParseError {
    const c = this.ctx.length > 0 ? this.ctx[this.ctx.length - 1]! : '';
    return this.unexpected(c, '');
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      throw this.error(this.tokRange(this.tok), `expression nested too deeply (more than ${MAX_DEPTH} levels)`);
    }
  }

  // --- entry points

  parseExpression(): Expr {
    if (this.at('EOF')) throw this.error({ start: 0, end: 0 }, 'no expression found in input');
    const e = this.parseExpr(0);
    if (!this.at('EOF')) throw this.unexpected('', '');
    this.checkAST(e);
    return e;
  }

  parseVectorSelectorOnly(): VectorSelector {
    const t = this.tok;
    let vs: VectorSelector;
    if (METRIC_IDENT.has(t.type)) {
      this.advance();
      vs = this.parseVectorSelector(t);
    } else if (t.type === 'LEFT_BRACE') {
      vs = this.parseVectorSelector(null);
    } else {
      throw this.unexpected('', '');
    }
    if (!this.at('EOF')) throw this.unexpected('', '');
    return vs;
  }

  // --- expressions

  private parseExpr(minPrec: number): Expr {
    this.enter();
    const depthAtStart = this.depth;
    let lhs = this.parseUnary();
    for (;;) {
      const prec = BINARY_PREC[this.tok.type];
      if (prec === undefined || prec < minPrec) break;
      // Each operator of a chain deepens the tree by one level.
      this.enter();
      const opTok = this.advance();
      const op = BINARY_OP[opTok.type]!;
      let returnBool = false;
      let matching: Mutable<VectorMatching> = { card: 'one-to-one', matchingLabels: [], on: false, include: [] };
      if (this.at('BOOL')) {
        this.advance();
        returnBool = true;
      }
      if (this.at('ON') || this.at('IGNORING')) {
        const on = this.advance().type === 'ON';
        matching = { card: 'one-to-one', matchingLabels: this.parseGroupingLabels(), on, include: [] };
        if (this.at('GROUP_LEFT') || this.at('GROUP_RIGHT')) {
          const left = this.advance().type === 'GROUP_LEFT';
          matching.card = left ? 'many-to-one' : 'one-to-many';
          matching.include = this.at('LEFT_PAREN') ? this.parseGroupingLabels() : [];
        }
      }
      const rhs = this.parseExpr(op === '^' ? prec : prec + 1);
      const node: BinaryExpr = {
        kind: 'binary',
        op,
        lhs,
        rhs,
        matching,
        returnBool,
        posRange: { start: lhs.posRange.start, end: rhs.posRange.end },
      };
      lhs = node;
    }
    this.depth = depthAtStart - 1;
    return lhs;
  }

  private parseUnary(): Expr {
    const t = this.tok;
    if (t.type === 'ADD' || t.type === 'SUB') {
      this.advance();
      this.enter();
      const operand = this.parseExpr(POW_PREC);
      this.depth--;
      if (operand.kind === 'number') {
        const n = operand as Mutable<NumberLiteral>;
        if (t.type === 'SUB') n.value = -n.value;
        n.posRange = { start: t.pos, end: n.posRange.end };
        return n;
      }
      const u: UnaryExpr = { kind: 'unary', op: t.type === 'SUB' ? '-' : '+', expr: operand, posRange: { start: t.pos, end: operand.posRange.end } };
      return u;
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(e: Expr): Expr {
    let expr = e;
    for (;;) {
      switch (this.tok.type) {
        case 'LEFT_BRACKET':
          expr = this.parseRangeOrSubquery(expr);
          break;
        case 'OFFSET':
          expr = this.parseOffset(expr);
          break;
        case 'AT':
          expr = this.parseAt(expr);
          break;
        default:
          return expr;
      }
    }
  }

  private parsePrimary(): Expr {
    const t = this.tok;
    switch (t.type) {
      case 'NUMBER':
      case 'DURATION':
        this.advance();
        return this.numberLiteral(t);
      case 'STRING': {
        this.advance();
        const s: StringLiteral = { kind: 'string', value: unquoteString(t.val), posRange: this.tokRange(t) };
        return s;
      }
      case 'LEFT_PAREN': {
        this.advance();
        const inner = this.parseExpr(0);
        if (!this.at('RIGHT_PAREN')) throw this.unexpectedHere();
        const close = this.advance();
        const p: ParenExpr = { kind: 'paren', expr: inner, posRange: { start: t.pos, end: close.pos + 1 } };
        return p;
      }
      case 'LEFT_BRACE':
        return this.parseVectorSelector(null);
      case 'IDENTIFIER':
        this.advance();
        if (this.at('LEFT_PAREN')) return this.parseCall(t);
        return this.parseVectorSelector(t);
      default:
        if (isAggregatorToken(t.type)) {
          // An aggregation keyword not followed by its body or modifier names a metric.
          this.advance();
          if (this.at('LEFT_PAREN') || this.at('BY') || this.at('WITHOUT')) return this.parseAggregate(t);
          return this.parseVectorSelector(t);
        }
        if (METRIC_IDENT.has(t.type)) {
          this.advance();
          return this.parseVectorSelector(t);
        }
        throw this.unexpectedHere();
    }
  }

  private numberLiteral(t: Token): NumberLiteral {
    if (t.type === 'DURATION') {
      let ms: number;
      try {
        ms = parseDuration(t.val);
      } catch (err) {
        throw this.error(this.tokRange(t), (err as Error).message);
      }
      return { kind: 'number', value: ms / 1000, duration: true, posRange: this.tokRange(t) };
    }
    const v = parseNumberLiteral(t.val);
    if (v !== undefined && !Number.isFinite(v) && !/^[+-]?(inf|nan)$/i.test(t.val)) {
      throw this.error(this.tokRange(t), `error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(t.val)}: value out of range`);
    }
    if (v === undefined) {
      throw this.error(this.tokRange(t), `error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(t.val)}: invalid syntax`);
    }
    return { kind: 'number', value: v, posRange: this.tokRange(t) };
  }

  // --- function calls and aggregations

  /** `( args )` after a function name or aggregation operator; the current token is `(`. */
  private parseCallBody(): Expr[] {
    this.advance(); // (
    const args: Expr[] = [];
    if (this.at('RIGHT_PAREN')) {
      this.advance();
      return args;
    }
    for (;;) {
      args.push(this.parseExpr(0));
      if (this.at('COMMA')) {
        const comma = this.advance();
        if (this.at('RIGHT_PAREN')) throw this.error(this.tokRange(comma), 'trailing commas not allowed in function call args');
        continue;
      }
      if (this.at('RIGHT_PAREN')) {
        this.advance();
        return args;
      }
      throw this.unexpectedHere();
    }
  }

  private parseCall(name: Token): Call {
    const args = this.parseCallBody();
    const range = { start: name.pos, end: this.lastClosing };
    const fn = getFunction(name.val);
    if (!fn) throw this.error(this.tokRange(name), `unknown function with name ${JSON.stringify(name.val)}`);
    if (fn.experimental && !this.experimental) throw this.error(this.tokRange(name), `function ${JSON.stringify(name.val)} is not enabled`);
    return { kind: 'call', func: fn, args, posRange: range };
  }

  private parseAggregate(opTok: Token): AggregateExpr {
    const op = opTok.val.toLowerCase() as AggregateOp;
    this.ctx.push('aggregation');
    let grouping: string[] = [];
    let without = false;
    let args: Expr[];
    if (this.at('BY') || this.at('WITHOUT')) {
      without = this.advance().type === 'WITHOUT';
      grouping = this.parseGroupingLabels();
      if (!this.at('LEFT_PAREN')) throw this.unexpected('aggregation', '');
      args = this.parseCallBody();
    } else if (this.at('LEFT_PAREN')) {
      args = this.parseCallBody();
      if (this.at('BY') || this.at('WITHOUT')) {
        without = this.advance().type === 'WITHOUT';
        grouping = this.parseGroupingLabels();
      }
    } else {
      throw this.unexpected('aggregation', '');
    }
    this.ctx.pop();
    const range = { start: opTok.pos, end: this.lastClosing };
    if (args.length === 0) throw this.error(range, 'no arguments for aggregate expression provided');
    const info = AGGREGATORS[op];
    let desired = 1;
    let param: Expr | null = null;
    if (info.paramType !== null) {
      if (info.experimental && !this.experimental) {
        throw this.error(range, `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`);
      }
      desired = 2;
      param = args[0]!;
    }
    if (args.length !== desired) {
      throw this.error(range, `wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`);
    }
    return { kind: 'aggregate', op, expr: args[desired - 1]!, param, grouping, without, posRange: range };
  }

  /** `( label, … )` after by/without/on/ignoring/group_x. */
  private parseGroupingLabels(): string[] {
    if (!this.at('LEFT_PAREN')) throw this.unexpected('grouping opts', '"("');
    this.advance();
    const labels: string[] = [];
    if (this.at('RIGHT_PAREN')) {
      this.advance();
      return labels;
    }
    for (;;) {
      const t = this.tok;
      if (LABEL_LIKE.has(t.type)) {
        this.advance();
        if (!isValidLabelName(t.val)) throw this.error(this.tokRange(t), `invalid label name for grouping: ${JSON.stringify(t.val)}`);
        labels.push(t.val);
      } else if (t.type === 'STRING') {
        this.advance();
        const name = unquoteString(t.val);
        if (!isValidLabelName(name)) throw this.error(this.tokRange(t), `invalid label name for grouping: ${JSON.stringify(name)}`);
        labels.push(name);
      } else {
        throw this.unexpected('grouping opts', 'label');
      }
      if (this.at('COMMA')) {
        this.advance();
        if (this.at('RIGHT_PAREN')) {
          this.advance();
          return labels;
        }
        continue;
      }
      if (this.at('RIGHT_PAREN')) {
        this.advance();
        return labels;
      }
      throw this.unexpected('grouping opts', '"," or ")"');
    }
  }

  // --- selectors

  /** A vector selector; `name` is the metric name token already consumed, or null. */
  private parseVectorSelector(name: Token | null): VectorSelector {
    const matchers: Matcher[] = [];
    let start = name ? name.pos : this.tok.pos;
    let end = name ? name.pos + name.val.length : 0;
    if (this.at('LEFT_BRACE')) {
      if (!name) start = this.tok.pos;
      this.parseLabelMatchers(matchers);
      end = this.lastClosing;
    }
    if (name) matchers.push(new Matcher('=', METRIC_NAME, name.val));
    return {
      kind: 'vector',
      name: name ? name.val : '',
      matchers,
      offset: 0,
      timestamp: null,
      startOrEnd: null,
      posRange: { start, end },
    };
  }

  private parseLabelMatchers(out: Matcher[]): void {
    this.advance(); // {
    if (this.at('RIGHT_BRACE')) {
      this.advance();
      return;
    }
    for (;;) {
      const t = this.tok;
      if (t.type === 'IDENTIFIER' || t.type === 'STRING') {
        this.advance();
        const name = t.type === 'STRING' ? unquoteString(t.val) : t.val;
        const matchType = MATCH_OPS[this.tok.type];
        if (matchType !== undefined) {
          this.advance();
          if (!this.at('STRING')) throw this.unexpected('label matching', 'string');
          const v = this.advance();
          out.push(this.newMatcher(matchType, name, unquoteString(v.val), { start: t.pos, end: v.pos + v.val.length }));
        } else if (t.type === 'STRING') {
          out.push(this.newMatcher('=', METRIC_NAME, name, this.tokRange(t)));
        } else {
          throw this.unexpected('label matching', 'label matching operator');
        }
      } else {
        throw this.unexpected('label matching', 'identifier or "}"');
      }
      if (this.at('COMMA')) {
        this.advance();
        if (this.at('RIGHT_BRACE')) {
          this.advance();
          return;
        }
        continue;
      }
      if (this.at('RIGHT_BRACE')) {
        this.advance();
        return;
      }
      throw this.unexpected('label matching', '"," or "}"');
    }
  }

  private newMatcher(type: MatchType, name: string, value: string, range: PosRange): Matcher {
    try {
      return new Matcher(type, name, value);
    } catch (err) {
      if (err instanceof MatcherError) {
        // Prometheus reports Go's regexp error for the anchored pattern it compiles.
        const m = /^error parsing regexp: (error parsing regexp: .*): `[^`]*`$/s.exec(err.message);
        throw this.error(range, m ? m[1]! : err.message);
      }
      throw err;
    }
  }

  // --- postfix modifiers

  private parseRangeOrSubquery(expr: Expr): Expr {
    const open = this.advance(); // [
    const rangeD = this.parseDurationInBrackets('subquery or range selector', 'number or duration');
    if (this.at('RIGHT_BRACKET')) {
      const close = this.advance();
      let msg = '';
      if (expr.kind !== 'vector') msg = 'ranges only allowed for vector selectors';
      else if (expr.offset !== 0 || expr.offsetExpr) msg = 'no offset modifiers allowed before range';
      else if (expr.timestamp !== null || expr.startOrEnd !== null) msg = 'no @ modifiers allowed before range';
      if (msg) throw this.error({ start: open.pos, end: close.pos + 1 }, msg);
      const m: MatrixSelector = {
        kind: 'matrix',
        vector: expr as VectorSelector,
        range: rangeD.ms,
        ...(rangeD.expr ? { rangeExpr: rangeD.expr } : {}),
        posRange: { start: expr.posRange.start, end: close.pos + 1 },
      };
      return m;
    }
    if (!this.at('COLON')) throw this.unexpected('subquery or range', '":" or "]"');
    this.advance();
    let step: { ms: number; expr: DurationExpr | undefined } = { ms: 0, expr: undefined };
    if (!this.at('RIGHT_BRACKET')) {
      step = this.parseDurationInBrackets('subquery selector', 'number, duration, or "]"');
      if (!this.at('RIGHT_BRACKET')) throw this.unexpected('subquery selector', '"]"');
    }
    const close = this.advance();
    const sq: SubqueryExpr = {
      kind: 'subquery',
      expr,
      range: rangeD.ms,
      ...(rangeD.expr ? { rangeExpr: rangeD.expr } : {}),
      step: step.ms,
      ...(step.expr ? { stepExpr: step.expr } : {}),
      offset: 0,
      timestamp: null,
      startOrEnd: null,
      posRange: { start: expr.posRange.start, end: close.pos + 1 },
    };
    return sq;
  }

  /** A positive duration expression inside brackets. */
  private parseDurationInBrackets(context: string, expected: string): { ms: number; expr: DurationExpr | undefined } {
    const e = this.parseDurationExpr(0, context, expected);
    if (e.kind === 'number') {
      if (!(e.value > 0)) throw this.error(e.posRange, 'duration must be greater than 0');
      return { ms: secondsToMs(e.value), expr: undefined };
    }
    const secs = this.evalDuration(e);
    if (!(secs > 0)) throw this.error(e.posRange, 'duration must be greater than 0');
    if (secs > MAX_DURATION_SECONDS) throw this.error(e.posRange, 'duration is out of range');
    return { ms: Math.trunc(secs * 1000), expr: e };
  }

  /** Duration arithmetic: literals, + - * / % ^, unary signs and parentheses. */
  private parseDurationExpr(minPrec: number, context: string, expected: string): DurationExpr {
    this.enter();
    const depthAtStart = this.depth;
    let lhs = this.parseDurationUnary(context, expected);
    for (;;) {
      const t = this.tok.type;
      if (t !== 'ADD' && t !== 'SUB' && t !== 'MUL' && t !== 'DIV' && t !== 'MOD' && t !== 'POW') break;
      const prec = BINARY_PREC[t]!;
      if (prec < minPrec) break;
      this.enter();
      if (!this.durationExprs) throw this.error(lhs.posRange, 'experimental duration expression is not enabled');
      const opTok = this.advance();
      const rhs = this.parseDurationExpr(t === 'POW' ? prec : prec + 1, context, expected);
      if ((t === 'DIV' || t === 'MOD') && rhs.kind === 'number' && rhs.value === 0) {
        throw this.error(this.tokRange(opTok), t === 'DIV' ? 'division by zero' : 'modulo by zero');
      }
      const b: BinaryExpr = {
        kind: 'binary',
        op: BINARY_OP[t]!,
        lhs,
        rhs,
        matching: null,
        returnBool: false,
        posRange: { start: lhs.posRange.start, end: rhs.posRange.end },
      };
      lhs = b;
    }
    this.depth = depthAtStart - 1;
    return lhs;
  }

  private parseDurationUnary(context: string, expected: string): DurationExpr {
    const t = this.tok;
    if (t.type === 'ADD' || t.type === 'SUB') {
      this.advance();
      this.enter();
      const operand = this.parseDurationExpr(POW_PREC, context, expected);
      this.depth--;
      return this.applySign(t, operand);
    }
    if (t.type === 'NUMBER' || t.type === 'DURATION') {
      this.advance();
      return this.durationLiteral(t);
    }
    if (t.type === 'LEFT_PAREN') {
      this.advance();
      const inner = this.parseDurationExpr(0, context, expected);
      if (!this.at('RIGHT_PAREN')) throw this.unexpected(context, expected);
      const close = this.advance();
      if (!this.durationExprs) throw this.error(inner.posRange, 'experimental duration expression is not enabled');
      if (inner.kind === 'number') return inner;
      const p: ParenExpr = { kind: 'paren', expr: inner, posRange: { start: t.pos, end: close.pos + 1 } };
      return p;
    }
    throw this.unexpected(context, expected);
  }

  private applySign(t: Token, operand: DurationExpr): DurationExpr {
    if (operand.kind === 'number') {
      const n = operand as Mutable<NumberLiteral>;
      if (t.type === 'SUB') n.value = -n.value;
      if (!(Math.abs(n.value) <= MAX_DURATION_SECONDS)) throw this.error(this.tokRange(t), 'duration out of range');
      n.posRange = { start: t.pos, end: n.posRange.end };
      return n;
    }
    if (t.type === 'ADD') return operand;
    const u: UnaryExpr = { kind: 'unary', op: '-', expr: operand, posRange: { start: t.pos, end: operand.posRange.end } };
    return u;
  }

  private durationLiteral(t: Token): NumberLiteral {
    const n = this.numberLiteral(t);
    if (!(Math.abs(n.value) <= MAX_DURATION_SECONDS)) throw this.error(n.posRange, 'duration out of range');
    return n;
  }

  /** Evaluates a duration expression to seconds (Prometheus does this before evaluation). */
  private evalDuration(e: DurationExpr): number {
    switch (e.kind) {
      case 'number':
        return e.value;
      case 'paren':
        return this.evalDuration(e.expr as DurationExpr);
      case 'unary':
        return e.op === '-' ? -this.evalDuration(e.expr as DurationExpr) : this.evalDuration(e.expr as DurationExpr);
      case 'binary': {
        const l = this.evalDuration(e.lhs as DurationExpr);
        const r = this.evalDuration(e.rhs as DurationExpr);
        switch (e.op) {
          case '+':
            return l + r;
          case '-':
            return l - r;
          case '*':
            return l * r;
          case '/':
            if (r === 0) throw this.error(e.rhs.posRange, 'division by zero');
            return l / r;
          case '%':
            if (r === 0) throw this.error(e.rhs.posRange, 'modulo by zero');
            return l % r;
          case '^':
            return Math.pow(l, r);
          default:
            throw this.error(e.posRange, `unexpected operator ${e.op} in duration expression`);
        }
      }
    }
  }

  private parseOffset(expr: Expr): Expr {
    this.advance(); // offset
    const ctx = 'offset';
    const expected = 'number or duration';
    const t = this.tok;
    let d: DurationExpr;
    if (t.type === 'NUMBER' || t.type === 'DURATION') {
      this.advance();
      d = this.durationLiteral(t);
    } else if (t.type === 'ADD' || t.type === 'SUB') {
      this.advance();
      const n = this.tok;
      if (n.type === 'NUMBER' || n.type === 'DURATION') {
        this.advance();
        // A signed literal is range-checked once, at the sign (as Prometheus's offset rule does).
        d = this.applySign(t, this.numberLiteral(n));
      } else if (n.type === 'LEFT_PAREN') {
        d = this.applySign(t, this.parseDurationUnary(ctx, expected));
      } else {
        throw this.unexpected(ctx, expected);
      }
    } else if (t.type === 'LEFT_PAREN') {
      d = this.parseDurationUnary(ctx, expected);
    } else {
      throw this.unexpected(ctx, expected);
    }
    let ms: number;
    let offsetExpr: DurationExpr | undefined;
    if (d.kind === 'number') {
      ms = secondsToMs(d.value);
    } else {
      const secs = this.evalDuration(d);
      if (!(Math.abs(secs) <= MAX_DURATION_SECONDS)) throw this.error(d.posRange, 'duration is out of range');
      ms = Math.trunc(secs * 1000);
      offsetExpr = d;
    }
    const target = this.modifierTarget(expr, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.offset !== 0 || target.offsetExpr) throw this.error(expr.posRange, 'offset may not be set multiple times');
    target.offset = ms;
    if (offsetExpr) target.offsetExpr = offsetExpr;
    return this.withEnd(expr, this.lastClosing);
  }

  private parseAt(expr: Expr): Expr {
    this.advance(); // @
    const t = this.tok;
    let ts: number | null = null;
    let pre: AtModifier = null;
    if (t.type === 'NUMBER' || t.type === 'DURATION') {
      this.advance();
      ts = this.numberLiteral(t).value;
    } else if ((t.type === 'ADD' || t.type === 'SUB') && (this.peekNext().type === 'NUMBER' || this.peekNext().type === 'DURATION')) {
      this.advance();
      const n = this.advance();
      const v = this.numberLiteral(n).value;
      ts = t.type === 'SUB' ? -v : v;
    } else if (t.type === 'START' || t.type === 'END') {
      this.advance();
      if (!this.at('LEFT_PAREN')) throw this.unexpected('@', 'timestamp');
      this.advance();
      if (!this.at('RIGHT_PAREN')) throw this.unexpected('@', 'timestamp');
      this.advance();
      pre = t.type === 'START' ? 'start' : 'end';
    } else {
      if (t.type === 'ADD' || t.type === 'SUB') this.advance();
      throw this.unexpected('@', 'timestamp');
    }
    if (ts !== null && (!Number.isFinite(ts) || ts >= 2 ** 63 || ts <= -(2 ** 63))) {
      throw this.error(expr.posRange, `timestamp out of bounds for @ modifier: ${goF(ts)}`);
    }
    const target = this.modifierTarget(expr, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.timestamp !== null || target.startOrEnd !== null) throw this.error(expr.posRange, '@ <timestamp> may not be set multiple times');
    if (ts !== null) target.timestamp = Math.round(ts * 1000);
    target.startOrEnd = pre;
    return this.withEnd(expr, this.lastClosing);
  }

  /** The node holding offset/@ for `expr` (the vector inside a range selector). */
  private modifierTarget(expr: Expr, msg: string): Mutable<VectorSelector> | Mutable<SubqueryExpr> {
    switch (expr.kind) {
      case 'vector':
        return expr as Mutable<VectorSelector>;
      case 'matrix':
        return expr.vector as Mutable<VectorSelector>;
      case 'subquery':
        return expr as Mutable<SubqueryExpr>;
      default:
        throw this.error(expr.posRange, msg);
    }
  }

  private withEnd(expr: Expr, end: number): Expr {
    (expr as { posRange: PosRange }).posRange = { start: expr.posRange.start, end };
    return expr;
  }

  // --- type checks (Prometheus's checkAST), run on a syntactically valid tree

  checkAST(node: Expr): ValueTypeName {
    // The type of a binary expression comes from its operands' checks below; computing it
    // up front with typeOf would walk each subtree again (quadratic on long chains).
    let typ: ValueTypeName = node.kind === 'binary' ? 'vector' : typeOfShallow(node);
    switch (node.kind) {
      case 'aggregate':
        this.expectType(node.expr, 'vector', 'aggregation expression');
        if (node.param) {
          const want = AGGREGATORS[node.op].paramType;
          if (want) this.expectType(node.param, want, 'aggregation parameter');
        }
        break;
      case 'binary': {
        const n = node as Mutable<BinaryExpr>;
        const lt = this.checkAST(n.lhs);
        const rt = this.checkAST(n.rhs);
        typ = lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
        const opRange = (): PosRange => this.operatorRange(n);
        if (n.returnBool && !COMPARISON_OPS.has(n.op)) throw this.error(opRange(), 'bool modifier can only be used on comparison operators');
        if (COMPARISON_OPS.has(n.op) && !n.returnBool && rt === 'scalar' && lt === 'scalar') {
          throw this.error(opRange(), 'comparisons between scalars must use BOOL modifier');
        }
        const vm = n.matching as Mutable<VectorMatching> | null;
        if (vm && SET_OPS.has(n.op) && vm.card === 'one-to-one') vm.card = 'many-to-many';
        if (vm && vm.on) {
          for (const l1 of vm.matchingLabels) {
            if (vm.include.includes(l1)) throw this.error(opRange(), `label ${JSON.stringify(l1)} must not occur in ON and GROUP clause at once`);
          }
        }
        if (lt !== 'scalar' && lt !== 'vector') throw this.error(n.lhs.posRange, 'binary expression must contain only scalar and instant vector types');
        if (rt !== 'scalar' && rt !== 'vector') throw this.error(n.rhs.posRange, 'binary expression must contain only scalar and instant vector types');
        if ((lt !== 'vector' || rt !== 'vector') && vm) {
          if (vm.matchingLabels.length > 0) throw this.error(n.posRange, 'vector matching only allowed between instant vectors');
          n.matching = null;
        } else if (vm && SET_OPS.has(n.op)) {
          if (vm.card === 'one-to-many' || vm.card === 'many-to-one') throw this.error(n.posRange, `no grouping allowed for ${JSON.stringify(n.op)} operation`);
          if (vm.card !== 'many-to-many') throw this.error(n.posRange, 'set operations must always be many-to-many');
        }
        if ((lt === 'scalar' || rt === 'scalar') && SET_OPS.has(n.op)) {
          throw this.error(n.posRange, `set operator ${JSON.stringify(n.op)} not allowed in binary scalar expression`);
        }
        break;
      }
      case 'call': {
        const fn = node.func;
        const nargs = fn.argTypes.length;
        const got = node.args.length;
        if (fn.variadic === 0) {
          if (nargs !== got) throw this.error(node.posRange, `expected ${nargs} argument(s) in call to ${JSON.stringify(fn.name)}, got ${got}`);
        } else {
          const na = nargs - 1;
          if (na > got) throw this.error(node.posRange, `expected at least ${na} argument(s) in call to ${JSON.stringify(fn.name)}, got ${got}`);
          const max = na + fn.variadic;
          if (fn.variadic > 0 && max < got) throw this.error(node.posRange, `expected at most ${max} argument(s) in call to ${JSON.stringify(fn.name)}, got ${got}`);
        }
        const context = `call to function ${JSON.stringify(fn.name)}`;
        if (fn.name === 'info' && got > 1) {
          const a1 = node.args[1]!;
          if (typeOf(a1) !== 'vector') throw this.error(node.posRange, `expected type instant vector in ${context}, got ${documentedType(typeOf(a1))}`);
          if (a1.kind === 'vector' && a1.name !== '') throw this.error(a1.posRange, 'expected label selectors only, got vector selector instead');
          if (a1.kind !== 'vector') throw this.error(a1.posRange, 'expected label selectors only');
        }
        for (let i = 0; i < got; i++) {
          let k = i;
          if (k >= nargs) {
            if (fn.variadic === 0) break;
            k = nargs - 1;
          }
          if (fn.name === 'info' && i === 1 && node.args[1]!.kind === 'vector') continue;
          this.expectType(node.args[i]!, fn.argTypes[k]!, context);
        }
        break;
      }
      case 'paren':
      case 'step_invariant':
        typ = this.checkAST(node.expr);
        break;
      case 'unary': {
        const t = this.checkAST(node.expr);
        typ = t;
        if (t !== 'scalar' && t !== 'vector') {
          throw this.error(node.posRange, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(t))}`);
        }
        break;
      }
      case 'subquery': {
        const t = this.checkAST(node.expr);
        if (t !== 'vector') throw this.error(node.posRange, `subquery is only allowed on instant vector, got ${t} instead`);
        break;
      }
      case 'matrix':
        this.checkAST(node.vector);
        break;
      case 'vector':
        this.checkVectorSelector(node);
        break;
      case 'number':
      case 'string':
        break;
      default:
        assertNever(node);
    }
    return typ;
  }

  checkVectorSelector(n: VectorSelector): void {
    if (n.name !== '') {
      const ms = n.matchers;
      for (let i = 0; i < ms.length - 1; i++) {
        const m = ms[i]!;
        if (m.name === METRIC_NAME) {
          throw this.error(n.posRange, `metric name must not be set twice: ${JSON.stringify(n.name)} or ${JSON.stringify(m.value)}`);
        }
      }
      return;
    }
    if (!n.matchers.some((m) => !m.matchesEmpty)) {
      throw this.error(n.posRange, 'vector selector must contain at least one non-empty matcher');
    }
  }

  private expectType(node: Expr, want: ValueTypeName, context: string): void {
    const t = this.checkAST(node);
    if (t !== want) throw this.error(node.posRange, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
  }

  private operatorRange(n: BinaryExpr): PosRange {
    let start = n.lhs.posRange.end;
    while (start < this.input.length && /\s/.test(this.input[start]!)) start++;
    let end = n.rhs.posRange.start - 1;
    while (end > start && /\s/.test(this.input[end]!)) end--;
    return { start, end };
  }

  // --- series descriptions (promqltest / promtool)

  parseMetricOnly(): Labels {
    const labels = this.parseMetricPart();
    if (!this.at('EOF')) throw this.unexpected('', '');
    return labels;
  }

  private parseMetricPart(): Labels {
    const b = new LabelsBuilder();
    const t = this.tok;
    let name: string | null = null;
    if (METRIC_IDENT.has(t.type)) {
      this.advance();
      name = t.val;
    }
    if (this.at('LEFT_BRACE')) {
      this.advance();
      if (this.at('RIGHT_BRACE')) {
        this.advance();
      } else {
        for (;;) {
          const lt = this.tok;
          if (lt.type === 'IDENTIFIER' || lt.type === 'STRING') {
            this.advance();
            const ln = lt.type === 'STRING' ? unquoteString(lt.val) : lt.val;
            if (this.at('EQL')) {
              this.advance();
              if (!this.at('STRING')) throw this.unexpected('label set', 'string');
              b.set(ln, unquoteString(this.advance().val));
            } else if (lt.type === 'STRING') {
              b.set(METRIC_NAME, ln);
            } else {
              throw this.unexpected('label set', '"="');
            }
          } else {
            throw this.unexpected('label set', 'identifier or "}"');
          }
          if (this.at('COMMA')) {
            this.advance();
            if (this.at('RIGHT_BRACE')) {
              this.advance();
              break;
            }
            continue;
          }
          if (this.at('RIGHT_BRACE')) {
            this.advance();
            break;
          }
          throw this.unexpected('label set', '"," or "}"');
        }
      }
    }
    if (name !== null) b.set(METRIC_NAME, name);
    return b.labels();
  }

  parseSeries(maxValues: number): SeriesDescription {
    const labels = this.parseMetricPart();
    let values = new Float64Array(16);
    let kinds = new Uint8Array(16);
    let n = 0;
    const push = (v: number, kind: number): void => {
      if (n >= maxValues) throw this.error({ start: 0, end: this.input.length }, `series description expands to more than ${maxValues} values`);
      if (n === values.length) {
        const nv = new Float64Array(values.length * 2);
        nv.set(values);
        values = nv;
        const nk = new Uint8Array(kinds.length * 2);
        nk.set(kinds);
        kinds = nk;
      }
      values[n] = v;
      kinds[n] = kind;
      n++;
    };
    for (;;) {
      if (this.at('EOF')) break;
      if (!this.at('SPACE')) throw this.unexpected('series values', '');
      this.advance();
      if (this.at('SPACE') || this.at('EOF')) continue;
      if (this.at('BLANK')) {
        this.advance();
        if (this.at('TIMES')) {
          this.advance();
          const times = this.parseUint();
          for (let i = 0; i < times; i++) push(0, SERIES_OMITTED);
        } else {
          push(0, SERIES_OMITTED);
        }
        continue;
      }
      const first = this.parseSeriesValue();
      if (this.at('TIMES')) {
        this.advance();
        const times = this.parseUint();
        for (let i = 0; i <= times; i++) push(first.value, first.kind);
        continue;
      }
      if (this.at('ADD') || this.at('SUB')) {
        const sign = this.advance().type === 'SUB' ? -1 : 1;
        if (!this.at('NUMBER')) throw this.unexpected('series values', '');
        const delta = sign * this.numberLiteral(this.advance()).value;
        if (!this.at('TIMES')) throw this.unexpected('series values', '');
        this.advance();
        const times = this.parseUint();
        let v = first.value;
        for (let i = 0; i <= times; i++) {
          push(v, first.kind);
          v += delta;
        }
        continue;
      }
      push(first.value, first.kind);
    }
    return { labels, values: values.slice(0, n), kinds: kinds.slice(0, n) };
  }

  private parseSeriesValue(): { value: number; kind: number } {
    const t = this.tok;
    if (t.type === 'IDENTIFIER') {
      if (t.val !== 'stale') throw this.unexpected('series values', 'number or "stale"');
      this.advance();
      return { value: STALE_NAN, kind: SERIES_STALE };
    }
    if (t.type === 'NUMBER') {
      this.advance();
      return { value: this.numberLiteral(t).value, kind: SERIES_VALUE };
    }
    if (t.type === 'ADD' || t.type === 'SUB') {
      this.advance();
      if (!this.at('NUMBER')) throw this.unexpected('series values', '');
      const v = this.numberLiteral(this.advance()).value;
      return { value: t.type === 'SUB' ? -v : v, kind: SERIES_VALUE };
    }
    throw this.unexpected('series values', '');
  }

  private parseUint(): number {
    const t = this.tok;
    if (t.type !== 'NUMBER') throw this.unexpected('series values', '');
    this.advance();
    if (!/^\d+$/.test(t.val)) {
      throw this.error(this.tokRange(t), `invalid repetition in series values: strconv.ParseUint: parsing ${JSON.stringify(t.val)}: invalid syntax`);
    }
    if (BigInt(t.val) > 2n ** 64n - 1n) {
      throw this.error(this.tokRange(t), `invalid repetition in series values: strconv.ParseUint: parsing ${JSON.stringify(t.val)}: value out of range`);
    }
    // Larger counts than this are refused by the expansion limit anyway.
    return Math.min(Number(t.val), Number.MAX_SAFE_INTEGER);
  }
}

function secondsToMs(s: number): number {
  return Math.trunc(Math.round(s * 1e9) / 1e6);
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Parses a PromQL expression. Throws {@link ParseError}. */
export function parse(text: string, opts?: ParseOptions): Expr {
  return new Parser(text, opts).parseExpression();
}

/**
 * Parses a metric selector (`match[]` parameters): a vector selector without range or
 * modifiers. Returns its matchers, the `__name__` one last when the name is outside braces.
 * Like Prometheus, it does not require a non-empty matcher (the API checks that).
 */
export function parseSelector(text: string): Matcher[] {
  return [...new Parser(text).parseVectorSelectorOnly().matchers];
}

/** Parses `metric{label="value", …}` into a label set (promqltest expectations, promtool series). */
export function parseMetric(text: string): Labels {
  return new Parser(text).parseMetricOnly();
}

export const SERIES_VALUE = 0;
export const SERIES_OMITTED = 1;
export const SERIES_STALE = 2;

/** A series description, expanded: one entry per step. */
export interface SeriesDescription {
  readonly labels: Labels;
  /** Values; STALE_NAN for stale markers, 0 for omitted steps. */
  readonly values: Float64Array;
  /** Per step: SERIES_VALUE, SERIES_OMITTED (`_`) or SERIES_STALE (`stale`). */
  readonly kinds: Uint8Array;
}

/** Upper bound on the values one series description may expand to. */
export const MAX_SERIES_VALUES = 10_000_000;

/**
 * Parses a promqltest `load` line / promtool series: `metric{a="b"} 1+2x3 _ stale Inf -1-1x2`.
 * `a+bxN` expands to N+1 values, `_xN` to N omitted steps.
 */
export function parseSeriesDescription(text: string, maxValues = MAX_SERIES_VALUES): SeriesDescription {
  return new Parser(text, {}, true).parseSeries(maxValues);
}

/** Type-checks a vector selector built elsewhere (for callers that assemble selectors). */
export function checkExpr(e: Expr, text = ''): void {
  new Parser(text).checkAST(e);
}
