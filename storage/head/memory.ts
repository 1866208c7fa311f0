/**
 * The head's chunk memory, without an object per chunk:
 *
 * - {@link PagePool}: 32-byte pages carved from 64 KiB slabs; an open chunk grows as a chain
 *   of pages.
 * - {@link ChunkStore}: closed chunks copied at their exact length into append-only 1 MiB
 *   slabs, described by a struct-of-arrays chunk table and chained per series.
 * - {@link Reclaimer}: readers (queriers) hold an epoch; memory freed while a reader that might
 *   still read it is open is parked until that reader closes, so a reader never sees reused
 *   bytes.
 */

/** Bytes per page of an open chunk. */
export const PAGE_BYTES = 32;
const PAGE_SHIFT = 5;
const PAGES_PER_SLAB = 2048; // 64 KiB slabs
const PAGE_SLAB_SHIFT = 11;
const CHUNK_SLAB_BYTES = 1024 * 1024;

/** Grows `a` to at least `min` elements (doubling), keeping its content. */
export function growInt32(a: Int32Array, min: number): Int32Array {
  if (a.length >= min) return a;
  const b = new Int32Array(Math.max(min, a.length * 2, 16));
  b.set(a);
  return b;
}

export function growUint16(a: Uint16Array, min: number): Uint16Array {
  if (a.length >= min) return a;
  const b = new Uint16Array(Math.max(min, a.length * 2, 16));
  b.set(a);
  return b;
}

export function growFloat64(a: Float64Array, min: number): Float64Array {
  if (a.length >= min) return a;
  const b = new Float64Array(Math.max(min, a.length * 2, 16));
  b.set(a);
  return b;
}

export function growUint32(a: Uint32Array, min: number): Uint32Array {
  if (a.length >= min) return a;
  const b = new Uint32Array(Math.max(min, a.length * 2, 16));
  b.set(a);
  return b;
}

/**
 * Fixed-size pages for open chunks: an open chunk is a chain of 32-byte pages, so every series
 * draws from one free list whatever its chunk size, and at most one partly used page per
 * series is wasted. A slab whose pages are all free is given back to the garbage collector and
 * recreated (zeroed) when one of its pages is allocated again.
 */
export class PagePool {
  private slabs: Array<Uint8Array | undefined> = [];
  private slabFree: Int32Array = new Int32Array(16);
  private freeList: Int32Array = new Int32Array(1024);
  private freeCount = 0;
  private nextFresh = 0;
  /** Next page of a chain, -1 at the end. */
  next: Int32Array = new Int32Array(1024);
  /** Pages in use. */
  inUse = 0;
  /** Slabs currently allocated. */
  slabCount = 0;

  /** Allocates a zeroed page whose `next` is -1. */
  alloc(): number {
    let page: number;
    if (this.freeCount > 0) {
      page = this.freeList[--this.freeCount]!;
      const si = page >>> PAGE_SLAB_SHIFT;
      this.slabFree[si]!--;
      const slab = this.slabs[si];
      if (slab === undefined) {
        this.slabs[si] = new Uint8Array(PAGES_PER_SLAB << PAGE_SHIFT);
        this.slabCount++;
      } else {
        const off = (page & (PAGES_PER_SLAB - 1)) << PAGE_SHIFT;
        slab.fill(0, off, off + PAGE_BYTES);
      }
    } else {
      page = this.nextFresh++;
      const si = page >>> PAGE_SLAB_SHIFT;
      if (si === this.slabs.length) {
        this.slabs.push(new Uint8Array(PAGES_PER_SLAB << PAGE_SHIFT));
        this.slabCount++;
        if (si >= this.slabFree.length) this.slabFree = growInt32(this.slabFree, si + 1);
      }
      if (page >= this.next.length) this.next = growInt32(this.next, page + 1);
    }
    this.next[page] = -1;
    this.inUse++;
    return page;
  }

  free(page: number): void {
    if (this.freeCount === this.freeList.length) this.freeList = growInt32(this.freeList, this.freeCount + 1);
    this.freeList[this.freeCount++] = page;
    this.inUse--;
    const si = page >>> PAGE_SLAB_SHIFT;
    // A fully carved slab with every page free holds nothing: let it go.
    if (++this.slabFree[si]! === PAGES_PER_SLAB && (si + 1) * PAGES_PER_SLAB <= this.nextFresh) {
      this.slabs[si] = undefined;
      this.slabCount--;
    }
  }

  /** The slab holding an allocated page. */
  slab(page: number): Uint8Array {
    return this.slabs[page >>> PAGE_SLAB_SHIFT]!;
  }

  /** Byte offset of the page in its slab. */
  offset(page: number): number {
    return (page & (PAGES_PER_SLAB - 1)) << PAGE_SHIFT;
  }

  /** Copies `len` bytes of the chain starting at `first` into `dst[at…]`. */
  read(first: number, len: number, dst: Uint8Array, at: number): void {
    // A byte loop: 32 bytes at a time, a subarray view + set per page costs more than it saves.
    let page = first;
    let o = at;
    for (let done = 0; done < len; done += PAGE_BYTES) {
      const n = len - done < PAGE_BYTES ? len - done : PAGE_BYTES;
      const slab = this.slabs[page >>> PAGE_SLAB_SHIFT]!;
      const off = (page & (PAGES_PER_SLAB - 1)) << PAGE_SHIFT;
      for (let k = 0; k < n; k++) dst[o + k] = slab[off + k]!;
      o += n;
      page = this.next[page]!;
    }
  }

  /**
   * Copies `len` bytes of a chain into `dst[at…]`, from its byte `from` on; `page` is a page of
   * the chain holding its bytes from `pageStart` (a multiple of {@link PAGE_BYTES}, <= from).
   */
  readFrom(page: number, pageStart: number, from: number, len: number, dst: Uint8Array, at: number): void {
    const next = this.next, slabs = this.slabs;
    if (len <= 0) return;
    for (let k = (from - pageStart) >>> PAGE_SHIFT; k > 0; k--) page = next[page]!;
    let src = ((page & (PAGES_PER_SLAB - 1)) << PAGE_SHIFT) + (from & (PAGE_BYTES - 1));
    let slab = slabs[page >>> PAGE_SLAB_SHIFT]!;
    for (let o = at, stop = at + len; o < stop; o++) {
      dst[o] = slab[src++]!;
      if ((src & (PAGE_BYTES - 1)) === 0) {
        page = next[page]!;
        if (page < 0) break;
        slab = slabs[page >>> PAGE_SLAB_SHIFT]!;
        src = (page & (PAGES_PER_SLAB - 1)) << PAGE_SHIFT;
      }
    }
  }

  /** Bytes held in slabs (allocated memory, used or free). */
  bytesReserved(): number {
    return this.slabCount * (PAGES_PER_SLAB << PAGE_SHIFT);
  }
}

/**
 * Closed chunks. Each chunk has an id (an index into the chunk table); a series chains its
 * chunks oldest first through `next`.
 */
export class ChunkStore {
  mint: Float64Array = new Float64Array(1024);
  maxt: Float64Array = new Float64Array(1024);
  slabOf: Int32Array = new Int32Array(1024);
  off: Int32Array = new Int32Array(1024);
  /** Bytes of the chunk (at most 4 KiB) and its sample count. */
  len: Uint16Array = new Uint16Array(1024);
  count: Uint16Array = new Uint16Array(1024);
  next: Int32Array = new Int32Array(1024);
  private freeIds: Int32Array = new Int32Array(1024);
  private freeIdCount = 0;
  private nextId = 0;
  /** Chunks in the table. */
  size = 0;

  private readonly slabs: Array<Uint8Array | undefined> = [];
  private slabLive: Int32Array = new Int32Array(16);
  private freeSlabIdx: number[] = [];
  private cur = -1;
  private curOff = CHUNK_SLAB_BYTES;
  /** Bytes of chunk data held (live). */
  bytesLive = 0;

  /**
   * @param onEmptySlab called with a slab index that holds no live chunk any more and is not
   *   being filled; the owner releases it (through its reclaimer) with {@link ChunkStore.releaseSlab}.
   */
  constructor(private readonly onEmptySlab: (slab: number) => void) {}

  /**
   * Copies `src[from, from + len)` (an encoded chunk) into the store and returns its id.
   * `next` of the new chunk is -1.
   */
  add(src: Uint8Array, from: number, len: number, mint: number, maxt: number, count: number): number {
    if (this.curOff + len > CHUNK_SLAB_BYTES) this.newSlab();
    const slabIdx = this.cur;
    const off = this.curOff;
    this.slabs[slabIdx]!.set(src.subarray(from, from + len), off);
    this.curOff = off + len;
    this.slabLive[slabIdx]! += len;
    this.bytesLive += len;

    let id: number;
    if (this.freeIdCount > 0) {
      id = this.freeIds[--this.freeIdCount]!;
    } else {
      id = this.nextId++;
      if (id === this.mint.length) this.growTable(id + 1);
    }
    this.mint[id] = mint;
    this.maxt[id] = maxt;
    this.slabOf[id] = slabIdx;
    this.off[id] = off;
    this.len[id] = len;
    this.count[id] = count;
    this.next[id] = -1;
    this.size++;
    return id;
  }

  /** The chunk's bytes (a view into a slab; never reused while a reader may hold it). */
  bytes(id: number): Uint8Array {
    return this.slabs[this.slabOf[id]!]!.subarray(this.off[id]!, this.off[id]! + this.len[id]!);
  }

  slab(id: number): Uint8Array {
    return this.slabs[this.slabOf[id]!]!;
  }

  /**
   * Drops a chunk's bytes from the live count. The id itself must be released later with
   * {@link ChunkStore.releaseId} (once no reader can hold it).
   */
  drop(id: number): void {
    const s = this.slabOf[id]!;
    const len = this.len[id]!;
    this.slabLive[s]! -= len;
    this.bytesLive -= len;
    this.size--;
    if (this.slabLive[s] === 0 && s !== this.cur) this.onEmptySlab(s);
  }

  releaseId(id: number): void {
    if (this.freeIdCount === this.freeIds.length) this.freeIds = growInt32(this.freeIds, this.freeIdCount + 1);
    this.freeIds[this.freeIdCount++] = id;
  }

  releaseSlab(s: number): void {
    if (this.slabLive[s] !== 0 || s === this.cur) return; // refilled meanwhile: keep it
    this.slabs[s] = undefined;
    this.freeSlabIdx.push(s);
  }

  /** Bytes held in slabs (allocated memory). */
  bytesReserved(): number {
    let n = 0;
    for (const s of this.slabs) if (s) n += s.length;
    return n;
  }

  private newSlab(): void {
    const prev = this.cur;
    const idx = this.freeSlabIdx.length > 0 ? this.freeSlabIdx.pop()! : this.slabs.length;
    if (idx === this.slabs.length) this.slabs.push(undefined);
    if (idx >= this.slabLive.length) this.slabLive = growInt32(this.slabLive, idx + 1);
    this.slabs[idx] = new Uint8Array(CHUNK_SLAB_BYTES);
    this.slabLive[idx] = 0;
    this.cur = idx;
    this.curOff = 0;
    // The slab being left may have lost all its chunks while it was current.
    if (prev >= 0 && this.slabLive[prev] === 0) this.onEmptySlab(prev);
  }

  private growTable(min: number): void {
    this.mint = growFloat64(this.mint, min);
    this.maxt = growFloat64(this.maxt, min);
    this.slabOf = growInt32(this.slabOf, min);
    this.off = growInt32(this.off, min);
    this.len = growUint16(this.len, min);
    this.count = growUint16(this.count, min);
    this.next = growInt32(this.next, min);
  }
}

/** What a reclaimer item frees. */
export const Reclaim = { Page: 0, ChunkId: 1, Slab: 2 } as const;
export type Reclaim = (typeof Reclaim)[keyof typeof Reclaim];

/**
 * Epoch-based deferred freeing. A reader takes an epoch when it opens and gives it back when
 * it closes; memory freed while readers are open waits until every reader that was open at
 * the time has closed.
 */
export class Reclaimer {
  private epoch = 0;
  private readonly open: number[] = [];
  private kinds: Int32Array = new Int32Array(256);
  private ids: Int32Array = new Int32Array(256);
  private aux: Int32Array = new Int32Array(256);
  private epochs: Float64Array = new Float64Array(256);
  private head = 0;
  private tail = 0;

  constructor(private readonly freeNow: (kind: Reclaim, id: number, aux: number) => void) {}

  /** Registers a reader; returns its epoch for {@link Reclaimer.leave}. */
  enter(): number {
    const e = ++this.epoch;
    this.open.push(e);
    return e;
  }

  leave(e: number): void {
    const i = this.open.indexOf(e);
    if (i < 0) return;
    this.open.splice(i, 1);
    this.drain();
  }

  /** Readers currently open. */
  get readers(): number {
    return this.open.length;
  }

  /** Items waiting for readers to close. */
  get pending(): number {
    return this.tail - this.head;
  }

  defer(kind: Reclaim, id: number, aux = 0): void {
    if (this.open.length === 0) {
      this.freeNow(kind, id, aux);
      return;
    }
    if (this.tail === this.kinds.length) this.compact();
    const i = this.tail++;
    this.kinds[i] = kind;
    this.ids[i] = id;
    this.aux[i] = aux;
    this.epochs[i] = this.epoch;
  }

  private drain(): void {
    let min = Infinity;
    for (const e of this.open) if (e < min) min = e;
    while (this.head < this.tail && this.epochs[this.head]! < min) {
      const i = this.head++;
      this.freeNow(this.kinds[i] as Reclaim, this.ids[i]!, this.aux[i]!);
    }
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  private compact(): void {
    const n = this.tail - this.head;
    const cap = n * 2 > this.kinds.length ? this.kinds.length * 2 : this.kinds.length;
    const move = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      if (cap === a.length) {
        a.copyWithin(0, this.head, this.tail);
        return a;
      }
      const b = make(cap);
      b.set(a.subarray(this.head, this.tail));
      return b;
    };
    this.kinds = move(this.kinds, (c) => new Int32Array(c));
    this.ids = move(this.ids, (c) => new Int32Array(c));
    this.aux = move(this.aux, (c) => new Int32Array(c));
    this.epochs = move(this.epochs, (c) => new Float64Array(c));
    this.head = 0;
    this.tail = n;
  }
}
