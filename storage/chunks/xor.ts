/**
 * Gorilla XOR chunks for float samples: delta-of-delta millisecond timestamps and XOR-encoded
 * values with leading/trailing-zero window reuse. The byte layout is described in
 * `storage/FORMAT.md` ("Chunks").
 *
 * Float bits are handled as two 32-bit halves through one shared `Float64Array`/`Uint32Array`
 * scratch (little-endian: `[lo, hi]`), never as `BigInt`, and the previous value is kept as
 * raw bits so NaN payloads (the staleness marker in particular) survive bit-exactly.
 */
import { STALE_NAN_BITS_HI, STALE_NAN_BITS_LO, ValueType, isStaleNaN, type SampleIterator } from '../interface.js';

/** Bytes of the chunk header (the big-endian uint16 sample count). */
export const CHUNK_HEADER_BYTES = 2;
/** Most samples one chunk holds (the header is a uint16). */
export const MAX_CHUNK_SAMPLES = 0xffff;
/**
 * The most bytes one appended sample can take (first sample: 8-byte varint timestamp + 8-byte
 * value; later: 5+64 bits of timestamp and 2+5+6+64 bits of value = 146 bits), plus one byte of
 * slack for the partial byte the writer ORs into. Callers that manage their own buffers keep at
 * least this much room free before each append.
 */
export const MAX_SAMPLE_BYTES = 20;
/**
 * Timestamps must be integers with |t| <= 2^52 ms (about 142,000 years either side of 1970):
 * then every delta and delta-of-delta is an exact JS number.
 */
export const MAX_ABS_TIMESTAMP = 2 ** 52;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian: u32[0] = low half, u32[1] = high half
const TWO32 = 4294967296;
/** The bytes of an iterator not pointed at a chunk yet (shared: no allocation per iterator). */
const NO_BYTES = new Uint8Array(0);
/** "No window yet" marker for the leading-zeros register. */
const NO_WINDOW = 0xff;

/**
 * The 32 bits (unsigned) starting at bit `pos` of the chunk whose byte 0 is `buf[base]`, most
 * significant first. Bytes past the end of `buf` read as zeros (an out-of-range typed-array
 * read is undefined, which bit operations take as 0); bits past the chunk's end are whatever
 * follows it, and the decoder rejects a sample that ends past the chunk's end anyway.
 */
function peek32(buf: Uint8Array, base: number, pos: number): number {
  const idx = base + (pos >>> 3);
  const w = ((buf[idx]! << 24) | (buf[idx + 1]! << 16) | (buf[idx + 2]! << 8) | buf[idx + 3]!) >>> 0;
  const off = pos & 7;
  return off === 0 ? w : ((w << off) | (buf[idx + 4]! >>> (8 - off))) >>> 0;
}

/** Leading zero bits of the 64-bit value hi:lo (64 when zero). */
function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** Trailing zero bits of the 64-bit value hi:lo (64 when zero). */
function ctz64(hi: number, lo: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  if (hi !== 0) return 63 - Math.clz32(hi & -hi);
  return 64;
}

/**
 * The encoder's registers, separate from the bytes so that a caller (the head) can keep many
 * chunks' state in typed arrays and load/store it around an append.
 */
export interface XorState {
  /** Samples in the chunk. */
  n: number;
  /** Bit position of the next write, relative to the chunk start (header included). */
  bits: number;
  /** Timestamp of the first and of the last sample. */
  mint: number;
  t: number;
  /** Last timestamp delta. */
  delta: number;
  /** Raw bits of the last value. */
  vHi: number;
  vLo: number;
  /** Current XOR window: leading zeros (NO_WINDOW = none yet) and trailing zeros. */
  leading: number;
  trailing: number;
}

/**
 * Appends samples to a chunk stored at `buf[offset…]`. The encoder does not own memory: the
 * caller points it at a zeroed region with at least {@link MAX_SAMPLE_BYTES} free bytes after
 * the current end before each {@link XorEncoder.append}. Use {@link XorChunk} for a chunk
 * that manages its own bytes.
 */
export class XorEncoder implements XorState {
  buf: Uint8Array = new Uint8Array(0);
  offset = 0;
  n = 0;
  bits = CHUNK_HEADER_BYTES * 8;
  mint = 0;
  t = 0;
  delta = 0;
  vHi = 0;
  vLo = 0;
  leading = NO_WINDOW;
  trailing = 0;
  /**
   * Whether each append updates the sample count in the header. A caller that writes the
   * chunk elsewhere in pieces (the head) turns it off and writes the count itself.
   */
  header = true;

  /** Starts an empty chunk at `buf[offset]` (the region must be zeroed). */
  start(buf: Uint8Array, offset: number): void {
    this.buf = buf;
    this.offset = offset;
    this.n = 0;
    this.bits = CHUNK_HEADER_BYTES * 8;
    this.mint = 0;
    this.t = 0;
    this.delta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.leading = NO_WINDOW;
    this.trailing = 0;
    buf[offset] = 0;
    buf[offset + 1] = 0;
  }

  /** Continues a chunk at `buf[offset]` whose registers are `s`. */
  load(buf: Uint8Array, offset: number, s: XorState): void {
    this.buf = buf;
    this.offset = offset;
    this.n = s.n;
    this.bits = s.bits;
    this.mint = s.mint;
    this.t = s.t;
    this.delta = s.delta;
    this.vHi = s.vHi;
    this.vLo = s.vLo;
    this.leading = s.leading;
    this.trailing = s.trailing;
  }

  /** Bytes used so far, header included. */
  byteLength(): number {
    return (this.bits + 7) >>> 3;
  }

  /**
   * Appends one sample. `t` must be an integer greater than the previous timestamp, with
   * |t| <= {@link MAX_ABS_TIMESTAMP}; the chunk must hold fewer than {@link MAX_CHUNK_SAMPLES}.
   * Throws RangeError otherwise (the chunk is unchanged).
   */
  append(t: number, v: number): void {
    if (v !== v && isStaleNaN(v)) {
      this.appendBits(t, STALE_NAN_BITS_HI, STALE_NAN_BITS_LO);
    } else {
      f64[0] = v;
      this.appendBits(t, u32[1]!, u32[0]!);
    }
  }

  /**
   * Appends one sample whose value is given as raw bits (high and low 32-bit halves), for
   * callers that carry values as bits to keep NaN payloads exact. Same rules as
   * {@link XorEncoder.append}.
   */
  appendBits(t: number, hi: number, lo: number): void {
    const n = this.n;
    if (n >= MAX_CHUNK_SAMPLES) throw new RangeError(`chunk full (${n} samples)`);
    if (!(t >= -MAX_ABS_TIMESTAMP && t <= MAX_ABS_TIMESTAMP) || Math.floor(t) !== t) {
      throw new RangeError(`timestamp ${t} is not an integer within ±2^52 ms`);
    }
    if (n > 0 && t <= this.t) throw new RangeError(`timestamp ${t} is not after ${this.t}`);
    if (n === 0) {
      this.writeVarint(t >= 0 ? t * 2 : -t * 2 - 1);
      this.writeBits(hi, 32);
      this.writeBits(lo, 32);
      this.mint = t;
    } else if (n === 1) {
      const delta = t - this.t;
      this.writeVarint(delta);
      this.delta = delta;
      this.writeValue(hi, lo);
    } else {
      const delta = t - this.t;
      const dod = delta - this.delta;
      if (dod === 0) {
        this.writeBits(0, 1);
      } else if (dod >= -8 && dod <= 7) {
        this.writeBits((0b10 << 4) | (dod & 0xf), 6);
      } else if (dod >= -64 && dod <= 63) {
        this.writeBits((0b110 << 7) | (dod & 0x7f), 10);
      } else if (dod >= -8192 && dod <= 8191) {
        this.writeBits(0b1110, 4);
        this.writeBits(dod & 0x3fff, 14);
      } else if (dod >= -524288 && dod <= 524287) {
        this.writeBits(0b11110, 5);
        this.writeBits(dod & 0xfffff, 20);
      } else {
        this.writeBits(0b11111, 5);
        const dhi = Math.floor(dod / TWO32);
        this.writeBits(dhi >>> 0, 32);
        this.writeBits((dod - dhi * TWO32) >>> 0, 32);
      }
      this.delta = delta;
      this.writeValue(hi, lo);
    }
    this.t = t;
    this.vHi = hi;
    this.vLo = lo;
    this.n = n + 1;
    if (this.header) {
      const b = this.buf, o = this.offset;
      b[o] = (n + 1) >>> 8;
      b[o + 1] = (n + 1) & 0xff;
    }
  }

  private writeValue(hi: number, lo: number): void {
    const xhi = (hi ^ this.vHi) >>> 0, xlo = (lo ^ this.vLo) >>> 0;
    if (xhi === 0 && xlo === 0) {
      this.writeBits(0, 1);
      return;
    }
    let leading = clz64(xhi, xlo);
    const trailing = ctz64(xhi, xlo);
    if (leading > 31) leading = 31; // the window's leading count has 5 bits
    const pl = this.leading, pt = this.trailing;
    if (pl !== NO_WINDOW && leading >= pl && trailing >= pt) {
      // Reusing the window costs its width; a new window costs 13 bits of header plus the
      // value's own width. Reuse unless the old window is that much wider.
      const oldSig = 64 - pl - pt;
      const newSig = 64 - leading - trailing;
      if (oldSig <= newSig + 13) {
        this.writeBits(0b10, 2);
        this.writeShifted(xhi, xlo, pt, oldSig);
        return;
      }
    }
    const sig = 64 - leading - trailing;
    this.writeBits(0b11, 2);
    this.writeBits(leading, 5);
    this.writeBits(sig & 63, 6); // 64 significant bits are written as 0
    this.writeShifted(xhi, xlo, trailing, sig);
    this.leading = leading;
    this.trailing = trailing;
  }

  /** Writes the `n` bits of (hi:lo) >> shift. */
  private writeShifted(hi: number, lo: number, shift: number, n: number): void {
    let h: number, l: number;
    if (shift === 0) {
      h = hi;
      l = lo;
    } else if (shift < 32) {
      l = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
      h = hi >>> shift;
    } else {
      l = hi >>> (shift - 32);
      h = 0;
    }
    if (n > 32) {
      this.writeBits(h, n - 32);
      this.writeBits(l, 32);
    } else {
      this.writeBits(l, n);
    }
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53, written 8 bits at a time. */
  private writeVarint(x: number): void {
    while (x >= 128) {
      this.writeBits((x % 128) | 128, 8);
      x = Math.floor(x / 128);
    }
    this.writeBits(x, 8);
  }

  /** Writes the low `n` (1…32) bits of `v`, most significant first. Bits above `n` must be 0. */
  private writeBits(v: number, n: number): void {
    const buf = this.buf;
    let pos = this.bits;
    let idx = this.offset + (pos >>> 3);
    const free = 8 - (pos & 7);
    pos += n;
    this.bits = pos;
    // Fill the partial byte, then whole bytes.
    if (n <= free) {
      buf[idx] |= v << (free - n);
      return;
    }
    n -= free;
    buf[idx++] |= v >>> n;
    while (n >= 8) {
      n -= 8;
      buf[idx++] = v >>> n;
    }
    if (n > 0) buf[idx] = v << (8 - n);
  }
}

/**
 * A cursor over one chunk's samples. Reusable: {@link XorIterator.reset} points it at other
 * bytes without allocating. Not affected by later appends to the chunk it reads, because it
 * stops after the sample count it was given (or read from the header) at reset time.
 */
export class XorIterator implements SampleIterator {
  private buf: Uint8Array = NO_BYTES;
  private base = 0;
  private pos = 0;
  private end = 0;
  private i = 0;
  private n = 0;
  private t = 0;
  private delta = 0;
  private vHi = 0;
  private vLo = 0;
  private v = 0;
  private leading = NO_WINDOW;
  private trailing = 0;
  private done = false;
  private err: string | undefined;

  /**
   * Reads the chunk at `buf[offset, offset + length)`. `numSamples` bounds the read; when
   * omitted the header's count is used. Returns this.
   */
  reset(buf: Uint8Array, offset = 0, length = buf.length - offset, numSamples?: number): this {
    this.buf = buf;
    this.base = offset;
    this.end = length * 8;
    this.pos = CHUNK_HEADER_BYTES * 8;
    this.i = 0;
    this.t = 0;
    this.delta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.v = 0;
    this.leading = NO_WINDOW;
    this.trailing = 0;
    this.done = false;
    this.err = undefined;
    if (length < CHUNK_HEADER_BYTES) {
      this.n = 0;
      if (length !== 0 || numSamples) this.err = `chunk of ${length} bytes has no header`;
      return this;
    }
    const header = (buf[offset]! << 8) | buf[offset + 1]!;
    this.n = numSamples === undefined ? header : Math.min(numSamples, header);
    return this;
  }

  /**
   * Continues decoding a chunk from a saved point: the decoder registers right after sample
   * `i - 1` (`i` >= 1; `pos` is the bit position after it, counted from the chunk start, and
   * `t` its timestamp). The chunk's bytes from `pos >>> 3` on are at `buf[base + (pos >>> 3)…]`
   * (so `base` may be negative when only the tail was copied); `length` is the chunk's byte
   * length and `numSamples` its sample count. The cursor is then on sample `i - 1` (atF
   * reads it). Returns this.
   */
  resume(
    buf: Uint8Array,
    base: number,
    length: number,
    numSamples: number,
    i: number,
    pos: number,
    t: number,
    delta: number,
    vHi: number,
    vLo: number,
    leading: number,
    trailing: number,
  ): this {
    this.buf = buf;
    this.base = base;
    this.end = length * 8;
    this.pos = pos;
    this.i = i;
    this.n = numSamples;
    this.t = t;
    this.delta = delta;
    this.vHi = vHi;
    this.vLo = vLo;
    u32[1] = vHi;
    u32[0] = vLo;
    this.v = f64[0]!;
    this.leading = leading;
    this.trailing = trailing;
    this.done = false;
    this.err = undefined;
    return this;
  }

  /** Why iteration stopped early (a truncated or corrupt chunk), or undefined. */
  error(): string | undefined {
    return this.err;
  }

  /** Samples decoded so far. */
  numRead(): number {
    return this.i;
  }

  /** Bit offset (from the chunk start) just after the last decoded sample. */
  bitPosition(): number {
    return this.pos;
  }

  /** Samples in the chunk (as bounded at reset). */
  numSamples(): number {
    return this.n;
  }

  next(): ValueType {
    const i = this.i;
    if (i >= this.n) {
      this.done = true;
      return ValueType.None;
    }
    // The widest sample is 146 bits; check once instead of per read.
    if (this.pos + 146 > this.end && !this.roomFor(i)) return ValueType.None;
    if (i === 0) {
      const z = this.readVarint();
      this.t = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      this.vHi = this.readBits(32);
      this.vLo = this.readBits(32);
    } else if (i === 1) {
      const delta = this.readVarint();
      this.delta = delta;
      this.t += delta;
      this.readValue();
    } else {
      // Control bits and payload read from one 32-bit window each (see peek32), not bit by bit.
      const buf = this.buf, base = this.base;
      let pos = this.pos;
      let w = peek32(buf, base, pos);
      let dod: number;
      if (w < 0x80000000) {
        dod = 0; // '0'
        pos += 1;
      } else if (w < 0xc0000000) {
        dod = (w << 2) >> 28; // '10' + 4 bits
        pos += 6;
      } else if (w < 0xe0000000) {
        dod = (w << 3) >> 25; // '110' + 7 bits
        pos += 10;
      } else if (w < 0xf0000000) {
        dod = (w << 4) >> 18; // '1110' + 14 bits
        pos += 18;
      } else if (w < 0xf8000000) {
        dod = (w << 5) >> 12; // '11110' + 20 bits
        pos += 25;
      } else {
        const hi = peek32(buf, base, pos + 5) | 0; // '11111' + 64 bits
        dod = hi * TWO32 + peek32(buf, base, pos + 37);
        pos += 69;
      }
      this.delta += dod;
      this.t += this.delta;
      w = peek32(buf, base, pos);
      if (w < 0x80000000) {
        pos += 1; // same value
      } else {
        let sig = 0;
        if (w < 0xc0000000) {
          pos += 2; // '10': the previous window
          if (this.leading === NO_WINDOW) pos = this.end + 1; // corrupt: reuse before any window
          else sig = 64 - this.leading - this.trailing;
        } else {
          pos += 13; // '11' + 5 bits leading + 6 bits significant
          const leading = (w >>> 25) & 31;
          sig = (w >>> 19) & 63;
          if (sig === 0) sig = 64;
          this.leading = leading;
          this.trailing = 64 - leading - sig;
          if (this.trailing < 0) {
            this.trailing = 0;
            sig = 0;
            pos = this.end + 1; // corrupt: leading + sig > 64
          }
        }
        if (sig > 0) {
          let h: number, l: number;
          if (sig > 32) {
            h = peek32(buf, base, pos) >>> (64 - sig);
            l = peek32(buf, base, pos + sig - 32);
          } else {
            h = 0;
            l = peek32(buf, base, pos) >>> (32 - sig);
          }
          pos += sig;
          const sh = this.trailing;
          let xh: number, xl: number;
          if (sh === 0) {
            xh = h;
            xl = l;
          } else if (sh < 32) {
            xh = ((h << sh) | (l >>> (32 - sh))) >>> 0;
            xl = (l << sh) >>> 0;
          } else {
            xh = (l << (sh - 32)) >>> 0;
            xl = 0;
          }
          this.vHi = (this.vHi ^ xh) >>> 0;
          this.vLo = (this.vLo ^ xl) >>> 0;
        }
      }
      this.pos = pos;
    }
    if (this.pos > this.end) {
      this.err = `chunk truncated or corrupt in sample ${i} of ${this.n}`;
      this.n = i;
      this.done = true;
      return ValueType.None;
    }
    u32[1] = this.vHi;
    u32[0] = this.vLo;
    this.v = f64[0]!;
    this.i = i + 1;
    return ValueType.Float;
  }

  /**
   * Near the end of the buffer: allows the read only if the chunk's remaining bits may still
   * hold it. Reads past the end are caught after decoding (readBits yields zeros there).
   */
  private roomFor(i: number): boolean {
    if (this.pos < this.end) return true;
    this.err = `chunk truncated in sample ${i} of ${this.n}`;
    this.n = i;
    this.done = true;
    return false;
  }

  seek(t: number): ValueType {
    if (this.done) return ValueType.None;
    if (this.i > 0 && this.t >= t) return ValueType.Float;
    while (this.next() !== ValueType.None) if (this.t >= t) return ValueType.Float;
    return ValueType.None;
  }

  atT(): number {
    return this.t;
  }

  atF(): number {
    return this.v;
  }

  /** Raw bits of the current value (high and low halves), e.g. to copy it bit-exactly. */
  atBitsHi(): number {
    return this.vHi;
  }

  atBitsLo(): number {
    return this.vLo;
  }

  /**
   * Copies the decoder's registers after the current sample into `s`, so an encoder can
   * continue the chunk (see {@link XorChunk.fromBytes}).
   */
  exportState(s: XorState): void {
    s.n = this.i;
    s.bits = this.pos;
    s.t = this.t;
    s.delta = this.delta;
    s.vHi = this.vHi;
    s.vLo = this.vLo;
    s.leading = this.leading;
    s.trailing = this.trailing;
  }

  private readValue(): void {
    if (this.readBits(1) === 0) return;
    let sig: number;
    if (this.readBits(1) === 0) {
      if (this.leading === NO_WINDOW) {
        this.pos = this.end + 1; // corrupt: window reuse before any window
        return;
      }
      sig = 64 - this.leading - this.trailing;
    } else {
      this.leading = this.readBits(5);
      sig = this.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
      if (this.trailing < 0) {
        this.trailing = 0;
        this.pos = this.end + 1; // corrupt: leading + sig > 64
        return;
      }
    }
    let h: number, l: number;
    if (sig > 32) {
      h = this.readBits(sig - 32);
      l = this.readBits(32);
    } else {
      h = 0;
      l = this.readBits(sig);
    }
    // Shift (h:l) left by trailing.
    const s = this.trailing;
    let xh: number, xl: number;
    if (s === 0) {
      xh = h;
      xl = l;
    } else if (s < 32) {
      xh = ((h << s) | (l >>> (32 - s))) >>> 0;
      xl = (l << s) >>> 0;
    } else {
      xh = (l << (s - 32)) >>> 0;
      xl = 0;
    }
    this.vHi = (this.vHi ^ xh) >>> 0;
    this.vLo = (this.vLo ^ xl) >>> 0;
  }

  private readVarint(): number {
    let x = 0, mul = 1;
    for (let k = 0; k < 8; k++) {
      const b = this.readBits(8);
      x += (b & 127) * mul;
      if (b < 128) return x;
      mul *= 128;
    }
    this.pos = this.end + 1; // corrupt: longer than any valid varint here
    return 0;
  }

  /** Reads `n` (1…32) bits, most significant first; past the end reads zeros. */
  private readBits(n: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let idx = this.base + (pos >>> 3);
    const off = pos & 7;
    this.pos = pos + n;
    const avail = 8 - off;
    let b = (buf[idx++] ?? 0) & (0xff >>> off);
    if (n <= avail) return b >>> (avail - n);
    n -= avail;
    let v = b;
    while (n >= 8) {
      v = ((v << 8) | (buf[idx++] ?? 0)) >>> 0;
      n -= 8;
    }
    if (n > 0) {
      b = buf[idx] ?? 0;
      v = ((v * (1 << n)) + (b >>> (8 - n))) >>> 0;
    }
    return v;
  }
}

/**
 * A chunk that owns its bytes and grows as samples are appended.
 *
 * ```ts
 * const c = new XorChunk();
 * c.append(1000, 1.5);
 * c.append(2000, 2.5);
 * const stored = c.bytes();               // persist this
 * const it = XorChunk.iterator(stored);   // later: read it back
 * while (it.next() !== ValueType.None) use(it.atT(), it.atF());
 * ```
 */
export class XorChunk {
  private readonly enc = new XorEncoder();

  /** An empty chunk (`capacity` bytes reserved up front). */
  constructor(capacity = 128) {
    this.enc.start(new Uint8Array(Math.max(capacity, CHUNK_HEADER_BYTES + MAX_SAMPLE_BYTES)), 0);
  }

  /**
   * Rebuilds an appendable chunk from {@link XorChunk.bytes} output (copying the bytes and
   * decoding them once to restore the encoder's registers). Throws RangeError when the bytes
   * are not a valid chunk.
   */
  static fromBytes(bytes: Uint8Array): XorChunk {
    const c = new XorChunk(bytes.length + MAX_SAMPLE_BYTES);
    const it = new XorIterator().reset(bytes);
    let mint = 0;
    while (it.next() !== ValueType.None) if (it.numRead() === 1) mint = it.atT();
    const err = it.error();
    if (err !== undefined) throw new RangeError(err);
    const enc = c.enc;
    const used = (it.bitPosition() + 7) >>> 3;
    enc.buf.set(bytes.subarray(0, used));
    // The encoder ORs into the last partial byte: clear bits past the end.
    const tail = it.bitPosition() & 7;
    if (tail !== 0) enc.buf[used - 1] = enc.buf[used - 1]! & (0xff00 >>> tail);
    enc.buf[0] = it.numSamples() >>> 8;
    enc.buf[1] = it.numSamples() & 0xff;
    it.exportState(enc);
    enc.mint = mint;
    if (enc.n === 0) enc.bits = CHUNK_HEADER_BYTES * 8;
    return c;
  }

  /** A fresh cursor over `bytes` (the encoded form), or `reuse` pointed at it. */
  static iterator(bytes: Uint8Array, reuse?: XorIterator): XorIterator {
    return (reuse ?? new XorIterator()).reset(bytes);
  }

  /** Appends a sample; see {@link XorEncoder.append} for the rules (throws RangeError). */
  append(t: number, v: number): void {
    const enc = this.enc;
    if (enc.byteLength() + MAX_SAMPLE_BYTES > enc.buf.length) {
      const grown = new Uint8Array(enc.buf.length * 2);
      grown.set(enc.buf.subarray(0, enc.byteLength()));
      enc.buf = grown;
    }
    enc.append(t, v);
  }

  /** Appends a sample given as raw value bits (exact for every NaN payload). */
  appendBits(t: number, hi: number, lo: number): void {
    const enc = this.enc;
    if (enc.byteLength() + MAX_SAMPLE_BYTES > enc.buf.length) {
      const grown = new Uint8Array(enc.buf.length * 2);
      grown.set(enc.buf.subarray(0, enc.byteLength()));
      enc.buf = grown;
    }
    enc.appendBits(t, hi, lo);
  }

  get numSamples(): number {
    return this.enc.n;
  }

  /** Timestamp of the first sample (0 when empty). */
  get minTime(): number {
    return this.enc.n === 0 ? 0 : this.enc.mint;
  }

  /** Timestamp of the last sample (0 when empty). */
  get maxTime(): number {
    return this.enc.n === 0 ? 0 : this.enc.t;
  }

  /**
   * The encoded chunk: a view of the internal buffer, valid until the next append. Copy it
   * (`slice()`) to keep it across appends.
   */
  bytes(): Uint8Array {
    return this.enc.buf.subarray(0, this.enc.byteLength());
  }

  /** A cursor over the samples appended so far, or `reuse` pointed at them. */
  iterator(reuse?: XorIterator): XorIterator {
    return (reuse ?? new XorIterator()).reset(this.enc.buf, 0, this.enc.byteLength(), this.enc.n);
  }
}
