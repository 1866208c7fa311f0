/**
 * Pull parsers for the Prometheus text format (0.0.4, with 3.x quoted UTF-8 names) and the
 * OpenMetrics 1.0 text format, working on the bytes of a scrape body.
 *
 * One class serves both formats; `openMetrics` switches the grammar (single spaces, float
 * timestamps in seconds, exemplars, `# UNIT`, `# EOF`). `next()` only records byte offsets;
 * strings are made when asked for (`seriesKey()`, `labels()`, `help()`), so a scrape loop whose
 * cache knows the series pays for the key string and the value only.
 *
 * Lifetimes: everything an accessor returns is a fresh string or number, valid forever; the
 * accessors themselves answer for the current entry only, until the next `next()`.
 */

import { isUtf8 } from 'node:buffer';
import { Labels, LabelsBuilder, METRIC_NAME } from '../../storage/index.js';
import { normaliseFloatLabel, numberStatus, parseFloatBytes, parseIntBytes } from './floats.js';
import { ExpositionError, type EntryKind, type Exemplar, type MetricParser, type MetricType } from './types.js';

/** Options of the text parsers. */
export interface TextParserOptions {
  /**
   * OpenMetrics only: skip the `_created` series of counters, summaries and histograms and offer
   * their values through `createdTimestamp()` instead, as Prometheus does with
   * `--enable-feature=created-timestamp-zero-ingestion`. Default false: like Prometheus 3.5 by
   * default, `_created` lines are ordinary series.
   */
  readonly skipCreatedSeries?: boolean;
}

interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const NL = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BSLASH = 0x5c;
const HASH = 0x23;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const EQ = 0x3d;

/** Byte classes: 1 = metric name start, 2 = metric name char, 4 = label name start, 8 = label name char. */
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  const digit = c >= 0x30 && c <= 0x39;
  let k = 0;
  if (alpha || c === 0x3a) k |= 1 | 2;
  if (digit) k |= 2 | 8;
  if (alpha) k |= 4 | 8;
  CLASS[c] = k;
}

const LABEL_FIELDS = 5; // nameStart, nameEnd, valueStart, valueEnd, flags
const F_NAME_ESC = 1;
const F_VALUE_ESC = 2;
const F_VALUE_HIGH = 4;
const F_NAME_HIGH = 8;

/** Most labels on one series (or exemplar); far above any label_limit anyone sets. */
export const MAX_LABELS_PER_SERIES = 4096;

const TEXT_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};
const OM_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  unknown: 'unknown',
};

const ESCAPES = /\\(["\\n])/g;
const HELP_ESCAPES = /\\([\\n])/g;
function unescapeLabel(s: string): string {
  return s.replace(ESCAPES, (_, c: string) => (c === 'n' ? '\n' : c));
}
function unescapeHelp(s: string): string {
  return s.replace(HELP_ESCAPES, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Go's %q of some bytes (close enough: JSON string syntax). */
function q(buf: Buffer, s: number, e: number): string {
  return JSON.stringify(buf.toString('utf8', Math.max(0, s), Math.min(buf.length, e)));
}

/** The pull parser of both text formats. Construct through {@link PromTextParser} or {@link OpenMetricsParser}. */
export class TextParser implements MetricParser {
  private readonly buf: FastBuffer;
  private readonly end: number;
  private readonly om: boolean;
  private readonly skipCreated: boolean;

  private pos = 0;
  /** Line number (1-based) at `pos`. */
  private lineAtPos = 1;
  /** Line of the current entry. */
  private line = 1;
  private lineStart = 0;
  private done = false;

  private kind: EntryKind | null = null;
  private nameS = 0;
  private nameE = 0;
  private nameEsc = false;
  /** The name has bytes >= 0x80 (only possible when quoted). */
  private nameHigh = false;
  private seriesS = 0;
  private seriesE = 0;
  private lab = new Int32Array(16 * LABEL_FIELDS);
  private nLab = 0;
  private val = 0;
  private ts = 0;
  private hasTs = false;
  private textS = 0;
  private textE = 0;
  private mtype: MetricType = 'unknown';
  private mtypeText = '';

  private exLab = new Int32Array(4 * LABEL_FIELDS);
  private nExLab = 0;
  private hasEx = false;
  private exVal = 0;
  private exTs = 0;
  private hasExTs = false;

  /** True when the whole body is valid UTF-8 (one native pass): per-token checks are then skipped. */
  private readonly validUtf8: boolean;

  /** `knownValidUtf8`: the caller already checked the whole body (sub-parsers on the same body). */
  constructor(body: Buffer, openMetrics: boolean, opts: TextParserOptions = {}, knownValidUtf8?: boolean) {
    this.buf = body as FastBuffer;
    this.end = body.length;
    this.om = openMetrics;
    this.skipCreated = openMetrics && opts.skipCreatedSeries === true;
    this.validUtf8 = knownValidUtf8 ?? isUtf8(body);
  }

  // ---------------------------------------------------------------------------------------------
  // Errors

  private fail(reason: string): never {
    throw new ExpositionError(this.line, reason);
  }

  /** Prometheus's parseError: `<exp>, got "<token>" (<KIND>) while parsing: "<line so far>"`. */
  private failToken(exp: string, at: number): never {
    const b = this.buf;
    let kind: string;
    let tokEnd = at + 1;
    if (at >= this.end) {
      kind = 'EOF';
      tokEnd = at;
    } else {
      const c = b[at]!;
      if (c === NL) kind = 'LINEBREAK';
      else if (c === LBRACE) kind = 'BOPEN';
      else if (c === RBRACE) kind = 'BCLOSE';
      else if (c === COMMA) kind = 'COMMA';
      else if (c === EQ) kind = 'EQUAL';
      else if (c === QUOTE) kind = 'QSTRING';
      else if (c === HASH) kind = 'COMMENT';
      else if (c === SP || c === TAB) kind = 'WHITESPACE';
      else if (CLASS[c]! & 1) kind = 'MNAME';
      else kind = 'INVALID';
      if (kind === 'MNAME' || kind === 'INVALID') {
        while (tokEnd < this.end && b[tokEnd] !== NL && b[tokEnd] !== SP && b[tokEnd] !== TAB) tokEnd++;
      }
    }
    this.fail(`${exp}, got ${q(b, at, tokEnd)} (${kind}) while parsing: ${q(b, this.lineStart, tokEnd)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Lexing helpers

  private skipBlanks(i: number): number {
    const b = this.buf;
    if (this.om) return i;
    while (i < this.end && (b[i] === SP || b[i] === TAB)) i++;
    return i;
  }

  /** Scans a quoted string starting at the opening quote; returns the index after the closing quote and sets scanFlags. */
  private scanQuoted(i: number, what: string): number {
    const b = this.buf;
    const end = this.end;
    let flags = 0;
    i++;
    for (;;) {
      if (i >= end) this.fail(`unterminated quoted ${what} while parsing: ${q(b, this.lineStart, end)}`);
      const c = b[i]!;
      if (c === QUOTE) break;
      if (c === BSLASH) {
        flags |= F_VALUE_ESC;
        i += 2;
        if (b[i - 1] === NL) this.lineAtPos++;
        continue;
      }
      if (c === NL) {
        if (this.om) this.fail(`unterminated quoted ${what} while parsing: ${q(b, this.lineStart, i)}`);
        this.lineAtPos++;
      }
      if (c >= 0x80) flags |= F_VALUE_HIGH;
      i++;
    }
    this.scanFlags = flags;
    return i + 1;
  }
  private scanFlags = 0;

  private decode(s: number, e: number, high: boolean): string {
    return high ? this.buf.utf8Slice(s, e) : this.buf.latin1Slice(s, e);
  }

  // ---------------------------------------------------------------------------------------------
  // MetricParser

  next(): EntryKind | null {
    if (this.done) return null;
    const b = this.buf;
    const end = this.end;
    for (;;) {
      let i = this.pos;
      this.line = this.lineAtPos;
      this.lineStart = i;
      if (!this.om) {
        i = this.skipBlanks(i);
        if (i >= end) return this.finish();
        if (b[i] === NL) {
          this.pos = i + 1;
          this.lineAtPos++;
          continue;
        }
      } else if (i >= end) {
        this.fail('data does not end with # EOF');
      }
      const c = b[i]!;
      if (c === HASH) {
        const k = this.om ? this.omComment(i) : this.textComment(i);
        if (k === null) {
          if (this.done) return null;
          continue;
        }
        this.metaEpoch++;
        return (this.kind = k);
      }
      if (c === LBRACE || (CLASS[c]! & 1) !== 0) {
        this.series(i);
        if (this.skipCreated && this.isCreatedSeries()) continue;
        return (this.kind = 'series');
      }
      this.failToken('expected a valid start token', i);
    }
  }

  private finish(): null {
    this.done = true;
    this.kind = null;
    return null;
  }

  /** Ends the line at `i` (which must be `\n`, or the end of input for the text format). */
  private endLine(i: number): void {
    if (i < this.end) {
      this.pos = i + 1;
      this.lineAtPos++;
    } else {
      this.pos = i;
    }
  }

  /** `#` in the text format: HELP / TYPE, or an ignored comment (returns null). */
  private textComment(i: number): EntryKind | null {
    const b = this.buf;
    const end = this.end;
    let j = i + 1;
    const afterHash = j;
    j = this.skipBlanksText(j);
    let k: EntryKind | null = null;
    if (j > afterHash && j + 4 < end && (b[j + 4] === SP || b[j + 4] === TAB)) {
      if (b[j] === 0x48 && b[j + 1] === 0x45 && b[j + 2] === 0x4c && b[j + 3] === 0x50) k = 'help';
      else if (b[j] === 0x54 && b[j + 1] === 0x59 && b[j + 2] === 0x50 && b[j + 3] === 0x45) k = 'type';
    }
    if (k === null) {
      // Any other comment: skip to the end of the line.
      j = b.indexOf(NL, j);
      this.endLine(j < 0 ? end : j);
      return null;
    }
    j = this.skipBlanksText(j + 4);
    j = this.metaName(j, k);
    // The rest of the line is the text, minus its first character (Prometheus's lexer keeps
    // the separator in the token and drops exactly one character).
    let e = b.indexOf(NL, j);
    if (e < 0) e = end;
    this.textS = j < e ? j + 1 : j;
    this.textE = e;
    this.endLine(e);
    if (k === 'type') this.setType(TEXT_TYPES);
    else this.checkHelpUtf8();
    return k;
  }

  private skipBlanksText(i: number): number {
    const b = this.buf;
    while (i < this.end && (b[i] === SP || b[i] === TAB)) i++;
    return i;
  }

  /** The metric name after HELP/TYPE/UNIT: bare or quoted. Returns the index after it. */
  private metaName(j: number, k: EntryKind): number {
    const b = this.buf;
    const end = this.end;
    const kw = k === 'help' ? 'HELP' : k === 'type' ? 'TYPE' : 'UNIT';
    if (j < end && b[j] === QUOTE) {
      const e = this.scanQuoted(j, 'metric name');
      this.nameS = j + 1;
      this.nameE = e - 1;
      this.nameEsc = (this.scanFlags & F_VALUE_ESC) !== 0;
      this.nameHigh = (this.scanFlags & F_VALUE_HIGH) !== 0;
      if (this.nameHigh) this.checkUtf8(this.nameS, this.nameE, 'metric name');
      if (this.nameE === this.nameS) this.fail(`empty metric name after ${kw}`);
      return e;
    }
    if (j >= end || (CLASS[b[j]!]! & 1) === 0) this.failToken(`expected metric name after ${kw}`, j);
    let e = j + 1;
    while (e < end && (CLASS[b[e]!]! & 2) !== 0) e++;
    this.nameS = j;
    this.nameE = e;
    this.nameEsc = false;
    this.nameHigh = false;
    return e;
  }

  private setType(table: Readonly<Record<string, MetricType>>): void {
    // The usual types are matched on the bytes, without making a string.
    const b = this.buf;
    const ts = this.textS;
    const n = this.textE - ts;
    const c0 = b[ts];
    if (n === 5 && c0 === 0x67 && b[ts + 1] === 0x61 && b[ts + 2] === 0x75 && b[ts + 3] === 0x67 && b[ts + 4] === 0x65) {
      this.mtype = 'gauge';
      this.mtypeText = 'gauge';
      return;
    }
    if (n === 7 && c0 === 0x63 && b[ts + 1] === 0x6f && b[ts + 2] === 0x75 && b[ts + 3] === 0x6e && b[ts + 4] === 0x74 && b[ts + 5] === 0x65 && b[ts + 6] === 0x72) {
      this.mtype = 'counter';
      this.mtypeText = 'counter';
      return;
    }
    const s = this.buf.latin1Slice(this.textS, this.textE);
    const t = Object.hasOwn(table, s) ? table[s] : undefined;
    if (t === undefined) this.fail(`invalid metric type ${JSON.stringify(this.buf.toString('utf8', this.textS, this.textE))}`);
    this.mtype = t;
    this.mtypeText = s;
  }

  private checkHelpUtf8(): void {
    if (this.validUtf8) return;
    const b = this.buf;
    for (let i = this.textS; i < this.textE; i++) {
      if (b[i]! >= 0x80) {
        if (!isUtf8(b.subarray(this.textS, this.textE))) {
          this.fail(`help text ${q(b, this.textS, this.textE)} is not a valid utf8 string`);
        }
        return;
      }
    }
  }

  /** `#` in OpenMetrics: `# HELP|TYPE|UNIT name text` or `# EOF`; anything else is an error. */
  private omComment(i: number): EntryKind | null {
    const b = this.buf;
    const end = this.end;
    if (b[i + 1] !== SP) this.failToken('expected a valid start token', i);
    const j = i + 2;
    // # EOF, then optionally one line feed, then nothing.
    if (b[j] === 0x45 && b[j + 1] === 0x4f && b[j + 2] === 0x46 && (j + 3 === end || b[j + 3] === NL)) {
      if (j + 3 < end && j + 4 !== end) {
        this.lineAtPos++;
        this.line = this.lineAtPos;
        this.fail('unexpected data after # EOF');
      }
      return this.finish();
    }
    let k: EntryKind | null = null;
    if (j + 4 < end && b[j + 4] === SP) {
      if (b[j] === 0x48 && b[j + 1] === 0x45 && b[j + 2] === 0x4c && b[j + 3] === 0x50) k = 'help';
      else if (b[j] === 0x54 && b[j + 1] === 0x59 && b[j + 2] === 0x50 && b[j + 3] === 0x45) k = 'type';
      else if (b[j] === 0x55 && b[j + 1] === 0x4e && b[j + 2] === 0x49 && b[j + 3] === 0x54) k = 'unit';
    }
    if (k === null) this.failToken('expected a valid start token', i);
    let e = this.metaName(j + 5, k);
    // A space must follow the name even when the text is empty (`# HELP foo \n`).
    if (e < end && b[e] === SP) {
      e++;
      this.textS = e;
      e = b.indexOf(NL, e);
      if (e < 0) e = end;
      this.textE = e;
    } else {
      this.fail(`expected text in ${k.toUpperCase()}`);
    }
    if (e >= end) this.fail('data does not end with # EOF');
    this.endLine(e);
    if (k === 'type') this.setType(OM_TYPES);
    else if (k === 'help') this.checkHelpUtf8();
    else this.checkUnit();
    return k;
  }

  private checkUnit(): void {
    const b = this.buf;
    const u = this.textE - this.textS;
    if (u === 0) return;
    const m = this.nameE - this.nameS;
    let ok = m >= u + 1 && b[this.nameE - u - 1] === 0x5f;
    for (let i = 0; ok && i < u; i++) ok = b[this.nameE - u + i] === b[this.textS + i];
    if (!ok) {
      this.fail(`unit ${q(b, this.textS, this.textE)} not a suffix of metric ${q(b, this.nameS, this.nameE)}`);
    }
  }

  /** Parses one sample line starting at `i` (a name start or `{`). */
  private series(i: number): void {
    const b = this.buf;
    const end = this.end;
    const om = this.om;
    this.nLab = 0;
    this.hasEx = false;
    this.seriesS = i;
    this.nameS = -1;
    this.nameE = -1;
    this.nameEsc = false;
    this.nameHigh = false;
    if (b[i] !== LBRACE) {
      let e = i + 1;
      while (e < end && (CLASS[b[e]!]! & 2) !== 0) e++;
      // Prometheus takes a bare name from the start of the line, leading blanks included: 2.x
      // then fails the scrape (invalid metric name), 3.x (UTF-8 names) stores "  name". We do
      // what 3.5 does.
      this.nameS = this.lineStart;
      this.seriesS = this.lineStart;
      this.nameE = e;
      i = this.skipBlanks(e);
      this.seriesE = e;
    }
    if (i < end && b[i] === LBRACE) {
      i = this.labelBlock(i, false);
      this.seriesE = i;
    }
    if (this.nameS < 0) this.fail(`metric name not set while parsing: ${q(b, this.lineStart, i)}`);
    if (this.nameE === this.nameS) this.fail(`missing metric name (__name__ label) while parsing: ${q(b, this.lineStart, i)}`);

    // Value.
    let vs: number;
    if (om) {
      if (i >= end) this.fail('data does not end with # EOF');
      if (b[i] !== SP) this.failToken('expected value after metric', i);
      vs = i + 1;
    } else {
      vs = this.skipBlanks(i);
    }
    let ve = vs;
    if (om) {
      while (ve < end && b[ve] !== SP && b[ve] !== NL) ve++;
    } else {
      while (ve < end && b[ve] !== SP && b[ve] !== NL && b[ve] !== TAB && b[ve] !== LBRACE) ve++;
    }
    if (ve === vs) this.failToken('expected value after metric', vs);
    const v = parseFloatBytes(b, vs, ve);
    if (numberStatus.error !== '') this.fail(`${numberStatus.error} while parsing: ${q(b, this.lineStart, ve)}`);
    this.val = v;
    this.hasTs = false;

    if (om) {
      i = ve;
      if (i >= end) this.fail('data does not end with # EOF');
      if (b[i] === SP) {
        i++;
        if (b[i] === HASH) {
          i = this.parseExemplar(i);
        } else {
          let te = i;
          while (te < end && b[te] !== SP && b[te] !== NL) te++;
          if (te === i) this.failToken('expected timestamp or comment', i);
          this.ts = this.omTimestamp(i, te, 'timestamp');
          this.hasTs = true;
          i = te;
          if (i < end && b[i] === SP) {
            i++;
            if (b[i] !== HASH) this.failToken('expected next entry after timestamp', i);
            i = this.parseExemplar(i);
          }
        }
      }
      if (i >= end) this.fail('data does not end with # EOF');
      if (b[i] !== NL) this.failToken('expected next entry after timestamp', i);
      this.endLine(i);
      return;
    }

    i = this.skipBlanks(ve);
    if (i < end && b[i] !== NL) {
      // Digits only: Prometheus's lexer takes no sign, so the format's own example with a
      // negative timestamp fails a scrape (checked against Prometheus 2.42).
      let te = i;
      while (te < end && b[te]! >= 0x30 && b[te]! <= 0x39) te++;
      if (te === i || (te < end && b[te] !== NL && b[te] !== SP && b[te] !== TAB)) {
        this.failToken('expected timestamp or new record', i);
      }
      const t = parseIntBytes(b, i, te);
      if (numberStatus.error !== '') this.fail(`${numberStatus.error} while parsing: ${q(b, this.lineStart, te)}`);
      this.ts = t;
      this.hasTs = true;
      i = this.skipBlanks(te);
      if (i < end && b[i] !== NL) this.failToken('expected next entry after timestamp', i);
    }
    this.endLine(i);
  }

  private omTimestamp(s: number, e: number, what: string): number {
    const b = this.buf;
    const t = parseFloatBytes(b, s, e);
    if (numberStatus.error !== '') this.fail(`${numberStatus.error} while parsing: ${q(b, this.lineStart, e)}`);
    if (t !== t || t === Infinity || t === -Infinity) {
      this.fail(`invalid ${what} ${t !== t ? 'NaN' : t > 0 ? '+Inf' : '-Inf'}`);
    }
    return Math.trunc(t * 1000);
  }

  /** ` # {labels} value [timestamp]` after a sample (i at the `#`); returns the index of the line end. */
  private parseExemplar(i: number): number {
    const b = this.buf;
    const end = this.end;
    // Only counter totals and histogram buckets carry exemplars (by the sample's name, as
    // Prometheus checks it).
    if (!this.nameEndsWith('_total') && !this.nameEndsWith('_bucket')) {
      this.fail(`metric name ${this.metricName()} does not support exemplars`);
    }
    if (b[i + 1] !== SP || b[i + 2] !== LBRACE) this.failToken('expected exemplar labels', i);
    i = this.labelBlock(i + 2, true);
    if (i >= end) this.fail('data does not end with # EOF');
    if (b[i] !== SP) this.failToken('expected value after exemplar labels', i);
    const vs = i + 1;
    let ve = vs;
    while (ve < end && b[ve] !== SP && b[ve] !== NL) ve++;
    if (ve === vs) this.failToken('expected value after exemplar labels', vs);
    const v = parseFloatBytes(b, vs, ve);
    if (numberStatus.error !== '') this.fail(`${numberStatus.error} while parsing: ${q(b, this.lineStart, ve)}`);
    this.exVal = v;
    this.hasEx = true;
    this.hasExTs = false;
    i = ve;
    if (i < end && b[i] === SP) {
      const ts = i + 1;
      let te = ts;
      while (te < end && b[te] !== SP && b[te] !== NL) te++;
      if (te === ts) this.failToken('expected timestamp or comment', ts);
      this.exTs = this.omTimestamp(ts, te, 'exemplar timestamp');
      this.hasExTs = true;
      i = te;
      if (i < end && b[i] !== NL) this.failToken('expected next entry after exemplar timestamp', i);
    }
    return i;
  }

  /** Parses `{...}` starting at the brace; returns the index after the closing brace. */
  private labelBlock(i: number, exemplar: boolean): number {
    const b = this.buf;
    const end = this.end;
    const om = this.om;
    let lab = exemplar ? this.exLab : this.lab;
    let n = 0;
    i++;
    for (;;) {
      i = this.skipBlanks(i);
      if (i >= end) this.failToken('expected label name', i);
      let c = b[i]!;
      if (c === RBRACE) {
        i++;
        break;
      }
      let ns: number, ne: number;
      let flags = 0;
      let quoted = false;
      if (c === QUOTE) {
        const e = this.scanQuoted(i, 'label name');
        ns = i + 1;
        ne = e - 1;
        if (this.scanFlags & F_VALUE_ESC) flags |= F_NAME_ESC;
        if (this.scanFlags & F_VALUE_HIGH) flags |= F_NAME_HIGH;
        quoted = true;
        i = e;
      } else if ((CLASS[c]! & 4) !== 0) {
        ns = i;
        ne = i + 1;
        while (ne < end && (CLASS[b[ne]!]! & 8) !== 0) ne++;
        i = ne;
      } else {
        this.failToken('expected label name', i);
      }
      i = this.skipBlanks(i);
      c = i < end ? b[i]! : 0;
      if (quoted && (c === COMMA || c === RBRACE)) {
        // A quoted string on its own is the metric name.
        if (exemplar) this.failToken('expected label name', i);
        if (this.nameS >= 0) this.fail(`metric name already set while parsing: ${q(b, this.lineStart, i)}`);
        if (flags & F_NAME_HIGH) this.checkUtf8(ns, ne, 'metric name');
        this.nameS = ns;
        this.nameE = ne;
        this.nameEsc = (flags & F_NAME_ESC) !== 0;
        this.nameHigh = (flags & F_NAME_HIGH) !== 0;
        i++;
        if (c === RBRACE) break;
        continue;
      }
      if (c !== EQ) this.failToken('expected equal', i);
      i = this.skipBlanks(i + 1);
      if (i >= end || b[i] !== QUOTE) this.failToken('expected label value', i);
      const e = this.scanQuoted(i, 'label value');
      if (this.scanFlags & F_VALUE_ESC) flags |= F_VALUE_ESC;
      if (this.scanFlags & F_VALUE_HIGH) {
        flags |= F_VALUE_HIGH;
        this.checkUtf8(i + 1, e - 1, 'label value');
      }
      if (flags & F_NAME_HIGH) this.checkUtf8(ns, ne, 'label name');
      if (n === MAX_LABELS_PER_SERIES) this.fail(`more than ${MAX_LABELS_PER_SERIES} labels`);
      if ((n + 1) * LABEL_FIELDS > lab.length) {
        const grown = new Int32Array(lab.length * 2);
        grown.set(lab);
        lab = grown;
        if (exemplar) this.exLab = grown;
        else this.lab = grown;
      }
      const o = n * LABEL_FIELDS;
      lab[o] = ns;
      lab[o + 1] = ne;
      lab[o + 2] = i + 1;
      lab[o + 3] = e - 1;
      lab[o + 4] = flags;
      n++;
      i = this.skipBlanks(e);
      if (i < end && b[i] === COMMA) {
        i++;
      } else if (om && (i >= end || b[i] !== RBRACE)) {
        this.failToken('expected comma or brace close', i);
      }
    }
    if (exemplar) this.nExLab = n;
    else this.nLab = n;
    return i;
  }

  private checkUtf8(s: number, e: number, what: string): void {
    if (this.validUtf8) return;
    if (!isUtf8(this.buf.subarray(s, e))) this.fail(`invalid UTF-8 ${what}: ${q(this.buf, s, e)}`);
  }

  seriesKey(): string {
    return this.buf.latin1Slice(this.seriesS, this.seriesE);
  }

  /** The metric name of the current series (unescaped). */
  metricName(): string {
    const s = this.decode(this.nameS, this.nameE, this.nameHigh);
    return this.nameEsc ? unescapeLabel(s) : s;
  }

  labels(into: LabelsBuilder): void {
    this.fillLabels(into, this.lab, this.nLab, true);
  }

  private fillLabels(into: LabelsBuilder, lab: Int32Array, n: number, series: boolean): void {
    into.reset(Labels.EMPTY);
    if (series) into.set(METRIC_NAME, this.metricName());
    const normLe = series && this.mtype === 'histogram';
    const normQ = series && this.mtype === 'summary';
    let expected = series ? 1 : 0;
    let sawEmpty = false;
    for (let k = 0; k < n; k++) {
      const o = k * LABEL_FIELDS;
      const flags = lab[o + 4]!;
      const name = this.labelName(lab, o);
      let value = this.decode(lab[o + 2]!, lab[o + 3]!, (flags & F_VALUE_HIGH) !== 0);
      if (flags & F_VALUE_ESC) value = unescapeLabel(value);
      if ((normLe && name === 'le') || (normQ && name === 'quantile')) value = normaliseFloatLabel(value);
      if (value === '') sawEmpty = true;
      else expected++;
      into.set(name, value);
    }
    // Duplicate names (an explicit __name__ next to the metric name included) are errors. A
    // repeated name overwrites in the builder, so the size tells; empty values (which delete)
    // take the slow path.
    if (into.size !== expected || sawEmpty) this.checkDuplicates(lab, n, series);
  }

  private labelName(lab: Int32Array, o: number): string {
    const flags = lab[o + 4]!;
    const name = this.decode(lab[o]!, lab[o + 1]!, (flags & F_NAME_HIGH) !== 0);
    return flags & F_NAME_ESC ? unescapeLabel(name) : name;
  }

  private checkDuplicates(lab: Int32Array, n: number, series: boolean): void {
    const seen = new Set<string>();
    if (series) seen.add(METRIC_NAME);
    for (let k = 0; k < n; k++) {
      const name = this.labelName(lab, k * LABEL_FIELDS);
      if (seen.has(name)) this.fail(`label name ${JSON.stringify(name)} is not unique`);
      seen.add(name);
    }
  }

  value(): number {
    return this.val;
  }

  timestamp(): number | undefined {
    return this.hasTs ? this.ts : undefined;
  }

  createdTimestamp(): number | undefined {
    if (!this.skipCreated || this.kind !== 'series') return undefined;
    const t = this.mtype;
    if (t !== 'counter' && t !== 'summary' && t !== 'histogram') return undefined;
    return this.lookAheadCreated();
  }

  exemplar(): Exemplar | undefined {
    if (!this.hasEx) return undefined;
    const lb = new LabelsBuilder();
    this.fillLabels(lb, this.exLab, this.nExLab, false);
    const labels = lb.labels();
    return this.hasExTs ? { labels, value: this.exVal, timestamp: this.exTs } : { labels, value: this.exVal };
  }

  family(): string {
    const s = this.decode(this.nameS, this.nameE, this.nameHigh);
    return this.nameEsc ? unescapeLabel(s) : s;
  }

  help(): string {
    const s = this.buf.utf8Slice(this.textS, this.textE);
    if (s.indexOf('\\') < 0) return s;
    return this.om ? unescapeLabel(s) : unescapeHelp(s);
  }

  type(): MetricType {
    return this.mtype;
  }

  /** The type as written on the TYPE line (`untyped` stays `untyped`). */
  typeText(): string {
    return this.mtypeText;
  }

  unit(): string {
    return this.buf.utf8Slice(this.textS, this.textE);
  }

  /** The 1-based line of the current entry. */
  lineNumber(): number {
    return this.line;
  }

  // ---------------------------------------------------------------------------------------------
  // OpenMetrics created timestamps (opt-in)

  private nameEndsWith(suffix: string): boolean {
    const b = this.buf;
    const n = suffix.length;
    if (this.nameE - this.nameS < n) return false;
    for (let k = 0; k < n; k++) if (b[this.nameE - n + k] !== suffix.charCodeAt(k)) return false;
    return true;
  }

  private isCreatedSeries(): boolean {
    const t = this.mtype;
    if (t !== 'counter' && t !== 'summary' && t !== 'histogram') return false;
    const b = this.buf;
    const e = this.nameE;
    if (e - this.nameS < 8) return false;
    // "_created"
    return (
      b[e - 8] === 0x5f && b[e - 7] === 0x63 && b[e - 6] === 0x72 && b[e - 5] === 0x65 &&
      b[e - 4] === 0x61 && b[e - 3] === 0x74 && b[e - 2] === 0x65 && b[e - 1] === 0x64
    );
  }

  /**
   * The `_created` value of the current series' metric point: same labels, ignoring `le` and
   * `quantile`, found further down the same family. The first call in a family scans the rest
   * of it once and keeps a map, so a family costs one extra pass whatever its size.
   */
  private lookAheadCreated(): number | undefined {
    const fam = stripSuffix(this.metricName());
    if (this.ctEpoch !== this.metaEpoch || this.ctMap === null || this.ctFam !== fam) {
      this.ctMap = this.scanCreated();
      this.ctEpoch = this.metaEpoch;
      this.ctFam = fam;
    }
    if (this.ctMap.size === 0) return undefined;
    const mine = new LabelsBuilder();
    this.labels(mine);
    mine.del(METRIC_NAME, 'le', 'quantile');
    return this.ctMap.get(fam + '\xff' + mine.labels().key());
  }
  private ctEpoch = -1;
  private ctFam = '';
  private ctMap: Map<string, number> | null = null;
  /** Counts metadata lines: a new family starts after one. */
  private metaEpoch = 0;

  private scanCreated(): Map<string, number> {
    const out = new Map<string, number>();
    const fam = stripSuffix(this.metricName());
    const sub = new TextParser(this.buf, true, {}, this.validUtf8);
    sub.pos = this.pos;
    sub.lineAtPos = this.lineAtPos;
    sub.mtype = this.mtype;
    const lb = new LabelsBuilder();
    try {
      // Bounded: one forward walk, to the end of the family at most.
      for (let k = sub.next(); k === 'series'; k = sub.next()) {
        const n = sub.metricName();
        if (stripSuffix(n) !== fam) break;
        if (!n.endsWith('_created')) continue;
        sub.labels(lb);
        lb.del(METRIC_NAME);
        const key = fam + '\xff' + lb.labels().key();
        if (!out.has(key)) out.set(key, Math.trunc(sub.value() * 1000));
      }
    } catch (e) {
      // Bad input further down: the main walk will report it at its line.
      if (!(e instanceof ExpositionError)) throw e;
    }
    return out;
  }
}

const FAMILY_SUFFIXES = ['_total', '_created', '_count', '_sum', '_bucket', '_gcount', '_gsum', '_info'];
function stripSuffix(n: string): string {
  for (const s of FAMILY_SUFFIXES) if (n.endsWith(s)) return n.slice(0, -s.length);
  return n;
}

/** Prometheus text format 0.0.4 (and 1.0.0: the same grammar with quoted UTF-8 names). */
export class PromTextParser extends TextParser {
  constructor(body: Buffer) {
    super(body, false);
  }
}

/** OpenMetrics 1.0 text format. */
export class OpenMetricsParser extends TextParser {
  constructor(body: Buffer, opts: TextParserOptions = {}) {
    super(body, true, opts);
  }
}
