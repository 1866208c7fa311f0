/**
 * Sextant's verdict on each config of the tables must agree with Prometheus 2.42's
 * `promtool check config --syntax-only` (file existence of credentials is not checked by
 * either), except where the table says why 2.42 differs (fields and rules new in 3.x, Debian's
 * build without Kubernetes discovery, SD mechanisms Sextant does not have).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { missing, PROMTOOL } from '../interop/peers.js';
import { INVALID } from './invalid.js';
import { VALID } from './valid.js';

const skip = missing(PROMTOOL);
const dir = mkdtempSync(join(tmpdir(), 'sextant-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function promtool(yaml: string): Promise<{ code: number; stderr: string }> {
  const file = join(dir, `c${n++}.yml`);
  writeFileSync(file, yaml);
  return new Promise((resolve) => {
    execFile(PROMTOOL, ['check', 'config', '--syntax-only', file], { timeout: 30_000 }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 2) : 0, stderr });
    });
  });
}

function ours(yaml: string): number {
  try {
    parseConfig(yaml, join(dir, 'ours.yml'));
    return 0;
  } catch {
    return 1;
  }
}

describe.skipIf(skip !== undefined)(`promtool 2.42 agreement ${skip ?? ''}`, () => {
  it.each(INVALID)('invalid: $name', async ({ yaml, promtool: agree }) => {
    const p = await promtool(yaml);
    expect(ours(yaml)).toBe(1);
    if (agree === true) expect(p.code, p.stderr).toBe(1);
    else expect(p.code, `table says 2.42 differs (${agree}) but promtool rejected it: ${p.stderr}`).toBe(0);
  });

  it.each(VALID)('valid: $name', async ({ yaml, promtool: agree }) => {
    const p = await promtool(yaml);
    expect(ours(yaml)).toBe(0);
    if (agree === true) expect(p.code, p.stderr).toBe(0);
    else expect(p.code, `table says 2.42 differs (${agree}) but promtool accepted it`).toBe(1);
  });
});
