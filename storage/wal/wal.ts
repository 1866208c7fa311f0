/**
 * The write-ahead log: numbered segment files of CRC-checked records (storage/FORMAT.md
 * "WAL"), replayed on start, repaired when damaged, and truncated through checkpoints once
 * the samples it holds are persisted in blocks.
 *
 * Durability: every commit is written with `writeSync` before `commit()` returns, so it is in
 * the OS page cache and survives the process being killed (`kill -9`). Segments are fsynced
 * when they are closed (cut at `segmentSize`, at truncation, at close) and checkpoints before
 * they are renamed into place, as Prometheus does; with `fsync: 'commit'` every commit is
 * fsynced too. A power loss (or kernel crash) can therefore lose the commits written to the
 * current segment since it was opened, unless `fsync: 'commit'` is set.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Labels } from '../labels.js';
import { StorageError } from '../interface.js';
import {
  ByteReader,
  ByteWriter,
  MAX_RECORD_BYTES,
  MalformedRecord,
  RECORD_HEADER_BYTES,
  RecordType,
  SampleBuffers,
  decodeSamples,
  decodeSeries,
  decodeTombstones,
  encodeSamples,
  encodeSeries,
  encodeTombstones,
  recordCrc,
} from './records.js';
import { nopStorageLogger, type StorageLogger, type WalReplayHandler, type WalWriter } from './types.js';

/** Prometheus's segment size: 128 MiB. */
export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;

export interface WalOptions {
  /** A segment is closed and a new one started when a commit would take it past this size. */
  segmentSize?: number;
  /** 'segment' (default): fsync when a segment is closed. 'commit': also after every commit. */
  fsync?: 'segment' | 'commit';
  logger?: StorageLogger;
}

/** What a replay read and repaired. */
export interface WalReplayStats {
  /** Index of the checkpoint replayed first, or -1. */
  checkpoint: number;
  segments: number;
  records: number;
  series: number;
  samples: number;
  tombstones: number;
  /** Damaged places found (each one cut off the rest of its file). */
  corruptions: number;
  /** Bytes dropped by repairs. */
  bytesDropped: number;
  /** Samples in valid-looking records after a damaged one (dropped with it; a lower bound). */
  samplesDropped: number;
  durationMs: number;
}

/** What {@link Wal.truncate} did. */
export interface WalTruncateStats {
  /** Index of the checkpoint written, or -1 when no segment could be dropped. */
  checkpoint: number;
  segmentsDeleted: number;
  seriesKept: number;
  seriesDropped: number;
}

interface SegmentInfo {
  /** Largest sample timestamp in the segment; undefined until known (read or written). */
  maxT: number | undefined;
  size: number;
}

const SEGMENT_NAME = /^\d{8}$/;
/** Records between two yields of an async replay (a scrape commit is one or two records). */
const REPLAY_YIELD_RECORDS = 256;
const CHECKPOINT_NAME = /^checkpoint\.(\d{8})$/;

function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

function ioError(what: string, err: unknown): StorageError {
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'ENOSPC' ? ' (no space left on device)' : e.code === 'EACCES' || e.code === 'EPERM' ? ' (permission denied)' : e.code === 'EROFS' ? ' (read-only file system)' : '';
  return new StorageError('io', `${what}: ${e.message ?? String(err)}${hint}`, { cause: err });
}

/**
 * A write-ahead log in one directory.
 *
 * ```ts
 * const wal = Wal.open('/data/wal');
 * const h = head.replayHandler();
 * wal.replay(h);          // rebuilds the head, repairing damage
 * head.setWal(wal);       // from now on commits are logged
 * ```
 */
export class Wal implements WalWriter {
  readonly dir: string;
  private readonly segmentSize: number;
  private readonly fsyncMode: 'segment' | 'commit';
  private readonly log: StorageLogger;
  private readonly segs = new Map<number, SegmentInfo>();
  private checkpoints: number[];
  private fd = -1;
  private cur = -1;
  private curSize = 0;
  private closed = false;
  private replayed = false;
  private readonly out = new ByteWriter();

  // ---- metrics (Prometheus names) ----
  /** prometheus_tsdb_wal_corruptions_total */
  corruptions = 0;
  /** prometheus_tsdb_wal_truncations_total / _failed_total */
  truncations = 0;
  truncationsFailed = 0;
  /** prometheus_tsdb_checkpoint_creations_total / _failed_total */
  checkpointCreations = 0;
  checkpointCreationsFailed = 0;
  /** prometheus_tsdb_checkpoint_deletions_total */
  checkpointDeletions = 0;
  /** prometheus_tsdb_wal_writes_failed_total */
  writesFailed = 0;
  /** prometheus_tsdb_wal_fsync_duration_seconds (sum and count) */
  fsyncSeconds = 0;
  fsyncCount = 0;
  /** Records and bytes written since open. */
  recordsWritten = 0;
  bytesWritten = 0;

  private constructor(dir: string, opts: WalOptions, checkpoints: number[]) {
    this.dir = dir;
    this.segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.fsyncMode = opts.fsync ?? 'segment';
    this.log = opts.logger ?? nopStorageLogger;
    this.checkpoints = checkpoints;
  }

  /**
   * Opens (creating if needed) the WAL in `dir`. Nothing is read yet: call
   * {@link Wal.replay} to rebuild state. Writing always goes to a new segment after the
   * existing ones. Throws `StorageError('io')` when the directory cannot be created, read or
   * written.
   */
  static open(dir: string, opts: WalOptions = {}): Wal {
    if (opts.segmentSize !== undefined && !(opts.segmentSize >= 64 * 1024)) throw new RangeError(`WAL segmentSize must be at least 64 KiB, got ${opts.segmentSize}`);
    let names: string[];
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
      names = fs.readdirSync(dir);
    } catch (err) {
      throw ioError(`cannot use WAL directory ${dir}`, err);
    }
    const checkpoints: number[] = [];
    const segments: number[] = [];
    for (const name of names) {
      const cp = CHECKPOINT_NAME.exec(name);
      if (cp) checkpoints.push(Number(cp[1]));
      else if (SEGMENT_NAME.test(name)) segments.push(Number(name));
      else if (name.endsWith('.tmp')) fs.rmSync(join(dir, name), { recursive: true, force: true }); // an interrupted checkpoint
    }
    checkpoints.sort((a, b) => a - b);
    segments.sort((a, b) => a - b);
    const wal = new Wal(dir, opts, checkpoints);
    for (const s of segments) {
      let size = 0;
      try {
        size = fs.statSync(join(dir, segmentName(s))).size;
      } catch (err) {
        throw ioError(`cannot stat WAL segment ${join(dir, segmentName(s))}`, err);
      }
      wal.segs.set(s, { maxT: undefined, size });
    }
    return wal;
  }

  /** Index of the segment being written (prometheus_tsdb_wal_segment_current), -1 before the first write. */
  get currentSegment(): number {
    return this.cur;
  }

  /** Segment indices on disk, ascending. */
  segmentIndices(): number[] {
    return [...this.segs.keys()].sort((a, b) => a - b);
  }

  /** Bytes of segments and checkpoints on disk (prometheus_tsdb_wal_storage_size_bytes). */
  sizeBytes(): number {
    let n = 0;
    for (const s of this.segs.values()) n += s.size;
    const cp = this.checkpoints.at(-1);
    if (cp !== undefined) {
      const d = join(this.dir, `checkpoint.${segmentName(cp)}`);
      try {
        for (const f of fs.readdirSync(d)) n += fs.statSync(join(d, f)).size;
      } catch {
        // A checkpoint removed meanwhile counts as nothing.
      }
    }
    return n;
  }

  // ------------------------------------------------------------------ writing

  logCommit(seriesRefs: readonly number[], seriesLabels: readonly Labels[], refs: Int32Array, ts: Float64Array, his: Uint32Array, los: Uint32Array, n: number): void {
    const w = this.out;
    w.reset();
    if (seriesRefs.length > 0) encodeSeries(w, seriesRefs, seriesLabels);
    const { maxT } = n > 0 ? encodeSamples(w, refs, ts, his, los, n) : { maxT: -Infinity };
    this.write(w, maxT, (seriesRefs.length > 0 ? Math.ceil(seriesRefs.length / 8192) : 0) + Math.ceil(n / 32768));
  }

  logTombstones(refs: Int32Array, n: number, mint: number, maxt: number): void {
    if (n === 0) return;
    const w = this.out;
    w.reset();
    encodeTombstones(w, refs, n, mint, maxt);
    this.write(w, -Infinity, Math.ceil(n / 32768));
  }

  /** Writes the buffered records to the current segment, all or nothing. */
  private write(w: ByteWriter, maxT: number, records: number): void {
    if (this.closed) throw new StorageError('closed', 'WAL is closed');
    if (w.len === 0) return;
    if (this.fd >= 0 && this.curSize > 0 && this.curSize + w.len > this.segmentSize) this.closeSegment();
    if (this.fd < 0) this.openSegment();
    const start = this.curSize;
    const path = join(this.dir, segmentName(this.cur));
    try {
      let off = 0;
      for (let k = 0; off < w.len; k++) {
        const n = fs.writeSync(this.fd, w.buf, off, w.len - off);
        if (n <= 0 && k > 100) throw new Error('write made no progress');
        off += n;
      }
    } catch (err) {
      this.writesFailed++;
      // Take back a partial write so the segment ends on a whole record.
      try {
        fs.ftruncateSync(this.fd, start);
      } catch (terr) {
        // Cannot repair in place: leave this segment (replay will cut its torn tail) and
        // write the next commit to a new one.
        this.log.warn('WAL: cannot truncate a partial write; starting a new segment on the next write', { segment: path, err: (terr as Error).message });
        this.abandonSegment();
      }
      throw ioError(`writing the WAL segment ${path} failed; the commit was rolled back`, err);
    }
    this.curSize = start + w.len;
    this.bytesWritten += w.len;
    this.recordsWritten += records;
    const info = this.segs.get(this.cur)!;
    info.size = this.curSize;
    if (maxT > (info.maxT ?? -Infinity)) info.maxT = maxT;
    if (this.fsyncMode === 'commit') this.fsyncFd(this.fd, path);
  }

  private openSegment(): void {
    let next = 0;
    for (const s of this.segs.keys()) if (s >= next) next = s + 1;
    const cp = this.checkpoints.at(-1);
    if (cp !== undefined && cp >= next) next = cp + 1;
    const path = join(this.dir, segmentName(next));
    try {
      this.fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_APPEND, 0o644);
    } catch (err) {
      throw ioError(`cannot create WAL segment ${path}`, err);
    }
    this.cur = next;
    this.curSize = 0;
    this.segs.set(next, { maxT: -Infinity, size: 0 });
    this.fsyncDir();
  }

  /** fsyncs and closes the current segment; the next write opens a new one. */
  private closeSegment(): void {
    if (this.fd < 0) return;
    this.fsyncFd(this.fd, join(this.dir, segmentName(this.cur)));
    try {
      fs.closeSync(this.fd);
    } catch {
      // Closing after a successful fsync cannot lose data.
    }
    this.fd = -1;
  }

  private abandonSegment(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already failing: nothing more to do with this descriptor.
    }
    this.fd = -1;
  }

  private fsyncFd(fd: number, path: string): void {
    const t0 = performance.now();
    try {
      fs.fsyncSync(fd);
    } catch (err) {
      // The data is written (page cache); only its durability against power loss is unknown.
      this.log.warn('WAL: fsync failed', { file: path, err: (err as Error).message });
    }
    this.fsyncSeconds += (performance.now() - t0) / 1000;
    this.fsyncCount++;
  }

  private fsyncDir(): void {
    let fd = -1;
    try {
      fd = fs.openSync(this.dir, 'r');
      fs.fsyncSync(fd);
    } catch {
      // Some file systems do not support fsync on directories.
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  /** fsyncs the current segment now (e.g. before a planned shutdown). */
  sync(): void {
    if (this.fd >= 0) this.fsyncFd(this.fd, join(this.dir, segmentName(this.cur)));
  }

  /** fsyncs and closes. Further writes throw `StorageError('closed')`. */
  close(): void {
    if (this.closed) return;
    this.closeSegment();
    this.closed = true;
  }

  // ------------------------------------------------------------------ replay

  /**
   * Reads the latest checkpoint, then every later segment in order, handing records to
   * `handler`. Damage is repaired: at the first record that is incomplete (a torn write) or
   * fails its CRC, the rest of that file is cut off (the file is truncated there), logged
   * with what was lost, and counted in {@link Wal.corruptions}. Later segments are still
   * read: their samples for series whose record was lost are dropped by the head (counted
   * there as unknown series). Must run before the first write. Blocks until done; see
   * {@link Wal.replayAsync} for a server that must answer health checks meanwhile.
   */
  replay(handler: WalReplayHandler): WalReplayStats {
    const stats = this.startReplay();
    for (const _ of this.replaySteps(handler, stats));
    return this.endReplay(stats);
  }

  /**
   * {@link Wal.replay}, yielding to the event loop every few hundred records so that the
   * process keeps serving (e.g. `/-/healthy`, `/api/v1/status/walreplay`) while it replays.
   * Nothing else may use the head or the WAL until the promise settles.
   */
  async replayAsync(handler: WalReplayHandler): Promise<WalReplayStats> {
    const stats = this.startReplay();
    for (const _ of this.replaySteps(handler, stats)) await new Promise<void>((resolve) => setImmediate(resolve));
    return this.endReplay(stats);
  }

  /** Replay progress as `/api/v1/status/walreplay` reports it (segment indices). */
  replayStatus(): { min: number; max: number; current: number; state: 'waiting' | 'in progress' | 'done' } {
    return { ...this.progress };
  }

  private progress: { min: number; max: number; current: number; state: 'waiting' | 'in progress' | 'done' } = { min: 0, max: 0, current: 0, state: 'waiting' };

  private startReplay(): WalReplayStats {
    if (this.fd >= 0 || this.cur >= 0) throw new Error('WAL replay must run before the first write');
    if (this.replayed) throw new Error('WAL already replayed');
    this.replayed = true;
    const segs = this.segmentIndices();
    this.progress = { min: segs[0] ?? 0, max: segs.at(-1) ?? 0, current: segs[0] ?? 0, state: 'in progress' };
    this.replayStart = performance.now();
    return { checkpoint: -1, segments: 0, records: 0, series: 0, samples: 0, tombstones: 0, corruptions: 0, bytesDropped: 0, samplesDropped: 0, durationMs: 0 };
  }

  private replayStart = 0;

  private endReplay(stats: WalReplayStats): WalReplayStats {
    stats.durationMs = performance.now() - this.replayStart;
    this.progress.state = 'done';
    this.progress.current = this.progress.max;
    this.log.info('WAL replay completed', { checkpoint: stats.checkpoint, segments: stats.segments, series: stats.series, samples: stats.samples, duration_ms: Math.round(stats.durationMs) });
    return stats;
  }

  /** The replay, pausing (yielding) every so many records. */
  private *replaySteps(handler: WalReplayHandler, stats: WalReplayStats): Generator<void, void, void> {
    const cp = this.checkpoints.at(-1);
    if (cp !== undefined) {
      stats.checkpoint = cp;
      const d = join(this.dir, `checkpoint.${segmentName(cp)}`);
      let files: string[];
      try {
        files = fs.readdirSync(d).filter((f) => SEGMENT_NAME.test(f)).sort();
      } catch (err) {
        throw ioError(`cannot read WAL checkpoint ${d}`, err);
      }
      for (const f of files) yield* this.readFile(join(d, f), handler, stats, undefined);
      // Segments covered by the checkpoint are leftovers of an interrupted truncation.
      for (const s of this.segmentIndices()) if (s <= cp) this.deleteSegment(s);
    }
    let prev = -1;
    for (const s of this.segmentIndices()) {
      if (prev >= 0 && s !== prev + 1) this.log.warn('WAL: segments missing from the sequence', { after: segmentName(prev), before: segmentName(s) });
      prev = s;
      this.progress.current = s;
      const info = this.segs.get(s)!;
      info.maxT = -Infinity;
      yield* this.readFile(join(this.dir, segmentName(s)), handler, stats, info);
      stats.segments++;
    }
  }

  /**
   * Reads one file's records, yielding every {@link REPLAY_YIELD_RECORDS} records. Returns
   * normally after cutting off damage. `info` (segments only) collects the max sample
   * timestamp and the size after repair.
   */
  private *readFile(path: string, handler: WalReplayHandler, stats: WalReplayStats, info: SegmentInfo | undefined): Generator<void, void, void> {
    let data: Buffer;
    try {
      data = fs.readFileSync(path);
    } catch (err) {
      throw ioError(`cannot read WAL file ${path}`, err);
    }
    const r = new ByteReader();
    const bufs = this.sampleBufs;
    let off = 0;
    let maxT = -Infinity;
    let sinceYield = 0;
    while (off < data.length) {
      const bad = checkRecord(data, off);
      if (bad !== undefined) {
        this.repair(path, data, off, bad, stats, info);
        break;
      }
      const type = data[off]!;
      const len = readU32(data, off + 1);
      r.reset(data, off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + len);
      try {
        if (type === RecordType.Series) {
          stats.series += decodeSeries(r, (ref, labels) => handler.series(ref, labels));
        } else if (type === RecordType.Samples) {
          const n = decodeSamples(r, bufs);
          for (let i = 0; i < n; i++) if (bufs.ts[i]! > maxT) maxT = bufs.ts[i]!;
          handler.samples(bufs.refs, bufs.ts, bufs.his, bufs.los, n);
          stats.samples += n;
        } else {
          const t = decodeTombstones(r, bufs);
          handler.tombstones(bufs.refs, t.n, t.mint, t.maxt);
          stats.tombstones += t.n;
        }
      } catch (err) {
        if (!(err instanceof MalformedRecord)) throw err;
        this.repair(path, data, off, `malformed ${recordTypeName(type)} record (${err.message})`, stats, info);
        break;
      }
      stats.records++;
      off += RECORD_HEADER_BYTES + len;
      if (++sinceYield === REPLAY_YIELD_RECORDS) {
        sinceYield = 0;
        yield;
      }
    }
    if (info !== undefined) {
      info.maxT = maxT;
      info.size = off; // the end of the valid records (the file was cut there if damaged)
    }
  }

  private readonly sampleBufs = new SampleBuffers();

  /** Cuts `path` at `off`, logging and counting what is lost. */
  private repair(path: string, data: Buffer, off: number, reason: string, stats: WalReplayStats, info: SegmentInfo | undefined): void {
    const lost = data.length - off;
    const after = countValidAfter(data, off);
    this.corruptions++;
    stats.corruptions++;
    stats.bytesDropped += lost;
    stats.samplesDropped += after.samples;
    this.log.warn('WAL corruption: dropping the rest of the file', {
      file: path,
      offset: off,
      reason,
      bytes_dropped: lost,
      valid_records_after: after.records,
      samples_in_them: after.samples,
    });
    try {
      fs.truncateSync(path, off);
    } catch (err) {
      // Reading stops at the damage anyway; new writes go to a new segment.
      this.log.warn('WAL: cannot truncate the damaged file', { file: path, err: (err as Error).message });
    }
    if (info !== undefined) info.size = off;
  }

  // ------------------------------------------------------------------ truncation

  /**
   * Drops segments whose samples are all older than `mint` (now persisted in blocks),
   * keeping the series records (and tombstones) of the series for which `keep(ref)` is true in
   * a checkpoint, as Prometheus does. Closes the current segment first so it can go next
   * time. Only a prefix of segments goes: from the first segment up to the last one, in
   * order, whose newest sample is older than mint. Throws `StorageError('io')` on failure,
   * leaving the WAL as it was (still complete).
   */
  truncate(mint: number, keep: (ref: number) => boolean): WalTruncateStats {
    if (this.closed) throw new StorageError('closed', 'WAL is closed');
    this.closeSegment();
    let upTo = -1;
    for (const s of this.segmentIndices()) {
      const info = this.segs.get(s)!;
      if (info.maxT === undefined) info.maxT = this.scanMaxT(s);
      if (info.maxT >= mint) break;
      upTo = s;
    }
    if (upTo < 0) return { checkpoint: -1, segmentsDeleted: 0, seriesKept: 0, seriesDropped: 0 };
    let result: WalTruncateStats;
    try {
      result = this.checkpoint(upTo, mint, keep);
      this.checkpointCreations++;
    } catch (err) {
      this.checkpointCreationsFailed++;
      this.truncationsFailed++;
      throw err instanceof StorageError ? err : ioError(`creating WAL checkpoint ${upTo} failed`, err);
    }
    let deleted = 0;
    for (const s of this.segmentIndices()) {
      if (s > upTo) break;
      if (this.deleteSegment(s)) deleted++;
    }
    for (const c of this.checkpoints.slice()) {
      if (c >= upTo) continue;
      try {
        fs.rmSync(join(this.dir, `checkpoint.${segmentName(c)}`), { recursive: true, force: true });
        this.checkpointDeletions++;
        this.checkpoints = this.checkpoints.filter((x) => x !== c);
      } catch (err) {
        this.log.warn('WAL: cannot delete an old checkpoint', { checkpoint: c, err: (err as Error).message });
      }
    }
    this.truncations++;
    result.segmentsDeleted = deleted;
    this.log.info('WAL truncated', { checkpoint: upTo, segments_deleted: deleted, series_kept: result.seriesKept, series_dropped: result.seriesDropped });
    return result;
  }

  private deleteSegment(s: number): boolean {
    try {
      fs.rmSync(join(this.dir, segmentName(s)), { force: true });
      this.segs.delete(s);
      return true;
    } catch (err) {
      this.log.warn('WAL: cannot delete a segment', { segment: segmentName(s), err: (err as Error).message });
      return false;
    }
  }

  /** The newest sample timestamp in segment `s` (for segments not replayed or written here). */
  private scanMaxT(s: number): number {
    let maxT = -Infinity;
    const bufs = this.sampleBufs;
    forEachRecord(join(this.dir, segmentName(s)), (type, r) => {
      if (type !== RecordType.Samples) return;
      const n = decodeSamples(r, bufs);
      for (let i = 0; i < n; i++) if (bufs.ts[i]! > maxT) maxT = bufs.ts[i]!;
    });
    return maxT;
  }

  private checkpoint(upTo: number, mint: number, keep: (ref: number) => boolean): WalTruncateStats {
    const name = `checkpoint.${segmentName(upTo)}`;
    const tmp = join(this.dir, `${name}.tmp`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    const file = join(tmp, segmentName(0));
    const fd = fs.openSync(file, 'wx', 0o644);
    const w = new ByteWriter();
    const written = new Set<number>();
    let dropped = 0;
    const flush = (): void => {
      let off = 0;
      while (off < w.len) off += fs.writeSync(fd, w.buf, off, w.len - off);
      w.reset();
    };
    const refs: number[] = [];
    const labels: Labels[] = [];
    const bufs = this.sampleBufs;
    const keptRefs = new Int32Array(bufs.refs.length);
    const sources: string[] = [];
    const prevCp = this.checkpoints.filter((c) => c < upTo).at(-1);
    if (prevCp !== undefined) {
      const d = join(this.dir, `checkpoint.${segmentName(prevCp)}`);
      for (const f of fs.readdirSync(d).filter((x) => SEGMENT_NAME.test(x)).sort()) sources.push(join(d, f));
    }
    for (const s of this.segmentIndices()) if (s <= upTo && (prevCp === undefined || s > prevCp)) sources.push(join(this.dir, segmentName(s)));
    try {
      for (const src of sources) {
        forEachRecord(src, (type, r) => {
          if (type === RecordType.Series) {
            refs.length = 0;
            labels.length = 0;
            decodeSeries(r, (ref, ls) => {
              if (written.has(ref)) return;
              if (!keep(ref)) {
                dropped++;
                return;
              }
              written.add(ref);
              refs.push(ref);
              labels.push(ls);
            });
            if (refs.length > 0) encodeSeries(w, refs, labels);
          } else if (type === RecordType.Tombstones) {
            const t = decodeTombstones(r, bufs);
            if (t.maxt < mint) return;
            let k = 0;
            for (let i = 0; i < t.n; i++) if (keep(bufs.refs[i]!)) keptRefs[k++] = bufs.refs[i]!;
            if (k > 0) encodeTombstones(w, keptRefs, k, t.mint, t.maxt);
          } else {
            // Samples at or after mint are still needed by the head (none in segments chosen
            // by truncate, but keep them if a caller asks for an earlier cut).
            const n = decodeSamples(r, bufs);
            let k = 0;
            for (let i = 0; i < n; i++) {
              if (bufs.ts[i]! < mint || !keep(bufs.refs[i]!)) continue;
              bufs.refs[k] = bufs.refs[i]!;
              bufs.ts[k] = bufs.ts[i]!;
              bufs.his[k] = bufs.his[i]!;
              bufs.los[k] = bufs.los[i]!;
              k++;
            }
            if (k > 0) encodeSamples(w, bufs.refs, bufs.ts, bufs.his, bufs.los, k);
          }
          if (w.len > 1024 * 1024) flush();
        });
      }
      flush();
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err instanceof StorageError ? err : ioError(`writing WAL checkpoint ${tmp} failed`, err);
    }
    fs.closeSync(fd);
    const final = join(this.dir, name);
    try {
      fsyncPath(tmp);
      fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(tmp, final);
      this.fsyncDir();
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw ioError(`installing WAL checkpoint ${final} failed`, err);
    }
    if (!this.checkpoints.includes(upTo)) this.checkpoints.push(upTo);
    this.checkpoints.sort((a, b) => a - b);
    return { checkpoint: upTo, segmentsDeleted: 0, seriesKept: written.size, seriesDropped: dropped };
  }
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be fsynced on every file system.
  } finally {
    fs.closeSync(fd);
  }
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function recordTypeName(t: number): string {
  return t === RecordType.Series ? 'series' : t === RecordType.Samples ? 'samples' : t === RecordType.Tombstones ? 'tombstones' : `type-${t}`;
}

/** Why the record at `off` is unusable, or undefined when its framing and CRC are fine. */
function checkRecord(data: Uint8Array, off: number): string | undefined {
  const left = data.length - off;
  if (left < RECORD_HEADER_BYTES) return `torn record header (${left} of ${RECORD_HEADER_BYTES} bytes at the end)`;
  const type = data[off]!;
  if (type !== RecordType.Series && type !== RecordType.Samples && type !== RecordType.Tombstones) {
    return type === 0 ? 'zeroed bytes where a record should start' : `unknown record type ${type}`;
  }
  const len = readU32(data, off + 1);
  if (len > MAX_RECORD_BYTES) return `record length ${len} is too large`;
  if (off + RECORD_HEADER_BYTES + len > data.length) return `torn ${recordTypeName(type)} record (${left - RECORD_HEADER_BYTES} of ${len} payload bytes at the end)`;
  const crc = readU32(data, off + 5);
  if (recordCrc(data, off, len) !== crc) return `CRC mismatch in ${recordTypeName(type)} record`;
  return undefined;
}

/**
 * Records that still look valid after the damaged one at `off` (skipping it by its length
 * when that is plausible), to report what a repair drops.
 */
function countValidAfter(data: Buffer, off: number): { records: number; samples: number } {
  let records = 0, samples = 0;
  if (data.length - off < RECORD_HEADER_BYTES) return { records, samples };
  const len = readU32(data, off + 1);
  let p = off + RECORD_HEADER_BYTES + len;
  const r = new ByteReader();
  while (len <= MAX_RECORD_BYTES && p < data.length && checkRecord(data, p) === undefined) {
    const l = readU32(data, p + 1);
    if (data[p] === RecordType.Samples) {
      r.reset(data, p + RECORD_HEADER_BYTES, p + RECORD_HEADER_BYTES + l);
      try {
        samples += r.uvarint();
      } catch {
        // The count alone is unreadable: count the record, not its samples.
      }
    }
    records++;
    p += RECORD_HEADER_BYTES + l;
  }
  return { records, samples };
}

/** Calls `fn` for each valid record of a file, stopping at the first damaged one. */
function forEachRecord(path: string, fn: (type: number, r: ByteReader) => void): void {
  const data = fs.readFileSync(path);
  const r = new ByteReader();
  let off = 0;
  while (off < data.length && checkRecord(data, off) === undefined) {
    const len = readU32(data, off + 1);
    r.reset(data, off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + len);
    fn(data[off]!, r);
    off += RECORD_HEADER_BYTES + len;
  }
}
