/**
 * A querier over several queriers (blocks and the head): series merged in label order,
 * samples of a series present in several sources merged in time order with duplicate
 * timestamps dropped (the first source wins).
 */
import { Labels } from '../labels.js';
import type { Matcher } from '../matchers.js';
import { ValueType, type Querier, type SampleIterator, type SelectHints, type Series, type SeriesSet } from '../interface.js';

export class MergeQuerier implements Querier {
  private closed = false;
  /**
   * `disjoint`: the queriers hold disjoint, increasing time ranges (blocks in time order, then
   * the head above them), so a series' parts are chained instead of merged sample by sample.
   */
  constructor(
    private readonly queriers: readonly Querier[],
    private readonly onClose?: () => void,
    private readonly disjoint = false,
  ) {}

  select(matchers: readonly Matcher[], mint: number, maxt: number, hints?: SelectHints): SeriesSet {
    const sets = this.queriers.map((q) => q.select(matchers, mint, maxt, hints));
    if (sets.length === 1) return sets[0]!;
    return mergeSeriesSets(sets, this.disjoint);
  }

  labelNames(matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    return unionSorted(this.queriers.map((q) => q.labelNames(matchers, mint, maxt)));
  }

  labelValues(name: string, matchers: readonly Matcher[], mint: number, maxt: number): string[] {
    return unionSorted(this.queriers.map((q) => q.labelValues(name, matchers, mint, maxt)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queriers) q.close();
    this.onClose?.();
  }
}

function unionSorted(lists: string[][]): string[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? [];
  return [...new Set(nonEmpty.flat())].sort();
}

/** Merges series sets, each sorted by labels, into one. */
export function mergeSeriesSets(sets: readonly SeriesSet[], disjoint = false): SeriesSet {
  const k = sets.length;
  const heads: Array<Series | undefined> = sets.map((s) => (s.next() ? s.at() : undefined));
  let cur: Series | undefined;
  const group: Series[] = [];
  return {
    next(): boolean {
      let min: Labels | undefined;
      for (let i = 0; i < k; i++) {
        const h = heads[i];
        if (h !== undefined && (min === undefined || Labels.compare(h.labels, min) < 0)) min = h.labels;
      }
      if (min === undefined) {
        cur = undefined;
        return false;
      }
      group.length = 0;
      for (let i = 0; i < k; i++) {
        const h = heads[i];
        if (h !== undefined && Labels.compare(h.labels, min) === 0) {
          group.push(h);
          heads[i] = sets[i]!.next() ? sets[i]!.at() : undefined;
        }
      }
      cur = group.length === 1 ? group[0]! : new MergedSeries(group.slice(), disjoint);
      return true;
    },
    at(): Series {
      if (cur === undefined) throw new Error('SeriesSet.at() called without a current series');
      return cur;
    },
    warnings(): readonly string[] {
      return sets.flatMap((s) => s.warnings());
    },
  };
}

class MergedSeries implements Series {
  readonly labels: Labels;
  constructor(
    private readonly parts: Series[],
    private readonly disjoint: boolean,
  ) {
    this.labels = parts[0]!.labels;
  }
  iterator(): SampleIterator {
    const its = this.parts.map((p) => p.iterator());
    return this.disjoint ? new ChainIterator(its) : new MergeIterator(its);
  }
}

/** Iterators over disjoint, increasing time ranges, one after the other. */
export class ChainIterator implements SampleIterator {
  private i = 0;
  private cur: SampleIterator;
  constructor(private readonly its: SampleIterator[]) {
    this.cur = its[0]!;
  }

  next(): ValueType {
    for (;;) {
      if (this.cur.next() !== ValueType.None) return ValueType.Float;
      if (++this.i >= this.its.length) {
        this.i = this.its.length - 1;
        return ValueType.None;
      }
      this.cur = this.its[this.i]!;
    }
  }

  seek(t: number): ValueType {
    for (;;) {
      if (this.cur.seek(t) !== ValueType.None) return ValueType.Float;
      if (this.i + 1 >= this.its.length) return ValueType.None;
      this.cur = this.its[++this.i]!;
    }
  }

  atT(): number {
    return this.cur.atT();
  }

  atF(): number {
    return this.cur.atF();
  }
}

/** Merges sample iterators by timestamp; equal timestamps yield once (the first iterator's value). */
export class MergeIterator implements SampleIterator {
  private readonly ts: Float64Array;
  private started = false;
  private cur = -1;

  constructor(private readonly its: SampleIterator[]) {
    this.ts = new Float64Array(its.length).fill(Infinity);
  }

  private pick(): ValueType {
    let best = -1, bt = Infinity;
    for (let i = 0; i < this.ts.length; i++) {
      if (this.ts[i]! < bt) {
        bt = this.ts[i]!;
        best = i;
      }
    }
    this.cur = best;
    return best < 0 ? ValueType.None : ValueType.Float;
  }

  next(): ValueType {
    const its = this.its, ts = this.ts;
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < its.length; i++) ts[i] = its[i]!.next() === ValueType.None ? Infinity : its[i]!.atT();
      return this.pick();
    }
    if (this.cur < 0) return ValueType.None;
    const t = ts[this.cur]!;
    for (let i = 0; i < its.length; i++) {
      if (ts[i] === t) ts[i] = its[i]!.next() === ValueType.None ? Infinity : its[i]!.atT();
    }
    return this.pick();
  }

  seek(t: number): ValueType {
    const its = this.its, ts = this.ts;
    if (this.started && this.cur < 0) return ValueType.None;
    if (this.started && ts[this.cur]! >= t) return ValueType.Float;
    for (let i = 0; i < its.length; i++) {
      if (!this.started || ts[i]! < t) ts[i] = ts[i] === Infinity && this.started ? Infinity : its[i]!.seek(t) === ValueType.None ? Infinity : its[i]!.atT();
    }
    this.started = true;
    return this.pick();
  }

  atT(): number {
    return this.ts[this.cur]!;
  }

  atF(): number {
    return this.its[this.cur]!.atF();
  }
}
