/**
 * Writes a block: one SQLite file holding the series of a time range [minTime, maxTime)
 * (storage/FORMAT.md "Blocks"). The file is built under a temporary name, fsynced, then
 * renamed into place, so a crash never leaves a partial block visible.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { Labels } from '../labels.js';
import { StorageError, ValueType } from '../interface.js';
import { XorChunk, XorIterator } from '../chunks/index.js';
import { MemPostings } from '../head/postings.js';
import { BLOCK_FORMAT, BLOCK_SUFFIX, Bytes, encodeChunkList, encodeLabelRefs, encodePostings, newUlid } from './format.js';

/** A chunk handed to the writer (the head's HeadChunk has this shape). */
export interface SourceChunk {
  readonly mint: number;
  readonly maxt: number;
  readonly numSamples: number;
  readonly bytes: Uint8Array;
  /** Deleted intervals (sorted [mint, maxt, …]) whose samples the writer drops. */
  readonly deleted?: readonly number[];
}

/** Input of {@link writeBlock}: series in strictly increasing label order. */
export interface SeriesSource {
  next(): boolean;
  at(): { readonly labels: Labels; readonly chunks: readonly SourceChunk[] };
}

export interface BlockStats {
  numSeries: number;
  numSamples: number;
  numChunks: number;
  numTombstones?: number;
}

/** What a block says about itself (its `meta` row, as JSON). */
export interface BlockMeta {
  ulid: string;
  /** Inclusive. */
  minTime: number;
  /** Exclusive, as Prometheus's block ranges are. */
  maxTime: number;
  stats: BlockStats;
  compaction: { level: number; sources: string[]; parents?: string[] };
  version: string;
  /** How the chunk stream is stored (absent: 'none'). */
  compression?: 'deflate' | 'none';
  /** Uncompressed bytes per frame when compressed. */
  frameBytes?: number;
}

export interface WriteBlockOptions {
  /** Block range [minTime, maxTime): samples outside are dropped. */
  minTime: number;
  maxTime: number;
  /** Compaction level (1 for a block cut from the head). */
  level?: number;
  /** Ulids of the level-1 blocks this one holds the data of (itself when empty). */
  sources?: string[];
  parents?: string[];
  /**
   * Re-encode each series' samples into chunks of up to this many samples (default
   * {@link DEFAULT_BLOCK_CHUNK_SAMPLES}). 0 keeps the chunks as given.
   */
  chunkSamples?: number;
  /** SQLite page size (default 4096). */
  pageSize?: number;
  /** fsync the file and directory (default true). */
  fsync?: boolean;
  /**
   * 'deflate' (default): the chunk stream is cut into frames of {@link FRAME_BYTES} that are
   * each deflated (raw, level 6) — Gorilla bitstreams still hold repeated patterns, and this
   * saves 20–35% on node_exporter data. 'none' stores the chunk stream as is.
   */
  compression?: 'deflate' | 'none';
}

/** Uncompressed bytes per compressed frame of the chunk stream. */
export const FRAME_BYTES = 16384;

/**
 * Samples per chunk in a written block: 120, as the head and Prometheus cut. A reader must
 * decode a chunk from its start to reach a time in it, so this bounds the samples decoded in
 * vain to reach a short window (dashboards read the last minutes of the newest block); 1200
 * saved ~2% of the file (deflated) but made such reads ~2× slower.
 */
export const DEFAULT_BLOCK_CHUNK_SAMPLES = 120;

export const SCHEMA = `
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE symbols (id INTEGER PRIMARY KEY, s TEXT NOT NULL);
CREATE TABLE series (id INTEGER PRIMARY KEY, labels BLOB NOT NULL, mint INTEGER NOT NULL, span INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL);
CREATE TABLE stream (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE frames (id INTEGER PRIMARY KEY, off INTEGER NOT NULL, len INTEGER NOT NULL);
CREATE TABLE postings (name INTEGER NOT NULL, value INTEGER NOT NULL, ids BLOB NOT NULL, PRIMARY KEY (name, value)) WITHOUT ROWID;
CREATE TABLE tombstones (id INTEGER NOT NULL, mint INTEGER NOT NULL, maxt INTEGER NOT NULL);
`;

/**
 * Bytes per row of the chunk stream for a page size: SQLite's largest record stored in a
 * table leaf page without overflow is usable size − 35 bytes; the record adds a 3-byte
 * header (its length and the blob's serial type) to the blob, and one more byte goes in practice
 * (measured: 4057 bytes is the largest blob kept in a 4096-byte page). So every row fills one page.
 */
export function streamRowBytes(pageSize: number): number {
  return pageSize - 39;
}

function ioError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = String(e.code ?? '');
  const hint =
    e.code === 'ENOSPC' || code === 'SQLITE_FULL'
      ? ' (no space left on device)'
      : e.code === 'EACCES' || e.code === 'EPERM' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')
        ? ' (permission denied or read-only)'
        : e.code === 'EROFS'
          ? ' (read-only file system)'
          : code.startsWith('SQLITE_IOERR')
            ? ` (${code}: the disk may be full or failing)`
            : '';
  return new StorageError('io', `${what}: ${e.message ?? String(err)}${hint}`, { cause: err });
}

/** fsyncs a file or directory by path. */
export function fsyncPath(path: string): void {
  const fd = fs.openSync(path, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the series of `src` into a new block file in `dir`. Returns its meta, or undefined
 * when no sample fell in the range (nothing is written then). Throws `StorageError('io')`
 * when the file cannot be written (nothing is left behind then).
 */
export function writeBlock(dir: string, src: SeriesSource, opts: WriteBlockOptions): BlockMeta | undefined {
  return drain(writeBlockSteps(dir, src, opts));
}

/** Runs a step generator to completion, synchronously. */
export function drain<T>(g: Generator<void, T, void>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** Series written between two yields of {@link writeBlockSteps}. */
export const SERIES_PER_STEP = 2000;

/**
 * {@link writeBlock} as steps: yields every {@link SERIES_PER_STEP} series so a caller can
 * let the event loop run (scrapes, queries) while a large block is written. Abandoning the
 * generator (`return()`) removes the temporary file.
 */
export function* writeBlockSteps(dir: string, src: SeriesSource, opts: WriteBlockOptions): Generator<void, BlockMeta | undefined, void> {
  const ulid = newUlid();
  const tmp = join(dir, `${ulid}${BLOCK_SUFFIX}.tmp`);
  const final = join(dir, `${ulid}${BLOCK_SUFFIX}`);
  const { minTime, maxTime } = opts;
  if (!(minTime < maxTime)) throw new RangeError(`block range [${minTime}, ${maxTime}) is empty`);
  const chunkSamples = opts.chunkSamples ?? DEFAULT_BLOCK_CHUNK_SAMPLES;
  let db: Database.Database | undefined;
  let finished = false;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.rmSync(tmp, { force: true });
    db = new Database(tmp);
    const pageSize = opts.pageSize ?? 4096;
    const rowBytes = streamRowBytes(pageSize);
    db.pragma(`page_size = ${pageSize}`);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec(SCHEMA);
    db.exec('BEGIN');
    const insSeries = db.prepare('INSERT INTO series (id, labels, mint, span, off, len) VALUES (?, ?, ?, ?, ?, ?)');
    const insStream = db.prepare('INSERT INTO stream (seq, bytes) VALUES (?, ?)');
    // The chunk stream: every series' chunk list back to back, cut into page-sized rows.
    const stream = new Uint8Array(rowBytes);
    let streamFill = 0, streamSeq = 0, streamOff = 0, rawOff = 0;
    /** Appends to the stored stream (page-sized rows). */
    const writeRaw = (data: Uint8Array): void => {
      let p = 0;
      while (p < data.length) {
        const n = Math.min(rowBytes - streamFill, data.length - p);
        stream.set(data.subarray(p, p + n), streamFill);
        streamFill += n;
        p += n;
        if (streamFill === rowBytes) {
          insStream.run(streamSeq++, stream);
          streamFill = 0;
        }
      }
      rawOff += data.length;
    };
    const compress = (opts.compression ?? 'deflate') === 'deflate';
    const insFrame = db.prepare('INSERT INTO frames (id, off, len) VALUES (?, ?, ?)');
    const frame = new Uint8Array(FRAME_BYTES);
    let frameFill = 0, frameId = 0;
    const flushFrame = (): void => {
      if (frameFill === 0) return;
      const z = deflateRawSync(frame.subarray(0, frameFill), { level: 6 });
      insFrame.run(frameId++, rawOff, z.length);
      writeRaw(z);
      frameFill = 0;
    };
    /** Appends to the logical chunk stream (series rows point into it). */
    const writeStream = (data: Uint8Array): void => {
      if (!compress) writeRaw(data);
      else {
        let p = 0;
        while (p < data.length) {
          const n = Math.min(FRAME_BYTES - frameFill, data.length - p);
          frame.set(data.subarray(p, p + n), frameFill);
          frameFill += n;
          p += n;
          if (frameFill === FRAME_BYTES) flushFrame();
        }
      }
      streamOff += data.length;
    };
    const symbols = new Map<string, number>();
    const symbolList: string[] = [];
    const sym = (s: string): number => {
      let id = symbols.get(s);
      if (id === undefined) {
        id = symbolList.length;
        symbols.set(s, id);
        symbolList.push(s);
      }
      return id;
    };
    const postings = new MemPostings();
    const out = new Bytes(4096);
    const refs: number[] = [];
    const stats: BlockStats = { numSeries: 0, numSamples: 0, numChunks: 0 };
    const rechunker = new Rechunker(chunkSamples);
    let prev: Labels | undefined;
    let id = 0;
    let step = 0;
    while (src.next()) {
      if (++step % SERIES_PER_STEP === 0) yield;
      const s = src.at();
      if (prev !== undefined && Labels.compare(prev, s.labels) >= 0) {
        throw new Error(`block writer: series out of order (${prev.toString()} then ${s.labels.toString()})`);
      }
      prev = s.labels;
      const chunks = rechunker.run(s.chunks, minTime, maxTime);
      if (chunks.length === 0) continue;
      id++;
      const l = s.labels;
      refs.length = 0;
      for (let i = 0; i < l.size; i++) refs.push(sym(l.nameAt(i)), sym(l.valueAt(i)));
      const labelBlob = encodeLabelRefs(out, refs, refs.length);
      const rowMint = chunks[0]!.mint, rowMaxt = chunks[chunks.length - 1]!.maxt;
      const data = encodeChunkList(out, rowMint, chunks);
      insSeries.run(id, labelBlob, rowMint - minTime, rowMaxt - rowMint, streamOff, data.length);
      writeStream(data);
      postings.add(id, l);
      stats.numSeries++;
      stats.numChunks += chunks.length;
      for (const c of chunks) stats.numSamples += c.numSamples;
    }
    if (stats.numSeries === 0) {
      db.exec('ROLLBACK');
      db.close();
      db = undefined;
      fs.rmSync(tmp, { force: true });
      finished = true;
      return undefined;
    }
    if (compress) flushFrame();
    if (streamFill > 0) insStream.run(streamSeq, stream.subarray(0, streamFill));
    const insSym = db.prepare('INSERT INTO symbols (id, s) VALUES (?, ?)');
    for (let i = 0; i < symbolList.length; i++) insSym.run(i, symbolList[i]);
    const pairs: Array<[number, number, string, string]> = [];
    postings.forEachPair((name, value) => pairs.push([symbols.get(name)!, symbols.get(value)!, name, value]));
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const insPost = db.prepare('INSERT INTO postings (name, value, ids) VALUES (?, ?, ?)');
    for (const [n, v, name, value] of pairs) {
      const ids = postings.get(name, value);
      insPost.run(n, v, encodePostings(out, ids, ids.length));
    }
    const meta: BlockMeta = {
      ulid,
      minTime,
      maxTime,
      stats,
      compaction: { level: opts.level ?? 1, sources: opts.sources ?? [ulid], ...(opts.parents ? { parents: opts.parents } : {}) },
      version: BLOCK_FORMAT,
      compression: compress ? 'deflate' : 'none',
      ...(compress ? { frameBytes: FRAME_BYTES } : {}),
    };
    db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run('meta', JSON.stringify(meta));
    db.exec('COMMIT');
    db.close();
    db = undefined;
    if (opts.fsync !== false) fsyncPath(tmp);
    fs.renameSync(tmp, final);
    finished = true;
    if (opts.fsync !== false) fsyncPath(dir);
    return meta;
  } catch (err) {
    if (err instanceof Error && /out of order/.test(err.message)) throw err;
    throw ioError(`writing block ${final} failed`, err);
  } finally {
    if (!finished) {
      // Failed or abandoned: leave nothing behind.
      try {
        db?.close();
      } catch {
        // already failing
      }
      fs.rmSync(tmp, { force: true });
    }
  }
}

/**
 * Clips a series' chunks to [mint, maxt), drops samples not after the previous one (so
 * overlapping inputs merge without duplicates), and re-encodes them into chunks of up to
 * `chunkSamples` samples. Chunks that need no change (in range, in order, none deleted, of about that size) are passed through.
 */
export class Rechunker {
  private readonly it = new XorIterator();
  constructor(private readonly chunkSamples: number) {}

  run(chunks: readonly SourceChunk[], mint: number, maxt: number): SourceChunk[] {
    if (passThrough(chunks, mint, maxt, this.chunkSamples)) return chunks.slice();
    for (let i = 1; i < chunks.length; i++) {
      if (chunks[i]!.mint <= chunks[i - 1]!.maxt) return this.runOverlapping(chunks, mint, maxt);
    }
    const limit = this.chunkSamples === 0 ? 120 : this.chunkSamples;
    const out: SourceChunk[] = [];
    let c: XorChunk | undefined;
    let last = -Infinity;
    const flush = (): void => {
      if (c !== undefined && c.numSamples > 0) out.push({ mint: c.minTime, maxt: c.maxTime, numSamples: c.numSamples, bytes: c.bytes().slice() });
      c = undefined;
    };
    for (const ch of chunks) {
      if (ch.maxt < mint || ch.mint >= maxt || ch.maxt <= last) continue;
      const it = this.it.reset(ch.bytes);
      const del = ch.deleted;
      while (it.next() !== ValueType.None) {
        const t = it.atT();
        if (t <= last || t < mint) continue;
        if (t >= maxt) break;
        if (del !== undefined && inIntervals(del, t)) continue;
        if (c === undefined) c = new XorChunk(Math.min(limit * 2 + 32, 16384));
        c.appendBits(t, it.atBitsHi(), it.atBitsLo());
        last = t;
        if (c.numSamples >= limit) flush();
      }
      const err = it.error();
      if (err !== undefined) throw new StorageError('corrupt', `chunk [${ch.mint}, ${ch.maxt}] is corrupt: ${err}`);
    }
    flush();
    return out;
  }

  /**
   * Chunks overlapping in time (blocks overlapping, e.g. a snapshot's head block next to newer
   * data): all samples decoded, sorted by time (stably: for a timestamp present twice the
   * earlier chunk's value wins), then re-encoded.
   */
  private runOverlapping(chunks: readonly SourceChunk[], mint: number, maxt: number): SourceChunk[] {
    let n = 0;
    for (const ch of chunks) n += ch.numSamples;
    const ts = new Float64Array(n), his = new Uint32Array(n), los = new Uint32Array(n);
    let w = 0;
    for (const ch of chunks) {
      const it = this.it.reset(ch.bytes);
      const del = ch.deleted;
      while (it.next() !== ValueType.None && w < n) {
        const t = it.atT();
        if (t < mint || t >= maxt || (del !== undefined && inIntervals(del, t))) continue;
        ts[w] = t;
        his[w] = it.atBitsHi();
        los[w++] = it.atBitsLo();
      }
      const err = it.error();
      if (err !== undefined) throw new StorageError('corrupt', `chunk [${ch.mint}, ${ch.maxt}] is corrupt: ${err}`);
    }
    const order = Array.from({ length: w }, (_, i) => i).sort((a, b) => ts[a]! - ts[b]! || a - b);
    const limit = this.chunkSamples === 0 ? 120 : this.chunkSamples;
    const out: SourceChunk[] = [];
    let c: XorChunk | undefined;
    let last = -Infinity;
    for (const i of order) {
      const t = ts[i]!;
      if (t <= last) continue;
      if (c === undefined) c = new XorChunk(Math.min(limit * 2 + 32, 16384));
      c.appendBits(t, his[i]!, los[i]!);
      last = t;
      if (c.numSamples >= limit) {
        out.push({ mint: c.minTime, maxt: c.maxTime, numSamples: c.numSamples, bytes: c.bytes().slice() });
        c = undefined;
      }
    }
    if (c !== undefined && c.numSamples > 0) out.push({ mint: c.minTime, maxt: c.maxTime, numSamples: c.numSamples, bytes: c.bytes().slice() });
    return out;
  }
}

function inIntervals(iv: readonly number[], t: number): boolean {
  for (let i = 0; i < iv.length; i += 2) if (iv[i]! <= t && t <= iv[i + 1]!) return true;
  return false;
}

function passThrough(chunks: readonly SourceChunk[], mint: number, maxt: number, limit: number): boolean {
  let last = -Infinity;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (c.deleted !== undefined || c.mint < mint || c.maxt >= maxt || c.mint <= last) return false;
    // With a chunk size: chunks already of about that size (none over it, none but the last under half of it).
    if (limit > 0 && (c.numSamples > limit || (i < chunks.length - 1 && c.numSamples * 2 < limit) || c.numSamples === 0)) return false;
    last = c.maxt;
  }
  return true;
}
