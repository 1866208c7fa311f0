import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../../../promql/parser/index.js';

const PROMTOOL = '/usr/bin/promtool';

/**
 * Queries whose error Prometheus 2.42 (the promtool installed here) words as 3.5 does.
 * (Where they differ — durations in brackets, UTF-8 names, underscores in numbers — 3.5 wins
 * and the cases live in parser.test.ts.)
 */
const CASES = [
  'foo bar',
  'sum(foo bar)',
  'sum x',
  'foo{',
  'foo{a',
  'foo{a=',
  'foo{a="b"',
  'foo{=}',
  'foo{a}',
  'foo{a="b",,}',
  'foo{a="b" c="d"}',
  'foo{1="a"}',
  '{a=""}',
  '{}',
  'foo{__name__="bar"}',
  'sum by (foo',
  'sum by (foo bar) (x)',
  'sum by (,) (x)',
  'sum by (1) (x)',
  'sum by foo (x)',
  'sum(x) by foo',
  'sum()',
  'topk(x)',
  'topk(1, 2, x)',
  'count_values(1, x)',
  'quantile("a", x)',
  'rate(foo)',
  'rate(foo[5m], 1)',
  'round()',
  'label_join(x)',
  'unknown(x)',
  'rate(foo[5m],)',
  'foo offset 5m offset 1m',
  '(foo) offset 5m',
  'rate(foo[5m]) offset 5m',
  'foo @',
  'foo @ bar',
  'foo @ start',
  'foo @ 1 @ 2',
  '(foo) @ 1',
  'foo @ Inf',
  'foo @ 1e100',
  'foo[5m',
  'foo[5m:',
  '(foo)[5m]',
  'foo offset 5m[5m]',
  'foo @ 1 [5m]',
  'foo[5m][5m]',
  'foo[5m:][1m:]',
  '1[5m:]',
  '-foo[5m]',
  '-"a"',
  'foo + bar[5m]',
  'foo and 1',
  '1 and foo',
  'foo and on(x) group_left bar',
  'foo + on(x) group_left(x) bar',
  '1 + on(x) foo',
  '1 + bool 2',
  'foo + bool bar',
  '1 == 1',
  'foo ==',
  '== foo',
  'foo )',
  'foo ]',
  'foo }',
  '(foo',
  '"a',
  "'a",
  '`a',
  '"\\q"',
  '"\\x4"',
  '1a',
  '5mm',
  '0x',
  'foo !',
  'foo !~ bar',
  'foo =~ bar',
  'sort(foo, bar)',
  'time(1)',
  'vector("a")',
  'label_replace(foo, 1, "", "", "")',
  'absent(nonexistent{job="myjob"}[5m])',
  'histogram_quantile(0.9, rate(x[5m])[5m:])',
  '$',
  'a - on(b) ignoring(c) d',
  '1 offset 1d',
  '0deadbeef',
  '(1))',
  '((1)',
  'foo\n  + bar\n  + ]',
  'foo{a=~"("}',
  'foo "a string that is long"',
  'foo 12345678901',
  'foo "ééééé"',
  'sum(x) by (a) by (b)',
  'foo offset 5m bool',
  'on{a="b"}',
  'atan2',
  'sum by (nan) (x)',
  'Inf{a="b"}',
  'foo{a="b"}{c="d"}',
  'foo[5m:1m:]',
  // Valid in both: no error from either.
  'by',
  'rate(by[5m])',
  'a + on(x) group_left b',
  'foo @ - 5',
  'count_values by (a) ("x", y)',
  '1 - - 1',
  'x{a="b"} offset 5m @ end()',
];

function ours(q: string): string {
  try {
    parse(q);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** Runs promtool check rules once over a file with one recording rule per query. */
function promtoolErrors(queries: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-promtool-'));
  try {
    const file = join(dir, 'rules.yml');
    const rules = queries.map((q) => `  - record: r\n    expr: ${JSON.stringify(q)}\n`).join('');
    writeFileSync(file, `groups:\n- name: g\n  rules:\n${rules}`);
    let out = '';
    try {
      out = execFileSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      out = (e.stdout ?? '') + (e.stderr ?? '');
    }
    const byRule: string[] = queries.map(() => '');
    for (const line of out.split('\n')) {
      const m = /rule (\d+), "r": could not parse expression: (.*)$/.exec(line);
      if (m) byRule[Number(m[1]) - 1] = m[2]!;
    }
    return byRule;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!existsSync(PROMTOOL))('parse errors match promtool (Prometheus 2.42) where 2.42 and 3.5 agree', () => {
  it('gives the same message and position', () => {
    const theirs = promtoolErrors(CASES);
    const diffs: string[] = [];
    CASES.forEach((q, i) => {
      let want = theirs[i]!;
      // 3.x compiles regexes as ^(?s:…)$ where 2.42 used ^(?:…)$.
      want = want.replace('`^(?:', '`^(?s:');
      const got = ours(q);
      if (got !== want) diffs.push(`${JSON.stringify(q)}\n  ours:     ${got}\n  promtool: ${want}`);
    });
    expect(diffs.join('\n')).toBe('');
  });
});
