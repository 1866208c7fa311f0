/** Shared helpers of the block / db / retention / crash tests. */
import * as fs from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as os from 'node:os';
import { afterAll } from 'vitest';
import {
  Labels,
  Matcher,
  ValueType,
  isStaleNaN,
  openStorage,
  type Querier,
  type Queryable,
  type Storage,
  type StorageLogger,
  type StorageOptions,
} from '../../storage/index.js';

export const L = (...nv: string[]): Labels => Labels.fromPairs(...nv);
export const ALL = [new Matcher('=~', '__name__', '.+')];

export type Contents = Record<string, Array<[number, string]>>;

const f = new Float64Array(1), u = new Uint32Array(f.buffer);

/** A value as comparable text: its bits (NaN payloads exact), 'stale' for the marker. */
export function bits(v: number): string {
  if (isStaleNaN(v)) return 'stale';
  f[0] = v;
  return `${u[1]!.toString(16)}:${u[0]!.toString(16)}`;
}

/** Everything a querier returns for `matchers` over [mint, maxt], in order. */
export function selectAll(q: Querier, matchers: readonly Matcher[] = ALL, mint = -Infinity, maxt = Infinity): Contents {
  const ss = q.select(matchers, mint, maxt);
  const out: Contents = {};
  let prev: Labels | undefined;
  while (ss.next()) {
    const s = ss.at();
    if (prev !== undefined && Labels.compare(prev, s.labels) >= 0) throw new Error(`series out of order: ${prev.toString()} then ${s.labels.toString()}`);
    prev = s.labels;
    const it = s.iterator();
    const xs: Array<[number, string]> = [];
    let last = -Infinity;
    for (let i = 0; i < 10_000_000 && it.next() !== ValueType.None; i++) {
      if (it.atT() <= last) throw new Error(`samples out of order in ${s.labels.toString()}`);
      last = it.atT();
      xs.push([it.atT(), bits(it.atF())]);
    }
    out[s.labels.toString()] = xs;
  }
  return out;
}

/** {@link selectAll} through a fresh querier of `db`, closed afterwards. */
export function query(db: Queryable, matchers: readonly Matcher[] = ALL, mint = -Infinity, maxt = Infinity): Contents {
  const q = db.querier(mint, maxt);
  try {
    return selectAll(q, matchers, mint, maxt);
  } finally {
    q.close();
  }
}

export function countSamples(c: Contents): number {
  let n = 0;
  for (const xs of Object.values(c)) n += xs.length;
  return n;
}

export interface Logged {
  logger: StorageLogger;
  infos: Array<[string, Record<string, unknown> | undefined]>;
  warnings: Array<[string, Record<string, unknown> | undefined]>;
}

export function recorder(): Logged {
  const warnings: Logged['warnings'] = [];
  const infos: Logged['infos'] = [];
  return { warnings, infos, logger: { info: (msg, fields) => infos.push([msg, fields]), warn: (msg, fields) => warnings.push([msg, fields]) } };
}

/** Runs a command; resolves with stdout on exit 0. */
export function run(cmd: string, args: string[], opts: { cwd?: string; uid?: number; gid?: number } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, uid: opts.uid, gid: opts.gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** Transpiles storage/ (which imports nothing of ours) to plain JS under `dest` for a child process. */
export function transpileStorage(dest: string): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const src = join(root, 'storage');
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  for (const file of walk(src)) {
    const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    const target = join(dest, 'storage', relative(src, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(dirname(target), { recursive: true });
    fs.writeFileSync(target, out);
  }
  fs.writeFileSync(join(dest, 'package.json'), '{"type":"module"}');
  if (!fs.existsSync(join(dest, 'node_modules'))) fs.symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'));
}

export const H = 3_600_000;
/** A base time aligned to every compaction range (2 h × 3^k, k ≤ 5). */
export const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (486 * H));

/** A fresh directory per call under one temporary root, removed after the file's tests. */
export function tempDirs(prefix: string): () => string {
  const root = fs.mkdtempSync(join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let seq = 0;
  return () => join(root, `d${seq++}`);
}

/** Opens a storage without background work and waits for its WAL replay. */
export async function openReady(dir: string, opts: Partial<StorageOptions> = {}): Promise<Storage> {
  const db = await openStorage({ dir, compactInterval: 0, ...opts });
  await db.ready;
  return db;
}
