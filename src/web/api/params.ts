/**
 * Request parameters of the Prometheus HTTP API, parsed as Prometheus parses them: times as
 * float Unix seconds or RFC 3339, durations as float seconds or Prometheus durations, and
 * parameters merged from the URL query and a form body (Go's `r.ParseForm` + `r.Form`).
 */
import { ApiError } from './errors.js';

/**
 * Merged request parameters: every value of every name, body first, then URL — Go's `r.Form`,
 * where "request body parameters take precedence over URL query string values".
 */
export class Params {
  private readonly map = new Map<string, string[]>();

  static fromRequest(query: unknown, body: unknown): Params {
    const p = new Params();
    p.addAll(body);
    p.addAll(query);
    return p;
  }

  private addAll(src: unknown): void {
    if (src === null || typeof src !== 'object') return;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
      const list = this.map.get(k) ?? [];
      if (Array.isArray(v)) for (const x of v) list.push(String(x));
      else if (v !== undefined) list.push(String(v));
      this.map.set(k, list);
    }
  }

  /** The first value of `name` (Go's FormValue), or undefined when absent. */
  get(name: string): string | undefined {
    return this.map.get(name)?.[0];
  }

  /** Every value of `name` (for `match[]`). */
  getAll(name: string): string[] {
    return this.map.get(name) ?? [];
  }

  has(name: string): boolean {
    return (this.map.get(name)?.length ?? 0) > 0;
  }
}

/**
 * The bounds used for "no start" / "no end". Prometheus uses the extremes of int64 ms; JS
 * numbers are exact only to 2^53, so the widest exact range (JS Date's limits) stands in.
 */
export const MIN_TIME_MS = -8_640_000_000_000_000;
export const MAX_TIME_MS = 8_640_000_000_000_000;
const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * A time parameter in ms: float seconds (rounded to ms as Prometheus does) or RFC 3339.
 * Throws the `bad_data` error Prometheus returns, naming the parameter.
 */
export function parseTimeParam(value: string, name: string): number {
  const t = parseTime(value);
  if (t === undefined) throw ApiError.badData(`invalid parameter "${name}": cannot parse "${value}" to a valid timestamp`);
  return t;
}

/**
 * An optional time parameter (Prometheus's `parseTimeParam`): absent or empty gives `dflt`;
 * a bad value is `invalid parameter "<name>": Invalid time value for '<name>': …`.
 */
export function parseOptionalTimeParam(params: Params, name: string, dflt: number): number {
  const v = params.get(name);
  if (v === undefined || v === '') return dflt;
  const t = parseTime(v);
  if (t === undefined) {
    throw ApiError.badData(`invalid parameter "${name}": Invalid time value for '${name}': cannot parse "${v}" to a valid timestamp`);
  }
  return t;
}

/** Like {@link parseTimeParam} but `undefined` for an unparsable value. */
export function parseTime(s: string): number | undefined {
  const f = parseGoFloat(s);
  if (f !== undefined) {
    if (!Number.isFinite(f)) return f > 0 ? MAX_TIME_MS : MIN_TIME_MS;
    const sec = Math.trunc(f);
    const frac = Math.round((f - sec) * 1000);
    return sec * 1000 + frac;
  }
  const m = RFC3339.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, se, fr, z, sign, oh, om] = m;
    let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
    if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return undefined;
    if (fr) ms += Math.floor(Number('0' + fr) * 1000);
    if (z !== 'Z' && z !== 'z') {
      const off = (Number(oh) * 60 + Number(om)) * 60_000;
      ms += sign === '+' ? -off : off;
    }
    return ms;
  }
  if (s === MIN_TIME_FORMATTED) return MIN_TIME_MS;
  if (s === MAX_TIME_FORMATTED) return MAX_TIME_MS;
  return undefined;
}

/**
 * A duration parameter in ms: float seconds (`15`, `0.5`) or a Prometheus duration (`1m30s`).
 * Throws `bad_data` naming the parameter.
 */
export function parseDurationParam(value: string, name: string): number {
  const f = parseGoFloat(value);
  if (f !== undefined) {
    const ms = f * 1000;
    if (!Number.isFinite(ms) || Math.abs(f * 1e9) > 9.223372036854776e18) {
      throw ApiError.badData(`invalid parameter "${name}": cannot parse "${value}" to a valid duration. It overflows int64`);
    }
    return ms;
  }
  const d = parsePromDuration(value);
  if (d === undefined) throw ApiError.badData(`invalid parameter "${name}": cannot parse "${value}" to a valid duration`);
  return d;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Prometheus's model.ParseDuration (units in descending order, each at most once). */
export function parsePromDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (s === '') return undefined;
  const re = /(\d+)(ms|s|m|h|d|w|y)/y;
  let pos = 0;
  let total = 0;
  let last = Infinity;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    const unit = UNIT_MS[m[2]!]!;
    if (unit >= last) return undefined;
    last = unit;
    total += Number(m[1]) * unit;
    pos = re.lastIndex;
  }
  return total;
}

/**
 * Go's strconv.ParseFloat accepting what it accepts: decimal, exponent, hex floats, `Inf`,
 * `+Inf`, `-Inf`, `NaN` (case-insensitive), underscores not allowed. undefined when invalid.
 */
export function parseGoFloat(s: string): number | undefined {
  if (s === '') return undefined;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) {
    const neg = s.startsWith('-');
    const v = parseInt(s.replace(/^[+-]?0[xX]/, ''), 16);
    return neg ? -v : v;
  }
  return undefined;
}

/** `limit`: a non-negative integer, 0 or absent meaning no limit. */
export function parseLimitParam(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^-?\d+$/.test(value)) throw ApiError.badData(`invalid parameter "limit": cannot parse "${value}" to a valid limit`);
  const n = Number(value);
  if (n < 0) throw ApiError.badData('invalid parameter "limit": limit must be non-negative');
  return n;
}
