import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { ParseError, formatExpr, parse, parseSeriesDescription, prettify } from '../../../promql/parser/index.js';
import { shape } from './helpers.js';

const DIR = new URL('../../../../shared/conformance/promql/', import.meta.url).pathname;

interface Eval {
  file: string;
  line: number;
  query: string;
  expectFail: boolean;
  failMsg: string | null;
}

function collect(): { evals: Eval[]; loads: Array<{ file: string; line: number; text: string }> } {
  const evals: Eval[] = [];
  const loads: Array<{ file: string; line: number; text: string }> = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.test'))) {
    const lines = readFileSync(DIR + file, 'utf8').split('\n');
    let inLoad = false;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (/^load(_with_nhcb)?\s/.test(l)) {
        inLoad = true;
        continue;
      }
      if (inLoad && /^\s+\S/.test(l) && !l.trim().startsWith('#')) {
        loads.push({ file, line: i + 1, text: l.trim() });
        continue;
      }
      inLoad = false;
      const m = /^(eval(?:_fail|_warn|_info|_ordered)?)\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(l);
      if (!m) continue;
      let expectFail = m[1] === 'eval_fail';
      let failMsg: string | null = null;
      for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) {
        const t = lines[j]!.trim();
        if (t.startsWith('expect fail')) {
          expectFail = true;
          const mm = /msg:\s*(.*)$/.exec(t);
          if (mm) failMsg = mm[1]!;
        }
        if (t.startsWith('expected_fail_message')) failMsg = t.slice('expected_fail_message'.length).trim();
      }
      evals.push({ file, line: i + 1, query: m[2]!, expectFail, failMsg });
    }
  }
  return { evals, loads };
}

describe.skipIf(!existsSync(DIR))('upstream promqltest scripts', () => {
  const { evals, loads } = existsSync(DIR) ? collect() : { evals: [], loads: [] };

  it('finds the scripts', () => {
    expect(evals.length).toBeGreaterThan(1000);
    expect(loads.length).toBeGreaterThan(500);
  });

  it('parses every eval expression not expected to fail, and each prints back to the same tree', () => {
    const failures: string[] = [];
    for (const ev of evals) {
      if (ev.expectFail) continue;
      try {
        const e = parse(ev.query);
        const printed = formatExpr(e);
        const again = parse(printed);
        if (JSON.stringify(shape(again)) !== JSON.stringify(shape(e))) failures.push(`${ev.file}:${ev.line} round trip changed ${ev.query} -> ${printed}`);
        const pretty = parse(prettify(e));
        if (JSON.stringify(shape(pretty)) !== JSON.stringify(shape(e))) failures.push(`${ev.file}:${ev.line} prettify changed ${ev.query}`);
      } catch (err) {
        failures.push(`${ev.file}:${ev.line} ${ev.query}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('expected failures with a message that are parse errors carry that message', () => {
    const failures: string[] = [];
    let checked = 0;
    for (const ev of evals) {
      if (!ev.expectFail || ev.failMsg === null) continue;
      try {
        parse(ev.query);
      } catch (err) {
        expect(err).toBeInstanceOf(ParseError);
        checked++;
        if (!(err as Error).message.includes(ev.failMsg)) failures.push(`${ev.file}:${ev.line} ${ev.query}: ${(err as Error).message} (want ${ev.failMsg})`);
      }
    }
    expect(failures).toEqual([]);
    // Those failing at evaluation (duplicate series, invalid label names) are the engine's.
    expect(checked).toBeGreaterThanOrEqual(0);
  });

  it('parses every load line without native histograms', () => {
    const failures: string[] = [];
    for (const l of loads) {
      if (l.text.includes('{{')) continue;
      try {
        parseSeriesDescription(l.text);
      } catch (err) {
        failures.push(`${l.file}:${l.line} ${l.text}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
