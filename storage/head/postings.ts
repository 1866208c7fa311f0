/**
 * The head's inverted index: label name → label value → the series (slots) having that pair.
 *
 * A pair held by one series stores the slot number itself (no allocation); larger lists are
 * growable `Int32Array`s. New series usually get increasing slots, so lists stay sorted on
 * append; a reused (lower) slot marks the list unsorted and it is sorted on its next read.
 */
import type { Labels } from '../labels.js';
import { growInt32 } from './memory.js';

/** A postings list of two or more series. */
class List {
  a: Int32Array;
  n: number;
  sorted: boolean;
  constructor(x: number, y: number) {
    this.a = new Int32Array(4);
    this.a[0] = x;
    this.a[1] = y;
    this.n = 2;
    this.sorted = x < y;
  }
}

type Entry = number | List;

const EMPTY = new Int32Array(0);

export class MemPostings {
  private readonly byName = new Map<string, Map<string, Entry>>();

  /** Adds `slot` under each of its label pairs. */
  add(slot: number, labels: Labels): void {
    for (let i = 0; i < labels.size; i++) this.addPair(labels.nameAt(i), labels.valueAt(i), slot);
  }

  private addPair(name: string, value: string, slot: number): void {
    let values = this.byName.get(name);
    if (values === undefined) {
      values = new Map();
      this.byName.set(name, values);
    }
    const e = values.get(value);
    if (e === undefined) {
      values.set(value, slot);
    } else if (typeof e === 'number') {
      values.set(value, new List(e, slot));
    } else {
      if (e.n === e.a.length) e.a = growInt32(e.a, e.n + 1);
      if (slot < e.a[e.n - 1]!) e.sorted = false;
      e.a[e.n++] = slot;
    }
  }

  /**
   * Removes dead series. `removed` holds the label sets of the series removed and `isDead`
   * tells a removed slot; each affected list is filtered once.
   */
  removeMany(removed: readonly Labels[], removedSlots: readonly number[], isDead: (slot: number) => boolean): void {
    const touched = new Set<List>();
    for (let k = 0; k < removed.length; k++) {
      const labels = removed[k]!;
      const slot = removedSlots[k]!;
      for (let i = 0; i < labels.size; i++) {
        const name = labels.nameAt(i), value = labels.valueAt(i);
        const values = this.byName.get(name);
        const e = values?.get(value);
        if (values === undefined || e === undefined) continue;
        if (typeof e === 'number') {
          if (e === slot) {
            values.delete(value);
            if (values.size === 0) this.byName.delete(name);
          }
        } else {
          touched.add(e);
        }
      }
    }
    if (touched.size === 0) return;
    for (const list of touched) {
      let w = 0;
      for (let r = 0; r < list.n; r++) {
        const s = list.a[r]!;
        if (!isDead(s)) list.a[w++] = s;
      }
      list.n = w;
    }
    // Collapse lists that shrank to one or zero entries.
    for (const labels of removed) {
      for (let i = 0; i < labels.size; i++) {
        const name = labels.nameAt(i), value = labels.valueAt(i);
        const values = this.byName.get(name);
        const e = values?.get(value);
        if (values === undefined || e === undefined || typeof e === 'number') continue;
        if (e.n === 0) values.delete(value);
        else if (e.n === 1) values.set(value, e.a[0]!);
        else if (e.a.length > 64 && e.n < e.a.length / 4) e.a = e.a.slice(0, e.n * 2);
        if (values.size === 0) this.byName.delete(name);
      }
    }
  }

  /** Sorted slots of series with `name=value` (a view; do not modify). */
  get(name: string, value: string): Int32Array {
    const e = this.byName.get(name)?.get(value);
    if (e === undefined) return EMPTY;
    if (typeof e === 'number') return Int32Array.of(e);
    return sortedView(e);
  }

  /** Number of series with `name=value`. */
  count(name: string, value: string): number {
    const e = this.byName.get(name)?.get(value);
    return e === undefined ? 0 : typeof e === 'number' ? 1 : e.n;
  }

  /** The values of `name` (unsorted), or undefined when no series has the label. */
  values(name: string): ReadonlyMap<string, unknown> | undefined {
    return this.byName.get(name);
  }

  /** Label names (unsorted). */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** Every (name, value, series count). */
  forEachPair(fn: (name: string, value: string, count: number) => void): void {
    for (const [name, values] of this.byName) {
      for (const [value, e] of values) fn(name, value, typeof e === 'number' ? 1 : e.n);
    }
  }

  /** Union of the postings of `name=v` for each `v` in `values`, sorted. */
  union(name: string, values: Iterable<string>): Int32Array {
    const map = this.byName.get(name);
    if (map === undefined) return EMPTY;
    const parts: Entry[] = [];
    let total = 0;
    for (const v of values) {
      const e = map.get(v);
      if (e === undefined) continue;
      parts.push(e);
      total += typeof e === 'number' ? 1 : e.n;
    }
    if (parts.length === 0) return EMPTY;
    if (parts.length === 1) {
      const e = parts[0]!;
      return typeof e === 'number' ? Int32Array.of(e) : sortedView(e);
    }
    const out = new Int32Array(total);
    let w = 0;
    for (const e of parts) {
      if (typeof e === 'number') out[w++] = e;
      else {
        out.set(e.a.subarray(0, e.n), w);
        w += e.n;
      }
    }
    // Values of one name are disjoint, so no duplicates.
    return out.sort();
  }
}

function sortedView(e: List): Int32Array {
  const v = e.a.subarray(0, e.n);
  if (!e.sorted) {
    v.sort();
    e.sorted = true;
  }
  return v;
}

/** Sorted intersection of two sorted lists. */
export function intersect(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0 || b.length === 0) return EMPTY;
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Int32Array(a.length);
  let w = 0, j = 0;
  const bl = b.length;
  for (let i = 0; i < a.length && j < bl; i++) {
    const x = a[i]!;
    if (b[j]! < x) {
      // Gallop: lists often differ in size by orders of magnitude.
      let step = 1;
      while (j + step < bl && b[j + step]! < x) step *= 2;
      let lo = j + (step >> 1), hi = Math.min(j + step, bl);
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (b[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      j = lo;
    }
    if (j < bl && b[j] === x) out[w++] = x;
  }
  return out.subarray(0, w);
}

/** Sorted `a` minus `b` (both sorted). */
export function subtract(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0 || b.length === 0) return a;
  const out = new Int32Array(a.length);
  let w = 0, j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out[w++] = x;
  }
  return out.subarray(0, w);
}
