/**
 * WAL record framing and payload encodings (storage/FORMAT.md "WAL"). Encoders write into a
 * growable byte buffer; decoders read from a `Uint8Array` slice and fill reusable arrays.
 */
import { crc32 } from 'node:zlib';
import { Labels, intern } from '../labels.js';

export const RecordType = { Series: 1, Samples: 2, Tombstones: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** type (1) + payload length (4) + CRC32 (4). */
export const RECORD_HEADER_BYTES = 9;
/** Largest payload accepted when reading; writers split records well below it. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Samples per samples record, series per series record (writers split above these). */
export const MAX_SAMPLES_PER_RECORD = 32 * 1024;
export const MAX_SERIES_PER_RECORD = 8 * 1024;


/** A growable output buffer. */
export class ByteWriter {
  buf: Buffer = Buffer.alloc(64 * 1024);
  len = 0;

  reset(): void {
    this.len = 0;
  }

  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const b = Buffer.alloc(cap);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  /** Unsigned LEB128 of an integer in [0, 2^53]. Caller ensured 8 bytes of room. */
  uvarint(x: number): void {
    const b = this.buf;
    let p = this.len;
    if (x < 0x10000000) {
      while (x >= 0x80) {
        b[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
    } else {
      while (x >= 0x80) {
        b[p++] = (x % 128) | 0x80;
        x = Math.floor(x / 128);
      }
    }
    b[p++] = x;
    this.len = p;
  }

  /** Zigzag varint of an integer with |x| <= 2^53. */
  varint(x: number): void {
    this.uvarint(x >= 0 ? x * 2 : -x * 2 - 1);
  }

  u32(x: number): void {
    const b = this.buf, p = this.len;
    b[p] = x >>> 24;
    b[p + 1] = x >>> 16;
    b[p + 2] = x >>> 8;
    b[p + 3] = x;
    this.len = p + 4;
  }

  /** A length-prefixed UTF-8 string. */
  string(s: string): void {
    // Worst case 3 bytes per UTF-16 unit, plus the length prefix.
    this.ensure(s.length * 3 + 8);
    const start = this.len;
    // Reserve one byte for the length and move the bytes if the prefix turns out longer.
    const n = this.buf.write(s, start + 1, 'utf8');
    if (n < 0x80) {
      this.buf[start] = n;
      this.len = start + 1 + n;
      return;
    }
    const tmp = this.buf.slice(start + 1, start + 1 + n);
    this.uvarint(n);
    this.buf.set(tmp, this.len);
    this.len += n;
  }

  /** Starts a record: returns its start offset for {@link ByteWriter.endRecord}. */
  beginRecord(type: RecordType): number {
    this.ensure(RECORD_HEADER_BYTES);
    const start = this.len;
    this.buf[start] = type;
    this.len = start + RECORD_HEADER_BYTES;
    return start;
  }

  /** Fills in the length and CRC of the record begun at `start`. */
  endRecord(start: number): void {
    const b = this.buf;
    const n = this.len - start - RECORD_HEADER_BYTES;
    b[start + 1] = n >>> 24;
    b[start + 2] = n >>> 16;
    b[start + 3] = n >>> 8;
    b[start + 4] = n;
    const crc = recordCrc(b, start, n);
    b[start + 5] = crc >>> 24;
    b[start + 6] = crc >>> 16;
    b[start + 7] = crc >>> 8;
    b[start + 8] = crc;
  }
}

/** CRC32 (IEEE) of the record's type and length bytes followed by its payload. */
export function recordCrc(b: Uint8Array, start: number, payloadLen: number): number {
  const head = crc32(b.subarray(start, start + 5));
  return crc32(b.subarray(start + RECORD_HEADER_BYTES, start + RECORD_HEADER_BYTES + payloadLen), head) >>> 0;
}

/** Appends series records for `refs[i]`/`labels[i]`. */
export function encodeSeries(w: ByteWriter, refs: readonly number[], labels: readonly Labels[]): void {
  for (let from = 0; from < refs.length; from += MAX_SERIES_PER_RECORD) {
    const to = Math.min(refs.length, from + MAX_SERIES_PER_RECORD);
    const start = w.beginRecord(RecordType.Series);
    w.ensure(8);
    w.uvarint(to - from);
    for (let i = from; i < to; i++) {
      const ls = labels[i]!;
      w.ensure(16);
      w.uvarint(refs[i]!);
      w.uvarint(ls.size);
      for (let k = 0; k < ls.size; k++) {
        w.string(ls.nameAt(k));
        w.string(ls.valueAt(k));
      }
    }
    w.endRecord(start);
  }
}

/**
 * Appends samples records. Each: count, first ref, first t, then per sample the zigzag
 * delta of the ref from the previous sample's ref (batches mostly walk refs in order), of t
 * from the first t (a scrape shares one timestamp), and the 8 value bytes (big-endian bits).
 */
export function encodeSamples(w: ByteWriter, refs: Int32Array, ts: Float64Array, his: Uint32Array, los: Uint32Array, n: number): { maxT: number } {
  let maxT = -Infinity;
  for (let from = 0; from < n; from += MAX_SAMPLES_PER_RECORD) {
    const to = Math.min(n, from + MAX_SAMPLES_PER_RECORD);
    const start = w.beginRecord(RecordType.Samples);
    // Worst case per sample: 9 + 9 + 8 bytes.
    w.ensure(32 + (to - from) * 26);
    const baseRef = refs[from]!, baseT = ts[from]!;
    w.uvarint(to - from);
    w.uvarint(baseRef);
    w.varint(baseT);
    const b = w.buf;
    let prevRef = baseRef;
    for (let i = from; i < to; i++) {
      const ref = refs[i]!;
      const dr = ref - prevRef;
      prevRef = ref;
      // Small deltas in one byte without the general path.
      if (dr >= -64 && dr < 64) b[w.len++] = dr >= 0 ? dr * 2 : -dr * 2 - 1;
      else w.varint(dr);
      const t = ts[i]!;
      if (t > maxT) maxT = t;
      const dt = t - baseT;
      if (dt >= -64 && dt < 64) b[w.len++] = dt >= 0 ? dt * 2 : -dt * 2 - 1;
      else w.varint(dt);
      const hi = his[i]!, lo = los[i]!;
      const p = w.len;
      b[p] = hi >>> 24;
      b[p + 1] = hi >>> 16;
      b[p + 2] = hi >>> 8;
      b[p + 3] = hi;
      b[p + 4] = lo >>> 24;
      b[p + 5] = lo >>> 16;
      b[p + 6] = lo >>> 8;
      b[p + 7] = lo;
      w.len = p + 8;
    }
    w.endRecord(start);
  }
  return { maxT };
}

/** Clamp for infinite tombstone bounds (stored as ±MAX_SAFE_INTEGER). */
function clampTime(t: number): number {
  if (t >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (t <= Number.MIN_SAFE_INTEGER) return Number.MIN_SAFE_INTEGER;
  return Math.trunc(t);
}

function unclampTime(t: number): number {
  if (t >= Number.MAX_SAFE_INTEGER) return Infinity;
  if (t <= Number.MIN_SAFE_INTEGER) return -Infinity;
  return t;
}

export function encodeTombstones(w: ByteWriter, refs: ArrayLike<number>, n: number, mint: number, maxt: number): void {
  for (let from = 0; from < n; from += MAX_SAMPLES_PER_RECORD) {
    const to = Math.min(n, from + MAX_SAMPLES_PER_RECORD);
    const start = w.beginRecord(RecordType.Tombstones);
    w.ensure(32 + (to - from) * 9);
    w.uvarint(to - from);
    w.varint(clampTime(mint));
    w.varint(clampTime(maxt));
    for (let i = from; i < to; i++) w.uvarint(refs[i]!);
    w.endRecord(start);
  }
}

/** Thrown by decoders for a payload that does not parse (its CRC was fine: a writer bug). */
export class MalformedRecord extends Error {}

/** A cursor over one record payload. */
export class ByteReader {
  b: Buffer = Buffer.alloc(0);
  p = 0;
  end = 0;

  reset(b: Buffer, from: number, to: number): void {
    this.b = b;
    this.p = from;
    this.end = to;
  }

  uvarint(): number {
    const b = this.b;
    let p = this.p;
    let x = 0, shift = 0;
    // Fast path: up to 4 bytes with bit operations.
    for (; shift < 28; shift += 7) {
      if (p >= this.end) throw new MalformedRecord('varint runs past the record');
      const c = b[p++]!;
      x |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.p = p;
        return x >>> 0;
      }
    }
    let v = x >>> 0, mul = 2 ** 28;
    for (let k = 0; k < 4; k++) {
      if (p >= this.end) throw new MalformedRecord('varint runs past the record');
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.p = p;
        return v;
      }
      mul *= 128;
    }
    throw new MalformedRecord('varint longer than 8 bytes');
  }

  varint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  string(): string {
    const n = this.uvarint();
    const p = this.p;
    if (p + n > this.end) throw new MalformedRecord('string runs past the record');
    this.p = p + n;
    // The CRC vouches for the bytes and writers only write valid UTF-8.
    return this.b.toString('utf8', p, p + n);
  }
}

/** Decodes a series record, calling `fn(ref, labels)` per series. */
export function decodeSeries(r: ByteReader, fn: (ref: number, labels: Labels) => void): number {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    const ref = r.uvarint();
    const n = r.uvarint();
    if (n === 0 || n > 10_000) throw new MalformedRecord(`series ${ref} has ${n} labels`);
    const pairs = new Array<string>(n * 2);
    for (let k = 0; k < n; k++) {
      const name = r.string();
      const value = r.string();
      if (name === '' || value === '' || (k > 0 && name <= pairs[2 * k - 2]!)) throw new MalformedRecord(`series ${ref} has unsorted or empty labels`);
      pairs[2 * k] = intern(name);
      pairs[2 * k + 1] = intern(value);
    }
    fn(ref, Labels.fromSortedPairsUnsafe(pairs));
  }
  if (r.p !== r.end) throw new MalformedRecord('trailing bytes after series');
  return count;
}

/** Reusable arrays for decoded samples. */
export class SampleBuffers {
  refs = new Int32Array(MAX_SAMPLES_PER_RECORD);
  ts = new Float64Array(MAX_SAMPLES_PER_RECORD);
  his = new Uint32Array(MAX_SAMPLES_PER_RECORD);
  los = new Uint32Array(MAX_SAMPLES_PER_RECORD);
}

/** Decodes a samples record into `out`; returns the count. */
export function decodeSamples(r: ByteReader, out: SampleBuffers): number {
  const count = r.uvarint();
  if (count > MAX_SAMPLES_PER_RECORD) throw new MalformedRecord(`samples record of ${count} samples`);
  let ref = r.uvarint();
  const baseT = r.varint();
  const b = r.b;
  const { refs, ts, his, los } = out;
  for (let i = 0; i < count; i++) {
    let p = r.p;
    let dr: number, dt: number;
    let c: number;
    if (p < r.end && (c = b[p]!) < 0x80) {
      dr = c & 1 ? -((c + 1) >>> 1) : c >>> 1;
      r.p = ++p;
    } else dr = r.varint();
    p = r.p;
    if (p < r.end && (c = b[p]!) < 0x80) {
      dt = c & 1 ? -((c + 1) >>> 1) : c >>> 1;
      r.p = ++p;
    } else dt = r.varint();
    p = r.p;
    if (p + 8 > r.end) throw new MalformedRecord('sample value runs past the record');
    ref += dr;
    refs[i] = ref;
    ts[i] = baseT + dt;
    his[i] = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    los[i] = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    r.p = p + 8;
  }
  if (r.p !== r.end) throw new MalformedRecord('trailing bytes after samples');
  return count;
}

/** Decodes a tombstones record into `refs`; returns `{n, mint, maxt}`. */
export function decodeTombstones(r: ByteReader, out: SampleBuffers): { n: number; mint: number; maxt: number } {
  const n = r.uvarint();
  if (n > MAX_SAMPLES_PER_RECORD) throw new MalformedRecord(`tombstones record of ${n} series`);
  const mint = unclampTime(r.varint());
  const maxt = unclampTime(r.varint());
  for (let i = 0; i < n; i++) out.refs[i] = r.uvarint();
  if (r.p !== r.end) throw new MalformedRecord('trailing bytes after tombstones');
  return { n, mint, maxt };
}

