// xxHash64 against published vectors, and limit_ratio's complement property built on it.
import { describe, expect, test } from 'vitest';
import { xxhash64 } from '../../../promql/engine/xxhash.js';
import { Engine } from '../../../promql/index.js';
import { Head, Labels } from '../../../storage/index.js';

describe('xxhash64 (limit_ratio sampling)', () => {
  test('published test vectors (seed 0)', () => {
    const e = new TextEncoder();
    expect(xxhash64(e.encode('')).toString(16)).toBe('ef46db3751d8e999');
    expect(xxhash64(e.encode('a')).toString(16)).toBe('d24ec4f1a98c6e5b');
    expect(xxhash64(e.encode('abc')).toString(16)).toBe('44bc2cf5ad770999');
    expect(xxhash64(e.encode('Nobody inspects the spammish repetition')).toString(16)).toBe('fbcea83c8a378bf1');
  });

  test('limit_ratio(r) and limit_ratio(r - 1) partition the series', () => {
    const h = new Head();
    const app = h.appender();
    for (let i = 0; i < 200; i++) app.append(0, Labels.fromPairs('__name__', 'x', 'i', String(i)), 0, i);
    app.commit();
    const engine = new Engine();
    const count = (q: string): number => {
      const v = engine.instant(h, q, 0).value;
      return v.type === 'vector' ? v.samples.length : -1;
    };
    const a = count('limit_ratio(0.3, x)');
    const b = count('limit_ratio(-0.7, x)');
    expect(a + b).toBe(200);
    expect(count('limit_ratio(0.3, x) and limit_ratio(-0.7, x)')).toBe(0);
    expect(a).toBeGreaterThan(30);
    expect(a).toBeLessThan(90);
  });
});
