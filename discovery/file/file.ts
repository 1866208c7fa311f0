/**
 * `file_sd_configs`: target groups read from YAML or JSON files named by patterns (`*`, `?` and
 * `[…]` allowed in the last path element). Files are re-read when their directory changes
 * (fs.watch) and every `refresh_interval`. A file that cannot be read or parsed keeps the groups
 * it last produced (the error is logged and counted in `prometheus_sd_file_read_errors_total`);
 * a file that disappears, or now has fewer groups, deletes the missing ones with empty groups.
 * Group sources are `<path>:<index>` and every group carries `__meta_filepath`.
 */

import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Discoverer, DiscoveryLogger, LabelSet, TargetGroup } from '../types.js';
import type { CollectedFamily } from '../kubernetes/index.js';

/** One `file_sd_configs` entry. */
export interface FileSDOptions {
  /** Patterns, already resolved against the config file's directory. */
  readonly files: readonly string[];
  /** `refresh_interval` in ms (Prometheus's default 5m). */
  readonly refreshInterval: number;
}

export interface FileDiscovererOptions {
  readonly logger?: DiscoveryLogger;
  /** Shared counters; one per server so the families are registered once. */
  readonly metrics?: FileSDMetrics;
  /** Delay between a change seen by fs.watch and the re-read (coalesces bursts). Default 20 ms. */
  readonly debounceMs?: number;
}

/** The file SD counters of one server, with Prometheus's names. */
export class FileSDMetrics {
  readErrors = 0;
  watcherErrors = 0;
  scanSeconds = 0;
  scans = 0;
  /** path → mtime in seconds, of files read successfully by a running discoverer. */
  readonly mtimes = new Map<string, number>();

  families(): CollectedFamily[] {
    return [
      {
        name: 'prometheus_sd_file_read_errors_total',
        help: 'The number of File-SD read errors.',
        type: 'counter',
        collect: () => this.readErrors,
      },
      {
        name: 'prometheus_sd_file_watcher_errors_total',
        help: 'The number of File-SD errors caused by filesystem watch failures.',
        type: 'counter',
        collect: () => this.watcherErrors,
      },
      {
        name: 'prometheus_sd_file_scan_duration_seconds_sum',
        help: 'The duration of the File-SD scan in seconds (sum).',
        type: 'counter',
        collect: () => this.scanSeconds,
      },
      {
        name: 'prometheus_sd_file_scan_duration_seconds_count',
        help: 'The duration of the File-SD scan in seconds (count).',
        type: 'counter',
        collect: () => this.scans,
      },
      {
        name: 'prometheus_sd_file_mtime_seconds',
        help: 'Timestamp (mtime) of files read by FileSD. Timestamp is set at read time.',
        type: 'gauge',
        collect: () => [...this.mtimes].map(([filename, value]) => ({ labels: { filename }, value })),
      },
    ];
  }
}

/** A file's content is not a valid list of target groups. */
export class FileSDError extends Error {
  override readonly name = 'FileSDError';
}

const NOP_LOGGER: DiscoveryLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Largest file read (a bad pattern must not make us read a huge log file into memory). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Most files one pattern may match. */
const MAX_FILES_PER_PATTERN = 100_000;

/**
 * Parses the content of a file SD file: `.json` as JSON, `.yml`/`.yaml` as YAML. Returns the
 * groups with source `<path>:<index>` and `__meta_filepath` set. Throws {@link FileSDError}
 * naming the file and what is wrong.
 */
export function parseTargetGroupFile(path: string, text: string): TargetGroup[] {
  const ext = extname(path).toLowerCase();
  let doc: unknown;
  if (ext === '.json') {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new FileSDError(`${path}: invalid JSON: ${(err as Error).message}`);
    }
  } else if (ext === '.yml' || ext === '.yaml') {
    try {
      doc = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
    } catch (err) {
      throw new FileSDError(`${path}: invalid YAML: ${(err as Error).message}`);
    }
    if (doc === null || doc === undefined) doc = [];
  } else {
    throw new FileSDError(`${path}: retrieval of target groups from unknown file extension ${JSON.stringify(ext)}`);
  }
  if (!Array.isArray(doc)) throw new FileSDError(`${path}: expected a list of target groups, got ${typeName(doc)}`);
  const yaml = ext !== '.json';
  const out: TargetGroup[] = [];
  doc.forEach((item: unknown, i: number) => {
    const where = `${path}: group ${i}`;
    if (item === null || item === undefined) throw new FileSDError(`${where}: nil target group item found`);
    if (typeof item !== 'object' || Array.isArray(item)) throw new FileSDError(`${where}: expected a mapping with targets and labels, got ${typeName(item)}`);
    const obj = item as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (k !== 'targets' && k !== 'labels') throw new FileSDError(`${where}: field ${k} not found in type targetgroup.Group`);
    }
    const targets: LabelSet[] = [];
    const rawTargets = obj['targets'] ?? [];
    if (!Array.isArray(rawTargets)) throw new FileSDError(`${where}: targets must be a list of strings, got ${typeName(rawTargets)}`);
    rawTargets.forEach((t: unknown, j: number) => {
      if (typeof t !== 'string' && !(yaml && (typeof t === 'number' || typeof t === 'boolean'))) {
        throw new FileSDError(`${where}: target ${j} must be a string, got ${typeName(t)}`);
      }
      targets.push({ __address__: String(t) });
    });
    const labels: LabelSet = {};
    const rawLabels = obj['labels'] ?? {};
    if (typeof rawLabels !== 'object' || rawLabels === null || Array.isArray(rawLabels)) {
      throw new FileSDError(`${where}: labels must be a mapping of label names to values, got ${typeName(rawLabels)}`);
    }
    for (const [name, v] of Object.entries(rawLabels as Record<string, unknown>)) {
      if (name === '' || !isWellFormed(name)) throw new FileSDError(`${where}: ${JSON.stringify(name)} is not a valid label name`);
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string' && !(yaml && (typeof v === 'number' || typeof v === 'boolean'))) {
        throw new FileSDError(`${where}: value of label ${JSON.stringify(name)} must be a string, got ${typeName(v)}`);
      }
      const s = String(v);
      if (!isWellFormed(s)) throw new FileSDError(`${where}: invalid value for label ${JSON.stringify(name)}`);
      labels[name] = s;
    }
    labels['__meta_filepath'] = path;
    out.push({ source: `${path}:${i}`, targets, labels });
  });
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** Go's filepath.Match for one path element: `*`, `?`, `[…]` (with `^`/`!` negation and ranges), `\` escapes. */
function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new FileSDError(`syntax error in pattern ${JSON.stringify(pattern)}`);
      let body = pattern.slice(i + 1, end);
      let neg = false;
      if (body[0] === '^' || body[0] === '!') {
        neg = true;
        body = body.slice(1);
      }
      re += '[' + (neg ? '^' : '') + body.replace(/[\]\\]/g, '\\$&') + ']';
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(re + '$', 'u');
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

function hasMeta(s: string): boolean {
  return /[*?[]/.test(s);
}

/** The files a pattern matches now, sorted. Missing directories match nothing. */
async function expand(pattern: string): Promise<string[]> {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!hasMeta(base)) {
    try {
      const s = await stat(pattern);
      return s.isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  const re = globToRegExp(base);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    if (re.test(n)) out.push(join(dir, n));
    if (out.length >= MAX_FILES_PER_PATTERN) break;
  }
  return out;
}

/**
 * A Discoverer for one `file_sd_configs` entry.
 *
 * @example
 * ```ts
 * const d = new FileDiscoverer({ files: ['/etc/prom/targets/*.yml'], refreshInterval: 300_000 });
 * await d.run(signal, (groups) => ...);
 * ```
 */
export class FileDiscoverer implements Discoverer {
  private readonly logger: DiscoveryLogger;
  private readonly metrics: FileSDMetrics;
  private readonly debounceMs: number;
  /** path → number of groups it last produced (kept on read errors). */
  private lastRefresh = new Map<string, number>();
  /** path → text last sent, so an unchanged file is not sent again. */
  private readonly lastText = new Map<string, string>();

  constructor(
    private readonly cfg: FileSDOptions,
    opts: FileDiscovererOptions = {},
  ) {
    this.logger = opts.logger ?? NOP_LOGGER;
    this.metrics = opts.metrics ?? new FileSDMetrics();
    this.debounceMs = opts.debounceMs ?? 20;
  }

  async run(signal: AbortSignal, send: (groups: TargetGroup[]) => void): Promise<void> {
    if (signal.aborted) return;
    const watchers = new Map<string, FSWatcher>();
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    let again = false;
    let first = true;

    const setupWatches = (): void => {
      for (const p of this.cfg.files) {
        const dir = dirname(p);
        if (watchers.has(dir)) continue;
        try {
          const w = watch(dir, { persistent: false }, () => schedule());
          w.on('error', (err) => {
            this.metrics.watcherErrors++;
            this.logger.error('Error watching directory', { dir, err: err.message });
            w.close();
            watchers.delete(dir);
          });
          watchers.set(dir, w);
        } catch (err) {
          // The directory may not exist yet; the periodic refresh retries.
          this.metrics.watcherErrors++;
          this.logger.debug('Cannot watch directory', { dir, err: (err as Error).message });
        }
      }
    };

    const refresh = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          setupWatches();
          const groups = await this.refresh(signal);
          if (signal.aborted) return;
          if (groups.length > 0 || first) send(groups);
          first = false;
        } while (again && !signal.aborted);
      } finally {
        running = false;
      }
    };

    const schedule = (): void => {
      if (signal.aborted || timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        void refresh();
      }, this.debounceMs);
    };

    const ticker = setInterval(() => void refresh(), Math.max(1, this.cfg.refreshInterval));
    try {
      await refresh();
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearInterval(ticker);
      if (timer) clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      for (const p of this.lastRefresh.keys()) this.metrics.mtimes.delete(p);
    }
  }

  /** Reads every matching file; returns the groups to send (changed files and deletions). */
  private async refresh(signal: AbortSignal): Promise<TargetGroup[]> {
    const t0 = performance.now();
    const out: TargetGroup[] = [];
    const ref = new Map<string, number>();
    const seen = new Set<string>();
    for (const pattern of this.cfg.files) {
      for (const path of await expand(pattern)) {
        if (seen.has(path) || signal.aborted) continue;
        seen.add(path);
        try {
          const s = await stat(path);
          if (s.size > MAX_FILE_BYTES) throw new FileSDError(`${path}: file is ${s.size} bytes, more than the limit of ${MAX_FILE_BYTES}`);
          const text = await readFile(path, 'utf8');
          if (this.lastText.get(path) === text && this.lastRefresh.has(path)) {
            ref.set(path, this.lastRefresh.get(path)!);
            continue;
          }
          const groups = parseTargetGroupFile(path, text);
          this.metrics.mtimes.set(path, s.mtimeMs / 1000);
          this.lastText.set(path, text);
          ref.set(path, groups.length);
          out.push(...groups);
          // Groups that the file no longer has are deleted.
          const before = this.lastRefresh.get(path) ?? 0;
          for (let i = groups.length; i < before; i++) out.push({ source: `${path}:${i}`, targets: [], labels: {} });
        } catch (err) {
          this.metrics.readErrors++;
          this.logger.error('Error reading file', { path, err: (err as Error).message });
          // Keep what the file gave last time.
          ref.set(path, this.lastRefresh.get(path) ?? 0);
        }
      }
    }
    for (const [path, n] of this.lastRefresh) {
      if (ref.has(path)) continue;
      for (let i = 0; i < n; i++) out.push({ source: `${path}:${i}`, targets: [], labels: {} });
      this.lastText.delete(path);
      this.metrics.mtimes.delete(path);
    }
    this.lastRefresh = ref;
    this.metrics.scans++;
    this.metrics.scanSeconds += (performance.now() - t0) / 1000;
    return out;
  }
}
