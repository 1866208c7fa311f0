/**
 * A byte-level JSON writer for large query results: ASCII numbers are written digit by digit
 * into 256 KiB buffers, so a million points cost no million temporary strings (the garbage
 * collector was half the time of a large query_range when results were built as strings).
 */
import { formatSampleValue } from './format.js';

const CHUNK = 256 * 1024;
const QUOTE = 0x22;
const ZERO = 0x30;
/** "00" … "99" as bytes: the digits of 0…99 at [2n, 2n+1]. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

export class JsonChunks {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private readonly full: Buffer[] = [];

  /** Completed chunks since the last call (the writer keeps the partial one). */
  take(): Buffer[] {
    return this.full.splice(0);
  }

  /** Everything left, including the partial chunk. */
  finish(): Buffer[] {
    if (this.pos > 0) this.full.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return this.full.splice(0);
  }

  private room(n: number): void {
    if (this.pos + n <= CHUNK) return;
    this.full.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.pos = 0;
  }

  /** Text that may contain any Unicode (already JSON-escaped). */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Text known to be ASCII. */
  ascii(s: string): void {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative integer below 2^53. */
  private digits(n: number): void {
    this.room(16);
    if (n < 2147483648) {
      this.smallDigits(n);
      return;
    }
    const hi = Math.floor(n / 1e9);
    this.smallDigits(hi);
    let lo = n - hi * 1e9;
    let p = this.pos + 9;
    this.pos = p;
    for (let i = 0; i < 9; i++) {
      const q = (lo / 10) | 0;
      this.buf[--p] = ZERO + lo - q * 10;
      lo = q;
    }
  }

  /** 0 <= n < 2^31, with int32 arithmetic. */
  private smallDigits(n: number): void {
    let len = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) len++;
    let p = this.pos + len;
    this.pos = p;
    let x = n;
    do {
      const q = (x / 10) | 0;
      this.buf[--p] = ZERO + x - q * 10;
      x = q;
    } while (x > 0);
  }

  /**
   * The grid of the previous series: timestamp i and its `[<seconds>[.mmm],` bytes. Range
   * results share one grid, so each is formatted once and copied for every further series.
   */
  private gridT: number[] = [];
  private gridBytes: Uint8Array[] = [];

  private formatPointStart(i: number, ms: number): Uint8Array {
    const out: number[] = [0x5b];
    let t = ms;
    if (t < 0) {
      out.push(0x2d);
      t = -t;
    }
    const frac = t % 1000;
    for (const ch of String((t - frac) / 1000)) out.push(ch.charCodeAt(0));
    if (frac !== 0) out.push(0x2e, ZERO + Math.floor(frac / 100), ZERO + (Math.floor(frac / 10) % 10), ZERO + (frac % 10));
    out.push(0x2c);
    const bytes = Uint8Array.from(out);
    this.gridT[i] = ms;
    this.gridBytes[i] = bytes;
    return bytes;
  }

  /**
   * A series' points, `[t,"v"],[t,"v"]…`, in one pass with the buffer and position in locals:
   * the common case (grid timestamp already formatted, integer value) touches no string.
   */
  points(ts: ArrayLike<number>, vs: ArrayLike<number>): void {
    const n = ts.length;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      const v = vs[i]!;
      const stamp = this.gridT[i] === t ? this.gridBytes[i]! : this.formatPointStart(i, t);
      // Worst case of the fast path: ',' + stamp + '"' + 16 digits + '"]'.
      if (this.pos + stamp.length + 21 > CHUNK) this.room(stamp.length + 21);
      const buf = this.buf;
      let p = this.pos;
      if (i > 0) buf[p++] = 0x2c;
      for (let k = 0; k < stamp.length; k++) buf[p++] = stamp[k]!;
      if (v >= 0 && v < 2147483648 && (v | 0) === v && !(v === 0 && 1 / v < 0)) {
        buf[p++] = QUOTE;
        const len = v < 10 ? 1 : v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
        let q = p + len;
        p = q;
        let x = v;
        // Two digits per division.
        while (x >= 100) {
          const d = (x / 100) | 0;
          const r = (x - d * 100) << 1;
          buf[--q] = PAIRS[r + 1]!;
          buf[--q] = PAIRS[r]!;
          x = d;
        }
        if (x >= 10) {
          buf[--q] = PAIRS[(x << 1) + 1]!;
          buf[--q] = PAIRS[x << 1]!;
        } else buf[--q] = ZERO + x;
        buf[p++] = QUOTE;
        buf[p++] = 0x5d;
        this.pos = p;
      } else {
        this.pos = p;
        this.pointEnd(v);
      }
    }
  }

  /** `"<value>"]` of a point: the value in Go's shortest formatting (`"1"`, `"0.25"`, `"NaN"`). */
  pointEnd(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 53 && !(v === 0 && 1 / v < 0)) {
      this.room(20);
      this.buf[this.pos++] = QUOTE;
      this.digits(v);
      this.buf[this.pos++] = QUOTE;
      this.buf[this.pos++] = 0x5d;
      return;
    }
    this.byte(QUOTE);
    this.ascii(formatSampleValue(v));
    this.room(2);
    this.buf[this.pos++] = QUOTE;
    this.buf[this.pos++] = 0x5d;
  }
}
