/**
 * The `sextant` command line as users run it (the built dist/src/main.js): --version, --help,
 * flag errors, `check config` (promtool's exit codes and output shape) and `promqltest`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SEXTANT_MAIN } from './interop/peers.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sextant-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sextant(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [SEXTANT_MAIN, ...args], { timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sextant command line', () => {
  it('--version and --help', async () => {
    const v = await sextant('--version');
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^sextant, version \d+\.\d+\.\d+/);
    const h = await sextant('--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--storage.tsdb.retention.time');
  });

  it('an unknown flag is an error naming it, with usage', async () => {
    const r = await sextant('--no-such-flag');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-flag/);
    expect(r.stderr).toMatch(/usage/i);
  });

  it('check config: 0 for a good file, 1 with the error for a bad one', async () => {
    const good = join(dir, 'good.yml');
    const bad = join(dir, 'bad.yml');
    writeFileSync(good, 'global: {scrape_interval: 15s}\nscrape_configs: [{job_name: a, static_configs: [{targets: ["x:1"]}]}]\n');
    writeFileSync(bad, 'scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n');
    const ok = await sextant('check', 'config', good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`SUCCESS: ${good} is valid prometheus config file syntax`);
    const ko = await sextant('check', 'config', '--syntax-only', bad);
    expect(ko.code).toBe(1);
    expect(ko.stderr).toMatch(/FAILED: .*scrape timeout greater than scrape interval/);
  });

  it('promqltest runs a script and prints the summary line', async () => {
    const script = join(dir, 'a.test');
    writeFileSync(script, 'load 1m\n  m{a="1"} 1+1x5\n\neval instant at 2m m\n  m{a="1"} 3\n\neval instant at 2m m * 2\n  {a="1"} 7\n');
    const r = await sextant('promqltest', script);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/promqltest: 1 passed, 1 failed, 0 skipped\n$/);
  });
});
