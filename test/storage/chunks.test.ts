import { describe, expect, it } from 'vitest';
import { XorChunk, XorIterator, MAX_ABS_TIMESTAMP } from '../../storage/chunks/index.js';
import { STALE_NAN, ValueType, isStaleNaN } from '../../storage/index.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function fromBits(hi: number, lo: number): number {
  u32[1] = hi;
  u32[0] = lo;
  return f64[0]!;
}

function bitsOf(v: number): [number, number] {
  f64[0] = v;
  return [u32[1]!, u32[0]!];
}

/** A deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  t: number;
  hi: number;
  lo: number;
}

function encode(samples: readonly Sample[]): XorChunk {
  const c = new XorChunk(16);
  for (const s of samples) c.append(s.t, fromBits(s.hi, s.lo));
  return c;
}

/** Decodes and compares timestamps and raw value bits (the stale marker by its payload). */
function expectRoundTrip(samples: readonly Sample[], bytes: Uint8Array, it = new XorIterator()): void {
  it.reset(bytes);
  expect(it.numSamples()).toBe(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    expect(it.next(), `sample ${i}`).toBe(ValueType.Float);
    expect(it.atT(), `t of sample ${i}`).toBe(s.t);
    const [hi, lo] = bitsOf(it.atF());
    const want = fromBits(s.hi, s.lo);
    if (isStaleNaN(want)) {
      expect(isStaleNaN(it.atF()), `stale marker at ${i}`).toBe(true);
      expect([it.atBitsHi(), it.atBitsLo()]).toEqual([0x7ff00000, 2]);
    } else {
      expect([hi.toString(16), lo.toString(16)], `bits of sample ${i}`).toEqual([s.hi.toString(16), s.lo.toString(16)]);
      expect([it.atBitsHi(), it.atBitsLo()]).toEqual([s.hi, s.lo]);
    }
  }
  expect(it.next()).toBe(ValueType.None);
  expect(it.next()).toBe(ValueType.None);
  expect(it.error()).toBeUndefined();
}

function sample(t: number, v: number): Sample {
  const [hi, lo] = bitsOf(v);
  return { t, hi, lo };
}

const [staleHi, staleLo] = [0x7ff00000, 0x00000002];

describe('XorChunk round trips', () => {
  it('an empty chunk has a 2-byte header and no samples', () => {
    const c = new XorChunk();
    expect(c.numSamples).toBe(0);
    expect([...c.bytes()]).toEqual([0, 0]);
    const it = XorChunk.iterator(c.bytes());
    expect(it.next()).toBe(ValueType.None);
    expect(it.seek(0)).toBe(ValueType.None);
  });

  it('one sample', () => {
    const s = [sample(1_700_000_000_123, 42.5)];
    const c = encode(s);
    expect(c.minTime).toBe(1_700_000_000_123);
    expect(c.maxTime).toBe(1_700_000_000_123);
    expectRoundTrip(s, c.bytes());
  });

  it('regular 15 s scrapes of a counter compress to a few bits per sample', () => {
    const s: Sample[] = [];
    let v = 1000;
    for (let i = 0; i < 120; i++) {
      s.push(sample(1_700_000_000_000 + i * 15_000, v));
      v += 7;
    }
    const c = encode(s);
    expectRoundTrip(s, c.bytes());
    expect(c.numSamples).toBe(120);
    expect(c.bytes().length).toBeLessThan(120 * 2.5);
  });

  it('a constant series costs 2 bits per sample after the first two', () => {
    const s: Sample[] = [];
    for (let i = 0; i < 120; i++) s.push(sample(i * 1000, 1));
    const c = encode(s);
    expectRoundTrip(s, c.bytes());
    // header 16 bits + first (varint 0: 8 bits, value 64) + second (varint 1000: 16 bits,
    // value 1 bit) + 118 × (dod 1 bit + value 1 bit)
    expect(c.bytes().length).toBe(Math.ceil((16 + 72 + 17 + 118 * 2) / 8));
  });

  it('NaN payloads, the stale marker, ±Inf and ±0 round-trip bit-exactly', () => {
    const values: Array<[number, number]> = [
      [staleHi, staleLo],
      [0x7ff80000, 0], // the default quiet NaN
      [0xfff80000, 0], // negative NaN
      [0x7ff80000, 0xdeadbeef], // quiet NaN with payload
      [0x7fffffff, 0xffffffff], // all-ones quiet NaN
      [0xffffffff, 0xffffffff],
      [staleHi, staleLo],
      [0x7ff00000, 0], // +Inf
      [0xfff00000, 0], // -Inf
      [0, 0], // +0
      [0x80000000, 0], // -0
      [staleHi, staleLo],
      [staleHi, staleLo],
      [0, 1], // smallest subnormal
      [0x7fefffff, 0xffffffff], // largest finite
      [0x7ff80000, 1],
      bitsOf(1),
      [staleHi, staleLo],
    ];
    const s = values.map(([hi, lo], i) => ({ t: i * 10, hi, lo }));
    const c = encode(s);
    expectRoundTrip(s, c.bytes());
  });

  it('STALE_NAN itself (possibly quieted by V8) is stored as the canonical payload', () => {
    const c = new XorChunk();
    c.append(1, STALE_NAN);
    c.append(2, 5);
    c.append(3, STALE_NAN);
    const it = c.iterator();
    const got: Array<[number, number]> = [];
    while (it.next() !== ValueType.None) got.push([it.atBitsHi(), it.atBitsLo()]);
    expect(got).toEqual([[staleHi, staleLo], bitsOf(5), [staleHi, staleLo]]);
    // The very first sample's value is written raw: check the bytes too.
    expect([...c.bytes().subarray(3, 11)]).toEqual([0x7f, 0xf0, 0, 0, 0, 0, 0, 2]);
  });

  it('huge timestamp jumps and negative timestamps', () => {
    const ts = [
      -MAX_ABS_TIMESTAMP,
      -MAX_ABS_TIMESTAMP + 1,
      -1_000_000_000_000,
      -5,
      -1,
      0,
      1,
      2,
      1_000_000,
      MAX_ABS_TIMESTAMP - 1,
      MAX_ABS_TIMESTAMP,
    ];
    const s = ts.map((t, i) => sample(t, i % 3 === 0 ? -i * 1e300 : i / 7));
    expectRoundTrip(s, encode(s).bytes());
  });

  it('every delta-of-delta bucket at both edges', () => {
    const dods = [0, 7, -8, 8, -9, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 524287, -524288, 524288, -524289, 2 ** 40, -(2 ** 40), 1, -1, 0];
    let t = -3_000_000_000_000, delta = 2 ** 41;
    const s = [sample(t, 0)];
    t += delta;
    s.push(sample(t, 1));
    for (const d of dods) {
      delta += d;
      t += delta;
      s.push(sample(t, d));
    }
    expectRoundTrip(s, encode(s).bytes());
    // Bucket sizes: 1, 6, 10, 18, 25 and 69 bits of timestamp.
    const bitsFor = (d: number): number => {
      const c = new XorChunk();
      c.append(0, 1);
      c.append(1_000_000, 1);
      c.append(2_000_000 + d, 1);
      return c.bytes().length;
    };
    expect([0, 7, -8, 8, 63, 64, 8191, 8192, 524287, 524288].map(bitsFor)).toEqual([0, 7, -8, 8, 63, 64, 8191, 8192, 524287, 524288].map((d) => {
      const tsBits = d === 0 ? 1 : d >= -8 && d <= 7 ? 6 : d >= -64 && d <= 63 ? 10 : d >= -8192 && d <= 8191 ? 18 : d >= -524288 && d <= 524287 ? 25 : 69;
      // header 16 + first (1-byte varint + 64) + second (3-byte varint + 1) + third (ts + 1)
      return Math.ceil((16 + 8 + 64 + 24 + 1 + tsBits + 1) / 8);
    }));
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random samples, seed %i (several thousand, all buckets)', (seed) => {
    const r = rng(seed);
    const s: Sample[] = [];
    let t = Math.floor((r() - 0.5) * 2e12);
    let v = r() * 100;
    const n = 2000 + Math.floor(r() * 2000);
    for (let i = 0; i < n; i++) {
      const k = r();
      // Mix regular steps, jitter, big jumps and huge jumps.
      t += k < 0.5 ? 15_000 : k < 0.8 ? 15_000 + Math.floor((r() - 0.5) * 200) : k < 0.95 ? 1 + Math.floor(r() * 1e6) : 1 + Math.floor(r() * 1e12);
      const kind = r();
      if (kind < 0.3) v += 1; // counter
      else if (kind < 0.5) v = v; // unchanged
      else if (kind < 0.7) v = r() * 1e6; // noisy gauge
      else if (kind < 0.8) v = Math.round(r() * 100) / 8;
      else if (kind < 0.85) v = fromBits((r() * 4294967296) >>> 0, (r() * 4294967296) >>> 0); // any bits
      else if (kind < 0.9) v = STALE_NAN;
      else if (kind < 0.95) v = -v;
      else v = [0, -0, Infinity, -Infinity, NaN][Math.floor(r() * 5)]!;
      s.push(sample(t, v));
    }
    // Random bit patterns may include signalling NaNs that V8 quiets when they pass through a
    // number; compare what the encoder was actually handed.
    const c = new XorChunk(16);
    const handed: Sample[] = [];
    for (const x of s) {
      const v = fromBits(x.hi, x.lo);
      c.append(x.t, v);
      const [hi, lo] = bitsOf(v);
      handed.push(isStaleNaN(v) ? { t: x.t, hi: staleHi, lo: staleLo } : { t: x.t, hi, lo });
    }
    expectRoundTrip(handed, c.bytes());
    // Re-opened from bytes and appended to, it keeps going bit-exactly.
    const reopened = XorChunk.fromBytes(c.bytes());
    reopened.append(t + 1, 3.25);
    expectRoundTrip([...handed, sample(t + 1, 3.25)], reopened.bytes());
  });

  it('fromBytes then append yields the same bytes as appending everything at once', () => {
    const s: Sample[] = [];
    for (let i = 0; i < 130; i++) s.push(sample(i * 1001 + (i % 7) * 3, Math.sin(i)));
    for (let cut = 0; cut <= 130; cut += 13) {
      const a = encode(s.slice(0, cut));
      const b = XorChunk.fromBytes(a.bytes());
      for (const x of s.slice(cut)) b.append(x.t, fromBits(x.hi, x.lo));
      expect(Buffer.from(b.bytes()).equals(Buffer.from(encode(s).bytes())), `cut at ${cut}`).toBe(true);
    }
  });

  it('rejects out-of-order, duplicate, fractional and out-of-range timestamps without changing the chunk', () => {
    const c = new XorChunk();
    c.append(100, 1);
    const before = c.bytes().slice();
    expect(() => c.append(100, 2)).toThrow(RangeError);
    expect(() => c.append(99, 2)).toThrow(RangeError);
    expect(() => c.append(100.5, 2)).toThrow(RangeError);
    expect(() => c.append(NaN, 2)).toThrow(RangeError);
    expect(() => c.append(MAX_ABS_TIMESTAMP + 2, 2)).toThrow(RangeError);
    expect(() => c.append(Infinity, 2)).toThrow(RangeError);
    expect(Buffer.from(c.bytes()).equals(Buffer.from(before))).toBe(true);
    expect(c.numSamples).toBe(1);
  });
});

describe('XorIterator', () => {
  const s: Sample[] = [];
  for (let i = 0; i < 200; i++) s.push(sample(1000 + i * 10, i));
  const bytes = encode(s).bytes().slice();

  it('seek finds the first sample at or after t and never moves backwards', () => {
    const it = XorChunk.iterator(bytes);
    expect(it.seek(0)).toBe(ValueType.Float);
    expect(it.atT()).toBe(1000);
    expect(it.seek(1005)).toBe(ValueType.Float);
    expect(it.atT()).toBe(1010);
    expect(it.seek(1010)).toBe(ValueType.Float);
    expect(it.atT()).toBe(1010);
    expect(it.seek(500)).toBe(ValueType.Float); // no backwards move
    expect(it.atT()).toBe(1010);
    expect(it.next()).toBe(ValueType.Float);
    expect(it.atT()).toBe(1020);
    expect(it.seek(2990)).toBe(ValueType.Float);
    expect(it.atF()).toBe(199);
    expect(it.seek(2991)).toBe(ValueType.None);
    expect(it.seek(0)).toBe(ValueType.None); // exhausted stays exhausted
  });

  it('is reusable across chunks without allocation of a new cursor', () => {
    const it = new XorIterator();
    const other = encode([sample(5, 5), sample(6, 6)]).bytes().slice();
    expectRoundTrip(s, bytes, it);
    expectRoundTrip([sample(5, 5), sample(6, 6)], other, it);
    expectRoundTrip(s, bytes, it);
  });

  it('stops at the sample count given at reset (a snapshot of a growing chunk)', () => {
    const c = new XorChunk();
    for (let i = 0; i < 10; i++) c.append(i, i);
    const it = new XorIterator().reset(c.bytes(), 0, c.bytes().length, 4);
    let n = 0;
    while (it.next() !== ValueType.None) n++;
    expect(n).toBe(4);
  });

  it('reports a truncated chunk instead of inventing samples', () => {
    for (let len = 0; len < bytes.length; len++) {
      const it = XorChunk.iterator(bytes.subarray(0, len));
      let n = 0;
      while (it.next() !== ValueType.None) {
        expect(it.atT()).toBe(s[n]!.t);
        n++;
      }
      expect(n).toBeLessThan(200);
      if (len >= 2) expect(it.error(), `length ${len}`).toMatch(/truncated/);
    }
  });

  it('garbage input terminates without throwing', () => {
    const r = rng(99);
    for (let k = 0; k < 200; k++) {
      const junk = new Uint8Array(1 + Math.floor(r() * 300));
      for (let i = 0; i < junk.length; i++) junk[i] = (r() * 256) >>> 0;
      const it = XorChunk.iterator(junk);
      let n = 0;
      while (it.next() !== ValueType.None) n++;
      expect(n).toBeLessThanOrEqual(junk.length * 8);
    }
  });
});
