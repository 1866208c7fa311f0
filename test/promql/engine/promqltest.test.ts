// The promqltest runner itself: expanding notation, outcome counting, failure output and exit code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { expandValues, parseDurationMs, runPromqltest, runPromqltestCommand } from '../../../promql/index.js';
import { isStaleNaN } from '../../../storage/index.js';

const SCRIPT = `
load 1m
  foo{a="1"} 1+1x10
  foo{a="2"} 5 _ stale 3
  hist{a="1"} {{schema:0 sum:1 count:1}}x3

# passes
eval instant at 5m foo
  foo{a="1"} 6
  foo{a="2"} 3

# fails: wrong value
eval range from 0 to 3m step 1m foo
  foo{a="1"} 1 2 3 4
  foo{a="2"} 5 5 _ 2

eval instant at 5m rate(foo[5m])
  expect info msg: PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "foo"
  {a="1"} 0.016666666666666666

eval_ordered instant at 5m sort_desc(foo)
  foo{a="1"} 6
  foo{a="2"} 3

eval instant at 5m nosuch(foo)
  expect fail regex: unknown function

# skipped: selects a native histogram series
eval instant at 1m hist
  {a="1"} 1
`;

describe('promqltest runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-promqltest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('expanding notation', () => {
    expect(expandValues('-2+4x3')).toEqual([-2, 2, 6, 10]);
    expect(expandValues('1-2x4')).toEqual([1, -1, -3, -5, -7]);
    expect(expandValues('1x4')).toEqual([1, 1, 1, 1, 1]);
    const v = expandValues('1 _x3 stale Inf -Inf NaN');
    expect(v.slice(0, 4)).toEqual([1, null, null, null]);
    expect(isStaleNaN(v[4] as number)).toBe(true);
    expect(v.slice(5, 7)).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(v[7])).toBe(true);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('10s53ms')).toBe(10_053);
    expect(parseDurationMs('0')).toBe(0);
  });

  test('outcomes per eval', () => {
    const outcomes = runPromqltest(SCRIPT, 'x.test');
    expect(outcomes.map((o) => `${o.line}:${o.status}`)).toEqual(['8:pass', '13:fail', '17:pass', '21:pass', '25:pass', '29:skip']);
    expect(outcomes[1]!.message).toContain('expected: 5 5 _ 2');
    expect(outcomes[1]!.message).toContain('got:      5 5 _ 3');
  });

  test('command prints failures and the summary line, exit code 1 on failure', async () => {
    const file = join(dir, 'x.test');
    writeFileSync(file, SCRIPT);
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    const code = await runPromqltestCommand([file], out);
    expect(code).toBe(1);
    expect(text).toContain('FAIL ');
    expect(text).toContain('foo (from 0s to 180s step 60s)');
    expect(text.trimEnd().split('\n').pop()).toBe('promqltest: 4 passed, 1 failed, 1 skipped');
    const ok = join(dir, 'ok.test');
    writeFileSync(ok, 'load 1m\n  x 1\n\neval instant at 0 x\n  x 1\n');
    const out2 = new PassThrough();
    let t2 = '';
    out2.on('data', (b: Buffer) => (t2 += b.toString()));
    expect(await runPromqltestCommand([ok], out2)).toBe(0);
    expect(t2).toBe('promqltest: 1 passed, 0 failed, 0 skipped\n');
  });
});
