/**
 * scrape: end to end, N loopback targets serving real node_exporter payloads (the recorded
 * dataset, values evolving scrape by scrape; targets in a child process) scraped at the same
 * time by Sextant's ScrapeManager into a Head (in this process) and by Prometheus 2.42 (its
 * own process, when installed). Reports samples ingested per second and CPU seconds per
 * million samples for both (Sextant: process.cpuUsage of this process; Prometheus:
 * utime+stime from /proc/<pid>/stat), and their ratio.
 *
 * `npm run bench -- scrape [--targets N] [--interval-ms MS] [--seconds S] [--no-prometheus]`
 */
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Head, Wal, type Appendable, type Appender } from '../storage/index.js';
import { parseConfig } from '../src/config/index.js';
import { Registry } from '../src/metrics/index.js';
import { ScrapeManager, formatDuration } from '../src/scrape/index.js';
import { note, report } from './report.js';

const BENCH = 'scrape';
const PROMETHEUS = '/usr/bin/prometheus';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in seconds. */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is index 0, so utime (14) and stime (15) are 11 and 12.
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Samples Prometheus ingested for job="node" in the `seconds` before `endMs`, from its own
 * scrape reports: scraped samples after relabeling plus the 5 synthetic ones per scrape.
 */
async function promSamplesIngested(url: string, endMs: number, seconds: number): Promise<number> {
  const w = `${Math.round(seconds)}s`;
  const q = `sum(sum_over_time(scrape_samples_post_metric_relabeling{job="node"}[${w}])) + 5 * sum(count_over_time(up{job="node"}[${w}]))`;
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}&time=${(endMs / 1000).toFixed(3)}`);
  const r = (await res.json()) as { data?: { result: { value: [number, string] }[] }; error?: string };
  if (!r.data) throw new Error(`prometheus query failed: ${r.error ?? res.status}`);
  return Number(r.data.result[0]?.value[1] ?? NaN);
}

export async function run(args: string[]): Promise<void> {
  const nTargets = arg(args, 'targets', 20);
  const intervalMs = arg(args, 'interval-ms', 1000);
  const seconds = arg(args, 'seconds', 30);
  const warmup = Math.max(3000, 3 * intervalMs);
  const withProm = !args.includes('--no-prometheus') && existsSync(PROMETHEUS);

  const child = fork(new URL('./_scrapetargets.js', import.meta.url), [String(nTargets), '300'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { ports, series } = await new Promise<{ ports: number[]; series: number }>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { type: string; ports: number[]; series: number }) => m.type === 'ready' && resolve(m));
  });
  note(`scrape: ${nTargets} targets (~${series} series each) every ${intervalMs} ms for ${seconds} s after ${warmup} ms warm-up`);
  const iv = formatDuration(intervalMs);
  const yaml = `
global:
  scrape_interval: ${iv}
  scrape_timeout: ${iv}
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [${ports.map((p) => `'127.0.0.1:${p}'`).join(', ')}]
`;

  let prom: { pid: number; url: string; stop: () => Promise<void> } | undefined;
  if (withProm) {
    const dir = mkdtempSync(join(tmpdir(), 'sextant-bench-prom-'));
    writeFileSync(join(dir, 'prometheus.yml'), yaml);
    const port = 19000 + Math.floor(Math.random() * 1000);
    const p = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/-/ready`)).ok) break;
      } catch {
        // starting
      }
      if (Date.now() > deadline || p.exitCode !== null) throw new Error('prometheus did not start');
      await sleep(100);
    }
    prom = {
      pid: p.pid!,
      url,
      stop: async () => {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await exited;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } else note('scrape: Prometheus not measured (not installed or --no-prometheus)');

  // A WAL, as Prometheus writes one: both pay for durability.
  const walDir = mkdtempSync(join(tmpdir(), 'sextant-bench-wal-'));
  const wal = Wal.open(join(walDir, 'wal'));
  const head = new Head({ wal });
  let appended = 0;
  const counting: Appendable = {
    appender(): Appender {
      const a = head.appender();
      return {
        append(ref, l, t, v) {
          appended++;
          return a.append(ref, l, t, v);
        },
        commit: () => a.commit(),
        rollback: () => a.rollback(),
      };
    },
  };
  const cfg = parseConfig(yaml, join(tmpdir(), 'prometheus.yml'));
  const sm = new ScrapeManager({ appendable: counting, registry: new Registry() });
  sm.applyConfig(cfg);
  sm.updateTargets(new Map([['node', cfg.scrapeConfigs[0]!.staticConfigs.map((g, i) => ({ ...g, source: String(i) }))]]));

  await sleep(warmup);
  const c0 = process.cpuUsage();
  const a0 = appended;
  const p0 = prom ? procCpu(prom.pid) : 0;
  const start = Date.now();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const samples = appended - a0;
  const cpu = (c1.user + c1.system) / 1e6;
  const p1 = prom ? procCpu(prom.pid) : 0;
  const end = Date.now();
  // Let Prometheus finish in-flight scrapes, then count what it stored in the window.
  await sleep(Math.min(2000, intervalMs));
  const pSamples = prom ? await promSamplesIngested(prom.url, end, (end - start) / 1000) : 0;

  const down = sm.activeTargets().filter((t) => t.health !== 'up');
  if (down.length > 0) note(`scrape: ${down.length} targets not up: ${down[0]!.lastError}`);
  await sm.stop();
  if (prom) await prom.stop();
  child.disconnect();
  wal.close();
  rmSync(walDir, { recursive: true, force: true });

  const sextantCpuPerM = (cpu / samples) * 1e6;
  report({ bench: BENCH, name: 'sextant_samples_per_second', value: round(samples / wall, 0), unit: 'samples/s', targets: nTargets, interval_ms: intervalMs });
  report({ bench: BENCH, name: 'sextant_cpu_seconds_per_million_samples', value: round(sextantCpuPerM), unit: 's' });
  report({ bench: BENCH, name: 'sextant_cpu_utilisation', value: round(cpu / wall), unit: 'cores' });
  // One core spends 1 s of CPU per s; at a 15 s interval each series costs cpu-per-sample / 15 s.
  report({ bench: BENCH, name: 'sextant_series_per_core_at_15s', value: round((15 / sextantCpuPerM) * 1e6, -3), unit: 'series', derived: 'from cpu per sample' });
  if (prom) {
    const pCpu = p1 - p0;
    const promCpuPerM = (pCpu / pSamples) * 1e6;
    report({ bench: BENCH, name: 'prometheus_samples_per_second', value: round(pSamples / wall, 0), unit: 'samples/s' });
    report({ bench: BENCH, name: 'prometheus_cpu_seconds_per_million_samples', value: round(promCpuPerM), unit: 's' });
    report({ bench: BENCH, name: 'cpu_ratio_sextant_to_prometheus', value: round(sextantCpuPerM / promCpuPerM), unit: 'x' });
  }
}
