/**
 * The storage facade: a data directory with a lock file, persisted blocks, the WAL and the
 * head, and a background loop that persists head ranges into blocks, compacts blocks and
 * applies retention.
 *
 * ```
 * <dir>/lock                 PID of the owner
 * <dir>/wal/                 write-ahead log (storage/wal)
 * <dir>/blocks/<ULID>.block  persisted blocks (storage/block)
 * ```
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Labels } from '../labels.js';
import type { Matcher } from '../matchers.js';
import { StorageError, type Appendable, type Appender, type Querier, type Queryable, type SeriesRef } from '../interface.js';
import { Head, type HeadStats } from '../head/index.js';
import { Wal } from '../wal/index.js';
import { nopStorageLogger, type StorageLogger } from '../wal/types.js';
import { Block, BLOCK_SUFFIX, drain, fsyncPath, writeBlock, writeBlockSteps, type BlockMeta, type SeriesSource, type SourceChunk } from '../block/index.js';
import { MAX_ABS_TIMESTAMP } from '../chunks/index.js';
import { MergeQuerier } from './merge.js';
import { acquireLock, releaseLock } from './lock.js';

const HOUR = 3_600_000;
export const DEFAULT_BLOCK_DURATION = 2 * HOUR;
const MAX_BLOCK_DURATION_CAP = 31 * 24 * HOUR;

export interface StorageOptions {
  /** The data directory (created when missing). */
  dir: string;
  /** Drop blocks older than this many ms behind the newest data (0 = keep forever). */
  retentionTime?: number;
  /** Drop the oldest blocks while blocks + WAL exceed this many bytes (0 = no limit). */
  retentionSize?: number;
  logger?: StorageLogger;
  /** Block range of a block cut from the head, ms (default 2 h). */
  blockDuration?: number;
  /** Largest compacted block, ms (default 10% of the retention time, at most 31 d). */
  maxBlockDuration?: number;
  walSegmentSize?: number;
  /** WAL fsync policy (storage/FORMAT.md). */
  fsync?: 'segment' | 'commit';
  /**
   * How often the background loop runs, ms (default 60 s; it also runs as soon as a commit
   * makes the head persistable). 0 = never: call `compact()`.
   */
  compactInterval?: number;
  /** Samples per chunk in blocks (default 120; see WriteBlockOptions.chunkSamples). */
  chunkSamples?: number;
}

/** One of the storage's own metrics; `value` is read at scrape time. */
export interface StorageMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  value: () => number;
}

export interface WalReplayStatus {
  min: number;
  max: number;
  current: number;
  state: 'waiting' | 'in progress' | 'done';
}

/** What one `compact()` round did. */
export interface CompactResult {
  /** Blocks written from the head. */
  persisted: string[];
  /** Blocks written by merging others. */
  compacted: string[];
  /** Blocks dropped by retention. */
  deleted: string[];
}

export interface SnapshotResult {
  dir: string;
  blocks: string[];
}

export interface Storage extends Appendable, Queryable {
  readonly dir: string;
  /** Resolves when the WAL has been replayed; until then appenders and queriers throw. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  walReplayStatus(): WalReplayStatus;
  appender(): Appender;
  querier(mint: number, maxt: number): Querier;
  /** Deletes [mint, maxt] of the series matching all matchers (tombstones). Returns series affected. */
  delete(matchers: readonly Matcher[], mint: number, maxt: number): number;
  /** Rewrites the blocks holding tombstones without the deleted data (after a background round in progress). */
  cleanTombstones(): Promise<void>;
  /** Writes a consistent copy (blocks, plus the head as a block unless skipHead) under targetDir. */
  snapshot(targetDir: string, opts?: { skipHead?: boolean }): SnapshotResult;
  /** Head statistics for /api/v1/status/tsdb. */
  stats(limit?: number): HeadStats;
  /** Metas of the loaded blocks, oldest first. */
  blocks(): BlockMeta[];
  /** Runs one round of the background work now: persist the head, compact, retention. */
  compact(): CompactResult;
  metricFamilies(): StorageMetric[];
  /** Stops the loop, flushes and closes the WAL, closes blocks, releases the lock. */
  close(): Promise<void>;
  /** @internal the head, for benchmarks and tests. */
  readonly head: Head;
}

function ioError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return new StorageError(err.code, `${what}: ${err.message}`, { cause: err });
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'ENOSPC' ? ' (no space left on device)' : e.code === 'EACCES' || e.code === 'EPERM' ? ' (permission denied)' : e.code === 'EROFS' ? ' (read-only file system)' : '';
  return new StorageError('io', `${what}: ${e.message ?? String(err)}${hint}`, { cause: err });
}

/**
 * Opens the storage in `opts.dir`: takes the lock, loads the blocks (an unreadable block is
 * logged, counted and skipped), and starts replaying the WAL (await `ready`). Rejects with
 * `StorageError('locked')` when another live process holds the directory and
 * `StorageError('io')` when the directory cannot be created or written.
 */
export async function openStorage(opts: StorageOptions): Promise<Storage> {
  const db = new Db(opts);
  db.start();
  return db;
}

class Db implements Storage {
  readonly dir: string;
  readonly head: Head;
  readonly ready: Promise<void>;
  private readonly log: StorageLogger;
  private readonly blocksDir: string;
  private readonly blockDuration: number;
  private readonly retentionTime: number;
  private readonly retentionSize: number;
  private readonly maxBlockDuration: number;
  private readonly chunkSamples: number | undefined;
  private readonly compactInterval: number;
  private readonly fsync: boolean;
  private readonly lockPath: string;
  private readonly wal: Wal;
  private blockList: Block[] = [];
  private readyFlag = false;
  private replayError: Error | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Immediate | undefined;
  private compacting = false;
  /** The background round in progress (steps), awaited by close(). */
  private running: Promise<void> | undefined;
  /** Deletions made while a compaction runs, re-applied to the blocks it writes. */
  private deletesDuringCompaction: Array<{ matchers: readonly Matcher[]; mint: number; maxt: number }> | undefined;
  /** After a failed background round, commits do not trigger another before this time. */
  private retryAfter = 0;

  // ---- metrics ----
  private blocksCorrupt = 0;
  private compactions = 0;
  private compactionsFailed = 0;
  private compactionsTriggered = 0;
  private headTruncationsFailed = 0;
  private timeRetentions = 0;
  private sizeRetentions = 0;
  private reloads = 0;
  private reloadsFailed = 0;
  private lastWalReplaySeconds = 0;

  constructor(opts: StorageOptions) {
    this.dir = opts.dir;
    this.log = opts.logger ?? nopStorageLogger;
    this.blockDuration = opts.blockDuration ?? DEFAULT_BLOCK_DURATION;
    if (!(Number.isInteger(this.blockDuration) && this.blockDuration > 0)) throw new RangeError(`blockDuration must be a positive integer of ms, got ${opts.blockDuration}`);
    this.retentionTime = opts.retentionTime ?? 0;
    this.retentionSize = opts.retentionSize ?? 0;
    if (!(this.retentionTime >= 0)) throw new RangeError(`retentionTime must be >= 0, got ${opts.retentionTime}`);
    if (!(this.retentionSize >= 0)) throw new RangeError(`retentionSize must be >= 0, got ${opts.retentionSize}`);
    const byRetention = this.retentionTime > 0 ? Math.floor(this.retentionTime / 10) : MAX_BLOCK_DURATION_CAP;
    this.maxBlockDuration = opts.maxBlockDuration ?? Math.max(this.blockDuration, Math.min(byRetention, MAX_BLOCK_DURATION_CAP));
    this.chunkSamples = opts.chunkSamples;
    this.compactInterval = opts.compactInterval ?? 60_000;
    this.fsync = true;
    this.blocksDir = join(this.dir, 'blocks');
    try {
      fs.mkdirSync(this.blocksDir, { recursive: true });
      fs.accessSync(this.dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    } catch (err) {
      throw ioError(`cannot use data directory ${this.dir}`, err);
    }
    this.lockPath = acquireLock(this.dir, this.log);
    try {
      this.loadBlocks();
      this.head = new Head({ chunkRange: this.blockDuration, logger: this.log });
      const newest = this.blockList.reduce((m, b) => Math.max(m, b.maxTime), -Infinity);
      if (newest > -Infinity) this.head.setMinValidTime(newest);
      this.wal = Wal.open(join(this.dir, 'wal'), { segmentSize: opts.walSegmentSize, fsync: opts.fsync, logger: this.log });
    } catch (err) {
      for (const b of this.blockList) b.close();
      releaseLock(this.lockPath);
      throw err;
    }
    this.ready = Promise.resolve();
  }

  start(): void {
    const t0 = performance.now();
    (this as { ready: Promise<void> }).ready = this.head.replayWalAsync(this.wal).then(
      () => {
        this.lastWalReplaySeconds = (performance.now() - t0) / 1000;
        this.readyFlag = true;
        if (this.closed) return;
        if (this.compactInterval > 0) {
          this.timer = setInterval(() => this.background(), this.compactInterval);
          this.timer.unref();
        }
        this.schedule();
      },
      (err: Error) => {
        this.replayError = err;
        throw err;
      },
    );
    // An unobserved rejection must not crash the process; callers see it via `ready`.
    this.ready.catch(() => {});
  }

  // ------------------------------------------------------------------ blocks on disk

  private loadBlocks(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.blocksDir);
    } catch (err) {
      throw ioError(`cannot read block directory ${this.blocksDir}`, err);
    }
    const loaded: Block[] = [];
    for (const name of names.sort()) {
      const path = join(this.blocksDir, name);
      if (name.endsWith(`${BLOCK_SUFFIX}.tmp`)) {
        fs.rmSync(path, { force: true }); // an interrupted write
        continue;
      }
      if (!name.endsWith(BLOCK_SUFFIX)) continue;
      try {
        loaded.push(Block.open(path));
      } catch (err) {
        this.blocksCorrupt++;
        this.log.warn('skipping an unreadable block', { path, err: (err as Error).message });
      }
    }
    // A block listed as a parent of another one was compacted (or rewritten) before a crash
    // interrupted its removal: the newer block holds its data.
    const parents = new Set(loaded.flatMap((b) => b.meta.compaction.parents ?? []));
    this.blockList = [];
    for (const b of loaded) {
      if (parents.has(b.ulid)) {
        this.log.info('removing a block already compacted into another', { block: b.ulid });
        b.markDeleted();
      } else this.blockList.push(b);
    }
    this.sortBlocks();
    this.reloads++;
  }

  private sortBlocks(): void {
    this.blockList.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
  }

  blocks(): BlockMeta[] {
    return this.blockList.map((b) => ({ ...b.meta, stats: { ...b.meta.stats, numTombstones: b.numTombstones } }));
  }

  // ------------------------------------------------------------------ seams

  isReady(): boolean {
    return this.readyFlag;
  }

  walReplayStatus(): WalReplayStatus {
    return this.wal.replayStatus();
  }

  private check(): void {
    if (this.closed) throw new StorageError('closed', `storage ${this.dir} is closed`);
    if (!this.readyFlag) {
      if (this.replayError) throw new StorageError('io', `storage ${this.dir} failed to open: ${this.replayError.message}`, { cause: this.replayError });
      throw new StorageError('closed', `storage ${this.dir} is not ready yet (WAL replay in progress)`);
    }
  }

  appender(): Appender {
    this.check();
    const inner = this.head.appender();
    const db = this;
    return {
      append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
        return inner.append(ref, labels, t, v);
      },
      commit(): void {
        inner.commit();
        if (db.headCompactable()) db.schedule();
      },
      rollback(): void {
        inner.rollback();
      },
    };
  }

  querier(mint: number, maxt: number): Querier {
    this.check();
    const qs: Querier[] = [];
    try {
      for (const b of this.blockList) if (b.overlaps(mint, maxt)) qs.push(b.querier(mint, maxt));
      qs.push(this.head.querier(mint, maxt));
    } catch (err) {
      for (const q of qs) q.close();
      throw err;
    }
    if (qs.length === 1) return qs[0]!;
    // Blocks in time order without overlap, and the head above the newest: chain, don't merge.
    let disjoint = true;
    const used = this.blockList.filter((b) => b.overlaps(mint, maxt));
    for (let i = 1; i < used.length; i++) if (used[i]!.minTime < used[i - 1]!.maxTime) disjoint = false;
    if (used.length > 0 && this.head.minValidTime < used[used.length - 1]!.maxTime) disjoint = false;
    return new MergeQuerier(qs, undefined, disjoint);
  }

  delete(matchers: readonly Matcher[], mint: number, maxt: number): number {
    this.check();
    // Finite bounds: every stored timestamp lies within ±2^52 (and the WAL's zigzag varint
    // of ±MAX_SAFE_INTEGER, its encoding of ±Infinity, does not round-trip exactly).
    mint = Math.max(mint, -MAX_ABS_TIMESTAMP);
    maxt = Math.min(maxt, MAX_ABS_TIMESTAMP);
    let n = 0;
    for (const b of this.blockList) if (b.overlaps(mint, maxt)) n += b.delete(matchers, mint, maxt);
    n += this.head.delete(matchers, mint, maxt);
    // A compaction running in steps may have read the data already: it re-applies this to the
    // blocks it writes.
    this.deletesDuringCompaction?.push({ matchers, mint, maxt });
    return n;
  }

  async cleanTombstones(): Promise<void> {
    this.check();
    // Not while a background round rewrites blocks: wait for it, then hold the flag.
    while (this.running !== undefined) await this.running;
    this.check();
    this.compacting = true;
    try {
      for (const b of this.blockList.slice()) {
        if (b.tombstones.size === 0) continue;
        const meta = drain(this.rewrite([b], b.meta.compaction.level));
        this.log.info('block rewritten without deleted data', { block: b.ulid, new_block: meta?.ulid ?? '(empty, removed)' });
      }
    } finally {
      this.compacting = false;
    }
  }

  stats(limit = 10): HeadStats {
    return this.head.stats(limit);
  }

  snapshot(targetDir: string, opts: { skipHead?: boolean } = {}): SnapshotResult {
    this.check();
    const dest = join(targetDir, 'blocks');
    const out: string[] = [];
    try {
      fs.mkdirSync(dest, { recursive: true });
      for (const b of this.blockList) {
        const target = join(dest, `${b.ulid}${BLOCK_SUFFIX}`);
        // A consistent copy: SQLite's online backup would also do; nothing writes meanwhile.
        fs.copyFileSync(b.path, `${target}.tmp`);
        fsyncPath(`${target}.tmp`);
        fs.renameSync(`${target}.tmp`, target);
        out.push(b.ulid);
      }
      const h = this.head;
      if (!opts.skipHead && h.numSeries > 0 && h.maxTime >= h.minTime) {
        const lo = Math.max(h.minTime, h.minValidTime), hi = h.maxTime + 1;
        if (lo < hi) {
          const cs = h.chunkSeries(lo, hi);
          try {
            const meta = writeBlock(dest, cs, { minTime: lo, maxTime: hi, chunkSamples: this.chunkSamples });
            if (meta) out.push(meta.ulid);
          } finally {
            cs.close();
          }
        }
      }
      fsyncPath(dest);
    } catch (err) {
      throw ioError(`snapshot to ${targetDir} failed`, err);
    }
    this.log.info('snapshot written', { dir: targetDir, blocks: out.length });
    return { dir: targetDir, blocks: out };
  }

  // ------------------------------------------------------------------ background work

  private headCompactable(): boolean {
    const h = this.head;
    return h.maxTime > h.minTime && h.maxTime - h.minTime > (this.blockDuration * 3) / 2;
  }

  private schedule(): void {
    if (this.pending !== undefined || this.closed || !this.readyFlag || this.compactInterval === 0 || Date.now() < this.retryAfter) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.background();
    });
  }

  /** Runs a round in steps, letting the event loop run between them (scrapes, queries). */
  private background(): void {
    if (this.closed || !this.readyFlag || this.compacting) return;
    const steps = this.compactSteps();
    const run = (async () => {
      try {
        for (;;) {
          const r = steps.next();
          if (r.done) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (err) {
        this.retryAfter = Date.now() + Math.max(this.compactInterval, 10_000);
        this.log.warn('background compaction failed; retrying later', { err: (err as Error).message });
      }
    })();
    // Cleared after the assignment: a round with nothing to do finishes synchronously, and a
    // `finally` inside would run before `running` is set, leaving a settled promise that
    // close() would await forever.
    this.running = run;
    void run.then(() => {
      if (this.running === run) this.running = undefined;
    });
  }

  compact(): CompactResult {
    this.check();
    return drain(this.compactSteps());
  }

  private *compactSteps(): Generator<void, CompactResult, void> {
    const res: CompactResult = { persisted: [], compacted: [], deleted: [] };
    if (this.compacting) return res;
    this.compacting = true;
    this.deletesDuringCompaction = [];
    try {
      yield* this.persistHead(res);
      yield* this.compactBlocks(res);
      this.applyRetention(res);
    } finally {
      this.compacting = false;
      this.deletesDuringCompaction = undefined;
    }
    return res;
  }

  /** Persists the oldest block range of the head while it spans more than 1.5 block ranges. */
  private *persistHead(res: CompactResult): Generator<void, void, void> {
    const bd = this.blockDuration;
    const h = this.head;
    for (let round = 0; round < 10_000 && this.headCompactable(); round++) {
      const lo = Math.floor(Math.max(h.minTime, h.minValidTime) / bd) * bd;
      const hi = lo + bd;
      this.compactionsTriggered++;
      const cs = h.chunkSeries(lo, hi);
      let meta: BlockMeta | undefined;
      try {
        meta = yield* writeBlockSteps(this.blocksDir, cs, { minTime: lo, maxTime: hi, level: 1, chunkSamples: this.chunkSamples, fsync: this.fsync });
      } catch (err) {
        this.compactionsFailed++;
        throw ioError(`persisting the head range [${lo}, ${hi}) failed`, err);
      } finally {
        cs.close();
      }
      if (meta !== undefined) {
        this.addBlock(meta);
        res.persisted.push(meta.ulid);
        this.compactions++;
        this.log.info('head range persisted', { block: meta.ulid, mint: lo, maxt: hi, series: meta.stats.numSeries, samples: meta.stats.numSamples });
      }
      try {
        h.truncate(hi);
        this.wal.truncate(hi, (ref) => h.hasSeries(ref));
      } catch (err) {
        this.headTruncationsFailed++;
        throw ioError('truncating the WAL failed', err);
      }
    }
  }

  private addBlock(meta: BlockMeta): Block {
    const b = Block.open(join(this.blocksDir, `${meta.ulid}${BLOCK_SUFFIX}`));
    for (const d of this.deletesDuringCompaction ?? []) if (b.overlaps(d.mint, d.maxt)) b.delete(d.matchers, d.mint, d.maxt);
    this.blockList.push(b);
    this.sortBlocks();
    return b;
  }

  /** Compaction ranges: the block duration × 3^k up to the max block duration. */
  private ranges(): number[] {
    const out: number[] = [];
    for (let r = this.blockDuration * 3; r <= this.maxBlockDuration && out.length < 20; r *= 3) out.push(r);
    return out;
  }

  /**
   * Merges blocks lying in one aligned window of a compaction range, once the window is
   * complete (the head no longer accepts samples there). Smallest ranges first.
   */
  private *compactBlocks(res: CompactResult): Generator<void, void, void> {
    const done = this.head.minValidTime;
    for (let round = 0; round < 1000; round++) {
      let merged = false;
      for (const r of this.ranges()) {
        const groups = new Map<number, Block[]>();
        for (const b of this.blockList) {
          const w = Math.floor(b.minTime / r) * r;
          if (b.maxTime > w + r) continue; // spans windows of this range
          if (w + r > done) continue; // window not complete yet
          const g = groups.get(w);
          if (g) g.push(b);
          else groups.set(w, [b]);
        }
        for (const g of groups.values()) {
          if (g.length < 2) continue;
          const meta = yield* this.rewrite(g, Math.max(...g.map((b) => b.meta.compaction.level)) + 1);
          if (meta) res.compacted.push(meta.ulid);
          merged = true;
          break;
        }
        if (merged) break;
      }
      if (!merged) return;
    }
  }

  /** Writes the data of `blocks` (tombstones applied) into one new block and drops them. */
  private *rewrite(blocks: Block[], level: number): Generator<void, BlockMeta | undefined, void> {
    const minTime = Math.min(...blocks.map((b) => b.minTime));
    const maxTime = Math.max(...blocks.map((b) => b.maxTime));
    const sources = [...new Set(blocks.flatMap((b) => b.meta.compaction.sources))].sort();
    for (const b of blocks) b.retain();
    let meta: BlockMeta | undefined;
    const src = mergeBlocks(blocks);
    try {
      meta = yield* writeBlockSteps(this.blocksDir, src, { minTime, maxTime, level, sources, parents: blocks.map((b) => b.ulid), chunkSamples: this.chunkSamples, fsync: this.fsync });
    } catch (err) {
      this.compactionsFailed++;
      throw ioError(`compacting blocks ${blocks.map((b) => b.ulid).join(', ')} failed`, err);
    } finally {
      src.close();
      for (const b of blocks) b.release();
    }
    this.compactions++;
    if (meta) this.addBlock(meta);
    const gone = new Set(blocks);
    this.blockList = this.blockList.filter((b) => !gone.has(b));
    for (const b of blocks) b.markDeleted();
    if (meta) this.log.info('blocks compacted', { block: meta.ulid, level, from: blocks.map((b) => b.ulid), mint: minTime, maxt: maxTime });
    return meta;
  }

  private applyRetention(res: CompactResult): void {
    if (this.retentionTime > 0 && this.blockList.length > 0) {
      const newest = Math.max(this.head.maxTime, ...this.blockList.map((b) => b.maxTime - 1));
      const drop = this.blockList.filter((b) => newest - (b.maxTime - 1) >= this.retentionTime);
      if (drop.length > 0) {
        this.timeRetentions++;
        this.dropBlocks(drop, 'time', res);
      }
    }
    if (this.retentionSize > 0 && this.blockList.length > 0) {
      let total = this.wal.sizeBytes() + this.blockBytes();
      const drop: Block[] = [];
      for (const b of this.blockList) {
        if (total <= this.retentionSize) break;
        drop.push(b);
        total -= b.sizeBytes;
      }
      if (drop.length > 0) {
        this.sizeRetentions++;
        this.dropBlocks(drop, 'size', res);
      }
    }
  }

  private dropBlocks(drop: Block[], why: string, res: CompactResult): void {
    const gone = new Set(drop);
    this.blockList = this.blockList.filter((b) => !gone.has(b));
    for (const b of drop) {
      b.markDeleted();
      res.deleted.push(b.ulid);
    }
    this.log.info(`blocks dropped by ${why} retention`, { blocks: drop.map((b) => b.ulid) });
  }

  private blockBytes(): number {
    let n = 0;
    for (const b of this.blockList) n += b.sizeBytes;
    return n;
  }

  // ------------------------------------------------------------------ metrics, close

  metricFamilies(): StorageMetric[] {
    const h = this.head;
    const g = (name: string, help: string, value: () => number): StorageMetric => ({ name, help, type: 'gauge', value });
    const c = (name: string, help: string, value: () => number): StorageMetric => ({ name, help, type: 'counter', value });
    const lowest = (): number => {
      const b = this.blockList[0];
      if (b !== undefined) return b.minTime;
      return h.minTime === Infinity ? Date.now() : h.minTime;
    };
    return [
      g('prometheus_tsdb_head_series', 'Total number of series in the head block.', () => h.numSeries),
      c('prometheus_tsdb_head_series_created_total', 'Total number of series created in the head', () => h.seriesCreated),
      c('prometheus_tsdb_head_series_removed_total', 'Total number of series removed in the head', () => h.seriesRemoved),
      c('prometheus_tsdb_head_samples_appended_total', 'Total number of appended samples.', () => h.samplesAppended),
      g('prometheus_tsdb_head_chunks', 'Total number of chunks in the head block.', () => h.numChunks),
      c('prometheus_tsdb_head_chunks_created_total', 'Total number of chunks created in the head', () => h.chunksCreated),
      c('prometheus_tsdb_head_chunks_removed_total', 'Total number of chunks removed in the head', () => h.chunksRemoved),
      g('prometheus_tsdb_head_min_time', 'Minimum time bound of the head block.', () => (h.minTime === Infinity ? 0 : h.minTime)),
      g('prometheus_tsdb_head_max_time', 'Maximum timestamp of the head block.', () => (h.maxTime === -Infinity ? 0 : h.maxTime)),
      g('prometheus_tsdb_head_min_time_seconds', 'Minimum time bound of the head block.', () => (h.minTime === Infinity ? 0 : h.minTime / 1000)),
      g('prometheus_tsdb_head_max_time_seconds', 'Maximum timestamp of the head block.', () => (h.maxTime === -Infinity ? 0 : h.maxTime / 1000)),
      c('prometheus_tsdb_head_truncations_total', 'Total number of head truncations attempted.', () => h.truncations),
      c('prometheus_tsdb_head_truncations_failed_total', 'Total number of head truncations that failed.', () => this.headTruncationsFailed),
      g('prometheus_tsdb_head_active_appenders', 'Number of currently active appender transactions', () => h.activeAppenders),
      c('prometheus_tsdb_out_of_order_samples_total', 'Total number of out of order samples ingestion failed attempts due to out of order being disabled.', () => h.outOfOrderSamples),
      c('prometheus_tsdb_out_of_bound_samples_total', 'Total number of out of bound samples ingestion failed attempts with out of order support disabled.', () => h.tooOldSamples),
      c('prometheus_tsdb_wal_corruptions_total', 'Total number of WAL corruptions.', () => this.wal.corruptions),
      c('prometheus_tsdb_wal_truncations_total', 'Total number of write log truncations attempted.', () => this.wal.truncations),
      c('prometheus_tsdb_wal_truncations_failed_total', 'Total number of write log truncations that failed.', () => this.wal.truncationsFailed),
      c('prometheus_tsdb_wal_writes_failed_total', 'Total number of write log writes that failed.', () => this.wal.writesFailed),
      c('prometheus_tsdb_checkpoint_creations_total', 'Total number of checkpoint creations attempted.', () => this.wal.checkpointCreations),
      c('prometheus_tsdb_checkpoint_creations_failed_total', 'Total number of checkpoint creations that failed.', () => this.wal.checkpointCreationsFailed),
      c('prometheus_tsdb_checkpoint_deletions_total', 'Total number of checkpoint deletions attempted.', () => this.wal.checkpointDeletions),
      g('prometheus_tsdb_wal_segment_current', 'Write log segment index that TSDB is currently writing to.', () => this.wal.currentSegment),
      g('prometheus_tsdb_wal_storage_size_bytes', 'Size of the write log directory.', () => this.wal.sizeBytes()),
      g('prometheus_tsdb_data_replay_duration_seconds', 'Time taken to replay the data on disk.', () => this.lastWalReplaySeconds),
      g('prometheus_tsdb_blocks_loaded', 'Number of currently loaded data blocks', () => this.blockList.length),
      c('prometheus_tsdb_reloads_total', 'Number of times the database reloaded block data from disk.', () => this.reloads),
      c('prometheus_tsdb_reloads_failures_total', 'Number of times the database failed to reloadBlocks block data from disk.', () => this.reloadsFailed),
      c('sextant_tsdb_blocks_corrupt_total', 'Blocks found unreadable at start and skipped.', () => this.blocksCorrupt),
      c('prometheus_tsdb_compactions_total', 'Total number of compactions that were executed for the partition.', () => this.compactions),
      c('prometheus_tsdb_compactions_failed_total', 'Total number of compactions that failed for the partition.', () => this.compactionsFailed),
      c('prometheus_tsdb_compactions_triggered_total', 'Total number of triggered compactions for the partition.', () => this.compactionsTriggered),
      g('prometheus_tsdb_storage_blocks_bytes', 'The number of bytes that are currently used for local storage by all blocks.', () => this.blockBytes()),
      g('prometheus_tsdb_retention_limit_bytes', 'Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled', () => this.retentionSize),
      g('prometheus_tsdb_retention_limit_seconds', 'How long to retain samples in storage.', () => this.retentionTime / 1000),
      c('prometheus_tsdb_size_retentions_total', 'The number of times that blocks were deleted because the maximum number of bytes was exceeded.', () => this.sizeRetentions),
      c('prometheus_tsdb_time_retentions_total', 'The number of times that blocks were deleted because the maximum time limit was exceeded.', () => this.timeRetentions),
      g('prometheus_tsdb_lowest_timestamp', 'Lowest timestamp value stored in the database. The unit is decided by the library consumer.', lowest),
      g('prometheus_tsdb_lowest_timestamp_seconds', 'Lowest timestamp value stored in the database.', () => lowest() / 1000),
    ];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearImmediate(this.pending);
    try {
      await this.ready;
    } catch {
      // replay failed: still release what we hold
    }
    // A background round finishes its current block (it only yields between steps).
    while (this.running !== undefined) await this.running;
    this.head.close();
    let err: unknown;
    try {
      this.wal.close();
    } catch (e) {
      err = e;
    }
    for (const b of this.blockList) b.close();
    this.blockList = [];
    releaseLock(this.lockPath);
    if (err) throw ioError(`closing the WAL of ${this.dir} failed`, err);
  }
}

/**
 * The series of several blocks (sorted by time, non-overlapping) merged by labels: a series
 * present in several blocks gets their chunks in block order, each carrying its block's
 * tombstones for the writer to apply.
 */
export function mergeBlocks(blocks: readonly Block[]): SeriesSource & { close(): void } {
  const ordered = blocks.slice().sort((a, b) => a.minTime - b.minTime);
  const gens = ordered.map((b) => b.allSeries());
  const heads = gens.map((g) => {
    const r = g.next();
    return r.done ? undefined : r.value;
  });
  let cur: { labels: Labels; chunks: SourceChunk[] } | undefined;
  return {
    next(): boolean {
      let min: Labels | undefined;
      for (const h of heads) if (h !== undefined && (min === undefined || Labels.compare(h.labels, min) < 0)) min = h.labels;
      if (min === undefined) {
        cur = undefined;
        return false;
      }
      const chunks: SourceChunk[] = [];
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && Labels.compare(h.labels, min) === 0) {
          for (const c of h.chunks) chunks.push(c);
          const r = gens[i]!.next();
          heads[i] = r.done ? undefined : r.value;
        }
      }
      cur = { labels: min, chunks };
      return true;
    },
    at() {
      if (cur === undefined) throw new Error('mergeBlocks.at() without a current series');
      return cur;
    },
    close(): void {
      for (const g of gens) g.return(undefined);
    },
  };
}
