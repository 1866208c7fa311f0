// Runs every upstream promqltest script in ../shared/conformance/promql/ through Sextant's runner.
// Evals listed in conformance-known-failures.json (file + eval line, with a reason) may fail;
// any other failure fails the test, and so does a listed eval that now passes (prune the list).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runPromqltest, type EvalOutcome } from '../../promql/index.js';

const DIR = new URL('../../../shared/conformance/promql/', import.meta.url).pathname;
const known = JSON.parse(readFileSync(new URL('./conformance-known-failures.json', import.meta.url), 'utf8')) as {
  failures: { file: string; line: number; reason: string }[];
};
const knownKey = new Set(known.failures.map((f) => `${f.file}:${f.line}`));
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.test')).sort() : [];

describe.skipIf(files.length === 0)('promqltest conformance (upstream scripts)', () => {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const file of files) {
    test(file, () => {
      const outcomes: EvalOutcome[] = runPromqltest(readFileSync(join(DIR, file), 'utf8'), file);
      const unexpected: string[] = [];
      const nowPassing: string[] = [];
      for (const o of outcomes) {
        const key = `${file}:${o.line}`;
        if (o.status === 'pass') totals.passed++;
        else if (o.status === 'skip') totals.skipped++;
        else totals.failed++;
        if (o.status === 'fail' && !knownKey.has(key)) unexpected.push(o.message ?? key);
        if (o.status === 'pass' && knownKey.has(key)) nowPassing.push(key);
      }
      expect(outcomes.length).toBeGreaterThan(0);
      expect(unexpected.join('\n\n')).toBe('');
      expect(nowPassing, 'listed as known failures but passing now: remove them from the list').toEqual([]);
    });
  }
  test('summary', () => {
    process.stderr.write(`promqltest: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
    expect(totals.passed).toBeGreaterThan(0);
  });
});
