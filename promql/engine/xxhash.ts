/**
 * xxHash64 (seed 0) and Prometheus's labels.Hash on top of it: the hash of
 * `name 0xff value 0xff …` over the UTF-8 bytes. limit_ratio() samples series by this hash, so
 * Sextant picks the same series as Prometheus. BigInt arithmetic: used once per series per query.
 */
import type { Labels } from '../../storage/index.js';

const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;

function round(acc: bigint, input: bigint): bigint {
  acc = (acc + input * P2) & M;
  acc = rotl(acc, 31n);
  return (acc * P1) & M;
}

function mergeRound(acc: bigint, val: bigint): bigint {
  acc ^= round(0n, val);
  return (acc * P1 + P4) & M;
}

function u64(b: Uint8Array, i: number): bigint {
  let lo = 0;
  let hi = 0;
  for (let k = 3; k >= 0; k--) lo = lo * 256 + b[i + k]!;
  for (let k = 7; k >= 4; k--) hi = hi * 256 + b[i + k]!;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function u32(b: Uint8Array, i: number): bigint {
  return BigInt(b[i]! + b[i + 1]! * 256 + b[i + 2]! * 65536 + b[i + 3]! * 16777216);
}

/** xxHash64 of `b` with seed 0. */
export function xxhash64(b: Uint8Array): bigint {
  const len = b.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (M + 1n - P1) & M;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, u64(b, i));
      v2 = round(v2, u64(b, i + 8));
      v3 = round(v3, u64(b, i + 16));
      v4 = round(v4, u64(b, i + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(len)) & M;
  for (; i + 8 <= len; i += 8) {
    h ^= round(0n, u64(b, i));
    h = (rotl(h, 27n) * P1 + P4) & M;
  }
  if (i + 4 <= len) {
    h ^= (u32(b, i) * P1) & M;
    h = (rotl(h, 23n) * P2 + P3) & M;
    i += 4;
  }
  for (; i < len; i++) {
    h ^= (BigInt(b[i]!) * P5) & M;
    h = (rotl(h, 11n) * P1) & M;
  }
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}

const encoder = new TextEncoder();

/** Prometheus's labels.Hash(). */
export function prometheusLabelsHash(l: Labels): bigint {
  // The separator is the single byte 0xff (not the UTF-8 encoding of U+00FF).
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < l.size; i++) {
    for (const str of [l.nameAt(i), l.valueAt(i)]) {
      const e = encoder.encode(str);
      parts.push(e);
      total += e.length + 1;
    }
  }
  const buf = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
    buf[o++] = 0xff;
  }
  return xxhash64(buf);
}
