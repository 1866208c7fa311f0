/**
 * `process_*` metrics with the names and meaning of Prometheus's process collector, read from
 * /proc where available (Linux), so dashboards built for Prometheus show Sextant's process.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Registry } from './registry.js';

const CLOCK_TICKS = 100; // _SC_CLK_TCK on Linux
const PAGE_SIZE = 4096;

function readProcStat(): { utime: number; stime: number; vsize: number; rss: number; start: number } | null {
  try {
    const s = readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return {
      utime: Number(f[11]),
      stime: Number(f[12]),
      start: Number(f[19]),
      vsize: Number(f[20]),
      rss: Number(f[21]),
    };
  } catch {
    return null;
  }
}

function bootTimeSeconds(): number {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function maxFds(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export function registerProcessMetrics(reg: Registry): void {
  const startSeconds = (() => {
    const st = readProcStat();
    const boot = bootTimeSeconds();
    return st && boot ? boot + st.start / CLOCK_TICKS : Date.now() / 1000 - process.uptime();
  })();
  reg.collected('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 'counter', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  reg.collected('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', () => {
    const st = readProcStat();
    return st ? st.rss * PAGE_SIZE : process.memoryUsage.rss();
  });
  reg.collected('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 'gauge', () => readProcStat()?.vsize ?? NaN);
  reg.collected('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 'gauge', () => startSeconds);
  reg.collected('process_open_fds', 'Number of open file descriptors.', 'gauge', () => {
    try {
      return readdirSync('/proc/self/fd').length;
    } catch {
      return NaN;
    }
  });
  reg.collected('process_max_fds', 'Maximum number of open file descriptors.', 'gauge', maxFds);
  reg.collected('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', 'gauge', () => process.memoryUsage().heapUsed);
  reg.collected('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JS objects (buffers), in bytes.', 'gauge', () => process.memoryUsage().external);
}
