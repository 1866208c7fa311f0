/**
 * Reading a block: series in label order (series ids are assigned in label order when the
 * block is written), chunk-level pruning by each chunk's [mint, maxt], tombstones applied.
 */
import { coveredAt, tombstoneCursor } from '../tombstones.js';
import type { Labels } from '../labels.js';
import type { Matcher } from '../matchers.js';
import { ValueType, StorageError, type Querier, type SampleIterator, type SelectHints, type Series, type SeriesSet } from '../interface.js';
import { XorIterator } from '../chunks/index.js';
import { decodeChunkHeader, decodeChunkList, type ChunkRef } from './format.js';
import type { Block } from './block.js';

const EMPTY_BYTES = new Uint8Array(0);
/** Chunk lists longer than this are read in two steps (header, then the chunks in the window): they span frames. */
const PARTIAL_READ_BYTES = 4096;
/** Bytes read for a chunk list header first (about 50 chunks' entries; a longer header is read whole). */
const HEADER_PROBE_BYTES = 512;

export class BlockQuerier implements Querier {
  private closed = false;

  constructor(
    private readonly block: Block,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  select(matchers: readonly Matcher[], mint: number, maxt: number, hints?: SelectHints): SeriesSet {
    this.check();
    const b = this.block;
    const lo = Math.max(mint, this.mint, b.minTime), hi = Math.min(maxt, this.maxt, b.maxTime - 1);
    if (lo > hi) return arraySeriesSet([], []);
    const warnings: string[] = [];
    const out: Series[] = [];
    const labelsOnly = hints?.labelsOnly === true;
    let ids: Int32Array;
    try {
      ids = b.postingsForMatchers(matchers);
    } catch (err) {
      return arraySeriesSet([], [`block ${b.ulid}: ${(err as Error).message}`]);
    }
    const tombs = b.tombstones;
    let bad = 0;
    let rows: ReturnType<Block['seriesRows']>;
    try {
      rows = b.seriesRows(ids);
    } catch (err) {
      return arraySeriesSet([], [`block ${b.ulid}: ${(err as Error).message}`]);
    }
    const loc = rows.loc;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const lb = rows.labels[k];
      try {
        if (lb === undefined) throw new StorageError('corrupt', 'no series row');
        const rmint = loc[4 * k]!, rmaxt = loc[4 * k + 1]!;
        if (rmaxt < lo || rmint > hi) continue;
        const tomb = tombs.get(id);
        if (tomb !== undefined && covers(tomb, Math.max(lo, rmint), Math.min(hi, rmaxt))) continue;
        if (labelsOnly) {
          out.push(new BlockSeries(b.decodeLabels(lb), EMPTY_BYTES, [], lo, hi, tomb));
          continue;
        }
        const off = loc[4 * k + 2]!, len = loc[4 * k + 3]!;
        let data: Uint8Array | undefined;
        let refs: ChunkRef[] | undefined;
        if (len > PARTIAL_READ_BYTES) {
          // A long chunk list (a big compacted block): its header first, then only the chunks in the window.
          refs = decodeChunkHeader(b.chunkData(off, HEADER_PROBE_BYTES), rmint, len);
        }
        if (refs === undefined) {
          data = b.chunkData(off, len);
          refs = decodeChunkList(data, rmint);
        }
        // Chunk-level pruning: keep only chunks meeting [lo, hi].
        let first = 0, last = refs.length;
        while (first < last && refs[first]!.maxt < lo) first++;
        while (last > first && refs[last - 1]!.mint > hi) last--;
        if (first === last) continue;
        let kept = refs.slice(first, last);
        if (data === undefined) {
          const from = kept[0]!.off, to = kept[kept.length - 1]!.off + kept[kept.length - 1]!.len;
          data = b.chunkData(off + from, to - from);
          kept = kept.map((r) => ({ mint: r.mint, maxt: r.maxt, off: r.off - from, len: r.len }));
        }
        out.push(new BlockSeries(b.decodeLabels(lb), data, kept, lo, hi, tomb));
      } catch (err) {
        // A damaged series: skip it, say so, keep answering with the others.
        if (bad++ < 5) warnings.push(`block ${b.ulid}: series ${id} unreadable: ${(err as Error).message}`);
      }
    }
    if (bad > 5) warnings.push(`block ${b.ulid}: ${bad} series unreadable in all`);
    return arraySeriesSet(out, warnings);
  }

  labelNames(matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    this.check();
    const b = this.block;
    if (!b.overlaps(Math.max(mint, this.mint), Math.min(maxt, this.maxt))) return [];
    if (matchers.length === 0) return [...b.values.keys()].sort();
    const names = new Set<string>();
    for (const lb of b.seriesRows(b.postingsForMatchers(matchers)).labels) {
      if (lb === undefined) continue;
      const l = b.decodeLabels(lb);
      for (let i = 0; i < l.size; i++) names.add(l.nameAt(i));
    }
    return [...names].sort();
  }

  labelValues(name: string, matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    this.check();
    const b = this.block;
    if (!b.overlaps(Math.max(mint, this.mint), Math.min(maxt, this.maxt))) return [];
    if (matchers.length === 0) return (b.values.get(name)?.values ?? []).slice();
    const out = new Set<string>();
    for (const lb of b.seriesRows(b.postingsForMatchers(matchers)).labels) {
      if (lb === undefined) continue;
      const v = b.decodeLabels(lb).get(name);
      if (v !== '') out.add(v);
    }
    return [...out].sort();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.block.release();
  }

  private check(): void {
    if (this.closed) throw new StorageError('closed', 'querier is closed');
  }
}

/** True when the sorted intervals cover [a, b] entirely. */
function covers(tomb: readonly number[], a: number, b: number): boolean {
  for (let i = 0; i < tomb.length; i += 2) if (tomb[i]! <= a && tomb[i + 1]! >= b) return true;
  return false;
}

export function arraySeriesSet(series: readonly Series[], warnings: readonly string[]): SeriesSet {
  let i = -1;
  return {
    next: () => ++i < series.length,
    at: () => {
      const s = series[i];
      if (s === undefined) throw new Error('SeriesSet.at() called without a current series');
      return s;
    },
    warnings: () => warnings,
  };
}

class BlockSeries implements Series {
  constructor(
    readonly labels: Labels,
    private readonly data: Uint8Array,
    private readonly refs: ChunkRef[],
    private readonly mint: number,
    private readonly maxt: number,
    private readonly tomb: readonly number[] | undefined,
  ) {}

  iterator(): SampleIterator {
    return new ChunkListIterator(this.data, this.refs, this.mint, this.maxt, this.tomb);
  }
}

/** Samples of a list of chunks (in time order) within [mint, maxt], minus deleted intervals. */
export class ChunkListIterator implements SampleIterator {
  private readonly xi = new XorIterator();
  private c = -1;
  private done = false;
  private on = false;
  private ti = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly refs: readonly ChunkRef[],
    private readonly mint: number,
    private readonly maxt: number,
    private readonly tomb: readonly number[] | undefined,
  ) {
    if (!this.advance()) this.done = true;
  }

  private advance(): boolean {
    if (++this.c >= this.refs.length) return false;
    const r = this.refs[this.c]!;
    this.xi.reset(this.data, r.off, r.len);
    return true;
  }

  next(): ValueType {
    if (this.done) return ValueType.None;
    for (;;) {
      if (this.xi.next() !== ValueType.None) {
        const t = this.xi.atT();
        if (t < this.mint) continue;
        if (t > this.maxt) break;
        if (this.tomb !== undefined && this.deleted(t)) continue;
        this.on = true;
        return ValueType.Float;
      }
      if (!this.advance()) break;
    }
    this.done = true;
    this.on = false;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.done) return ValueType.None;
    if (this.on && this.xi.atT() >= t) return ValueType.Float;
    const target = Math.max(t, this.mint);
    while (this.refs[this.c]!.maxt < target) {
      if (!this.advance()) {
        this.done = true;
        this.on = false;
        return ValueType.None;
      }
    }
    for (;;) {
      if (this.xi.seek(target) !== ValueType.None) {
        const at = this.xi.atT();
        if (at > this.maxt) break;
        if (this.tomb !== undefined && this.deleted(at)) return this.next();
        this.on = true;
        return ValueType.Float;
      }
      if (!this.advance()) break;
    }
    this.done = true;
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
    const tomb = this.tomb!;
    this.ti = tombstoneCursor(tomb, this.ti, t);
    return coveredAt(tomb, this.ti, t);
  }

}
