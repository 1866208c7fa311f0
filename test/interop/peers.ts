/**
 * Real peers for interop tests: Debian's Prometheus 2.42 (and promtool), and Sextant itself as
 * a child process running the built `dist/src/main.js` — the same binary users run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
export const SEXTANT_MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

/** Why a peer cannot run here, or undefined when it can. */
export function missing(...binaries: string[]): string | undefined {
  const absent = binaries.filter((b) => !existsSync(b));
  return absent.length > 0 ? `not installed: ${absent.join(', ')} (apt-get install prometheus prometheus-node-exporter)` : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Peer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly proc: ChildProcess;
  /** Output so far (stdout + stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

async function waitReady(url: string, proc: ChildProcess, output: () => string, timeoutMs: number, prefix = ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${proc.spawnfile} exited with ${proc.exitCode}:\n${output()}`);
    try {
      const r = await fetch(`${url}${prefix}/-/ready`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.spawnfile} not ready after ${timeoutMs} ms:\n${output()}`);
}

/** Options of a peer start: `prepare` runs in the new directory before the process starts. */
export interface StartOptions {
  args?: string[];
  prepare?: (dir: string) => Promise<void>;
}

async function startProcess(
  cmd: string,
  args: (dir: string, port: number) => string[],
  files: Record<string, string>,
  prefix: string,
  prepare?: (dir: string) => Promise<void>,
  routePrefix = '',
): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  try {
    await prepare?.(dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const proc = spawn(cmd, args(dir, port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, proc, () => out, 60_000, routePrefix);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, dir, proc, output: () => out, stop };
}

/** Starts Prometheus 2.42 with `config` (YAML) on 127.0.0.1 and waits until it is ready. */
export function startPrometheus(config: string, opts: StartOptions = {}): Promise<Peer> {
  return startProcess(
    PROMETHEUS,
    (dir, port) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(opts.args ?? []),
    ],
    { 'prometheus.yml': config },
    'sextant-prom-',
    opts.prepare,
  );
}

/** Starts Sextant (the built server) with `config` on 127.0.0.1 and waits until it is ready. */
export function startSextant(config: string, opts: StartOptions = {}): Promise<Peer> {
  if (!existsSync(SEXTANT_MAIN)) throw new Error(`${SEXTANT_MAIN} missing: run npm run build first`);
  return startProcess(
    process.execPath,
    (dir, port) => [
      SEXTANT_MAIN,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(opts.args ?? []),
    ],
    { 'prometheus.yml': config },
    'sextant-srv-',
    opts.prepare,
    (opts.args ?? []).find((a) => a.startsWith('--web.route-prefix='))?.slice('--web.route-prefix='.length) ?? '',
  );
}

/** GETs a JSON API path, throwing with the body on a non-2xx answer. */
export async function getJson<T = unknown>(base: string, path: string): Promise<T> {
  const r = await fetch(base + path);
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Polls `check` until it returns a value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
