import { describe, expect, it } from 'vitest';
import { ParseError, formatExpr, parse, parseSelector, parseSeriesDescription } from '../../../promql/parser/index.js';

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
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

const TOKENS = [
  'foo', 'bar', 'sum', 'rate', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
  'and', 'or', 'unless', 'atan2', 'topk', 'count_values', 'start', 'end', 'Inf', 'NaN', 'histogram_quantile',
  'label_replace', 'x:y', '(', ')', '{', '}', '[', ']', ',', ':', '@', '=', '!=', '=~', '!~', '==', '>', '<=',
  '+', '-', '*', '/', '%', '^', '1', '0.5', '1e3', '0x1f', '5m', '1h30m', '"a"', "'b'", '`c`', '"\\x41"', '#',
  '\n', ' ', '_', 'é', '"', '\\', '.', '$',
];

const SEEDS = [
  'sum by (job) (rate(http_requests_total{job="api",code=~"5.."}[5m])) / on(job) group_left sum by (job) (rate(x[5m]))',
  'max_over_time(rate(foo[5m])[1h:1m] offset 5m @ end())',
  'histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m]))) > bool 0.5',
  'topk(3, count_values("v", foo)) or -bar ^ 2 unless baz',
  'foo[29s+1s:((8 - 2) * 7s) % 4 + 8000ms] offset -(2 * 3s)',
  'label_replace(up{"my.metric", a!~"b"}, "dst", "$1", "src", "(.*)")',
];

function check(q: string): void {
  try {
    const e = parse(q);
    // Anything that parses must print to something that parses again.
    parse(formatExpr(e));
  } catch (err) {
    if (!(err instanceof ParseError)) throw new Error(`non-ParseError for ${JSON.stringify(q)}: ${String(err)}`, { cause: err });
  }
}

describe('parser fuzz (bounded, deterministic)', () => {
  it('random token soup only ever throws ParseError', () => {
    const r = rng(42);
    for (let i = 0; i < 4000; i++) {
      const n = 1 + Math.floor(r() * 20);
      let q = '';
      for (let k = 0; k < n; k++) q += TOKENS[Math.floor(r() * TOKENS.length)]! + (r() < 0.5 ? ' ' : '');
      check(q);
    }
  });

  it('mutated real queries only ever throw ParseError', () => {
    const r = rng(7);
    for (let i = 0; i < 4000; i++) {
      let q = SEEDS[i % SEEDS.length]!;
      const edits = 1 + Math.floor(r() * 4);
      for (let k = 0; k < edits; k++) {
        const pos = Math.floor(r() * (q.length + 1));
        const op = r();
        if (op < 0.33) q = q.slice(0, pos) + q.slice(pos + 1 + Math.floor(r() * 3));
        else if (op < 0.66) q = q.slice(0, pos) + TOKENS[Math.floor(r() * TOKENS.length)]! + q.slice(pos);
        else q = q.slice(0, pos) + String.fromCharCode(Math.floor(r() * 0x3000)) + q.slice(pos);
      }
      check(q);
    }
  });

  it('random bytes in selectors and series descriptions only throw ParseError', () => {
    const r = rng(99);
    for (let i = 0; i < 2000; i++) {
      let q = '';
      const n = Math.floor(r() * 30);
      for (let k = 0; k < n; k++) q += String.fromCharCode(Math.floor(r() * 128));
      for (const f of [parseSelector, parseSeriesDescription]) {
        try {
          f(q);
        } catch (err) {
          expect(err).toBeInstanceOf(ParseError);
        }
      }
    }
  });

  it('pathological inputs end quickly with ParseError', () => {
    for (const q of ['('.repeat(100_000), '-'.repeat(100_000), 'a' + '+a'.repeat(50_000), '{'.repeat(1000), '"'.repeat(10_001), '1'.repeat(2_000_000)]) {
      try {
        parse(q);
      } catch (err) {
        expect(err).toBeInstanceOf(ParseError);
      }
    }
  });
});
