/**
 * The head's chunk memory, without an object per chunk:
 *
 * - {@link CellPool}: size-class cells (32 B … 4 KiB) carved from 64 KiB slabs, where open
 *   chunks grow. A chunk that outgrows its cell moves to the next class.
 * - {@link ChunkStore}: closed chunks copied at their exact length into append-only 1 MiB
 *   slabs, described by a struct-of-arrays chunk table and chained per series.
 * - {@link Reclaimer}: readers (queriers) hold an epoch; memory freed while a reader that might
 *   still read it is open is parked until that reader closes, so a reader never sees reused
 *   bytes.
 */

/** Cell sizes in bytes, by class. */
export const CELL_SIZES = [32, 64, 128, 256, 512, 1024, 2048, 4096] as const;
export const MAX_CELL_CLASS = CELL_SIZES.length - 1;
const CELL_SLAB_BYTES = 64 * 1024;
const CHUNK_SLAB_BYTES = 1024 * 1024;

/** Grows `a` to at least `min` elements (doubling), keeping its content. */
export function growInt32(a: Int32Array, min: number): Int32Array {
  if (a.length >= min) return a;
  const b = new Int32Array(Math.max(min, a.length * 2, 16));
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

/** Size-class cells for open chunks. A cell is named by (class, index). */
export class CellPool {
  private readonly slabs: Uint8Array[][] = CELL_SIZES.map(() => []);
  private readonly freeLists: Int32Array[] = CELL_SIZES.map(() => new Int32Array(64));
  private readonly freeCounts: number[] = CELL_SIZES.map(() => 0);
  private readonly nextFresh: number[] = CELL_SIZES.map(() => 0);
  private readonly shift: number[] = CELL_SIZES.map((s) => Math.log2(CELL_SLAB_BYTES / s));
  /** Cells in use, by class. */
  readonly inUse: number[] = CELL_SIZES.map(() => 0);

  /** Allocates a zeroed cell of class `cls` and returns its index. */
  alloc(cls: number): number {
    let cell: number;
    const fc = this.freeCounts[cls]!;
    if (fc > 0) {
      cell = this.freeLists[cls]![fc - 1]!;
      this.freeCounts[cls] = fc - 1;
      const size = CELL_SIZES[cls]!;
      const off = this.offset(cls, cell);
      this.slab(cls, cell).fill(0, off, off + size);
    } else {
      cell = this.nextFresh[cls]!++;
      const slabIdx = cell >>> this.shift[cls]!;
      const slabs = this.slabs[cls]!;
      if (slabIdx === slabs.length) slabs.push(new Uint8Array(CELL_SLAB_BYTES));
    }
    this.inUse[cls]!++;
    return cell;
  }

  free(cls: number, cell: number): void {
    let list = this.freeLists[cls]!;
    const fc = this.freeCounts[cls]!;
    if (fc === list.length) this.freeLists[cls] = list = growInt32(list, fc + 1);
    list[fc] = cell;
    this.freeCounts[cls] = fc + 1;
    this.inUse[cls]!--;
  }

  /** The slab holding the cell. */
  slab(cls: number, cell: number): Uint8Array {
    return this.slabs[cls]![cell >>> this.shift[cls]!]!;
  }

  /** Byte offset of the cell in its slab. */
  offset(cls: number, cell: number): number {
    return (cell & ((1 << this.shift[cls]!) - 1)) * CELL_SIZES[cls]!;
  }

  /** Bytes held in slabs (allocated memory, used or free). */
  bytesReserved(): number {
    let n = 0;
    for (const s of this.slabs) n += s.length * CELL_SLAB_BYTES;
    return n;
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
  len: Int32Array = new Int32Array(1024);
  count: Int32Array = new Int32Array(1024);
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
    this.len = growInt32(this.len, min);
    this.count = growInt32(this.count, min);
    this.next = growInt32(this.next, min);
  }
}

/** What a reclaimer item frees. */
export const Reclaim = { Cell: 0, ChunkId: 1, Slab: 2 } as const;
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
