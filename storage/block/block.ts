/**
 * A persisted block opened for reading: its meta, symbol table and postings directory are
 * loaded at open; series labels and chunks are read on demand. Tombstones (deletions) live
 * in the block file's `tombstones` table, written in a SQLite transaction, and in memory.
 */
import { mergeInterval } from '../tombstones.js';
import * as fs from 'node:fs';
import { basename } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { Labels } from '../labels.js';
import type { Matcher } from '../matchers.js';
import { StorageError, type Querier } from '../interface.js';
import { intersect, subtract } from '../head/postings.js';
import { BLOCK_FORMAT, decodeLabelRefs, decodePostings, ULID_RE, BLOCK_SUFFIX } from './format.js';
import type { BlockMeta, SourceChunk } from './writer.js';
import { BlockQuerier } from './querier.js';
import { decodeChunkList } from './format.js';

const EMPTY = new Int32Array(0);

/**
 * Inflated frames of every open block, least recently used first, within a byte budget: the
 * series of one selection share and interleave frames, and the same recent range is read by
 * query after query (dashboards), so inflating each frame once per query was most of a short
 * block read. Keys are `block serial × 2^32 + frame id`.
 */
class Lru<T> {
  private readonly map = new Map<number, T>();
  private bytes = 0;
  constructor(
    public budget: number,
    private readonly sizeOf: (v: T) => number,
  ) {}
  get(key: number): T | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: number, v: T): void {
    this.delete(key);
    this.map.set(key, v);
    this.bytes += this.sizeOf(v);
    this.trim();
  }
  delete(key: number): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.bytes -= this.sizeOf(v);
    this.map.delete(key);
  }
  trim(): void {
    if (this.bytes <= this.budget) return;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= this.sizeOf(v);
    }
  }
  get size(): number {
    return this.bytes;
  }
}

/**
 * Series rows of {@link ROW_PAGE} consecutive ids, read with one range scan: `loc` holds
 * `[mint, maxt, off, len]` per id (NaN mint: no row), `labels` the label blobs back to back
 * with `ends[i]` the end of id i's blob.
 */
interface RowPage {
  loc: Float64Array;
  labels: Uint8Array;
  ends: Int32Array;
}
/** Ids per row page. */
const ROW_PAGE = 256;
/** A page is read (and cached) when a selection wants at least this many of its ids; fewer are looked up one by one. */
const ROW_PAGE_MIN_IDS = 16;

/** Default budget of the inflated frame cache shared by all blocks (bytes). */
export const FRAME_CACHE_BYTES = 32 << 20;
const frameCache = new Lru<Uint8Array>(FRAME_CACHE_BYTES, (fr) => fr.length);
/** Default budget of the series row page cache shared by all blocks (bytes). */
export const ROW_CACHE_BYTES = 16 << 20;
const rowCache = new Lru<RowPage>(ROW_CACHE_BYTES, (p) => p.loc.byteLength + p.labels.byteLength + p.ends.byteLength + 64);
let nextSerial = 1;

/** Sets the byte budget of the inflated frame cache shared by all blocks (0 disables it); returns the old one. */
export function setFrameCacheBytes(bytes: number): number {
  if (!(bytes >= 0)) throw new RangeError(`frame cache size must be a non-negative number of bytes, got ${bytes}`);
  const old = frameCache.budget;
  frameCache.budget = bytes;
  frameCache.trim();
  return old;
}

/** Bytes held by the inflated frame cache. @internal */
export function frameCacheBytes(): number {
  return frameCache.size;
}

/** Sets the byte budget of the series row page cache shared by all blocks (0 disables it); returns the old one. */
export function setRowCacheBytes(bytes: number): number {
  if (!(bytes >= 0)) throw new RangeError(`row cache size must be a non-negative number of bytes, got ${bytes}`);
  const old = rowCache.budget;
  rowCache.budget = bytes;
  rowCache.trim();
  return old;
}

/** Bytes held by the series row page cache. @internal */
export function rowCacheBytes(): number {
  return rowCache.size;
}

/** Series rows of a selection: `loc` holds `[mint, maxt, off, len]` per selected id; `labels[k]` is undefined for an id without a row. */
export interface SeriesRows {
  loc: Float64Array;
  labels: Array<Uint8Array | undefined>;
}

/** The values of one label name, sorted, with their symbol ids (parallel arrays: no object per value). */
interface ValueList {
  values: string[];
  syms: Int32Array;
}

/** A series read for compaction or snapshot: labels and chunks with tombstones not yet applied. */
export interface BlockSeries {
  id: number;
  labels: Labels;
  chunks: SourceChunk[];
}

export class Block {
  readonly path: string;
  readonly meta: BlockMeta;
  /** @internal */ readonly db: Database.Database;
  /** @internal */ readonly symbols: string[];
  /** name → values sorted, each with its symbol id. @internal */
  readonly values: Map<string, ValueList>;
  private readonly nameSym = new Map<string, number>();
  /** Deleted intervals per series id: sorted, merged [mint, maxt, …]; replaced, never mutated. */
  tombstones = new Map<number, readonly number[]>();
  private readonly stmtLabels: Database.Statement;
  private readonly stmtChunks: Database.Statement;
  private readonly stmtPostings: Database.Statement;
  private readonly stmtStream: Database.Statement;
  private readonly stmtStreamRange: Database.Statement;
  private readonly stmtRow: Database.Statement;
  private readonly stmtRange: Database.Statement;
  /** Bytes per stream row (all rows but the last have this size). */
  private readonly rowBytes: number;
  private cacheSeq = -1;
  private cacheRow: Uint8Array | undefined;
  /** Compressed frames of the chunk stream (none: stored uncompressed). */
  private frameBytes = 0;
  private frameOff = new Float64Array(0);
  private frameLen = new Int32Array(0);
  private cacheFrameId = -1;
  private cacheFrame: Uint8Array | undefined;
  /** This block's key space in the shared frame cache. */
  private readonly serial = nextSerial++ * 2 ** 32;
  private refs = 0;
  private deleted = false;
  private closedDb = false;
  sizeBytes: number;

  private constructor(path: string, db: Database.Database, meta: BlockMeta) {
    this.path = path;
    this.db = db;
    this.meta = meta;
    this.sizeBytes = fs.statSync(path).size;
    this.symbols = [];
    for (const [id, s] of db.prepare('SELECT id, s FROM symbols').raw().iterate() as IterableIterator<[number, string]>) this.symbols[id] = s;
    const entries = new Map<string, Array<{ value: string; sym: number }>>();
    for (const [n, v] of db.prepare('SELECT name, value FROM postings').raw().iterate() as IterableIterator<[number, number]>) {
      const name = this.symbols[n], value = this.symbols[v];
      if (name === undefined || value === undefined) throw new RangeError(`postings refer to unknown symbols ${n}/${v}`);
      let vs = entries.get(name);
      if (vs === undefined) {
        vs = [];
        entries.set(name, vs);
        this.nameSym.set(name, n);
      }
      vs.push({ value, sym: v });
    }
    this.values = new Map();
    for (const [name, vs] of entries) this.values.set(name, sortValues(vs));
    for (const [id, mint, maxt] of db.prepare('SELECT id, mint, maxt FROM tombstones ORDER BY id, mint').raw().iterate() as IterableIterator<[number, number, number]>) {
      this.tombstones.set(id, mergeInterval(this.tombstones.get(id) ?? [], mint, maxt));
    }
    this.stmtLabels = db.prepare('SELECT labels FROM series WHERE id = ?').pluck();
    this.stmtChunks = db.prepare('SELECT mint, span, off, len FROM series WHERE id = ?').raw();
    this.stmtRow = db.prepare('SELECT labels, mint, span, off, len FROM series WHERE id = ?').raw();
    this.stmtRange = db.prepare('SELECT id, labels, mint, span, off, len FROM series WHERE id BETWEEN ? AND ?').raw();
    this.stmtStream = db.prepare('SELECT bytes FROM stream WHERE seq = ?').pluck();
    this.stmtStreamRange = db.prepare('SELECT seq, bytes FROM stream WHERE seq BETWEEN ? AND ? ORDER BY seq').raw();
    const first = db.prepare('SELECT length(bytes) FROM stream WHERE seq = 0').pluck().get() as number | undefined;
    const count = db.prepare('SELECT count(*) FROM stream').pluck().get() as number;
    this.rowBytes = count > 1 && first !== undefined ? first : Infinity;
    if (meta.compression === 'deflate') {
      const fb = meta.frameBytes;
      if (!(typeof fb === 'number' && fb > 0)) throw new RangeError('compressed block without frameBytes');
      this.frameBytes = fb;
      const rows = db.prepare('SELECT id, off, len FROM frames ORDER BY id').raw().all() as Array<[number, number, number]>;
      this.frameOff = new Float64Array(rows.length);
      this.frameLen = new Int32Array(rows.length);
      rows.forEach(([id, off, len], i) => {
        if (id !== i) throw new RangeError(`frame ${i} is missing`);
        this.frameOff[i] = off;
        this.frameLen[i] = len;
      });
    } else if (meta.compression !== undefined && meta.compression !== 'none') {
      throw new RangeError(`unknown compression ${JSON.stringify(meta.compression)}`);
    }
    this.stmtPostings = db.prepare('SELECT ids FROM postings WHERE name = ? AND value = ?').pluck();
  }

  /**
   * Opens the block file at `path`. Throws `StorageError('corrupt')` naming the file and the
   * reason when it is not a readable block.
   */
  static open(path: string): Block {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: true });
      const raw = db.prepare("SELECT v FROM meta WHERE k = 'meta'").pluck().get() as string | undefined;
      if (raw === undefined) throw new Error('no meta row');
      const meta = JSON.parse(raw) as BlockMeta;
      if (meta.version !== BLOCK_FORMAT) throw new Error(`unknown block format ${JSON.stringify(meta.version)}`);
      if (!ULID_RE.test(meta.ulid) || !(meta.minTime < meta.maxTime) || typeof meta.stats?.numSeries !== 'number') throw new Error('invalid meta');
      if (basename(path) !== `${meta.ulid}${BLOCK_SUFFIX}`) throw new Error(`file name does not match the block id ${meta.ulid}`);
      return new Block(path, db, meta);
    } catch (err) {
      try {
        db?.close();
      } catch {
        // ignore
      }
      throw new StorageError('corrupt', `block ${path} is unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  get ulid(): string {
    return this.meta.ulid;
  }
  get minTime(): number {
    return this.meta.minTime;
  }
  get maxTime(): number {
    return this.meta.maxTime;
  }
  get numTombstones(): number {
    let n = 0;
    for (const t of this.tombstones.values()) n += t.length >> 1;
    return n;
  }

  /** True when [mint, maxt] (inclusive) meets the block's range [minTime, maxTime). */
  overlaps(mint: number, maxt: number): boolean {
    return mint < this.meta.maxTime && maxt >= this.meta.minTime;
  }

  /** A querier over the block; it keeps the block's file open until closed. */
  querier(mint: number, maxt: number): Querier {
    this.retain();
    return new BlockQuerier(this, mint, maxt);
  }

  /** @internal */
  retain(): void {
    if (this.closedDb) throw new StorageError('closed', `block ${this.ulid} is closed`);
    this.refs++;
  }

  /** @internal */
  release(): void {
    this.refs--;
    if (this.refs === 0 && this.deleted) this.closeDb();
  }

  /** Removes the file; the open readers keep working, the connection closes after them. */
  markDeleted(): void {
    if (this.deleted) return;
    this.deleted = true;
    fs.rmSync(this.path, { force: true });
    fs.rmSync(`${this.path}-journal`, { force: true });
    if (this.refs === 0) this.closeDb();
  }

  close(): void {
    this.deleted = true;
    if (this.refs === 0) this.closeDb();
  }

  private closeDb(): void {
    if (this.closedDb) return;
    this.closedDb = true;
    for (let f = 0; f < this.frameOff.length; f++) frameCache.delete(this.serial + f);
    for (let p = 0, n = Math.floor(this.meta.stats.numSeries / ROW_PAGE); p <= n; p++) rowCache.delete(this.serial + p);
    this.cacheFrame = undefined;
    this.cacheRow = undefined;
    this.db.close();
  }

  // ------------------------------------------------------------------ reads

  /** @internal */
  labelsOf(id: number): Labels {
    const blob = this.stmtLabels.get(id) as Uint8Array | undefined;
    if (blob === undefined) throw new StorageError('corrupt', `block ${this.ulid}: series ${id} has no labels`);
    return Labels.fromSortedPairsUnsafe(decodeLabelRefs(blob, this.symbols));
  }

  /**
   * The series rows of `ids` (sorted). Ids are grouped by pages of {@link ROW_PAGE}: a page
   * with many wanted ids is read with one range scan (≈1 µs a row, instead of ≈5 µs a lookup)
   * and kept in the shared row cache, so the next query over the same series does no SQL;
   * a page with few wanted ids is looked up id by id. @internal
   */
  seriesRows(ids: Int32Array): SeriesRows {
    const n = ids.length;
    const loc = new Float64Array(4 * n);
    const labels = new Array<Uint8Array | undefined>(n);
    const base = this.meta.minTime;
    let k = 0;
    while (k < n) {
      const page = Math.floor(ids[k]! / ROW_PAGE);
      let e = k + 1;
      const pageEnd = (page + 1) * ROW_PAGE;
      while (e < n && ids[e]! < pageEnd) e++;
      let rp = rowCache.get(this.serial + page);
      if (rp === undefined && e - k >= ROW_PAGE_MIN_IDS) {
        rp = this.readRowPage(page);
        rowCache.set(this.serial + page, rp);
      }
      if (rp !== undefined) {
        for (; k < e; k++) {
          const i = ids[k]! - page * ROW_PAGE;
          const m = rp.loc[4 * i]!;
          if (m !== m) continue;
          loc[4 * k] = m;
          loc[4 * k + 1] = rp.loc[4 * i + 1]!;
          loc[4 * k + 2] = rp.loc[4 * i + 2]!;
          loc[4 * k + 3] = rp.loc[4 * i + 3]!;
          labels[k] = rp.labels.subarray(i === 0 ? 0 : rp.ends[i - 1]!, rp.ends[i]!);
        }
        continue;
      }
      for (; k < e; k++) {
        const r = this.stmtRow.get(ids[k]) as [Uint8Array, number, number, number, number] | undefined;
        if (r === undefined) continue;
        loc[4 * k] = base + r[1];
        loc[4 * k + 1] = base + r[1] + r[2];
        loc[4 * k + 2] = r[3];
        loc[4 * k + 3] = r[4];
        labels[k] = r[0];
      }
    }
    return { loc, labels };
  }

  /** Rows of ids [page × ROW_PAGE, (page + 1) × ROW_PAGE) in one range scan. */
  private readRowPage(page: number): RowPage {
    const first = page * ROW_PAGE;
    const loc = new Float64Array(4 * ROW_PAGE).fill(NaN);
    const ends = new Int32Array(ROW_PAGE);
    const blobs: Array<Uint8Array | undefined> = new Array(ROW_PAGE);
    let total = 0;
    const base = this.meta.minTime;
    for (const r of this.stmtRange.iterate(first, first + ROW_PAGE - 1) as IterableIterator<[number, Uint8Array, number, number, number, number]>) {
      const i = r[0] - first;
      loc[4 * i] = base + r[2];
      loc[4 * i + 1] = base + r[2] + r[3];
      loc[4 * i + 2] = r[4];
      loc[4 * i + 3] = r[5];
      blobs[i] = r[1];
      total += r[1].length;
    }
    const labels = new Uint8Array(total);
    let w = 0;
    for (let i = 0; i < ROW_PAGE; i++) {
      const b = blobs[i];
      if (b !== undefined) {
        labels.set(b, w);
        w += b.length;
      }
      ends[i] = w;
    }
    return { loc, labels, ends };
  }

  /** Labels from a row's label blob. @internal */
  decodeLabels(blob: Uint8Array): Labels {
    return Labels.fromSortedPairsUnsafe(decodeLabelRefs(blob, this.symbols));
  }

  /** Bytes [off, off + len) of the chunk stream: a series' chunk list. @internal */
  chunkData(off: number, len: number): Uint8Array {
    return this.readStream(off, len);
  }

  /** [mint, maxt, data | null] of a series' chunk list; data only when [mint, maxt] meets [lo, hi]. @internal */
  chunkRow(id: number, lo: number, hi: number, withData = true): [number, number, Uint8Array | null] | undefined {
    const row = this.stmtChunks.get(id) as [number, number, number, number] | undefined;
    if (row === undefined) return undefined;
    const [dmint, span, off, len] = row;
    const mint = this.meta.minTime + dmint, maxt = mint + span;
    if (!withData || maxt < lo || mint > hi) return [mint, maxt, null];
    return [mint, maxt, this.readStream(off, len)];
  }

  /** Bytes [off, off + len) of the logical chunk stream (a view of a cached frame or row when it lies in one). */
  private readStream(off: number, len: number, keep = true): Uint8Array {
    const F = this.frameBytes;
    if (F === 0) return this.readRaw(off, len);
    const f0 = Math.floor(off / F), f1 = Math.floor((off + len - 1) / F);
    if (f0 === f1) {
      const fr = this.frame(f0, keep);
      if (off - f0 * F + len > fr.length) throw new StorageError('corrupt', `block ${this.ulid}: frame ${f0} is short`);
      return fr.subarray(off - f0 * F, off - f0 * F + len);
    }
    const out = new Uint8Array(len);
    let w = 0;
    for (let f = f0; f <= f1; f++) {
      const fr = this.frame(f, keep);
      const from = f === f0 ? off - f0 * F : 0;
      const n = Math.min(fr.length - from, len - w);
      out.set(fr.subarray(from, from + n), w);
      w += n;
    }
    if (w !== len) throw new StorageError('corrupt', `block ${this.ulid}: chunk stream ends early`);
    return out;
  }

  /** Frame `f` inflated; `keep`: put it in the shared cache (not for whole-block scans, which would evict the hot frames). */
  private frame(f: number, keep: boolean): Uint8Array {
    if (f === this.cacheFrameId) return this.cacheFrame!;
    if (f >= this.frameOff.length) throw new StorageError('corrupt', `block ${this.ulid}: frame ${f} is missing`);
    let fr = frameCache.get(this.serial + f);
    if (fr !== undefined) {
      this.cacheFrameId = f;
      this.cacheFrame = fr;
      return fr;
    }
    try {
      fr = inflateRawSync(this.readRaw(this.frameOff[f]!, this.frameLen[f]!), { maxOutputLength: this.frameBytes });
    } catch (err) {
      throw new StorageError('corrupt', `block ${this.ulid}: frame ${f} does not inflate: ${(err as Error).message}`);
    }
    this.cacheFrameId = f;
    this.cacheFrame = fr;
    if (keep) frameCache.set(this.serial + f, fr);
    return fr;
  }

  /** Bytes [off, off + len) of the stored stream rows. */
  private readRaw(off: number, len: number): Uint8Array {
    const R = this.rowBytes;
    const s0 = R === Infinity ? 0 : Math.floor(off / R);
    const s1 = R === Infinity ? 0 : Math.floor((off + len - 1) / R);
    const rowOf = (seq: number): Uint8Array => {
      if (seq === this.cacheSeq) return this.cacheRow!;
      const r = this.stmtStream.get(seq) as Uint8Array | undefined;
      if (r === undefined) throw new StorageError('corrupt', `block ${this.ulid}: chunk stream row ${seq} is missing`);
      this.cacheSeq = seq;
      this.cacheRow = r;
      return r;
    };
    const base = R === Infinity ? 0 : s0 * R;
    if (s0 === s1) {
      const r = rowOf(s0);
      if (off - base + len > r.length) throw new StorageError('corrupt', `block ${this.ulid}: chunk stream row ${s0} is short`);
      return r.subarray(off - base, off - base + len);
    }
    // Several rows (a frame spans 2–5): the first may be the cached row, the rest come from one range scan.
    const out = new Uint8Array(len);
    let w = 0, s = s0;
    const put = (r: Uint8Array, seq: number): void => {
      const from = seq === s0 ? off - base : 0;
      const n = Math.min(r.length - from, len - w);
      if (n > 0) out.set(r.subarray(from, from + n), w);
      w += Math.max(n, 0);
    };
    if (s0 === this.cacheSeq) put(this.cacheRow!, s++);
    let last: Uint8Array | undefined;
    for (const [seq, r] of this.stmtStreamRange.iterate(s, s1) as IterableIterator<[number, Uint8Array]>) {
      if (seq !== s) throw new StorageError('corrupt', `block ${this.ulid}: chunk stream row ${s} is missing`);
      put(r, s++);
      last = r;
    }
    if (s !== s1 + 1) throw new StorageError('corrupt', `block ${this.ulid}: chunk stream row ${s} is missing`);
    if (last !== undefined) {
      this.cacheSeq = s1;
      this.cacheRow = last;
    }
    if (w !== len) throw new StorageError('corrupt', `block ${this.ulid}: chunk stream ends early`);
    return out;
  }

  private postingsOf(name: string, sym: number): Int32Array {
    const blob = this.stmtPostings.get(this.nameSym.get(name), sym) as Uint8Array | undefined;
    return blob === undefined ? EMPTY : decodePostings(blob);
  }

  /** Sorted series ids matching all matchers (Prometheus semantics, as the head). @internal */
  postingsForMatchers(matchers: readonly Matcher[]): Int32Array {
    const pos: Matcher[] = [];
    const neg: Matcher[] = [];
    for (const m of matchers) (m.matchesEmpty ? neg : pos).push(m);
    pos.sort((a, b) => cost(a) - cost(b));
    let result: Int32Array | undefined;
    for (const m of pos) {
      const p = this.postingsFor(m, true);
      result = result === undefined ? p : intersect(result, p);
      if (result.length === 0) return result;
    }
    if (result === undefined) {
      result = new Int32Array(this.meta.stats.numSeries);
      for (let i = 0; i < result.length; i++) result[i] = i + 1;
    }
    for (const m of neg) {
      if (result.length === 0) break;
      result = subtract(result, this.postingsFor(m, false));
    }
    return result;
  }

  private postingsFor(m: Matcher, want: boolean): Int32Array {
    const values = this.values.get(m.name);
    if (values === undefined) return EMPTY;
    const positive = m.type === '=' || m.type === '=~';
    const lists: Int32Array[] = [];
    const set = m.literalSet;
    if (set !== undefined && positive === want) {
      for (const v of set) {
        const i = lowerBound(values.values, v);
        if (values.values[i] === v) lists.push(this.postingsOf(m.name, values.syms[i]!));
      }
    } else {
      const prefix = want ? m.prefix : '';
      let start = 0;
      if (prefix !== '') start = lowerBound(values.values, prefix);
      const vs = values.values;
      for (let i = start; i < vs.length; i++) {
        const v = vs[i]!;
        if (prefix !== '' && !v.startsWith(prefix)) break;
        if (m.matches(v) === want) lists.push(this.postingsOf(m.name, values.syms[i]!));
      }
    }
    return unionAll(lists);
  }

  /**
   * Every series with its chunks (each carrying the series' tombstones as `deleted`), in
   * label order. For compaction and snapshots; holds the connection until exhausted.
   */
  *allSeries(): Generator<BlockSeries> {
    const n = this.meta.stats.numSeries;
    // Rows by pages of ROW_PAGE ids (one range scan each, fetched whole: the generator yields between reads).
    for (let lo = 1; lo <= n; lo += ROW_PAGE) {
      const hi = Math.min(n, lo + ROW_PAGE - 1);
      const rows = this.stmtRange.all(lo, hi) as Array<[number, Uint8Array, number, number, number, number]>;
      for (let k = 0, id = lo; id <= hi; id++, k++) {
        const row = rows[k];
        if (row === undefined || row[0] !== id) throw new StorageError('corrupt', `block ${this.ulid}: series ${id} is missing`);
        const [, lb, dmint, , off, len] = row;
        const mint = this.meta.minTime + dmint;
        const data = this.readStream(off, len, false).slice();
        const labels = Labels.fromSortedPairsUnsafe(decodeLabelRefs(lb, this.symbols));
        const refs = decodeChunkList(data, mint);
        const tomb = this.tombstones.get(id);
        const chunks: SourceChunk[] = refs.map((r) => {
          const bytes = data.subarray(r.off, r.off + r.len);
          const c = { mint: r.mint, maxt: r.maxt, numSamples: (bytes[0]! << 8) | bytes[1]!, bytes };
          return tomb === undefined ? c : { ...c, deleted: tomb };
        });
        yield { id, labels, chunks };
      }
    }
  }

  /**
   * Adds a deletion of [mint, maxt] for every series matching `matchers` that has data there.
   * Written to the file (one transaction) before it takes effect. Returns series affected.
   */
  delete(matchers: readonly Matcher[], mint: number, maxt: number): number {
    const lo = Math.max(mint, this.meta.minTime), hi = Math.min(maxt, this.meta.maxTime - 1);
    if (lo > hi) return 0;
    const ids = this.postingsForMatchers(matchers);
    const hit: number[] = [];
    for (const id of ids) {
      const row = this.chunkRow(id, lo, hi, false);
      if (row !== undefined && row[1] >= lo && row[0] <= hi) hit.push(id);
    }
    if (hit.length === 0) return 0;
    const enc = (x: number): number => (x === -Infinity ? Number.MIN_SAFE_INTEGER : x === Infinity ? Number.MAX_SAFE_INTEGER : x);
    try {
      const ins = this.db.prepare('INSERT INTO tombstones (id, mint, maxt) VALUES (?, ?, ?)');
      this.db.transaction(() => {
        for (const id of hit) ins.run(id, enc(lo), enc(hi));
      })();
    } catch (err) {
      throw new StorageError('io', `writing tombstones to block ${this.path} failed: ${(err as Error).message}`, { cause: err });
    }
    const next = new Map(this.tombstones);
    for (const id of hit) next.set(id, mergeInterval(next.get(id) ?? [], lo, hi));
    this.tombstones = next;
    return hit.length;
  }
}

function sortValues(entries: Array<{ value: string; sym: number }>): ValueList {
  entries.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const syms = new Int32Array(entries.length);
  const values = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    values[i] = entries[i]!.value;
    syms[i] = entries[i]!.sym;
  }
  return { values, syms };
}

function lowerBound(values: readonly string[], v: string): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted union of sorted lists that are disjoint (one value per name per series). */
function unionAll(lists: Int32Array[]): Int32Array {
  if (lists.length === 0) return EMPTY;
  if (lists.length === 1) return lists[0]!;
  let n = 0;
  for (const l of lists) n += l.length;
  const out = new Int32Array(n);
  let w = 0;
  for (const l of lists) {
    out.set(l, w);
    w += l.length;
  }
  return out.sort();
}

function cost(m: Matcher): number {
  if (m.type === '=') return 0;
  if (m.literalSet !== undefined) return 1;
  if (m.prefix !== '') return 2;
  return 3;
}
