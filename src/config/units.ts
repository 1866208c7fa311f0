/** Prometheus's duration and size syntax (common/model.ParseDuration, alecthomas/units Base2Bytes). */

const UNIT_MS: Readonly<Record<string, number>> = {
  y: 365 * 24 * 3600_000,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
/** Go's time.Duration limit (int64 nanoseconds), in ms. */
const MAX_DURATION_MS = 9223372036854;

/**
 * Parses `1h30m`, `5m`, `10s`, `250ms`, `0`, … into milliseconds; units in decreasing order,
 * each at most once. Returns undefined when the text is not a valid duration.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION_RE.exec(text);
  if (m === null) return undefined;
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS.length; i++) {
    const g = m[i + 1];
    if (g === undefined) continue;
    ms += Number(g) * UNIT_MS[DURATION_UNITS[i]!]!;
  }
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) return undefined;
  return ms;
}

/** Prometheus's spelling of a duration (model.Duration.String): `1h30m`, `15s`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let r = ms;
  let out = '';
  for (const u of DURATION_UNITS) {
    const size = UNIT_MS[u]!;
    if (r >= size) {
      const n = Math.floor(r / size);
      out += `${n}${u}`;
      r -= n * size;
    }
  }
  return out;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 2 ** 10,
  MB: 2 ** 20,
  GB: 2 ** 30,
  TB: 2 ** 40,
  PB: 2 ** 50,
  EB: 2 ** 60,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  PiB: 2 ** 50,
  EiB: 2 ** 60,
};
const SIZE_PART = /([0-9]*(?:\.[0-9]*)?)([a-zA-Z]+)/y;

/**
 * Parses a `<size>` (`512MB`, `1GB512MB`, `1.5KiB`, `0`) into bytes; units are powers of 1024
 * as in Prometheus. Returns an error message when invalid.
 */
export function parseSize(text: string): number | string {
  if (text === '0') return 0;
  if (text === '') return 'invalid size "": empty';
  let pos = 0;
  let total = 0;
  SIZE_PART.lastIndex = 0;
  while (pos < text.length) {
    SIZE_PART.lastIndex = pos;
    const m = SIZE_PART.exec(text);
    if (m === null || m[1] === '' || m[1] === '.') {
      if (/^[0-9.]+$/.test(text.slice(pos))) return `invalid size "${text}": missing unit (B, KB, MB, GB, TB, PB or EB)`;
      return `invalid size "${text}"`;
    }
    const unit = SIZE_UNITS[m[2]!];
    if (unit === undefined) return `invalid size "${text}": unknown unit "${m[2]}" (use B, KB, MB, GB, TB, PB or EB)`;
    total += Number(m[1]) * unit;
    pos = SIZE_PART.lastIndex;
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) return `invalid size "${text}": too large`;
  return Math.floor(total);
}
