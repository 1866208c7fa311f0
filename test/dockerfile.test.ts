/**
 * No Docker engine runs here, so the Dockerfile is checked by reading it: known instructions,
 * sources that exist, a non-root user, Prometheus's port, volume and flags, and an entry point
 * that is the compiled `bin` of package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../src/flags/index.js';

const root = new URL('..', import.meta.url).pathname;
const text = readFileSync(`${root}Dockerfile`, 'utf8');

interface Instruction {
  line: number;
  op: string;
  args: string;
}

function instructions(src: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = src.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!.trim();
    if (l === '' || l.startsWith('#')) continue;
    const start = i + 1;
    while (l.endsWith('\\') && i + 1 < lines.length) l = l.slice(0, -1) + ' ' + lines[++i]!.trim();
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    out.push({ line: start, op: m[1]!.toUpperCase(), args: m[2]! });
  }
  return out;
}

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);
const ins = instructions(text);
const stages = ins.filter((i) => i.op === 'FROM');
const finalStage = ins.slice(ins.lastIndexOf(stages[stages.length - 1]!));

describe('Dockerfile', () => {
  it('uses only known instructions, each with arguments', () => {
    for (const i of ins) {
      expect(KNOWN.has(i.op), `line ${i.line}: unknown instruction ${i.op}`).toBe(true);
      expect(i.args.length, `line ${i.line}: ${i.op} without arguments`).toBeGreaterThan(0);
    }
  });

  it('is multi-stage: a named build stage and a slim runtime image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]!.args).toMatch(/ AS build$/);
    expect(stages[stages.length - 1]!.args).toMatch(/^node:\$\{NODE_VERSION\}-\S*slim/);
  });

  it('copies only paths that exist in the repository or an earlier stage', () => {
    for (const i of ins.filter((x) => x.op === 'COPY')) {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      if (/--from=/.test(i.args)) {
        expect(i.args, `line ${i.line}`).toMatch(/--from=build /);
        continue;
      }
      for (const src of parts.slice(0, -1)) expect(existsSync(`${root}${src}`), `line ${i.line}: ${src} missing`).toBe(true);
    }
  });

  it('runs as a non-root user with the /prometheus volume and port 9090', () => {
    const user = finalStage.filter((i) => i.op === 'USER').pop();
    expect(user?.args).toBeDefined();
    expect(['root', '0']).not.toContain(user!.args.split(':')[0]);
    expect(finalStage.some((i) => i.op === 'EXPOSE' && i.args.split(/\s+/).includes('9090'))).toBe(true);
    expect(finalStage.some((i) => i.op === 'VOLUME' && i.args.includes('/prometheus'))).toBe(true);
  });

  it("starts the package's bin with Prometheus's image flags, which Sextant accepts", () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin: Record<string, string> };
    const entry = JSON.parse(finalStage.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entry.join(' ')).toContain(pkg.bin.sextant!);
    const cmd = JSON.parse(finalStage.find((i) => i.op === 'CMD')!.args) as string[];
    expect(cmd).toEqual(['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus']);
    const flags = parseFlags(cmd);
    expect(flags.values.get('storage.tsdb.path')).toBe('/prometheus');
  });

  it('builds better-sqlite3 from source: toolchain in the build stage, lockfile install', () => {
    const build = ins.slice(0, ins.indexOf(stages[1]!));
    expect(build.some((i) => i.op === 'RUN' && /g\+\+/.test(i.args) && /python3/.test(i.args))).toBe(true);
    expect(build.some((i) => i.op === 'RUN' && /npm ci/.test(i.args))).toBe(true);
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.['better-sqlite3']).toBe(true);
  });
});
