/**
 * Byte-level helpers of the block format (storage/FORMAT.md "Blocks"): varints, the packed
 * chunk list of a series row, the label blob, block ids.
 */
import { randomBytes } from 'node:crypto';

/** Schema version written in every block's meta. */
export const BLOCK_FORMAT = 'sextant-block-1';
/** Block file name suffix. */
export const BLOCK_SUFFIX = '.block';

/** A growable byte buffer for varint encoding. */
export class Bytes {
  buf: Uint8Array;
  len = 0;
  constructor(cap = 256) {
    this.buf = new Uint8Array(cap);
  }
  reset(): this {
    this.len = 0;
    return this;
  }
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  uvarint(x: number): void {
    this.ensure(8);
    const b = this.buf;
    while (x >= 0x80) {
      b[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    b[this.len++] = x;
  }
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
  /** A copy of the content. */
  take(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Reads unsigned LEB128 varints from a byte array; `pos` advances. */
export class VarintReader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }
  uvarint(): number {
    const b = this.buf;
    let x = 0, mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new RangeError('varint runs past the end of its buffer');
      const c = b[this.pos++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) return x;
      mul *= 0x80;
    }
    throw new RangeError('varint longer than 8 bytes');
  }
}

/** One chunk of a series row: its time range and where its bytes are in the row's blob. */
export interface ChunkRef {
  mint: number;
  maxt: number;
  off: number;
  len: number;
}

/**
 * Encodes a series' chunks into one blob:
 * `n:uvarint`, then per chunk `mint − prev:uvarint` (prev = the previous chunk's maxt, or
 * the row's mint for the first), `maxt − mint:uvarint`, `length:uvarint`, then every chunk's
 * bytes back to back.
 */
export function encodeChunkList(out: Bytes, rowMint: number, chunks: ReadonlyArray<{ mint: number; maxt: number; bytes: Uint8Array }>): Uint8Array {
  out.reset();
  out.uvarint(chunks.length);
  let prev = rowMint;
  for (const c of chunks) {
    out.uvarint(c.mint - prev);
    out.uvarint(c.maxt - c.mint);
    out.uvarint(c.bytes.length);
    prev = c.maxt;
  }
  for (const c of chunks) out.bytes(c.bytes);
  return out.take();
}

/** Decodes the chunk list header of a series blob (inverse of {@link encodeChunkList}). */
export function decodeChunkList(data: Uint8Array, rowMint: number): ChunkRef[] {
  const out = decodeChunkHeader(data, rowMint, data.length);
  if (out === undefined) throw new RangeError('varint runs past the end of its buffer');
  return out;
}

/**
 * Decodes the chunk list header from `data`, the first bytes of a series blob of `total`
 * bytes; offsets are from the blob's start. Undefined when `data` ends inside the header (read
 * more); throws when the header is invalid for a blob of `total` bytes.
 */
export function decodeChunkHeader(data: Uint8Array, rowMint: number, total: number): ChunkRef[] | undefined {
  const r = new VarintReader(data);
  const short = (): boolean => r.pos >= data.length && data.length < total;
  try {
    const n = r.uvarint();
    if (n > total) throw new RangeError(`chunk count ${n} exceeds the blob size ${total}`);
    const out: ChunkRef[] = new Array(n);
    let prev = rowMint;
    for (let i = 0; i < n; i++) {
      const mint = prev + r.uvarint();
      const maxt = mint + r.uvarint();
      const len = r.uvarint();
      out[i] = { mint, maxt, off: 0, len };
      prev = maxt;
    }
    let off = r.pos;
    for (let i = 0; i < n; i++) {
      const c = out[i]!;
      c.off = off;
      off += c.len;
    }
    if (off !== total) throw new RangeError(`chunk lengths add up to ${off} bytes, the blob has ${total}`);
    return out;
  } catch (err) {
    if (short()) return undefined;
    throw err;
  }
}

/** Label blob: `pairs:uvarint`, then per label `name symbol:uvarint`, `value symbol:uvarint`. */
export function encodeLabelRefs(out: Bytes, refs: ArrayLike<number>, n: number): Uint8Array {
  out.reset();
  out.uvarint(n >> 1);
  for (let i = 0; i < n; i++) out.uvarint(refs[i]!);
  return out.take();
}

export function decodeLabelRefs(data: Uint8Array, symbols: readonly string[]): string[] {
  const r = new VarintReader(data);
  const n = r.uvarint() * 2;
  if (n > data.length * 2) throw new RangeError('label count exceeds the blob size');
  const pairs = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = symbols[r.uvarint()];
    if (s === undefined) throw new RangeError('label refers to an unknown symbol');
    pairs[i] = s;
  }
  return pairs;
}

/** Sorted postings list as delta uvarints (the first from 0). */
export function encodePostings(out: Bytes, ids: ArrayLike<number>, n: number): Uint8Array {
  out.reset();
  let prev = 0;
  for (let i = 0; i < n; i++) {
    out.uvarint(ids[i]! - prev);
    prev = ids[i]!;
  }
  return out.take();
}

export function decodePostings(data: Uint8Array): Int32Array {
  const out = new Int32Array(data.length);
  const r = new VarintReader(data);
  let prev = 0, n = 0;
  while (r.pos < data.length) {
    prev += r.uvarint();
    out[n++] = prev;
  }
  return out.subarray(0, n);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48-bit ms time + 80 random bits in Crockford base32 (26 characters), sortable by time. */
export function newUlid(now = Date.now()): string {
  let s = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    s = CROCKFORD[t % 32]! + s;
    t = Math.floor(t / 32);
  }
  const r = randomBytes(16);
  for (let i = 0; i < 16; i++) s += CROCKFORD[r[i]! % 32]!;
  return s;
}

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
