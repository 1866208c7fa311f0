/**
 * The head: the in-memory part of the TSDB holding the most recent samples (by default the
 * last 1.5–3 h), with open Gorilla chunks per series, an inverted index, and an optional
 * write-ahead log.
 *
 * Memory layout (see DESIGN.md "Fast by construction"): series live in slots of
 * struct-of-arrays typed arrays; there is no object per series besides its `Labels`, no
 * object per chunk and none per sample. Open chunks grow in pooled size-class cells, closed
 * chunks are copied into append-only slabs (see `memory.ts`).
 *
 * Series refs: `ref = generation × 2^24 + slot`, always a positive small integer (a V8 SMI).
 * A slot's generation changes when its series is removed, so a stale ref never reaches a
 * different series; the appender also checks the labels it is given against the ref's
 * series (an identity check when the caller passes back the same `Labels` object).
 */
import { mergeInterval } from '../tombstones.js';
import { Labels, isValidLabelName, isWellFormed } from '../labels.js';
import type { Matcher } from '../matchers.js';
import {
  StorageError,
  STALE_NAN_BITS_HI,
  STALE_NAN_BITS_LO,
  ValueType,
  isStaleNaN,
  type Appendable,
  type Appender,
  type Querier,
  type Queryable,
  type SeriesRef,
} from '../interface.js';
import { XorChunk, XorEncoder, XorIterator, MAX_ABS_TIMESTAMP, MAX_SAMPLE_BYTES } from '../chunks/index.js';
import type { StorageLogger, WalReplayHandler, WalWriter } from '../wal/types.js';
import { nopStorageLogger } from '../wal/types.js';
import { ChunkStore, PAGE_BYTES, PagePool, Reclaim, Reclaimer, growFloat64, growInt32, growUint32 } from './memory.js';
import { MemPostings, intersect, subtract } from './postings.js';
import { HeadQuerier } from './querier.js';

/** Prometheus's default block range: 2 h. Chunks never span a multiple of it. */
export const DEFAULT_CHUNK_RANGE = 2 * 60 * 60 * 1000;
/** Samples after which an open chunk is cut, as Prometheus. */
export const DEFAULT_SAMPLES_PER_CHUNK = 120;

const SLOT_BITS = 24;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** At most this many series live in the head at once (2^24 ≈ 16.7 M). */
export const MAX_HEAD_SERIES = 1 << SLOT_BITS;
const MAX_GEN = 127;
/** Chunks are cut before they pass 4 KiB (so lengths fit 16 bits). */
const MAX_CHUNK_BYTES = 4096;
const PAGE_SHIFT = 5;
const NO_CHUNK = -1;
/** Decoder checkpoints kept per open chunk (see {@link Head.ckT}). */
export const OPEN_CHECKPOINTS = 3;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

export interface HeadOptions {
  /** Block range in ms (default 2 h): open chunks are cut at its multiples. */
  chunkRange?: number;
  /** Samples after which a chunk is cut (default 120). */
  samplesPerChunk?: number;
  /** Where commits are logged before they become visible; none for a purely in-memory head. */
  wal?: WalWriter;
  logger?: StorageLogger;
}

/** Counts returned by {@link Head.truncate}. */
export interface HeadTruncateStats {
  seriesRemoved: number;
  chunksRemoved: number;
}

/** Counts returned by {@link Head.replayHandler} users (see storage/wal). */
export interface HeadReplayStats {
  series: number;
  samples: number;
  /** Samples older than the head's min valid time (already persisted in blocks). */
  samplesTooOld: number;
  /** Samples out of order or duplicate on replay (should not happen; counted). */
  samplesOutOfOrder: number;
  /** Samples whose series record was never seen (lost to WAL corruption). */
  samplesUnknownSeries: number;
  tombstones: number;
}

/** One label-statistics entry of {@link HeadStats}. */
export interface HeadStat {
  name: string;
  value: number;
}

/** What `/api/v1/status/tsdb` shows about the head. */
export interface HeadStats {
  numSeries: number;
  numLabelPairs: number;
  chunkCount: number;
  /** ms; +Infinity / -Infinity when the head is empty (the API prints Prometheus's values). */
  minTime: number;
  maxTime: number;
  seriesCountByMetricName: HeadStat[];
  labelValueCountByLabelName: HeadStat[];
  memoryInBytesByLabelName: HeadStat[];
  seriesCountByLabelValuePair: HeadStat[];
}

/** A chunk handed out by {@link Head.chunkSeries}. */
export interface HeadChunk {
  readonly mint: number;
  readonly maxt: number;
  readonly numSamples: number;
  /** The encoded chunk (storage/FORMAT.md "Chunks"). Valid until the cursor is closed. */
  readonly bytes: Uint8Array;
}

/** A series with its chunks, from {@link Head.chunkSeries}. */
export interface HeadChunkSeries {
  readonly ref: SeriesRef;
  readonly labels: Labels;
  readonly chunks: readonly HeadChunk[];
}

/** Cursor over {@link HeadChunkSeries} sorted by labels. Call `close()`. */
export interface HeadChunkSeriesSet {
  next(): boolean;
  at(): HeadChunkSeries;
  close(): void;
}

/**
 * The in-memory head. Implements {@link Appendable} and {@link Queryable}.
 *
 * ```ts
 * const head = new Head();
 * const app = head.appender();
 * const ref = app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'node'), 1000, 1);
 * app.commit();
 * const q = head.querier(0, 2000);
 * const ss = q.select([new Matcher('=', '__name__', 'up')], 0, 2000);
 * ```
 */
export class Head implements Appendable, Queryable {
  readonly chunkRange: number;
  readonly samplesPerChunk: number;
  /** @internal */ wal: WalWriter | undefined;
  /** @internal */ readonly log: StorageLogger;

  // ---- series, struct of arrays indexed by slot (all @internal to storage/head) ----
  /** @internal */ labels: Array<Labels | undefined> = [];
  /** @internal */ gen: Uint8Array = new Uint8Array(0);
  /** @internal */ hashes: Uint32Array = new Uint32Array(0);
  /** Timestamp of the last committed sample (-Infinity: none). @internal */ lastT: Float64Array = new Float64Array(0);
  /** First and last page of the open chunk. @internal */ oPage0: Int32Array = new Int32Array(0);
  /** @internal */ oPageLast: Int32Array = new Int32Array(0);
  /** @internal */ oN: Uint16Array = new Uint16Array(0);
  /** @internal */ oBits: Uint16Array = new Uint16Array(0);
  /** @internal */ oMint: Float64Array = new Float64Array(0);
  /** @internal */ oDelta: Float64Array = new Float64Array(0);
  /** @internal */ oVHi: Uint32Array = new Uint32Array(0);
  /** @internal */ oVLo: Uint32Array = new Uint32Array(0);
  /** @internal */ oLead: Uint8Array = new Uint8Array(0);
  /** @internal */ oTrail: Uint8Array = new Uint8Array(0);
  /**
   * Decoder checkpoints of the open chunk, {@link OPEN_CHECKPOINTS} per slot (index
   * slot * OPEN_CHECKPOINTS + j): the registers right after sample (j + 1) * ckEvery - 1, so a
   * reader whose window starts late in the chunk decodes from there instead of from the
   * chunk's start. Checkpoint j is valid while oN >= (j + 1) * ckEvery. After a cut, those
   * the new open chunk has not overwritten yet still describe the newest closed chunk (they
   * are the ones whose time lies within its [mint, maxt]). @internal
   */
  ckT: Float64Array = new Float64Array(0);
  /** @internal */ ckDelta: Float64Array = new Float64Array(0);
  /** @internal */ ckVHi: Uint32Array = new Uint32Array(0);
  /** @internal */ ckVLo: Uint32Array = new Uint32Array(0);
  /** Bit position after the checkpoint's sample. @internal */ ckBits: Uint16Array = new Uint16Array(0);
  /** XOR window: leading << 8 | trailing. @internal */ ckWin: Uint16Array = new Uint16Array(0);
  /** Samples between checkpoints. @internal */ readonly ckEvery: number;
  /** @internal */ cFirst: Int32Array = new Int32Array(0);
  /** @internal */ cLast: Int32Array = new Int32Array(0);
  /** Appender id with pending samples for the slot, 0 when none. @internal */ pendOwner: Int32Array = new Int32Array(0);
  /** Index in that appender's batch of its last sample for the slot. @internal */ pendIdx: Int32Array = new Int32Array(0);
  /** 1 when the series record is in the WAL. @internal */ walLogged: Uint8Array = new Uint8Array(0);
  private cap = 0;
  private slotsUsed = 0;
  private freeSlots: Int32Array = new Int32Array(64);
  private freeSlotCount = 0;

  /** Open-addressing hash table of slot+1 (0 = empty), keyed by the labels' hash. */
  private table: Int32Array = new Int32Array(1024);
  private tableMask = 1023;

  /** @internal */ readonly postings = new MemPostings();
  /** @internal */ readonly pages = new PagePool();
  /** @internal */ readonly chunks: ChunkStore;
  /** @internal */ readonly reclaimer: Reclaimer;
  /** Deleted intervals per slot: sorted, merged [mint, maxt, …]; replaced, never mutated. @internal */
  readonly tombstones = new Map<number, readonly number[]>();
  /** Refs seen in the WAL for series that already existed under another ref. */
  private readonly aliases = new Map<number, number>();
  private readonly enc = new XorEncoder();
  private readonly scratch = new Uint8Array(MAX_SAMPLE_BYTES + 4);
  private readonly cutBuf = new Uint8Array(MAX_CHUNK_BYTES);

  // ---- statistics (map onto Prometheus's prometheus_tsdb_* metrics) ----
  /** prometheus_tsdb_head_series */
  numSeries = 0;
  /** prometheus_tsdb_head_series_created_total */
  seriesCreated = 0;
  /** prometheus_tsdb_head_series_removed_total */
  seriesRemoved = 0;
  /** Open chunks (with at least one sample). numChunks = this + closed. */
  private openChunks = 0;
  /** prometheus_tsdb_head_chunks_created_total */
  chunksCreated = 0;
  /** prometheus_tsdb_head_chunks_removed_total */
  chunksRemoved = 0;
  /** prometheus_tsdb_head_samples_appended_total */
  samplesAppended = 0;
  /** prometheus_tsdb_out_of_order_samples_total */
  outOfOrderSamples = 0;
  /** Samples rejected for a duplicate timestamp with a different value. */
  duplicateSamples = 0;
  /** prometheus_tsdb_out_of_bound_samples_total (older than the appendable window). */
  tooOldSamples = 0;
  /** prometheus_tsdb_head_truncations_total */
  truncations = 0;
  /** prometheus_tsdb_head_active_appenders */
  activeAppenders = 0;
  /** Committed batches. */
  commits = 0;
  /** Smallest / largest sample timestamp in the head (Infinity / -Infinity when empty). */
  minTime = Infinity;
  maxTime = -Infinity;
  /**
   * Samples older than this are rejected (`too_old`): their range is already persisted.
   * Set by {@link Head.truncate} and {@link Head.setMinValidTime}.
   */
  minValidTime = -Infinity;

  /** Bumped by commits and truncations; an appender that sees a change re-checks its batch. */
  private mutations = 0;
  private nextAppenderId = 1;
  private closed = false;

  constructor(opts: HeadOptions = {}) {
    this.chunkRange = opts.chunkRange ?? DEFAULT_CHUNK_RANGE;
    this.samplesPerChunk = opts.samplesPerChunk ?? DEFAULT_SAMPLES_PER_CHUNK;
    if (!(this.chunkRange > 0) || !Number.isInteger(this.chunkRange)) throw new RangeError(`chunkRange must be a positive integer, got ${this.chunkRange}`);
    if (!(this.samplesPerChunk >= 1 && this.samplesPerChunk <= 1000)) throw new RangeError(`samplesPerChunk must be within 1…1000, got ${this.samplesPerChunk}`);
    this.ckEvery = Math.max(8, Math.ceil(this.samplesPerChunk / (OPEN_CHECKPOINTS + 1)));
    this.wal = opts.wal;
    this.log = opts.logger ?? nopStorageLogger;
    this.reclaimer = new Reclaimer((kind, id) => {
      if (kind === Reclaim.Page) this.pages.free(id);
      else if (kind === Reclaim.ChunkId) this.chunks.releaseId(id);
      else this.chunks.releaseSlab(id);
    });
    this.chunks = new ChunkStore((s) => this.reclaimer.defer(Reclaim.Slab, s));
    this.enc.header = false; // open chunks are copied onto pages; readOpen writes the count
    this.grow(1024);
  }

  /** Attaches the WAL that commits are logged to (after replay). */
  setWal(wal: WalWriter | undefined): void {
    this.wal = wal;
  }

  /** Raises the min valid time (e.g. to the max time of the newest block, before replay). */
  setMinValidTime(t: number): void {
    if (t > this.minValidTime) this.minValidTime = t;
  }

  /** prometheus_tsdb_head_chunks */
  get numChunks(): number {
    return this.chunks.size + this.openChunks;
  }

  /** Bytes of chunk data held (closed chunks' exact size plus open chunks' pages). */
  get chunkBytes(): number {
    return this.chunks.bytesLive + this.pages.inUse * PAGE_BYTES;
  }

  /** Queriers (and chunk cursors) not yet closed. */
  get openReaders(): number {
    return this.reclaimer.readers;
  }

  /** The oldest timestamp an appender opened now accepts (Prometheus's appendable window). */
  appendableMinValidTime(): number {
    const window = this.maxTime === -Infinity ? -Infinity : this.maxTime - this.chunkRange / 2;
    return Math.max(this.minValidTime, window);
  }

  appender(): Appender {
    if (this.closed) throw new StorageError('closed', 'head is closed');
    const id = this.nextAppenderId;
    this.nextAppenderId = id >= 0x3fffffff ? 1 : id + 1;
    return new HeadAppender(this, id);
  }

  querier(mint: number, maxt: number): Querier {
    if (this.closed) throw new StorageError('closed', 'head is closed');
    return new HeadQuerier(this, mint, maxt);
  }

  /** Stops accepting appends and queries. Readers already open keep working. */
  close(): void {
    this.closed = true;
  }

  // ---------------------------------------------------------------- series

  /** The ref of the series in `slot`. @internal */
  refOf(slot: number): SeriesRef {
    return this.gen[slot]! * (SLOT_MASK + 1) + slot;
  }

  /** The slot of a live ref, or -1. @internal */
  slotOf(ref: SeriesRef): number {
    if (!(ref > 0)) return -1;
    const slot = ref & SLOT_MASK;
    if (slot < this.slotsUsed && this.gen[slot] === Math.floor(ref / (SLOT_MASK + 1)) && this.labels[slot] !== undefined) return slot;
    const alias = this.aliases.get(ref);
    return alias === undefined ? -1 : alias;
  }

  /** True when `ref` names a series in the head (used to decide what a WAL checkpoint keeps). */
  hasSeries(ref: SeriesRef): boolean {
    return this.slotOf(ref) >= 0;
  }

  /** The labels of a series ref, or undefined. */
  seriesLabels(ref: SeriesRef): Labels | undefined {
    const s = this.slotOf(ref);
    return s < 0 ? undefined : this.labels[s];
  }

  /** The ref of the series with these labels, or 0. */
  findRef(labels: Labels): SeriesRef {
    const s = this.lookup(labels);
    return s < 0 ? 0 : this.refOf(s);
  }

  private lookup(labels: Labels): number {
    const h = labels.hash() >>> 0;
    const t = this.table, mask = this.tableMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = t[i]!;
      if (e === 0) return -1;
      const slot = e - 1;
      if (this.hashes[slot] === h && this.labels[slot]!.equals(labels)) return slot;
    }
  }

  /** Returns the slot of `labels`, creating the series if needed. @internal */
  getOrCreate(labels: Labels): number {
    const s = this.lookup(labels);
    if (s >= 0) return s;
    validateLabels(labels);
    return this.create(labels, -1);
  }

  /** Creates a series, in a given slot/generation when `ref` >= 0 (WAL replay). */
  private create(labels: Labels, ref: number): number {
    let slot: number;
    if (ref >= 0) {
      slot = ref & SLOT_MASK;
      if (slot >= this.slotsUsed) {
        // Slots skipped over become free.
        this.grow(slot + 1);
        for (let s = this.slotsUsed; s < slot; s++) this.pushFreeSlot(s);
        this.slotsUsed = slot + 1;
      } else if (this.labels[slot] !== undefined) {
        throw new StorageError('corrupt', `series slot ${slot} is already in use`);
      }
      this.gen[slot] = Math.floor(ref / (SLOT_MASK + 1));
    } else {
      slot = -1;
      // Free slots are removed lazily: replay may have taken one in place.
      while (this.freeSlotCount > 0) {
        const s = this.freeSlots[--this.freeSlotCount]!;
        if (this.labels[s] === undefined) {
          slot = s;
          break;
        }
      }
      if (slot < 0) {
        if (this.slotsUsed >= MAX_HEAD_SERIES) {
          throw new StorageError('limit', `the head holds ${MAX_HEAD_SERIES} series, the most it can; cannot add ${labels.toString()}`);
        }
        slot = this.slotsUsed++;
        this.grow(slot + 1);
      }
      if (this.gen[slot] === 0) this.gen[slot] = 1;
    }
    const h = labels.hash() >>> 0;
    this.labels[slot] = labels;
    this.hashes[slot] = h;
    this.lastT[slot] = -Infinity;
    this.oN[slot] = 0;
    this.oBits[slot] = 0;
    this.cFirst[slot] = NO_CHUNK;
    this.cLast[slot] = NO_CHUNK;
    // A reused slot must not offer the previous series' checkpoints for its closed chunk.
    this.ckT.fill(-Infinity, slot * OPEN_CHECKPOINTS, (slot + 1) * OPEN_CHECKPOINTS);
    this.pendOwner[slot] = 0;
    this.walLogged[slot] = 0;
    this.tableInsert(slot, h);
    this.postings.add(slot, labels);
    this.numSeries++;
    this.seriesCreated++;
    return slot;
  }

  private pushFreeSlot(s: number): void {
    if (this.freeSlotCount === this.freeSlots.length) this.freeSlots = growInt32(this.freeSlots, this.freeSlotCount + 1);
    this.freeSlots[this.freeSlotCount++] = s;
  }

  /** Grows the series arrays to hold `min` slots (by 1.5×, every array to the same size). */
  private grow(min: number): void {
    if (min <= this.cap) return;
    const cap = Math.max(min, Math.ceil(this.cap * 1.5), 1024);
    this.gen = resize(this.gen, cap);
    this.hashes = resize(this.hashes, cap);
    this.lastT = resize(this.lastT, cap);
    this.oPage0 = resize(this.oPage0, cap);
    this.oPageLast = resize(this.oPageLast, cap);
    this.oN = resize(this.oN, cap);
    this.oBits = resize(this.oBits, cap);
    this.oMint = resize(this.oMint, cap);
    this.oDelta = resize(this.oDelta, cap);
    this.oVHi = resize(this.oVHi, cap);
    this.oVLo = resize(this.oVLo, cap);
    this.oLead = resize(this.oLead, cap);
    this.oTrail = resize(this.oTrail, cap);
    this.ckT = resize(this.ckT, cap * OPEN_CHECKPOINTS);
    this.ckDelta = resize(this.ckDelta, cap * OPEN_CHECKPOINTS);
    this.ckVHi = resize(this.ckVHi, cap * OPEN_CHECKPOINTS);
    this.ckVLo = resize(this.ckVLo, cap * OPEN_CHECKPOINTS);
    this.ckBits = resize(this.ckBits, cap * OPEN_CHECKPOINTS);
    this.ckWin = resize(this.ckWin, cap * OPEN_CHECKPOINTS);
    this.cFirst = resize(this.cFirst, cap);
    this.cLast = resize(this.cLast, cap);
    this.pendOwner = resize(this.pendOwner, cap);
    this.pendIdx = resize(this.pendIdx, cap);
    this.walLogged = resize(this.walLogged, cap);
    this.cap = cap;
  }

  private tableInsert(slot: number, h: number): void {
    if ((this.numSeries + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const t = this.table, mask = this.tableMask;
    let i = h & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = slot + 1;
  }

  private tableRemove(slot: number): void {
    const t = this.table, mask = this.tableMask;
    let i = this.hashes[slot]! & mask;
    while (t[i] !== slot + 1) {
      if (t[i] === 0) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion keeps probe sequences unbroken without tombstones.
    let j = i;
    for (;;) {
      t[i] = 0;
      for (;;) {
        j = (j + 1) & mask;
        const e = t[j]!;
        if (e === 0) return;
        const home = this.hashes[e - 1]! & mask;
        // Move e into the hole at i unless its home lies cyclically in (i, j].
        if (i <= j ? home <= i || home > j : home <= i && home > j) break;
      }
      t[i] = t[j]!;
      i = j;
    }
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size);
    this.tableMask = size - 1;
    const t = this.table, mask = this.tableMask;
    for (let k = 0; k < old.length; k++) {
      const e = old[k]!;
      if (e === 0) continue;
      let i = this.hashes[e - 1]! & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = e;
    }
  }

  // ---------------------------------------------------------------- samples

  /** Appends a committed sample to the series' open chunk, cutting it when due. @internal */
  appendToSeries(slot: number, t: number, hi: number, lo: number): void {
    const enc = this.enc;
    const pages = this.pages;
    const scratch = this.scratch;
    let n = this.oN[slot]!;
    let bits = this.oBits[slot]!;
    if (n > 0) {
      const R = this.chunkRange;
      if (n >= this.samplesPerChunk || t >= (Math.floor(this.oMint[slot]! / R) + 1) * R || ((bits + 7) >>> 3) + MAX_SAMPLE_BYTES > MAX_CHUNK_BYTES) {
        this.cutChunk(slot);
        n = 0;
      }
    }
    // The encoder writes into a small scratch holding the chunk's last partial byte; the new
    // bytes are then copied onto the page chain.
    scratch.fill(0);
    let from: number;
    let lastIdx: number;
    if (n === 0) {
      const page = pages.alloc();
      this.oPage0[slot] = page;
      this.oPageLast[slot] = page;
      enc.start(scratch, 0);
      from = 0;
      lastIdx = 0;
      this.openChunks++;
      this.chunksCreated++;
    } else {
      from = bits >>> 3;
      lastIdx = (((bits + 7) >>> 3) - 1) >>> PAGE_SHIFT;
      if ((bits & 7) !== 0) {
        const lp = this.oPageLast[slot]!;
        scratch[0] = pages.slab(lp)[pages.offset(lp) + (from & (PAGE_BYTES - 1))]!;
      }
      enc.buf = scratch;
      enc.offset = -from;
      enc.n = n;
      enc.bits = bits;
      enc.mint = this.oMint[slot]!;
      enc.t = this.lastT[slot]!;
      enc.delta = this.oDelta[slot]!;
      enc.vHi = this.oVHi[slot]!;
      enc.vLo = this.oVLo[slot]!;
      enc.leading = this.oLead[slot]!;
      enc.trailing = this.oTrail[slot]!;
    }
    enc.appendBits(t, hi, lo);
    bits = enc.bits;
    const end = (bits + 7) >>> 3;
    let page = this.oPageLast[slot]!;
    let slab = pages.slab(page), off = pages.offset(page);
    for (let j = from; j < end; j++) {
      if (j >>> PAGE_SHIFT > lastIdx) {
        const np = pages.alloc();
        pages.next[page] = np;
        page = np;
        slab = pages.slab(page);
        off = pages.offset(page);
        lastIdx++;
      }
      slab[off + (j & (PAGE_BYTES - 1))] = scratch[j - from]!;
    }
    this.oPageLast[slot] = page;
    this.oN[slot] = enc.n;
    this.oBits[slot] = bits;
    this.oMint[slot] = enc.mint;
    this.oDelta[slot] = enc.delta;
    this.oVHi[slot] = enc.vHi;
    this.oVLo[slot] = enc.vLo;
    this.oLead[slot] = enc.leading;
    this.oTrail[slot] = enc.trailing;
    this.lastT[slot] = t;
    const n1 = enc.n;
    if (n1 % this.ckEvery === 0 && n1 <= OPEN_CHECKPOINTS * this.ckEvery) {
      const k = slot * OPEN_CHECKPOINTS + n1 / this.ckEvery - 1;
      this.ckT[k] = t;
      this.ckDelta[k] = enc.delta;
      this.ckVHi[k] = enc.vHi;
      this.ckVLo[k] = enc.vLo;
      this.ckBits[k] = bits;
      this.ckWin[k] = (enc.leading << 8) | enc.trailing;
    }
  }

  /**
   * The open chunk of a series as contiguous bytes (a copy, header included), given what a
   * snapshot recorded: first page, byte length and sample count. @internal
   */
  readOpen(page0: number, bytes: number, n: number, dst?: Uint8Array): Uint8Array {
    const out = dst ?? new Uint8Array(bytes);
    this.pages.read(page0, bytes, out, 0);
    out[0] = n >>> 8;
    out[1] = n & 0xff;
    return out;
  }

  /**
   * Copies `bytes - from` bytes of an open chunk (page chain from `page0`), starting at byte
   * `from`, into `dst[at…]`. @internal
   */
  readOpenFrom(page0: number, from: number, bytes: number, dst: Uint8Array, at: number): void {
    this.pages.readFrom(page0, 0, from, bytes - from, dst, at);
  }

  /** Closes the open chunk of `slot` into the chunk store. */
  private cutChunk(slot: number): void {
    const n = this.oN[slot]!;
    if (n === 0) return;
    const used = (this.oBits[slot]! + 7) >>> 3;
    const buf = this.readOpen(this.oPage0[slot]!, used, n, this.cutBuf);
    const id = this.chunks.add(buf, 0, used, this.oMint[slot]!, this.lastT[slot]!, n);
    const last = this.cLast[slot]!;
    if (last === NO_CHUNK) this.cFirst[slot] = id;
    else this.chunks.next[last] = id;
    this.cLast[slot] = id;
    this.dropOpen(slot);
  }

  private dropOpen(slot: number): void {
    if (this.oN[slot] === 0) return;
    for (let p = this.oPage0[slot]!; p !== -1; ) {
      const next = this.pages.next[p]!;
      this.reclaimer.defer(Reclaim.Page, p);
      p = next;
    }
    this.oN[slot] = 0;
    this.oBits[slot] = 0;
    this.openChunks--;
  }

  /** Applies the samples of a commit (already validated and logged). @internal */
  applyBatch(refs: Int32Array, ts: Float64Array, his: Uint32Array, los: Uint32Array, n: number): void {
    let mint = this.minTime, maxt = this.maxTime;
    for (let i = 0; i < n; i++) {
      const slot = refs[i]! & SLOT_MASK;
      const t = ts[i]!;
      this.appendToSeries(slot, t, his[i]!, los[i]!);
      if (t < mint) mint = t;
      if (t > maxt) maxt = t;
    }
    this.minTime = mint;
    this.maxTime = maxt;
    this.samplesAppended += n;
    this.commits++;
    this.mutations++;
  }

  /** Marks a mutation that invalidates appenders' append-time checks. @internal */
  get mutationCount(): number {
    return this.mutations;
  }

  // ---------------------------------------------------------------- replay

  /**
   * A handler that rebuilds the head from WAL records (pass it to `Wal.replay`). Samples
   * older than {@link Head.minValidTime} are skipped; `stats` counts what happened.
   */
  replayHandler(stats: HeadReplayStats = emptyReplayStats()): WalReplayHandler & { stats: HeadReplayStats } {
    const head = this;
    return {
      stats,
      series(ref: number, labels: Labels): void {
        stats.series++;
        const existing = head.lookup(labels);
        if (existing >= 0) {
          if (head.refOf(existing) !== ref) head.aliases.set(ref, existing);
          return;
        }
        const slot = ref & SLOT_MASK;
        const g = Math.floor(ref / (SLOT_MASK + 1));
        if (!(ref > 0) || g < 1 || g > MAX_GEN || (slot < head.slotsUsed && head.labels[slot] !== undefined)) {
          // A ref we cannot place where it was: give the series a fresh slot and alias the ref.
          const s = head.create(labels, -1);
          head.aliases.set(ref, s);
          head.walLogged[s] = 0; // its new ref is not in the WAL yet
          return;
        }
        const s = head.create(labels, ref);
        head.walLogged[s] = 1;
      },
      samples(refs: Int32Array, ts: Float64Array, his: Uint32Array, los: Uint32Array, n: number): void {
        const minValid = head.minValidTime;
        let mint = head.minTime, maxt = head.maxTime;
        for (let i = 0; i < n; i++) {
          const slot = head.slotOf(refs[i]!);
          if (slot < 0) {
            stats.samplesUnknownSeries++;
            continue;
          }
          const t = ts[i]!;
          if (t < minValid) {
            stats.samplesTooOld++;
            continue;
          }
          if (t <= head.lastT[slot]!) {
            stats.samplesOutOfOrder++;
            continue;
          }
          head.appendToSeries(slot, t, his[i]!, los[i]!);
          if (t < mint) mint = t;
          if (t > maxt) maxt = t;
          stats.samples++;
        }
        head.minTime = mint;
        head.maxTime = maxt;
      },
      tombstones(refs: Int32Array, n: number, mint: number, maxt: number): void {
        for (let i = 0; i < n; i++) {
          const slot = head.slotOf(refs[i]!);
          if (slot >= 0) {
            head.addTombstone(slot, mint, maxt);
            stats.tombstones++;
          }
        }
      },
    };
  }

  /**
   * Rebuilds the head from `wal` (its `replay`, which repairs damage), then attaches it so
   * later commits are logged. Call {@link Head.setMinValidTime} first with the newest
   * block's max time so samples already in blocks are skipped.
   */
  replayWal<S>(wal: WalWriter & { replay(handler: WalReplayHandler): S }): { wal: S; head: HeadReplayStats } {
    const h = this.replayHandler();
    const ws = wal.replay(h);
    const st = h.stats;
    if (st.samplesUnknownSeries > 0 || st.samplesOutOfOrder > 0) {
      this.log.warn('WAL replay dropped samples', { unknown_series: st.samplesUnknownSeries, out_of_order: st.samplesOutOfOrder });
    }
    this.wal = wal;
    this.mutations++;
    return { wal: ws, head: st };
  }

  /** {@link Head.replayWal} without blocking the event loop (see `Wal.replayAsync`). */
  async replayWalAsync<S>(wal: WalWriter & { replayAsync(handler: WalReplayHandler): Promise<S> }): Promise<{ wal: S; head: HeadReplayStats }> {
    const h = this.replayHandler();
    const ws = await wal.replayAsync(h);
    const st = h.stats;
    if (st.samplesUnknownSeries > 0 || st.samplesOutOfOrder > 0) {
      this.log.warn('WAL replay dropped samples', { unknown_series: st.samplesUnknownSeries, out_of_order: st.samplesOutOfOrder });
    }
    this.wal = wal;
    this.mutations++;
    return { wal: ws, head: st };
  }

  // ---------------------------------------------------------------- deletion

  /**
   * Deletes the samples in [mint, maxt] of every series matching all `matchers` (tombstones,
   * honoured by queries and by {@link Head.chunkSeries}; the data goes at the next
   * truncation). Logged to the WAL first. Returns the number of series affected.
   */
  delete(matchers: readonly Matcher[], mint: number, maxt: number): number {
    if (this.closed) throw new StorageError('closed', 'head is closed');
    if (!(mint <= maxt)) return 0;
    const slots = this.postingsForMatchers(matchers);
    const hit = new Int32Array(slots.length);
    let n = 0;
    for (const slot of slots) {
      if (this.seriesOverlaps(slot, mint, maxt)) hit[n++] = this.refOf(slot);
    }
    if (n === 0) return 0;
    this.wal?.logTombstones(hit, n, mint, maxt);
    for (let i = 0; i < n; i++) this.addTombstone(hit[i]! & SLOT_MASK, mint, maxt);
    this.mutations++;
    return n;
  }

  private seriesOverlaps(slot: number, mint: number, maxt: number): boolean {
    for (let c = this.cFirst[slot]!; c !== NO_CHUNK; c = this.chunks.next[c]!) {
      if (this.chunks.maxt[c]! >= mint && this.chunks.mint[c]! <= maxt) return true;
    }
    return this.oN[slot]! > 0 && this.lastT[slot]! >= mint && this.oMint[slot]! <= maxt;
  }

  /** @internal */
  addTombstone(slot: number, mint: number, maxt: number): void {
    this.tombstones.set(slot, mergeInterval(this.tombstones.get(slot) ?? [], mint, maxt));
  }

  // ---------------------------------------------------------------- truncation

  /**
   * Drops all data before `mint` (after it was persisted into a block): chunks ending before
   * mint, series left without data, their index entries and tombstones. Samples older than
   * mint are rejected from now on. Memory still used by open readers is freed when they close.
   */
  truncate(mint: number): HeadTruncateStats {
    let seriesRemoved = 0, chunksRemoved = 0;
    const removedLabels: Labels[] = [];
    const removedSlots: number[] = [];
    const chunks = this.chunks;
    let newMin = Infinity;
    for (let slot = 0; slot < this.slotsUsed; slot++) {
      const labels = this.labels[slot];
      if (labels === undefined) continue;
      let c = this.cFirst[slot]!;
      while (c !== NO_CHUNK && chunks.maxt[c]! < mint) {
        const next = chunks.next[c]!;
        chunks.drop(c);
        this.reclaimer.defer(Reclaim.ChunkId, c);
        chunksRemoved++;
        c = next;
      }
      this.cFirst[slot] = c;
      if (c === NO_CHUNK) this.cLast[slot] = NO_CHUNK;
      if (this.oN[slot]! > 0 && this.lastT[slot]! < mint) {
        this.dropOpen(slot);
        chunksRemoved++;
      }
      const tomb = this.tombstones.get(slot);
      if (tomb !== undefined) {
        const kept = tomb.filter((_, i) => tomb[i | 1]! >= mint);
        if (kept.length === 0) this.tombstones.delete(slot);
        else if (kept.length !== tomb.length) this.tombstones.set(slot, kept);
      }
      if (c === NO_CHUNK && this.oN[slot] === 0) {
        if (this.pendOwner[slot] !== 0) continue; // an appender is about to add samples
        removedLabels.push(labels);
        removedSlots.push(slot);
        this.removeSeries(slot);
        seriesRemoved++;
        continue;
      }
      const first = c !== NO_CHUNK ? chunks.mint[c]! : this.oMint[slot]!;
      if (first < newMin) newMin = first;
    }
    if (removedSlots.length > 0) {
      this.postings.removeMany(removedLabels, removedSlots, (s) => this.labels[s] === undefined);
      for (const s of removedSlots) this.pushFreeSlot(s);
      if (this.aliases.size > 0) {
        for (const [ref, s] of this.aliases) if (this.labels[s] === undefined) this.aliases.delete(ref);
      }
    }
    if (newMin === Infinity) {
      // No data left.
      this.minTime = Infinity;
      this.maxTime = -Infinity;
    } else {
      this.minTime = Math.max(newMin, mint);
    }
    this.setMinValidTime(mint);
    this.seriesRemoved += seriesRemoved;
    this.chunksRemoved += chunksRemoved;
    this.truncations++;
    this.mutations++;
    return { seriesRemoved, chunksRemoved };
  }

  private removeSeries(slot: number): void {
    this.tableRemove(slot);
    this.labels[slot] = undefined;
    this.tombstones.delete(slot);
    this.walLogged[slot] = 0;
    this.gen[slot] = this.gen[slot]! >= MAX_GEN ? 1 : this.gen[slot]! + 1;
    this.numSeries--;
  }

  // ---------------------------------------------------------------- index

  /** Sorted slots of live series matching all matchers (Prometheus semantics). @internal */
  postingsForMatchers(matchers: readonly Matcher[]): Int32Array {
    // Positive selections (not matching '') intersect; the rest subtract their complement.
    const pos: Matcher[] = [];
    const neg: Matcher[] = [];
    for (const m of matchers) (m.matchesEmpty ? neg : pos).push(m);
    // Cheapest first: equality, then sets, then scans.
    pos.sort((a, b) => cost(a) - cost(b));
    let result: Int32Array | undefined;
    for (const m of pos) {
      const p = this.postingsFor(m, true);
      result = result === undefined ? p : intersect(result, p);
      if (result.length === 0) return result;
    }
    if (result === undefined) result = this.allSlots();
    for (const m of neg) {
      if (result.length === 0) break;
      result = subtract(result, this.postingsFor(m, false));
    }
    return result;
  }

  /**
   * Postings of the values of `m.name` that `m` accepts (want = true) or rejects (want =
   * false). Each distinct value is tested at most once.
   */
  private postingsFor(m: Matcher, want: boolean): Int32Array {
    const values = this.postings.values(m.name);
    if (values === undefined) return new Int32Array(0);
    const positive = m.type === '=' || m.type === '=~';
    // A literal set: the values are known without testing any.
    const set = m.literalSet;
    if (set !== undefined && positive === want) return this.postings.union(m.name, set);
    const picked: string[] = [];
    const prefix = want ? m.prefix : '';
    for (const v of values.keys()) {
      if (prefix !== '' && !v.startsWith(prefix)) continue;
      if (m.matches(v) === want) picked.push(v);
    }
    return this.postings.union(m.name, picked);
  }

  /** @internal */
  allSlots(): Int32Array {
    const out = new Int32Array(this.numSeries);
    let w = 0;
    for (let s = 0; s < this.slotsUsed && w < out.length; s++) if (this.labels[s] !== undefined) out[w++] = s;
    return out.subarray(0, w);
  }

  /** Head statistics as `/api/v1/status/tsdb` shows them; `limit` entries per list. */
  stats(limit = 10): HeadStats {
    const byMetric: HeadStat[] = [];
    const valueCount = new Map<string, number>();
    const memBytes = new Map<string, number>();
    const pairs: HeadStat[] = [];
    let numLabelPairs = 0;
    this.postings.forEachPair((name, value, count) => {
      numLabelPairs++;
      if (name === '__name__') byMetric.push({ name: value, value: count });
      valueCount.set(name, (valueCount.get(name) ?? 0) + 1);
      memBytes.set(name, (memBytes.get(name) ?? 0) + Buffer.byteLength(value) * count);
      pairs.push({ name: `${name}=${value}`, value: count });
    });
    const top = (xs: HeadStat[]): HeadStat[] => xs.sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, limit);
    const fromMap = (m: Map<string, number>): HeadStat[] => [...m].map(([name, value]) => ({ name, value }));
    return {
      numSeries: this.numSeries,
      numLabelPairs,
      chunkCount: this.numChunks,
      minTime: this.minTime,
      maxTime: this.maxTime,
      seriesCountByMetricName: top(byMetric),
      labelValueCountByLabelName: top(fromMap(valueCount)),
      memoryInBytesByLabelName: top(fromMap(memBytes)),
      seriesCountByLabelValuePair: top(pairs),
    };
  }

  // ---------------------------------------------------------------- persistence hook

  /**
   * The series with data in [mint, maxt) (note: maxt exclusive, as block ranges are) and
   * their chunks, sorted by labels, for writing a block. Chunks lying wholly inside the
   * range and untouched by tombstones are handed out as stored (zero-copy views); chunks that
   * straddle the range or hold deleted samples are re-encoded with just the samples kept.
   * The open chunk is included. Hold the cursor briefly and `close()` it: memory the head
   * frees meanwhile is kept for it.
   */
  chunkSeries(mint: number, maxt: number): HeadChunkSeriesSet {
    const epoch = this.reclaimer.enter();
    const slots = Array.from(this.allSlots());
    const labels = this.labels;
    slots.sort((a, b) => Labels.compare(labels[a]!, labels[b]!));
    const head = this;
    let i = -1;
    let cur: HeadChunkSeries | undefined;
    let closed = false;
    return {
      next(): boolean {
        while (!closed && ++i < slots.length) {
          const slot = slots[i]!;
          const ls = head.labels[slot];
          if (ls === undefined) continue; // removed meanwhile
          const chunks = head.collectChunks(slot, mint, maxt);
          if (chunks.length === 0) continue;
          cur = { ref: head.refOf(slot), labels: ls, chunks };
          return true;
        }
        cur = undefined;
        return false;
      },
      at(): HeadChunkSeries {
        if (cur === undefined) throw new Error('chunkSeries.at() called without a current series');
        return cur;
      },
      close(): void {
        if (closed) return;
        closed = true;
        head.reclaimer.leave(epoch);
      },
    };
  }

  private collectChunks(slot: number, mint: number, maxt: number): HeadChunk[] {
    const out: HeadChunk[] = [];
    const tomb = this.tombstones.get(slot);
    const chunks = this.chunks;
    const take = (bytes: Uint8Array, cmint: number, cmaxt: number, count: number): void => {
      if (cmaxt < mint || cmint >= maxt) return;
      if (cmint >= mint && cmaxt < maxt && !overlapsTombstones(tomb, cmint, cmaxt)) {
        out.push({ mint: cmint, maxt: cmaxt, numSamples: count, bytes });
        return;
      }
      const it = new XorIterator().reset(bytes);
      const c = new XorChunk();
      while (it.next() !== ValueType.None) {
        const t = it.atT();
        if (t < mint || t >= maxt || inTombstones(tomb, t)) continue;
        c.appendBits(t, it.atBitsHi(), it.atBitsLo()); // bits: NaN payloads stay exact
      }
      if (c.numSamples > 0) out.push({ mint: c.minTime, maxt: c.maxTime, numSamples: c.numSamples, bytes: c.bytes().slice() });
    };
    for (let c = this.cFirst[slot]!; c !== NO_CHUNK; c = chunks.next[c]!) {
      take(chunks.bytes(c), chunks.mint[c]!, chunks.maxt[c]!, chunks.count[c]!);
    }
    const n = this.oN[slot]!;
    if (n > 0) {
      const bytes = this.readOpen(this.oPage0[slot]!, (this.oBits[slot]! + 7) >>> 3, n);
      take(bytes, this.oMint[slot]!, this.lastT[slot]!, n);
    }
    return out;
  }
}

type SoA = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** A copy of `a` with exactly `cap` elements. */
function resize<T extends SoA>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a as unknown as ArrayLike<number>);
  return b;
}

function overlapsTombstones(tomb: readonly number[] | undefined, mint: number, maxt: number): boolean {
  if (tomb === undefined) return false;
  for (let i = 0; i < tomb.length; i += 2) if (tomb[i]! <= maxt && tomb[i + 1]! >= mint) return true;
  return false;
}

function inTombstones(tomb: readonly number[] | undefined, t: number): boolean {
  if (tomb === undefined) return false;
  for (let i = 0; i < tomb.length; i += 2) if (tomb[i]! <= t && t <= tomb[i + 1]!) return true;
  return false;
}

function cost(m: Matcher): number {
  if (m.type === '=') return 0;
  if (m.literalSet !== undefined) return 1;
  if (m.prefix !== '') return 2;
  return 3;
}

export function emptyReplayStats(): HeadReplayStats {
  return { series: 0, samples: 0, samplesTooOld: 0, samplesOutOfOrder: 0, samplesUnknownSeries: 0, tombstones: 0 };
}

function validateLabels(labels: Labels): void {
  if (labels.isEmpty()) throw new StorageError('invalid_labels', 'empty label set');
  for (let i = 0; i < labels.size; i++) {
    const n = labels.nameAt(i), v = labels.valueAt(i);
    if (!isValidLabelName(n)) throw new StorageError('invalid_labels', `invalid label name ${JSON.stringify(n)} in ${labels.toString()}`);
    if (!isWellFormed(v)) throw new StorageError('invalid_labels', `label ${n} has a value that is not valid UTF-8 in ${labels.toString()}`);
    if (i > 0 && labels.nameAt(i - 1) >= n) throw new StorageError('invalid_labels', `label names not sorted or duplicated in ${labels.toString()}`);
  }
}

/**
 * An appender: samples are checked as they are appended (throwing StorageError for rejected
 * ones), buffered in typed arrays, and on commit logged to the WAL and applied at once.
 */
class HeadAppender implements Appender {
  private refs: Int32Array;
  private ts: Float64Array;
  private his: Uint32Array;
  private los: Uint32Array;
  private n = 0;
  private done = false;
  private readonly minValid: number;
  private readonly startMutations: number;

  constructor(
    private readonly head: Head,
    private readonly id: number,
  ) {
    const b = takeBuffers();
    this.refs = b.refs;
    this.ts = b.ts;
    this.his = b.his;
    this.los = b.los;
    this.minValid = head.appendableMinValidTime();
    this.startMutations = head.mutationCount;
    head.activeAppenders++;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    if (this.done) throw new Error('appender used after commit() or rollback()');
    const h = this.head;
    let slot = ref & SLOT_MASK;
    if (
      ref <= 0 ||
      slot >= h.labels.length ||
      h.gen[slot] !== (ref >>> SLOT_BITS) ||
      h.labels[slot] === undefined ||
      (labels !== h.labels[slot] && labels.size > 0 && !labels.equals(h.labels[slot]!))
    ) {
      if (labels.isEmpty() && ref !== 0) throw new StorageError('invalid_labels', `unknown series ref ${ref} and no labels to find the series by`);
      slot = h.getOrCreate(labels);
      ref = h.refOf(slot);
    }
    if (!(t >= this.minValid)) {
      if (t !== t || Math.floor(t) !== t || Math.abs(t) > MAX_ABS_TIMESTAMP) throw invalidTimestamp(t);
      h.tooOldSamples++;
      throw new StorageError('too_old', `out of bounds: sample at ${t} is older than the head's appendable minimum ${this.minValid} for ${h.labels[slot]!.toString()}`);
    }
    if (Math.floor(t) !== t || Math.abs(t) > MAX_ABS_TIMESTAMP) throw invalidTimestamp(t);
    let hi: number, lo: number;
    if (v !== v && isStaleNaN(v)) {
      hi = STALE_NAN_BITS_HI;
      lo = STALE_NAN_BITS_LO;
    } else {
      f64[0] = v;
      hi = u32[1]!;
      lo = u32[0]!;
    }
    // Order against this batch's last sample of the series, else the committed one.
    let lastT: number, lastHi: number, lastLo: number;
    if (h.pendOwner[slot] === this.id) {
      const j = h.pendIdx[slot]!;
      lastT = this.ts[j]!;
      lastHi = this.his[j]!;
      lastLo = this.los[j]!;
    } else {
      lastT = h.lastT[slot]!;
      lastHi = h.oVHi[slot]!;
      lastLo = h.oVLo[slot]!;
    }
    if (t <= lastT) {
      if (t === lastT) {
        if (hi === lastHi && lo === lastLo) return ref; // an exact duplicate is accepted and ignored
        h.duplicateSamples++;
        throw new StorageError('duplicate_sample', `duplicate sample for timestamp ${t} with a different value for ${h.labels[slot]!.toString()}`);
      }
      h.outOfOrderSamples++;
      throw new StorageError('out_of_order', `out of order sample: ${t} is before the series' last sample at ${lastT} for ${h.labels[slot]!.toString()}`);
    }
    const i = this.n;
    if (i === this.refs.length) this.growBatch();
    this.refs[i] = ref;
    this.ts[i] = t;
    this.his[i] = hi;
    this.los[i] = lo;
    this.n = i + 1;
    h.pendOwner[slot] = this.id;
    h.pendIdx[slot] = i;
    return ref;
  }

  private growBatch(): void {
    const cap = this.refs.length * 2;
    this.refs = growInt32(this.refs, cap);
    this.ts = growFloat64(this.ts, cap);
    this.his = growUint32(this.his, cap);
    this.los = growUint32(this.los, cap);
  }

  commit(): void {
    if (this.done) throw new Error('appender used after commit() or rollback()');
    const h = this.head;
    try {
      if (h.mutationCount !== this.startMutations) this.recheck();
      const n = this.n;
      if (n > 0 && h.wal !== undefined) {
        const seriesRefs: number[] = [];
        const seriesLabels: Labels[] = [];
        const refs = this.refs;
        for (let i = 0; i < n; i++) {
          const slot = refs[i]! & SLOT_MASK;
          if (h.walLogged[slot] === 0) {
            h.walLogged[slot] = 1;
            seriesRefs.push(refs[i]!);
            seriesLabels.push(h.labels[slot]!);
          }
        }
        try {
          h.wal.logCommit(seriesRefs, seriesLabels, refs, this.ts, this.his, this.los, n);
        } catch (err) {
          for (const r of seriesRefs) h.walLogged[r & SLOT_MASK] = 0;
          throw err instanceof StorageError ? err : new StorageError('io', `writing the WAL failed: ${(err as Error).message}`, { cause: err });
        }
      }
      if (n > 0) h.applyBatch(this.refs, this.ts, this.his, this.los, n);
    } finally {
      this.finish();
    }
  }

  /**
   * Another commit or a truncation happened since this batch was checked: check it again
   * against the current head, dropping (and counting) what no longer fits.
   */
  private recheck(): void {
    const h = this.head;
    const running = new Map<number, number>(); // slot → batch index of its last kept sample
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      const ref = this.refs[i]!;
      const slot = h.slotOf(ref);
      if (slot < 0) continue; // the series was removed (counted nowhere: it had no data)
      const t = this.ts[i]!, hi = this.his[i]!, lo = this.los[i]!;
      const j = running.get(slot);
      const lastT = j === undefined ? h.lastT[slot]! : this.ts[j]!;
      const lastHi = j === undefined ? h.oVHi[slot]! : this.his[j]!;
      const lastLo = j === undefined ? h.oVLo[slot]! : this.los[j]!;
      if (t < h.minValidTime) {
        h.tooOldSamples++;
        continue;
      }
      if (t <= lastT) {
        if (t === lastT && hi === lastHi && lo === lastLo) continue;
        if (t === lastT) h.duplicateSamples++;
        else h.outOfOrderSamples++;
        continue;
      }
      this.refs[w] = h.refOf(slot);
      this.ts[w] = t;
      this.his[w] = hi;
      this.los[w] = lo;
      running.set(slot, w);
      w++;
    }
    this.n = w;
  }

  rollback(): void {
    if (this.done) throw new Error('appender used after commit() or rollback()');
    this.finish();
  }

  private finish(): void {
    const h = this.head;
    for (let i = 0; i < this.n; i++) {
      const slot = this.refs[i]! & SLOT_MASK;
      if (h.pendOwner[slot] === this.id) h.pendOwner[slot] = 0;
    }
    this.done = true;
    this.n = 0;
    h.activeAppenders--;
    giveBuffers({ refs: this.refs, ts: this.ts, his: this.his, los: this.los });
  }
}

function invalidTimestamp(t: number): StorageError {
  return new StorageError('invalid_sample', `invalid timestamp ${t}: must be an integer number of ms within ±2^52`);
}

interface BatchBuffers {
  refs: Int32Array;
  ts: Float64Array;
  his: Uint32Array;
  los: Uint32Array;
}

/** Batch buffers reused across appenders (a scrape's batch is typically ~1000 samples). */
const bufferPool: BatchBuffers[] = [];

function takeBuffers(): BatchBuffers {
  return bufferPool.pop() ?? { refs: new Int32Array(256), ts: new Float64Array(256), his: new Uint32Array(256), los: new Uint32Array(256) };
}

function giveBuffers(b: BatchBuffers): void {
  // Keep a few, and not huge ones (a remote-write burst must not pin memory).
  if (bufferPool.length < 16 && b.refs.length <= 65536) bufferPool.push(b);
}
