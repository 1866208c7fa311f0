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

/** A timestamp in ms as the float seconds Prometheus writes (`1435781451.781`). */
export function formatTimestampSeconds(ms: number): string {
  return formatFloatF(ms / 1000);
}

/**
 * Go's `strconv.FormatFloat(v, 'g', -1, 64)`: exponent form (`1e+06`, `1.5e-05`) when the
 * decimal exponent is < -4 or >= 6 (Go uses precision 6 for that choice with shortest digits).
 */
export function formatFloatG(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = v.toExponential(); // shortest round-trip digits in exponent form, e.g. "1.5e+21"
  const e = s.indexOf('e');
  const exp = Number(s.slice(e + 1));
  if (exp >= -4 && exp < 6) return formatFloatF(v);
  const abs = Math.abs(exp);
  return `${s.slice(0, e)}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' + abs : abs}`;
}
