/**
 * Sextant's verdict on each config of the tables must agree with Prometheus 2.42's
 * `promtool check config --syntax-only` (file existence of credentials is not checked by
 * either), except where the table says why 2.42 differs (fields and rules new in 3.x, Debian's
 * build without Kubernetes discovery, SD mechanisms Sextant does not have).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigCommand, parseConfig } from '../../src/config/index.js';
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

describe.skipIf(skip !== undefined)(`check config command vs promtool check config (files on disk) ${skip ?? ''}`, () => {
  const cases: [string, Record<string, string>][] = [
    ['valid with rule files and SD files', {
      'p.yml': "rule_files: ['rules/*.yml']\nscrape_configs: [{job_name: a, file_sd_configs: [{files: ['sd/*.json']}], authorization: {credentials_file: tok}}]\n",
      'rules/a.yml': 'groups: []\n',
      'sd/x.json': '[{"targets": ["a:1"], "labels": {"env": "x"}}]',
      tok: 'secret',
    }],
    ['missing explicit rule file', { 'p.yml': "rule_files: ['nope.yml']\n" }],
    ['rule glob matching nothing', { 'p.yml': "rule_files: ['rules/*.yml']\n" }],
    ['missing credentials file', { 'p.yml': 'scrape_configs: [{job_name: a, bearer_token_file: tok}]\n' }],
    ['missing client key', { 'p.yml': 'scrape_configs: [{job_name: a, tls_config: {cert_file: c.pem, key_file: k.pem}}]\n', 'c.pem': 'x' }],
    ['bad SD file', { 'p.yml': "scrape_configs: [{job_name: a, file_sd_configs: [{files: ['sd.yml']}]}]\n", 'sd.yml': 'targets: [a]\n' }],
    ['unparseable rule file', { 'p.yml': "rule_files: ['r.yml']\n", 'r.yml': 'groups: [\n' }],
  ];
  it.each(cases)('%s', async (_name, files) => {
    const d = mkdtempSync(join(dir, 'disk-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(d, name)), { recursive: true });
      writeFileSync(join(d, name), text);
    }
    const theirs = await new Promise<number>((resolve) => {
      execFile(PROMTOOL, ['check', 'config', join(d, 'p.yml')], { timeout: 30_000 }, (err) => resolve(err ? 1 : 0));
    });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const mine = await checkConfigCommand([join(d, 'p.yml')], { stdout: sink, stderr: sink });
    expect(mine).toBe(theirs);
  });
});
