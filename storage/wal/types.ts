/**
 * The contract between the head and the write-ahead log. The head writes through
 * {@link WalWriter} and is rebuilt through {@link WalReplayHandler}; the WAL knows nothing of
 * the head.
 */
import type { Labels } from '../labels.js';

/** What the head writes. Implemented by {@link Wal}. */
export interface WalWriter {
  /**
   * Logs one commit: the series records first (series first referenced by this commit), then
   * the samples `(refs[i], ts[i], bits his[i]:los[i])` for i < n. When this returns, the
   * records are in the file (the OS page cache at least). On failure it throws
   * `StorageError('io')` and the log is as before the call.
   */
  logCommit(
    seriesRefs: readonly number[],
    seriesLabels: readonly Labels[],
    refs: Int32Array,
    ts: Float64Array,
    his: Uint32Array,
    los: Uint32Array,
    n: number,
  ): void;
  /** Logs a deletion of [mint, maxt] from the series `refs[0…n)`. Same guarantees. */
  logTombstones(refs: Int32Array, n: number, mint: number, maxt: number): void;
}

/** Receives the records of a replay, in log order. Arrays are reused between calls. */
export interface WalReplayHandler {
  series(ref: number, labels: Labels): void;
  samples(refs: Int32Array, ts: Float64Array, his: Uint32Array, los: Uint32Array, n: number): void;
  tombstones(refs: Int32Array, n: number, mint: number, maxt: number): void;
}

/** A minimal logger, structurally compatible with Sextant's `Logger`. */
export interface StorageLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export const nopStorageLogger: StorageLogger = { info() {}, warn() {} };
