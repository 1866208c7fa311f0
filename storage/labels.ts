/**
 * Label sets: immutable, sorted by name, with no empty values (an empty value means "absent",
 * as in Prometheus). Build them with {@link LabelsBuilder} or the static constructors.
 *
 * The representation is one flat array `[name0, value0, name1, value1, …]`, which costs two
 * pointers per label and keeps iteration cache-friendly. Strings passed in are interned so
 * that a million series sharing `job="node"` hold one copy of each string.
 */

export const METRIC_NAME = '__name__';

const internTable = new Map<string, string>();
/** Upper bound on interned strings; past it new strings are used as-is (never evicted, never wrong). */
const INTERN_LIMIT = 4_000_000;

/** Returns the canonical instance of `s`, so equal strings share memory. */
export function intern(s: string): string {
  const hit = internTable.get(s);
  if (hit !== undefined) return hit;
  if (internTable.size < INTERN_LIMIT) internTable.set(s, s);
  return s;
}

export class Labels {
  /** Alternating names and values, sorted by name, names unique, values non-empty. */
  private readonly pairs: readonly string[];
  private hashCache = -1;

  private constructor(pairs: readonly string[]) {
    this.pairs = pairs;
  }

  static readonly EMPTY = new Labels([]);

  /**
   * From alternating name/value strings in any order. Empty values are dropped; a repeated
   * name keeps its last value.
   */
  static fromPairs(...nv: string[]): Labels {
    const b = new LabelsBuilder();
    for (let i = 0; i + 1 < nv.length; i += 2) b.set(nv[i]!, nv[i + 1]!);
    return b.labels();
  }

  /** From a plain object or a map of name → value. Empty values are dropped. */
  static from(obj: Readonly<Record<string, string>> | ReadonlyMap<string, string>): Labels {
    const b = new LabelsBuilder();
    const entries = obj instanceof Map ? obj.entries() : Object.entries(obj);
    for (const [n, v] of entries) b.set(n, v);
    return b.labels();
  }

  /**
   * Trusted constructor: `pairs` must already be sorted by name, unique and without empty
   * values. Used on hot paths (WAL replay, block reads) where the data was validated when
   * written. The array is taken over, not copied.
   */
  static fromSortedPairsUnsafe(pairs: string[]): Labels {
    return pairs.length === 0 ? Labels.EMPTY : new Labels(pairs);
  }

  /** Number of labels. */
  get size(): number {
    return this.pairs.length >> 1;
  }

  isEmpty(): boolean {
    return this.pairs.length === 0;
  }

  nameAt(i: number): string {
    return this.pairs[2 * i]!;
  }

  valueAt(i: number): string {
    return this.pairs[2 * i + 1]!;
  }

  /** The value of `name`, or '' when absent. */
  get(name: string): string {
    const p = this.pairs;
    // Label sets are small: a linear scan beats binary search below ~16 labels.
    for (let i = 0; i < p.length; i += 2) {
      const n = p[i]!;
      if (n === name) return p[i + 1]!;
      if (n > name) break;
    }
    return '';
  }

  has(name: string): boolean {
    return this.get(name) !== '';
  }

  /** The metric name (`__name__`), or ''. */
  metricName(): string {
    return this.get(METRIC_NAME);
  }

  forEach(fn: (name: string, value: string) => void): void {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) fn(p[i]!, p[i + 1]!);
  }

  /** A copy of the flat `[name, value, …]` array. */
  toPairs(): string[] {
    return this.pairs.slice();
  }

  toObject(): Record<string, string> {
    const o: Record<string, string> = {};
    this.forEach((n, v) => (o[n] = v));
    return o;
  }

  /**
   * A string that is equal for two label sets exactly when they are equal; use it as a `Map`
   * key. Not cached, to keep per-series memory low: callers that need it often keep it.
   */
  key(): string {
    // \xff cannot appear in valid UTF-8 text, so it cannot collide with label content.
    return this.pairs.join('\xff');
  }

  /** A 53-bit hash of the label set (cached). Equal sets hash equal. */
  hash(): number {
    if (this.hashCache >= 0) return this.hashCache;
    let h1 = 0xdeadbeef ^ this.pairs.length;
    let h2 = 0x41c6ce57 ^ this.pairs.length;
    for (const s of this.pairs) {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 2654435761);
        h2 = Math.imul(h2 ^ c, 1597334677);
      }
      h1 = Math.imul(h1 ^ 0xff, 2654435761);
      h2 = Math.imul(h2 ^ 0xff, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.hashCache = 4294967296 * (2097151 & h2) + (h1 >>> 0);
    return this.hashCache;
  }

  equals(other: Labels): boolean {
    if (this === other) return true;
    const a = this.pairs, b = other.pairs;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /**
   * Prometheus's ordering of label sets (labels.Compare): label by label, first by name then by
   * value; a set that is a prefix of the other sorts first.
   */
  static compare(a: Labels, b: Labels): number {
    const x = a.pairs, y = b.pairs;
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i += 2) {
      if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      if (x[i + 1] !== y[i + 1]) return x[i + 1]! < y[i + 1]! ? -1 : 1;
    }
    return x.length - y.length;
  }

  /** A copy without the named labels. */
  without(...names: string[]): Labels {
    if (names.length === 0) return this;
    const out: string[] = [];
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (!names.includes(p[i]!)) out.push(p[i]!, p[i + 1]!);
    return out.length === p.length ? this : Labels.fromSortedPairsUnsafe(out);
  }

  /** A copy with only the named labels. */
  only(...names: string[]): Labels {
    const out: string[] = [];
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (names.includes(p[i]!)) out.push(p[i]!, p[i + 1]!);
    return out.length === p.length ? this : Labels.fromSortedPairsUnsafe(out);
  }

  /** A builder seeded with these labels. */
  builder(): LabelsBuilder {
    return new LabelsBuilder(this);
  }

  /** Prometheus's notation: `{__name__="up", job="x"}` (as labels.Labels.String()). */
  toString(): string {
    const parts: string[] = [];
    this.forEach((n, v) => parts.push(`${formatLabelName(n)}=${quoteString(v)}`));
    return `{${parts.join(', ')}}`;
  }
}

/** Accumulates changes to a label set; `labels()` produces the sorted, immutable result. */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(base?: Labels) {
    if (base) this.reset(base);
  }

  /** Replaces the builder's content with `base`. */
  reset(base: Labels): this {
    this.map.clear();
    base.forEach((n, v) => this.map.set(n, v));
    return this;
  }

  /** Sets `name` to `value`; an empty value deletes the label. */
  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  del(...names: string[]): this {
    for (const n of names) this.map.delete(n);
    return this;
  }

  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  /** Iterates current labels in unspecified order. */
  forEach(fn: (name: string, value: string) => void): void {
    this.map.forEach((v, n) => fn(n, v));
  }

  /** Keeps only labels for which `keep` returns true. */
  filter(keep: (name: string, value: string) => boolean): this {
    for (const [n, v] of this.map) if (!keep(n, v)) this.map.delete(n);
    return this;
  }

  get size(): number {
    return this.map.size;
  }

  labels(): Labels {
    if (this.map.size === 0) return Labels.EMPTY;
    const names = [...this.map.keys()].sort(compareStrings);
    const pairs = new Array<string>(names.length * 2);
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      pairs[2 * i] = intern(n);
      pairs[2 * i + 1] = intern(this.map.get(n)!);
    }
    return Labels.fromSortedPairsUnsafe(pairs);
  }
}

/** Byte-wise (code unit) string comparison, as Go compares strings for ASCII. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** `[a-zA-Z_][a-zA-Z0-9_]*`: a name that needs no quoting. */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME.test(name);
}

/** `[a-zA-Z_:][a-zA-Z0-9_:]*`: a metric name that needs no quoting. */
export function isLegacyMetricName(name: string): boolean {
  return LEGACY_METRIC_NAME.test(name);
}

/**
 * Prometheus 3.x (UTF-8 validation scheme): any non-empty, well-formed UTF-8 string is a valid
 * label or metric name. JS strings are UTF-16, so "well-formed" means no lone surrogates.
 */
export function isValidLabelName(name: string): boolean {
  return name.length > 0 && isWellFormed(name);
}

export function isValidMetricName(name: string): boolean {
  return isValidLabelName(name);
}

/** True when `s` has no lone UTF-16 surrogates (so it encodes to valid UTF-8). */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** A label name as PromQL prints it: bare when legacy-valid, else double-quoted. */
export function formatLabelName(name: string): string {
  return isLegacyLabelName(name) ? name : quoteString(name);
}

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f-\uffff]/;

/**
 * Go's strconv.Quote: `"`, `\\` and control characters escaped (`\n`, `\x00`, …), printable
 * Unicode (Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ASCII space)
 * kept, other code points as `\u00ad` / `\U000e0001`.
 */
export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      out += ch === '"' ? '\\"' : ch === '\\' ? '\\\\' : ch;
    } else if (c < 0x80) {
      if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (c === 0x07) out += '\\a';
      else if (c === 0x08) out += '\\b';
      else if (c === 0x0c) out += '\\f';
      else if (c === 0x0b) out += '\\v';
      else out += '\\x' + c.toString(16).padStart(2, '0');
    } else {
      const cp = s.codePointAt(i)!;
      const text = String.fromCodePoint(cp);
      if (cp > 0xffff) i++;
      if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd'; // a lone surrogate encodes as U+FFFD, which Go prints
      else if (PRINTABLE.test(text)) out += text;
      else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    }
  }
  return out + '"';
}
