import { describe, expect, it } from 'vitest';
import { numberStatus, parseFloatBytes, parseIntBytes } from '../../src/exposition/floats.js';

function pf(s: string): number {
  const b = Buffer.from(s);
  return parseFloatBytes(b, 0, b.length);
}

describe('parseFloatBytes', () => {
  it('agrees with correctly rounded decimal conversion on 20,000 generated numbers (fast and slow paths)', () => {
    // A fixed LCG: deterministic inputs, every run the same.
    const wrong: string[] = [];
    let x = 12345;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    for (let i = 0; i < 20000; i++) {
      const digits = 1 + rnd(19);
      let m = '';
      for (let d = 0; d < digits; d++) m += String(rnd(10));
      const dot = rnd(digits + 1);
      let s = rnd(3) === 0 ? '-' : '';
      s += m.slice(0, dot) + (rnd(2) ? '.' : '') + m.slice(dot);
      if (s.replace('-', '') === '.') s = '0';
      if (rnd(2)) s += (rnd(2) ? 'e' : 'E') + (rnd(3) === 0 ? '-' : rnd(2) ? '+' : '') + String(rnd(40));
      const got = pf(s);
      if (numberStatus.error !== '' || !Object.is(got, Number(s))) wrong.push(`${s}: ${got} ${numberStatus.error}`);
    }
    expect(wrong).toEqual([]);
  });

  it('Go specials and rejections', () => {
    expect(pf('Inf')).toBe(Infinity);
    expect(pf('-inf')).toBe(-Infinity);
    expect(pf('+Infinity')).toBe(Infinity);
    expect(pf('NaN')).toBeNaN();
    for (const bad of ['', '+', '-', '.', 'e5', '1e', '1e+', '0x10', '1_0', '0x1p3', 'Infinit', '+nan', '1.2.3', ' 1', '1 ']) {
      pf(bad);
      expect(numberStatus.error, bad).not.toBe('');
    }
  });

  it('parseIntBytes', () => {
    const pi = (s: string) => parseIntBytes(Buffer.from(s), 0, Buffer.byteLength(s));
    expect(pi('1395066363000')).toBe(1395066363000);
    expect(pi('-3982045')).toBe(-3982045);
    expect(pi('9223372036854775807')).toBe(9223372036854775807);
    expect(pi('-9223372036854775808')).toBe(-9223372036854775808);
    pi('9223372036854775808');
    expect(numberStatus.error).toContain('value out of range');
  });
});
