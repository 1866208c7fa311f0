/**
 * Reading the head. `select` takes a consistent snapshot of every matching series at once
 * (chunk ids and the open chunk's current length), so a batch committed later is either
 * wholly visible or not at all; iterators then decode lazily. Memory the head frees while
 * the querier is open is kept until `close()` (see `Reclaimer`).
 */
import { coveredAt, tombstoneCursor } from '../tombstones.js';
import { Labels } from '../labels.js';
import type { Matcher } from '../matchers.js';
import { ValueType, StorageError, type Querier, type SampleIterator, type SelectHints, type Series, type SeriesSet } from '../interface.js';
import { XorIterator } from '../chunks/index.js';
import { OPEN_CHECKPOINTS, type Head } from './head.js';

const NO_CHUNK = -1;

export class HeadQuerier implements Querier {
  private readonly epoch: number;
  private closed = false;
  /**
   * Open chunks are copied (their part from the checkpoint a reader starts at) into this
   * arena, bump-allocated, instead of one array per series; a full arena is replaced and left
   * to the iterators still reading it.
   */
  private arena: Uint8Array = new Uint8Array(0);
  private arenaOff = 0;

  constructor(
    private readonly head: Head,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    this.epoch = head.reclaimer.enter();
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number, _hints?: SelectHints): SeriesSet {
    this.check();
    const h = this.head;
    // Data before the min valid time is in blocks (a chunk that straddles it still holds some).
    const lo = Math.max(mint, this.mint, h.minValidTime), hi = Math.min(maxt, this.maxt);
    if (lo > hi || h.numSeries === 0) return arraySeriesSet([]);
    const slots = h.postingsForMatchers(matchers);
    const out: HeadSeries[] = [];
    const chunks = h.chunks;
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!;
      let first = NO_CHUNK, last = NO_CHUNK;
      let dataMin = Infinity, dataMax = -Infinity;
      // A window after the newest closed chunk (the usual short, recent one) skips the chain.
      const cLast = h.cLast[slot]!;
      const c0 = cLast === NO_CHUNK || chunks.maxt[cLast]! < lo ? NO_CHUNK : h.cFirst[slot]!;
      for (let c = c0; c !== NO_CHUNK; c = chunks.next[c]!) {
        if (chunks.maxt[c]! < lo) continue;
        if (chunks.mint[c]! > hi) break;
        if (first === NO_CHUNK) {
          first = c;
          dataMin = chunks.mint[c]!;
        }
        last = c;
        dataMax = chunks.maxt[c]!;
      }
      let openN = 0;
      let ck = -1;
      if (h.oN[slot]! > 0 && h.lastT[slot]! >= lo && h.oMint[slot]! <= hi) {
        openN = h.oN[slot]!;
        if (dataMin === Infinity) dataMin = h.oMint[slot]!;
        dataMax = h.lastT[slot]!;
        // The last checkpoint before the window: decoding starts after it.
        if (first === NO_CHUNK) {
          for (let j = Math.min(OPEN_CHECKPOINTS, Math.floor(openN / h.ckEvery)) - 1; j >= 0; j--) {
            if (h.ckT[slot * OPEN_CHECKPOINTS + j]! < lo) {
              ck = j;
              break;
            }
          }
        }
      }
      // A window starting inside the newest closed chunk: the checkpoints the open chunk has
      // not overwritten yet are that chunk's (the ones whose time lies within it).
      let ckClosed = false;
      if (first !== NO_CHUNK && first === cLast) {
        const cm = chunks.mint[first]!, cx = chunks.maxt[first]!;
        for (let j = OPEN_CHECKPOINTS - 1; j >= 0; j--) {
          const t = h.ckT[slot * OPEN_CHECKPOINTS + j]!;
          if (t >= cm && t <= cx && t < lo) {
            ck = j;
            ckClosed = true;
            break;
          }
        }
      }
      if (first === NO_CHUNK && openN === 0) continue;
      const tomb = h.tombstones.get(slot);
      if (tomb !== undefined && covers(tomb, Math.max(lo, dataMin), Math.min(hi, dataMax))) continue;
      const s = new HeadSeries(
          h.labels[slot]!,
          this,
          h,
          first,
          last,
          h.oPage0[slot]!,
          openN,
          openN === 0 ? 0 : (h.oBits[slot]! + 7) >>> 3,
          lo,
          hi,
          tomb,
        );
      if (ck >= 0) {
        // Copied now: the head reuses the checkpoint arrays when the chunk is cut.
        const k = slot * OPEN_CHECKPOINTS + ck;
        s.ckI = (ck + 1) * h.ckEvery;
        s.ckBits = h.ckBits[k]!;
        s.ckT = h.ckT[k]!;
        s.ckDelta = h.ckDelta[k]!;
        s.ckVHi = h.ckVHi[k]!;
        s.ckVLo = h.ckVLo[k]!;
        s.ckWin = h.ckWin[k]!;
        s.ckClosed = ckClosed;
      }
      out.push(s);
    }
    let sorted = true;
    for (let k = 1; k < out.length && sorted; k++) if (Labels.compare(out[k - 1]!.labels, out[k]!.labels) > 0) sorted = false;
    if (!sorted) out.sort((a, b) => Labels.compare(a.labels, b.labels));
    return arraySeriesSet(out);
  }

  labelNames(matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    this.check();
    if (!this.overlaps(mint, maxt)) return [];
    const h = this.head;
    if (matchers.length === 0) return [...h.postings.names()].sort();
    const names = new Set<string>();
    const slots = h.postingsForMatchers(matchers);
    for (let k = 0; k < slots.length; k++) {
      const l = h.labels[slots[k]!]!;
      for (let i = 0; i < l.size; i++) names.add(l.nameAt(i));
    }
    return [...names].sort();
  }

  labelValues(name: string, matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    this.check();
    if (!this.overlaps(mint, maxt)) return [];
    const h = this.head;
    if (matchers.length === 0) {
      const values = h.postings.values(name);
      return values === undefined ? [] : [...values.keys()].sort();
    }
    const out = new Set<string>();
    const slots = h.postingsForMatchers(matchers);
    for (let k = 0; k < slots.length; k++) {
      const v = h.labels[slots[k]!]!.get(name);
      if (v !== '') out.add(v);
    }
    return [...out].sort();
  }

  /** Room for `n` bytes in the arena; returns their offset in {@link HeadQuerier.arenaBuf}. @internal */
  alloc(n: number): number {
    if (this.arenaOff + n > this.arena.length) {
      this.arena = new Uint8Array(Math.max(n, 64 * 1024));
      this.arenaOff = 0;
    }
    const at = this.arenaOff;
    this.arenaOff = at + n;
    return at;
  }

  /** The arena the last {@link HeadQuerier.alloc} carved from. @internal */
  get arenaBuf(): Uint8Array {
    return this.arena;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.head.reclaimer.leave(this.epoch);
  }

  private check(): void {
    if (this.closed) throw new StorageError('closed', 'querier is closed');
  }

  /** Label APIs answer from the index when the head's time range meets the query's. */
  private overlaps(mint: number, maxt: number): boolean {
    const lo = Math.max(mint, this.mint, this.head.minValidTime), hi = Math.min(maxt, this.maxt);
    return lo <= hi && this.head.minTime <= hi && this.head.maxTime >= lo;
  }
}

/** True when the sorted intervals cover [a, b] entirely. */
function covers(tomb: readonly number[], a: number, b: number): boolean {
  for (let i = 0; i < tomb.length; i += 2) {
    if (tomb[i]! <= a && tomb[i + 1]! >= b) return true;
  }
  return false;
}

function arraySeriesSet(series: readonly Series[]): SeriesSet {
  let i = -1;
  return {
    next: () => ++i < series.length,
    at: () => {
      const s = series[i];
      if (s === undefined) throw new Error('SeriesSet.at() called without a current series');
      return s;
    },
    warnings: () => [],
  };
}

/** A series as it was when `select` ran. */
class HeadSeries implements Series {
  /** Open-chunk checkpoint to start from (samples before it; 0: from the chunk's start). */
  ckI = 0;
  ckBits = 0;
  ckT = 0;
  ckDelta = 0;
  ckVHi = 0;
  ckVLo = 0;
  ckWin = 0;
  /** The checkpoint is in the first closed chunk (the newest one), not in the open chunk. */
  ckClosed = false;

  constructor(
    readonly labels: Labels,
    /** @internal */ readonly q: HeadQuerier,
    /** @internal */ readonly head: Head,
    /** @internal */ readonly first: number,
    /** @internal */ readonly last: number,
    /** @internal */ readonly openPage: number,
    /** @internal */ readonly openN: number,
    /** @internal */ readonly openBytes: number,
    /** @internal */ readonly mint: number,
    /** @internal */ readonly maxt: number,
    /** @internal */ readonly tomb: readonly number[] | undefined,
  ) {}

  iterator(): SampleIterator {
    return new HeadIterator(this);
  }
}

const STAGE_CLOSED = 0, STAGE_OPEN = 1, STAGE_DONE = 2;

/**
 * Samples of one {@link HeadSeries} within [mint, maxt], minus deleted intervals: its closed
 * chunks in order, then its open chunk.
 */
class HeadIterator implements SampleIterator {
  private readonly xi = new XorIterator();
  private stage: number;
  private c: number;
  private on = false;
  private ti = 0;

  constructor(private readonly s: HeadSeries) {
    this.c = s.first;
    if (s.first !== NO_CHUNK) {
      this.stage = STAGE_CLOSED;
      this.loadClosed();
    } else {
      this.stage = STAGE_OPEN;
      this.loadOpen();
    }
  }

  private loadClosed(): void {
    const chunks = this.s.head.chunks;
    const c = this.c;
    const s = this.s;
    if (s.ckClosed && c === s.first) {
      this.xi.resume(chunks.slab(c), chunks.off[c]!, chunks.len[c]!, chunks.count[c]!, s.ckI, s.ckBits, s.ckT, s.ckDelta, s.ckVHi, s.ckVLo, s.ckWin >>> 8, s.ckWin & 0xff);
      return;
    }
    this.xi.reset(chunks.slab(c), chunks.off[c]!, chunks.len[c]!, chunks.count[c]!);
  }

  private loadOpen(): void {
    const s = this.s;
    if (s.openN === 0) {
      this.stage = STAGE_DONE;
      return;
    }
    const q = s.q;
    if (s.ckI === 0 || s.ckClosed) {
      const at = q.alloc(s.openBytes);
      const buf = q.arenaBuf;
      s.head.readOpenFrom(s.openPage, 0, s.openBytes, buf, at);
      buf[at] = s.openN >>> 8;
      buf[at + 1] = s.openN & 0xff;
      this.xi.reset(buf, at, s.openBytes, s.openN);
      return;
    }
    const from = s.ckBits >>> 3;
    const at = q.alloc(s.openBytes - from);
    const buf = q.arenaBuf;
    s.head.readOpenFrom(s.openPage, from, s.openBytes, buf, at);
    this.xi.resume(buf, at - from, s.openBytes, s.openN, s.ckI, s.ckBits, s.ckT, s.ckDelta, s.ckVHi, s.ckVLo, s.ckWin >>> 8, s.ckWin & 0xff);
  }

  /** Moves to the next chunk; false when there is none. */
  private advance(): boolean {
    if (this.stage === STAGE_CLOSED) {
      if (this.c !== this.s.last) {
        this.c = this.s.head.chunks.next[this.c]!;
        this.loadClosed();
        return true;
      }
      this.stage = STAGE_OPEN;
      this.loadOpen();
      return this.stage === STAGE_OPEN;
    }
    this.stage = STAGE_DONE;
    return false;
  }

  next(): ValueType {
    if (this.stage === STAGE_DONE) return ValueType.None;
    const s = this.s;
    for (;;) {
      if (this.xi.next() !== ValueType.None) {
        const t = this.xi.atT();
        if (t < s.mint) continue;
        if (t > s.maxt) break;
        if (s.tomb !== undefined && this.deleted(t)) continue;
        this.on = true;
        return ValueType.Float;
      }
      if (!this.advance()) break;
    }
    this.stage = STAGE_DONE;
    this.on = false;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.stage === STAGE_DONE) return ValueType.None;
    if (this.on && this.xi.atT() >= t) return ValueType.Float;
    const s = this.s;
    const target = Math.max(t, s.mint);
    // Skip whole closed chunks that end before the target without decoding them.
    const chunks = s.head.chunks;
    while (this.stage === STAGE_CLOSED && chunks.maxt[this.c]! < target) {
      if (!this.advance()) {
        this.stage = STAGE_DONE;
        this.on = false;
        return ValueType.None;
      }
    }
    for (;;) {
      if (this.xi.seek(target) !== ValueType.None) {
        const at = this.xi.atT();
        if (at > s.maxt) break;
        if (s.tomb !== undefined && this.deleted(at)) return this.next();
        this.on = true;
        return ValueType.Float;
      }
      if (!this.advance()) break;
    }
    this.stage = STAGE_DONE;
    this.on = false;
    return ValueType.None;
  }

  atT(): number {
    return this.xi.atT();
  }

  atF(): number {
    return this.xi.atF();
  }

  private deleted(t: number): boolean {
    const tomb = this.s.tomb!;
    this.ti = tombstoneCursor(tomb, this.ti, t);
    return coveredAt(tomb, this.ti, t);
  }

}
