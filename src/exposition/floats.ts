/**
 * Number parsing and formatting as Prometheus does it (Go's strconv), over bytes.
 *
 * Accepted float syntax is Go's `strconv.ParseFloat` minus what Prometheus's `parseFloat`
 * refuses (`p`, `P`, `_`): so decimal digits with an optional fraction and exponent, and the
 * case-insensitive specials `inf`, `infinity` (with an optional sign) and `nan` (no sign).
 * Hexadecimal floats never pass: Go requires a `p` exponent for them, which Prometheus refuses.
 */

/** Why the last {@link parseFloatBytes} / {@link parseIntBytes} call failed, or '' when it did not. */
export const numberStatus = { error: '' };

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Exact powers of ten as doubles (10^22 is the largest exact one). */
const POW10_22 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** True when buf[s..e) spells `word` (lower-case ASCII) ignoring case. */
function matchWord(buf: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(buf[s + i]!) !== word.charCodeAt(i)) return false;
  return true;
}

function bytesToString(buf: Uint8Array, s: number, e: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
}

function goQuote(buf: Uint8Array, s: number, e: number): string {
  return JSON.stringify(Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8'));
}

/**
 * Parses buf[s..e) as Prometheus parses a sample value. On error returns NaN and sets
 * {@link numberStatus}.error to Go's message (`strconv.ParseFloat: parsing "x": invalid syntax`).
 */
export function parseFloatBytes(buf: Uint8Array, s: number, e: number): number {
  numberStatus.error = '';
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  // Fast path: up to 15 significant digits with an optional fraction, no exponent. Both the
  // mantissa and the power of ten are exact doubles, so one division rounds correctly.
  let m = 0;
  let digits = 0;
  let frac = -1;
  let j = i;
  for (; j < e; j++) {
    const c = buf[j]!;
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
    } else if (c === 0x2e && frac < 0) {
      frac = 0;
      continue;
    } else break;
    if (frac >= 0) frac++;
  }
  if (digits > 0 && digits <= 15) {
    if (j === e) {
      const v = frac > 0 ? m / POW10[frac]! : m;
      return neg ? -v : v;
    }
    // Exponent: m * 10^k with |k| <= 22 is one correctly rounded operation on exact operands
    // (Clinger's fast path), e.g. 1.445793e+06.
    const c = buf[j];
    if (c === 0x65 || c === 0x45) {
      let k = j + 1;
      let eneg = false;
      if (k < e && (buf[k] === 0x2b || buf[k] === 0x2d)) {
        eneg = buf[k] === 0x2d;
        k++;
      }
      let x = 0;
      const ks = k;
      for (; k < e && k - ks < 4; k++) {
        const d = buf[k]!;
        if (d < 0x30 || d > 0x39) break;
        x = x * 10 + (d - 0x30);
      }
      if (k === e && k > ks) {
        const p = (eneg ? -x : x) - (frac > 0 ? frac : 0);
        if (p >= 0 && p <= 22) {
          const v = m * POW10_22[p]!;
          return neg ? -v : v;
        }
        if (p < 0 && p >= -22) {
          const v = m / POW10_22[-p]!;
          return neg ? -v : v;
        }
      }
    }
  }
  return parseFloatSlow(buf, s, e, i, neg);
}

function parseFloatSlow(buf: Uint8Array, s: number, e: number, i: number, neg: boolean): number {
  const c0 = i < e ? lower(buf[i]!) : 0;
  if (c0 === 0x69 /* i */) {
    if (matchWord(buf, i, e, 'inf') || matchWord(buf, i, e, 'infinity')) return neg ? -Infinity : Infinity;
  } else if (c0 === 0x6e /* n */ && i === s) {
    if (matchWord(buf, i, e, 'nan')) return NaN;
  }
  // Validate Go's decimal syntax: digits [. digits] [e [sign] digits], at least one mantissa digit.
  let j = i;
  let mant = 0;
  while (j < e && buf[j]! >= 0x30 && buf[j]! <= 0x39) (j++, mant++);
  if (j < e && buf[j] === 0x2e) {
    j++;
    while (j < e && buf[j]! >= 0x30 && buf[j]! <= 0x39) (j++, mant++);
  }
  let ok = mant > 0;
  if (ok && j < e && (buf[j] === 0x65 || buf[j] === 0x45)) {
    j++;
    if (j < e && (buf[j] === 0x2b || buf[j] === 0x2d)) j++;
    let ed = 0;
    while (j < e && buf[j]! >= 0x30 && buf[j]! <= 0x39) (j++, ed++);
    ok = ed > 0;
  }
  if (!ok || j !== e) {
    for (let k = s; k < e; k++) {
      const c = buf[k]!;
      if (c === 0x70 || c === 0x50 || c === 0x5f) {
        numberStatus.error = 'unsupported character in float';
        return NaN;
      }
    }
    numberStatus.error = `strconv.ParseFloat: parsing ${goQuote(buf, s, e)}: invalid syntax`;
    return NaN;
  }
  const v = Number(bytesToString(buf, s, e));
  if (v === Infinity || v === -Infinity) {
    numberStatus.error = `strconv.ParseFloat: parsing ${goQuote(buf, s, e)}: value out of range`;
    return NaN;
  }
  return v;
}

const INT64_MAX = 9223372036854775807n;

/**
 * Parses buf[s..e) as Go's `strconv.ParseInt(x, 10, 64)` (optional sign, decimal digits). On error
 * returns NaN and sets {@link numberStatus}.error. Values beyond 2^53 lose precision (JS numbers).
 */
export function parseIntBytes(buf: Uint8Array, s: number, e: number): number {
  numberStatus.error = '';
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  if (i === e) {
    numberStatus.error = `strconv.ParseInt: parsing ${goQuote(buf, s, e)}: invalid syntax`;
    return NaN;
  }
  let v = 0;
  for (let j = i; j < e; j++) {
    const c = buf[j]!;
    if (c < 0x30 || c > 0x39) {
      numberStatus.error = `strconv.ParseInt: parsing ${goQuote(buf, s, e)}: invalid syntax`;
      return NaN;
    }
    v = v * 10 + (c - 0x30);
  }
  if (e - i > 15) {
    const big = BigInt(bytesToString(buf, i, e));
    if (big > INT64_MAX + (neg ? 1n : 0n)) {
      numberStatus.error = `strconv.ParseInt: parsing ${goQuote(buf, s, e)}: value out of range`;
      return NaN;
    }
    v = Number(big);
  }
  return neg ? -v : v;
}

/**
 * Go's `strconv.FormatFloat(v, 'g', -1, 64)` with Prometheus's spelling of the specials (`NaN`,
 * `+Inf`, `-Inf`): shortest round-trip digits, exponent form (`1e+06`, `1.5e-05`) when the
 * decimal exponent is < -4 or >= 6 (Go decides with precision 6 for shortest output).
 */
export function formatGoFloat(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = v.toExponential(); // shortest round-trip digits, e.g. "1.5e+21"
  const ei = s.indexOf('e');
  const exp = Number(s.slice(ei + 1));
  if (exp < -4 || exp >= 6) return expForm(s.slice(0, ei), exp);
  return fixedForm(v);
}

function expForm(mant: string, exp: number): string {
  const abs = Math.abs(exp);
  return `${mant}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' + abs : abs}`;
}

/** `strconv.FormatFloat(v, 'f', -1, 64)` for finite v whose decimal exponent is in [-4, 21). */
function fixedForm(v: number): string {
  const s = String(v);
  if (s.indexOf('e') < 0) return s;
  // JS switches to exponent form below 1e-6; expand.
  const ei = s.indexOf('e');
  let mant = s.slice(0, ei);
  const exp = Number(s.slice(ei + 1));
  let sign = '';
  if (mant.startsWith('-')) {
    sign = '-';
    mant = mant.slice(1);
  }
  const digits = mant.replace('.', '');
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/**
 * Prometheus's `labels.FormatOpenMetricsFloat`: Go's %g with `.0` appended when the result has
 * neither a `.` nor an exponent; `+Inf`, `-Inf`, `NaN`. Used for `le` and `quantile` values.
 */
export function formatOpenMetricsFloat(f: number): string {
  const s = formatGoFloat(f);
  if (f !== f || f === Infinity || f === -Infinity) return s;
  if (s.indexOf('e') >= 0 || s.indexOf('.') >= 0) return s;
  return s + '.0';
}

const omFloatCache = new Map<number, string>();
/** {@link formatOpenMetricsFloat} through a bounded cache (bucket bounds repeat every scrape). */
export function formatOpenMetricsFloatCached(f: number): string {
  let s = omFloatCache.get(f);
  if (s === undefined) {
    s = formatOpenMetricsFloat(f);
    if (omFloatCache.size >= 4096) omFloatCache.clear();
    omFloatCache.set(f, s);
  }
  return s;
}

const normCache = new Map<string, string>();
/**
 * An `le` / `quantile` label value in Prometheus's float formatting when it parses as a float,
 * else unchanged (`"1"` → `"1.0"`, `"+Inf"` stays). Bounded cache: values repeat every scrape.
 */
export function normaliseFloatLabel(v: string): string {
  let out = normCache.get(v);
  if (out !== undefined) return out;
  const bytes = Buffer.from(v, 'utf8');
  const f = parseFloatBytes(bytes, 0, bytes.length);
  out = numberStatus.error === '' ? formatOpenMetricsFloat(f) : v;
  if (normCache.size >= 4096) normCache.clear();
  normCache.set(v, out);
  return out;
}
