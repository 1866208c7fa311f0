/**
 * Number formatting exactly as Prometheus's API writes it (Go's strconv), so clients that
 * compare strings (promtool, Grafana, tests) see the same text from Sextant.
 */

/**
 * Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal that round-trips, never in
 * exponent form; `NaN`, `+Inf`, `-Inf` spelled as Prometheus writes sample values.
 */
export function formatSampleValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return formatFloatF(v);
}

/** `strconv.FormatFloat(v, 'f', -1, 64)` for finite `v`. */
export function formatFloatF(v: number): string {
  if (Object.is(v, -0)) return '-0';
  const s = String(v); // shortest round-trip digits, like Go's -1 precision
  const e = s.indexOf('e');
  if (e < 0) return s;
  return expandExponent(s.slice(0, e), Number(s.slice(e + 1)));
}

function expandExponent(mantissa: string, exp: number): string {
  let sign = '';
  let m = mantissa;
  if (m.startsWith('-')) {
    sign = '-';
    m = m.slice(1);
  }
  const dot = m.indexOf('.');
  const digits = dot < 0 ? m : m.slice(0, dot) + m.slice(dot + 1);
  const intLen = (dot < 0 ? m.length : dot) + exp; // position of the decimal point in `digits`
  if (intLen <= 0) return `${sign}0.${'0'.repeat(-intLen)}${digits}`;
  if (intLen >= digits.length) return sign + digits + '0'.repeat(intLen - digits.length);
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/**
 * A timestamp in ms as Prometheus's API writes it: whole seconds, then — only when there is a
 * fraction — a dot and exactly three millisecond digits (`1435781430.780`, `-1.500`, `2`).
 * Checked against Prometheus 2.42's responses.
 */
export function formatTimestampSeconds(ms: number): string {
  let t = ms;
  let sign = '';
  if (t < 0) {
    sign = '-';
    t = -t;
  }
  const frac = t % 1000;
  const secs = (t - frac) / 1000;
  if (frac === 0) return sign + secs;
  return `${sign}${secs}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}
