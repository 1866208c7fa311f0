/**
 * The PromQL lexer. It follows Prometheus's lexer state for state (statements, inside braces,
 * inside brackets, series-description values) so that token boundaries and lexer error
 * messages are the ones Prometheus users see. Positions are UTF-16 offsets into the input.
 */

export type TokenType =
  | 'EOF'
  | 'ERROR'
  | 'COMMENT'
  | 'IDENTIFIER'
  | 'METRIC_IDENTIFIER'
  | 'LEFT_PAREN'
  | 'RIGHT_PAREN'
  | 'LEFT_BRACE'
  | 'RIGHT_BRACE'
  | 'LEFT_BRACKET'
  | 'RIGHT_BRACKET'
  | 'COMMA'
  | 'EQL'
  | 'COLON'
  | 'SEMICOLON'
  | 'BLANK'
  | 'TIMES'
  | 'SPACE'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  | 'OPEN_HIST'
  // operators
  | 'ADD'
  | 'SUB'
  | 'MUL'
  | 'DIV'
  | 'MOD'
  | 'POW'
  | 'EQLC'
  | 'NEQ'
  | 'LTE'
  | 'LSS'
  | 'GTE'
  | 'GTR'
  | 'EQL_REGEX'
  | 'NEQ_REGEX'
  | 'AT'
  | 'ATAN2'
  | 'LAND'
  | 'LOR'
  | 'LUNLESS'
  // aggregators
  | 'AVG'
  | 'BOTTOMK'
  | 'COUNT'
  | 'COUNT_VALUES'
  | 'GROUP'
  | 'MAX'
  | 'MIN'
  | 'QUANTILE'
  | 'STDDEV'
  | 'STDVAR'
  | 'SUM'
  | 'TOPK'
  | 'LIMITK'
  | 'LIMIT_RATIO'
  // keywords
  | 'BOOL'
  | 'BY'
  | 'GROUP_LEFT'
  | 'GROUP_RIGHT'
  | 'IGNORING'
  | 'OFFSET'
  | 'ON'
  | 'WITHOUT'
  // preprocessors
  | 'START'
  | 'END';

export interface Token {
  readonly type: TokenType;
  /** Start offset (UTF-16) in the input. */
  readonly pos: number;
  /** The token text; for ERROR tokens the error message. */
  readonly val: string;
}

/** Words with a meaning of their own (matched case-insensitively, as Prometheus does). */
export const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['and', 'LAND'],
  ['or', 'LOR'],
  ['unless', 'LUNLESS'],
  ['atan2', 'ATAN2'],
  ['sum', 'SUM'],
  ['avg', 'AVG'],
  ['count', 'COUNT'],
  ['min', 'MIN'],
  ['max', 'MAX'],
  ['group', 'GROUP'],
  ['stddev', 'STDDEV'],
  ['stdvar', 'STDVAR'],
  ['topk', 'TOPK'],
  ['bottomk', 'BOTTOMK'],
  ['count_values', 'COUNT_VALUES'],
  ['quantile', 'QUANTILE'],
  ['limitk', 'LIMITK'],
  ['limit_ratio', 'LIMIT_RATIO'],
  ['offset', 'OFFSET'],
  ['by', 'BY'],
  ['without', 'WITHOUT'],
  ['on', 'ON'],
  ['ignoring', 'IGNORING'],
  ['group_left', 'GROUP_LEFT'],
  ['group_right', 'GROUP_RIGHT'],
  ['bool', 'BOOL'],
  ['start', 'START'],
  ['end', 'END'],
  ['inf', 'NUMBER'],
  ['nan', 'NUMBER'],
]);

const OPERATORS = new Set<TokenType>([
  'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW', 'EQLC', 'NEQ', 'LTE', 'LSS', 'GTE', 'GTR',
  'EQL_REGEX', 'NEQ_REGEX', 'AT', 'ATAN2', 'LAND', 'LOR', 'LUNLESS',
]);
const AGGREGATORS = new Set<TokenType>([
  'AVG', 'BOTTOMK', 'COUNT', 'COUNT_VALUES', 'GROUP', 'MAX', 'MIN', 'QUANTILE', 'STDDEV',
  'STDVAR', 'SUM', 'TOPK', 'LIMITK', 'LIMIT_RATIO',
]);
const KEYWORD_TYPES = new Set<TokenType>(['BOOL', 'BY', 'GROUP_LEFT', 'GROUP_RIGHT', 'IGNORING', 'OFFSET', 'ON', 'WITHOUT']);

/** Token types that have a fixed spelling (Prometheus's ItemTypeStr). */
const FIXED = new Set<TokenType>([
  'LEFT_PAREN', 'RIGHT_PAREN', 'LEFT_BRACE', 'RIGHT_BRACE', 'LEFT_BRACKET', 'RIGHT_BRACKET',
  'COMMA', 'EQL', 'COLON', 'SEMICOLON', 'BLANK', 'TIMES', 'SPACE', 'OPEN_HIST',
  'SUB', 'ADD', 'MUL', 'MOD', 'DIV', 'EQLC', 'NEQ', 'LTE', 'LSS', 'GTE', 'GTR', 'EQL_REGEX', 'NEQ_REGEX', 'POW',
  'LAND', 'LOR', 'LUNLESS', 'ATAN2', 'START', 'END',
  ...AGGREGATORS,
  ...KEYWORD_TYPES,
]);

export function isOperatorToken(t: TokenType): boolean {
  return OPERATORS.has(t);
}
export function isAggregatorToken(t: TokenType): boolean {
  return AGGREGATORS.has(t);
}
export function isKeywordToken(t: TokenType): boolean {
  return KEYWORD_TYPES.has(t);
}

/** Go's %q of a string: double-quoted with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0b) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xdc80 && c <= 0xdcff) out += '\\x' + (c - 0xdc00).toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (isGoPrintable(ch)) out += ch;
    else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
function isGoPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}

/** Go's %q of a rune: single-quoted. */
export function goQuoteRune(r: number): string {
  if (r < 0 || r > 0x10ffff) return "'\uFFFD'";
  const ch = String.fromCodePoint(r);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const q = goQuote(ch);
  return "'" + q.slice(1, -1) + "'";
}

/** Go's %U with # flag (`U+0041 'A'`), used in escape-sequence errors. */
function goRuneU(r: number): string {
  if (r < 0) return 'U+FFFFFFFFFFFFFFFF';
  const hex = r.toString(16).toUpperCase().padStart(4, '0');
  const ch = String.fromCodePoint(r);
  return isGoPrintable(ch) || (r >= 0x20 && r < 0x7f) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

/** Prometheus's Item.String(). */
export function tokenString(t: Token): string {
  if (t.type === 'EOF') return 'EOF';
  if (t.type === 'ERROR') return t.val;
  if (t.type === 'IDENTIFIER' || t.type === 'METRIC_IDENTIFIER') return goQuote(t.val);
  if (KEYWORD_TYPES.has(t.type)) return `<${t.val}>`;
  if (OPERATORS.has(t.type)) return `<op:${t.val}>`;
  if (AGGREGATORS.has(t.type)) return `<aggr:${t.val}>`;
  // Go: len() counts bytes, %.10q keeps ten runes.
  if (Buffer.byteLength(t.val, 'utf8') > 10) return goQuote([...t.val].slice(0, 10).join('')) + '...';
  return goQuote(t.val);
}

/** Prometheus's Item.desc(): how a token is named in "unexpected …" messages. */
export function tokenDesc(t: Token): string {
  if (FIXED.has(t.type)) return tokenString(t);
  switch (t.type) {
    case 'EOF':
      return 'end of input';
    case 'ERROR':
      return 'error ' + tokenString(t);
    case 'COMMENT':
      return 'comment ' + tokenString(t);
    case 'IDENTIFIER':
      return 'identifier ' + tokenString(t);
    case 'METRIC_IDENTIFIER':
      return 'metric identifier ' + tokenString(t);
    case 'STRING':
      return 'string ' + tokenString(t);
    case 'NUMBER':
      return 'number ' + tokenString(t);
    case 'DURATION':
      return 'duration ' + tokenString(t);
    default:
      return tokenString(t);
  }
}

const EOF_RUNE = -1;

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0a || r === 0x0d;
}
function isDigit(r: number): boolean {
  return r >= 0x30 && r <= 0x39;
}
function isAlpha(r: number): boolean {
  return r === 0x5f || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a);
}
function isAlphaNumeric(r: number): boolean {
  return isAlpha(r) || isDigit(r);
}
function isEndOfLine(r: number): boolean {
  return r === 0x0d || r === 0x0a;
}
function hexVal(r: number): number {
  if (r >= 0x30 && r <= 0x39) return r - 0x30;
  if (r >= 0x61 && r <= 0x66) return r - 0x61 + 10;
  if (r >= 0x41 && r <= 0x46) return r - 0x41 + 10;
  return 16;
}

const INVALID_RUNE = 0xfffd;

type State =
  | 'statements'
  | 'braces'
  | 'durationExpr'
  | 'valueSequence'
  | 'done';

/**
 * A pull lexer: `next()` returns the next token, comments included; after an ERROR or EOF
 * token it returns EOF forever.
 */
export class Lexer {
  readonly input: string;
  private pos = 0;
  private start = 0;
  private width = 0;
  private state: State = 'statements';
  private parenDepth = 0;
  private braceOpen = false;
  private bracketOpen = false;
  private gotColon = false;
  private gotDuration = false;
  private stringOpen = 0;
  /** Lexing a promqltest / promtool series description. */
  readonly seriesDesc: boolean;
  private pending: Token | null = null;

  constructor(input: string, seriesDesc = false) {
    this.input = input;
    this.seriesDesc = seriesDesc;
  }

  /** Start of the token being scanned (Prometheus reports lexer errors here). */
  get tokenStart(): number {
    return this.start;
  }

  private nextRune(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF_RUNE;
    }
    const c = this.input.charCodeAt(this.pos);
    if (c >= 0xd800 && c <= 0xdbff && this.pos + 1 < this.input.length) {
      const d = this.input.charCodeAt(this.pos + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        this.width = 2;
        this.pos += 2;
        return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      }
    }
    this.width = 1;
    this.pos += 1;
    if (c >= 0xd800 && c <= 0xdfff) return INVALID_RUNE | 0x1000000; // lone surrogate: invalid UTF-8
    return c;
  }

  private backup(): void {
    this.pos -= this.width;
  }

  private peek(): number {
    const r = this.nextRune();
    this.backup();
    return r;
  }

  private accept(valid: string): boolean {
    const r = this.nextRune();
    if (r !== EOF_RUNE && r < 0x10000 && valid.includes(String.fromCharCode(r))) return true;
    this.backup();
    return false;
  }

  private is(valid: string): boolean {
    const r = this.peek();
    return r !== EOF_RUNE && r < 0x10000 && valid.includes(String.fromCharCode(r));
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid)) {
      /* consume */
    }
  }

  private emit(type: TokenType): Token {
    const t: Token = { type, pos: this.start, val: this.input.slice(this.start, this.pos) };
    this.start = this.pos;
    return t;
  }

  private errorf(msg: string): Token {
    this.state = 'done';
    return { type: 'ERROR', pos: this.start, val: msg };
  }

  private ignore(): void {
    this.start = this.pos;
  }

  next(): Token {
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      return p;
    }
    // Every iteration either emits or consumes input, so this terminates.
    for (;;) {
      let t: Token | null;
      switch (this.state) {
        case 'done':
          return { type: 'EOF', pos: this.input.length, val: '' };
        case 'statements':
          t = this.lexStatements();
          break;
        case 'braces':
          t = this.lexInsideBraces();
          break;
        case 'durationExpr':
          t = this.lexDurationExpr();
          break;
        case 'valueSequence':
          t = this.lexValueSequence();
          break;
      }
      if (t) return t;
    }
  }

  private lexStatements(): Token | null {
    if (this.braceOpen) {
      this.state = 'braces';
      return null;
    }
    if (this.input.startsWith('#', this.pos)) return this.lexLineComment();
    const r = this.nextRune();
    if (r === EOF_RUNE) {
      if (this.parenDepth !== 0) return this.errorf('unclosed left parenthesis');
      if (this.bracketOpen) return this.errorf('unclosed left bracket');
      const t = this.emit('EOF');
      this.state = 'done';
      return t;
    }
    if (isSpace(r)) {
      this.lexSpace();
      return null;
    }
    switch (r) {
      case 0x2c: // ,
        return this.emit('COMMA');
      case 0x2a:
        return this.emit('MUL');
      case 0x2f:
        return this.emit('DIV');
      case 0x25:
        return this.emit('MOD');
      case 0x2b:
        return this.emit('ADD');
      case 0x2d:
        return this.emit('SUB');
      case 0x5e:
        return this.emit('POW');
      case 0x3d: {
        // =
        const t = this.peek();
        if (t === 0x3d) {
          this.nextRune();
          return this.emit('EQLC');
        }
        if (t === 0x7e) return this.errorf(`unexpected character after '=': ${goQuoteRune(t)}`);
        return this.emit('EQL');
      }
      case 0x21: {
        // !
        const t = this.nextRune();
        if (t !== 0x3d) return this.errorf(`unexpected character after '!': ${runeQ(t)}`);
        return this.emit('NEQ');
      }
      case 0x3c:
        if (this.peek() === 0x3d) {
          this.nextRune();
          return this.emit('LTE');
        }
        return this.emit('LSS');
      case 0x3e:
        if (this.peek() === 0x3d) {
          this.nextRune();
          return this.emit('GTE');
        }
        return this.emit('GTR');
      case 0x22:
      case 0x27:
        this.stringOpen = r;
        return this.lexString();
      case 0x60:
        this.stringOpen = r;
        return this.lexRawString();
      case 0x28:
        this.parenDepth++;
        return this.emit('LEFT_PAREN');
      case 0x29: {
        const t = this.emit('RIGHT_PAREN');
        this.parenDepth--;
        if (this.parenDepth < 0) return this.errorf(`unexpected right parenthesis ${goQuoteRune(r)}`);
        return t;
      }
      case 0x7b: {
        const t = this.emit('LEFT_BRACE');
        this.braceOpen = true;
        this.state = 'braces';
        return t;
      }
      case 0x5b: {
        if (this.bracketOpen) return this.errorf(`unexpected left bracket ${goQuoteRune(r)}`);
        this.gotColon = false;
        this.gotDuration = false;
        const t = this.emit('LEFT_BRACKET');
        if (isSpace(this.peek())) this.skipSpaces();
        this.bracketOpen = true;
        this.state = 'durationExpr';
        return t;
      }
      case 0x5d:
        if (!this.bracketOpen) return this.errorf(`unexpected right bracket ${goQuoteRune(r)}`);
        this.bracketOpen = false;
        return this.emit('RIGHT_BRACKET');
      case 0x40:
        return this.emit('AT');
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      return this.lexNumberOrDuration();
    }
    if (isAlpha(r) || r === 0x3a) {
      if (!this.bracketOpen) {
        this.backup();
        return this.lexKeywordOrIdentifier();
      }
      if (r === 0x3a) {
        if (this.gotColon) return this.errorf(`unexpected colon ${goQuoteRune(r)}`);
        this.gotColon = true;
        return this.emit('COLON');
      }
      return this.errorf(`unexpected character: ${goQuoteRune(r)}, expected ':'`);
    }
    return this.errorf(`unexpected character: ${runeQ(r)}`);
  }

  private lexInsideBraces(): Token | null {
    if (this.input.startsWith('#', this.pos)) return this.lexLineComment();
    const r = this.nextRune();
    if (r === EOF_RUNE) return this.errorf('unexpected end of input inside braces');
    if (isSpace(r)) {
      this.lexSpace();
      return null;
    }
    if (isAlpha(r)) {
      this.backup();
      return this.lexIdentifier();
    }
    switch (r) {
      case 0x2c:
        return this.emit('COMMA');
      case 0x22:
      case 0x27:
        this.stringOpen = r;
        return this.lexString();
      case 0x60:
        this.stringOpen = r;
        return this.lexRawString();
      case 0x3d:
        if (this.nextRune() === 0x7e) return this.emit('EQL_REGEX');
        this.backup();
        return this.emit('EQL');
      case 0x21: {
        const nr = this.nextRune();
        if (nr === 0x7e) return this.emit('NEQ_REGEX');
        if (nr === 0x3d) return this.emit('NEQ');
        return this.errorf(`unexpected character after '!' inside braces: ${runeQ(nr)}`);
      }
      case 0x7b:
        return this.errorf(`unexpected left brace ${goQuoteRune(r)}`);
      case 0x7d: {
        const t = this.emit('RIGHT_BRACE');
        this.braceOpen = false;
        this.state = this.seriesDesc ? 'valueSequence' : 'statements';
        return t;
      }
    }
    return this.errorf(`unexpected character inside braces: ${runeQ(r)}`);
  }

  private lexDurationExpr(): Token | null {
    const r = this.nextRune();
    if (r === EOF_RUNE) return this.errorf('unexpected end of input in duration expression');
    switch (r) {
      case 0x5d: {
        const t = this.emit('RIGHT_BRACKET');
        this.bracketOpen = false;
        this.gotColon = false;
        this.state = 'statements';
        return t;
      }
      case 0x3a: {
        const t = this.emit('COLON');
        if (!this.gotDuration) return this.errorf('unexpected colon before duration in duration expression');
        if (this.gotColon) return this.errorf('unexpected repeated colon in duration expression');
        this.gotColon = true;
        return t;
      }
      case 0x28:
        this.parenDepth++;
        return this.emit('LEFT_PAREN');
      case 0x29: {
        const t = this.emit('RIGHT_PAREN');
        this.parenDepth--;
        if (this.parenDepth < 0) return this.errorf(`unexpected right parenthesis ${goQuoteRune(r)}`);
        return t;
      }
      case 0x2b:
        return this.emit('ADD');
      case 0x2d:
        return this.emit('SUB');
      case 0x2a:
        return this.emit('MUL');
      case 0x2f:
        return this.emit('DIV');
      case 0x25:
        return this.emit('MOD');
      case 0x5e:
        return this.emit('POW');
      case 0x2c:
        return this.emit('COMMA');
    }
    if (isSpace(r)) {
      this.skipSpaces();
      return null;
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      this.gotDuration = true;
      this.state = 'statements';
      return this.lexNumberOrDuration();
    }
    return this.errorf(`unexpected character in duration expression: ${runeQ(r)}`);
  }

  private lexValueSequence(): Token | null {
    const r = this.nextRune();
    if (r === EOF_RUNE) {
      this.state = 'statements';
      return null;
    }
    if (r === 0x7b && this.peek() === 0x7b) {
      this.nextRune();
      return this.errorf('native histogram samples are not supported');
    }
    if (isSpace(r)) {
      const t = this.emit('SPACE');
      this.lexSpace();
      return t;
    }
    switch (r) {
      case 0x2b:
        return this.emit('ADD');
      case 0x2d:
        return this.emit('SUB');
      case 0x78:
        return this.emit('TIMES');
      case 0x5f:
        return this.emit('BLANK');
    }
    if (isDigit(r) || (r === 0x2e && isDigit(this.peek()))) {
      this.backup();
      if (!this.scanNumber()) return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
      return this.emit('NUMBER');
    }
    if (isAlpha(r)) {
      this.backup();
      return this.lexKeywordOrIdentifier();
    }
    return this.errorf(`unexpected character in series sequence: ${runeQ(r)}`);
  }

  private lexEscape(): string | null {
    let ch = this.nextRune();
    let n: number;
    let base: number;
    let max: number;
    switch (ch) {
      case 0x61:
      case 0x62:
      case 0x66:
      case 0x6e:
      case 0x72:
      case 0x74:
      case 0x76:
      case 0x5c:
        return null;
      case 0x78:
        ch = this.nextRune();
        n = 2;
        base = 16;
        max = 255;
        break;
      case 0x75:
        ch = this.nextRune();
        n = 4;
        base = 16;
        max = 0x10ffff;
        break;
      case 0x55:
        ch = this.nextRune();
        n = 8;
        base = 16;
        max = 0x10ffff;
        break;
      case EOF_RUNE:
        return 'escape sequence not terminated';
      default:
        if (ch === this.stringOpen) return null;
        if (ch >= 0x30 && ch <= 0x37) {
          n = 3;
          base = 8;
          max = 255;
          break;
        }
        return `unknown escape sequence ${goRuneU(ch & 0xffffff)}`;
    }
    let x = 0;
    while (n > 0) {
      const d = ch === EOF_RUNE ? 16 : hexVal(ch);
      if (d >= base) {
        if (ch === EOF_RUNE) return 'escape sequence not terminated';
        return `illegal character ${goRuneU(ch & 0xffffff)} in escape sequence`;
      }
      x = x * base + d;
      n--;
      if (n > 0) ch = this.nextRune();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) return 'escape sequence is an invalid Unicode code point';
    return null;
  }

  private lexString(): Token {
    // Prometheus keeps scanning after a bad escape and reports the first error at the end.
    let firstError: string | null = null;
    for (;;) {
      const r = this.nextRune();
      if (r === 0x5c) {
        const err = this.lexEscape();
        if (err !== null) return this.errorf(err);
        continue;
      }
      if (r > 0xffffff) {
        firstError ??= 'invalid UTF-8 rune';
        return this.errorf(firstError);
      }
      if (r === EOF_RUNE || r === 0x0a) return this.errorf('unterminated quoted string');
      if (r === this.stringOpen) break;
    }
    return this.emit('STRING');
  }

  private lexRawString(): Token {
    for (;;) {
      const r = this.nextRune();
      if (r > 0xffffff) return this.errorf('invalid UTF-8 rune');
      if (r === EOF_RUNE) return this.errorf('unterminated raw string');
      if (r === this.stringOpen) break;
    }
    return this.emit('STRING');
  }

  private lexSpace(): void {
    while (isSpace(this.peek())) this.nextRune();
    this.ignore();
  }

  private skipSpaces(): void {
    while (isSpace(this.peek())) this.nextRune();
    this.ignore();
  }

  private lexLineComment(): Token {
    this.pos += 1;
    let r = this.nextRune();
    while (!isEndOfLine(r) && r !== EOF_RUNE) r = this.nextRune();
    this.backup();
    return this.emit('COMMENT');
  }

  private lexNumberOrDuration(): Token {
    if (this.scanNumber()) return this.emit('NUMBER');
    if (this.acceptRemainingDuration()) {
      this.backup();
      return this.emit('DURATION');
    }
    return this.errorf(`bad number or duration syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
  }

  private acceptRemainingDuration(): boolean {
    if (!this.accept('smhdwy')) return false;
    this.accept('s');
    while (this.accept('0123456789')) {
      while (this.accept('0123456789')) {
        /* digits */
      }
      if (!this.accept('smhdw')) return false;
      this.accept('s');
    }
    return !isAlphaNumeric(this.nextRune());
  }

  /** Scans a decimal, hex or float number; true when it ends where a number may end. */
  private scanNumber(): boolean {
    const initial = this.pos;
    let digits = '0123456789';
    if (!this.seriesDesc && this.accept('0') && this.accept('xX')) {
      this.accept('_');
      digits = '0123456789abcdefABCDEF';
    }
    this.accept('.');
    this.accept(digits);
    let dot = false;
    let exp = false;
    while (this.is(digits + '._eE')) {
      if (this.is('.') && dot) {
        this.accept('.');
        return false;
      }
      if (this.is('eE') && exp) {
        this.accept('eE');
        return false;
      }
      if (this.accept('.')) {
        dot = true;
        if (this.accept('_.')) return false;
        if (digits.length > 10) return false;
        continue;
      }
      if (this.accept('eE')) {
        exp = true;
        this.accept('+-');
        if (this.accept('._eE') || this.peek() === EOF_RUNE) return false;
        continue;
      }
      if (this.accept('_')) {
        if (this.accept('._eE') || this.peek() === EOF_RUNE) return false;
        continue;
      }
      const before = this.pos;
      this.acceptRun(digits);
      if (this.pos === before) break;
    }
    if (this.pos === initial) return false;
    const r = this.peek();
    return (this.seriesDesc && r === 0x78) || !isAlphaNumeric(r);
  }

  private lexIdentifier(): Token {
    while (isAlphaNumeric(this.nextRune())) {
      /* absorb */
    }
    this.backup();
    return this.emit('IDENTIFIER');
  }

  private lexKeywordOrIdentifier(): Token {
    for (;;) {
      const r = this.nextRune();
      if (isAlphaNumeric(r) || r === 0x3a) continue;
      this.backup();
      break;
    }
    const word = this.input.slice(this.start, this.pos);
    // Keywords are at most 12 characters: skip lower-casing longer words.
    const kw = word.length <= 12 ? KEYWORDS.get(word.toLowerCase()) : undefined;
    const t = this.emit(kw ?? (word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER'));
    if (this.seriesDesc && this.peek() !== 0x7b) this.state = 'valueSequence';
    return t;
  }
}

/** %q of a rune that may be EOF (Go prints EOF, -1, as '\uffff'-ish; we follow %q of -1). */
function runeQ(r: number): string {
  if (r === EOF_RUNE || r > 0xffffff) return "'\uFFFD'";
  return goQuoteRune(r);
}
