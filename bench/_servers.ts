/**
 * Server processes for the HTTP benchmarks: Prometheus 2.42 (Debian's) and Sextant (the built
 * dist/src/main.js), each on 127.0.0.1 with its own temporary directory, plus CPU accounting
 * from /proc so figures compare the servers' work, not the load generator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
const SEXTANT_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

export interface ServerProcess {
  readonly name: 'sextant' | 'prometheus';
  readonly url: string;
  readonly dir: string;
  readonly proc: ChildProcess;
  /** User + system CPU seconds used by the process so far. */
  cpuSeconds(): number;
  /** Resident memory in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function procStat(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: utime is the 12th, stime the 13th, rss (pages) the 22nd.
  return { cpu: (Number(f[11]) + Number(f[12])) / 100, rss: Number(f[21]) * 4096 };
}

/** Polls `/-/ready` until 200, failing early if the process exits. */
export async function waitReady(url: string, proc: ChildProcess, timeoutMs: number, output: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`exited (${proc.exitCode}): ${output()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface StartOptions {
  config?: string;
  args?: string[];
  /** Runs in the directory before the server starts (e.g. a promtool backfill into data/). */
  prepare?: (dir: string) => void;
}

export async function startServer(name: 'sextant' | 'prometheus', opts: StartOptions = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `sextant-bench-${name}-`));
  writeFileSync(join(dir, 'prometheus.yml'), opts.config ?? 'global: {scrape_interval: 1h}\n');
  opts.prepare?.(dir);
  const port = await freePort();
  const common = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...(opts.args ?? [])];
  const proc =
    name === 'prometheus'
      ? spawn(PROMETHEUS, common, { stdio: ['ignore', 'ignore', 'pipe'] })
      : // SEXTANT_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p") profiles the server.
        spawn(process.execPath, [...(process.env.SEXTANT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), SEXTANT_MAIN, ...common], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, proc, 120_000, () => err);
  } catch (e) {
    await stop();
    throw new Error(`${name}: ${(e as Error).message}`);
  }
  return {
    name,
    url,
    dir,
    proc,
    cpuSeconds: () => procStat(proc.pid!).cpu,
    rssBytes: () => procStat(proc.pid!).rss,
    stop,
  };
}

export function havePrometheus(): boolean {
  return existsSync(PROMETHEUS) && existsSync(PROMTOOL);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Waits (at most 150 s) until the server has persisted the older part of its head into blocks
 * and stopped doing so, so the timings measure queries, not the background compaction.
 */
export async function settled(url: string): Promise<void> {
  const blocks = async (): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^prometheus_tsdb_blocks_loaded (\S+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  };
  const deadline = Date.now() + 150_000;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const n = await blocks();
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (n > 0 && Date.now() - since > 10_000) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.stderr.write(`Sextant still compacting after 150 s (${last} blocks); measuring anyway\n`);
}

