/**
 * The seams between storage and the rest of Sextant. Writers (scrape, push, remote-write
 * receiver, rules) see only {@link Appender}; readers (PromQL, the HTTP API, federation) see
 * only {@link Querier}. Nothing outside `storage/` sees chunks, the WAL or SQLite.
 */
import type { Labels } from './labels.js';
import type { Matcher } from './matchers.js';

/**
 * Identifies a series in the head for as long as it lives there. 0 means "unknown": the
 * appender then looks the series up (or creates it) by its labels.
 */
export type SeriesRef = number;

/**
 * Batched appends. Call `commit()` or `rollback()` exactly once; never reuse afterwards.
 * Not re-entrant, not shared between callers: one appender per scrape / push / request.
 */
export interface Appender {
  /**
   * Adds one sample. `ref` is a value returned by an earlier `append` for the same labels
   * (or 0); `labels` must be valid, sorted and non-empty. Timestamps are int64 milliseconds
   * held in a JS number. Returns the series ref to pass next time.
   * Throws {@link StorageError} (`out_of_order`, `duplicate_sample`, `too_old`, `invalid_labels`)
   * for a rejected sample; the other samples of the batch are unaffected.
   */
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  /** Makes every accepted sample durable (in the WAL) and visible to queries, atomically. */
  commit(): void;
  /** Discards every sample appended so far. */
  rollback(): void;
}

export interface Appendable {
  appender(): Appender;
}

/** What an iterator is positioned on. Only floats exist today; histograms come later. */
export const ValueType = { None: 0, Float: 1 } as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** A cursor over samples in time order. Not restartable. */
export interface SampleIterator {
  /** Advances to the next sample; `ValueType.None` when exhausted. */
  next(): ValueType;
  /** Advances to the first sample with timestamp >= t (never moves backwards). */
  seek(t: number): ValueType;
  /** Timestamp (ms) of the current sample. */
  atT(): number;
  /** Value of the current sample. Staleness markers are the NaN with bits 0x7ff0000000000002. */
  atF(): number;
}

/** One series of a select result. */
export interface Series {
  readonly labels: Labels;
  /** A fresh iterator over the series' samples within the selected time range. */
  iterator(): SampleIterator;
}

/** A cursor over series sorted by labels (`Labels.compare`). */
export interface SeriesSet {
  next(): boolean;
  at(): Series;
  /** Non-fatal problems met while reading (for example a skipped corrupt block). */
  warnings(): readonly string[];
}

/** Optional hints from the query engine; storage may ignore them. */
export interface SelectHints {
  /** Evaluation step in ms (0 for instant queries). */
  step?: number;
  /** Outer function over the selector, e.g. 'rate'. */
  func?: string;
  /** Only labels are needed, no samples (series API). */
  labelsOnly?: boolean;
}

/**
 * Read access to stored data over [mint, maxt] (inclusive, ms). A querier sees a consistent
 * view: samples committed after it was opened may or may not be visible. Call `close()`.
 */
export interface Querier {
  select(matchers: readonly Matcher[], mint: number, maxt: number, hints?: SelectHints): SeriesSet;
  /** Sorted, unique label names of series matching all matchers (all series when none). */
  labelNames(matchers: readonly Matcher[], mint: number, maxt: number): string[];
  /** Sorted, unique values of `name` among series matching all matchers. */
  labelValues(name: string, matchers: readonly Matcher[], mint: number, maxt: number): string[];
  close(): void;
}

export interface Queryable {
  querier(mint: number, maxt: number): Querier;
}

export type StorageErrorCode =
  | 'out_of_order'
  | 'duplicate_sample'
  | 'too_old'
  | 'invalid_labels'
  /** A sample that can never be stored (e.g. a timestamp that is not an integer of ms). */
  | 'invalid_sample'
  /** A configured or built-in limit was reached (e.g. the head's maximum series). */
  | 'limit'
  | 'closed'
  | 'io'
  | 'corrupt'
  | 'locked';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The staleness marker: a NaN with a specific payload, stored and compared bit-exactly. */
export const STALE_NAN_BITS_HI = 0x7ff00000;
export const STALE_NAN_BITS_LO = 0x00000002;

const scratchF = new Float64Array(1);
const scratchU = new Uint32Array(scratchF.buffer);
scratchU[0] = STALE_NAN_BITS_LO;
scratchU[1] = STALE_NAN_BITS_HI;
/** The staleness marker value. Test with {@link isStaleNaN}, never with `===`. */
export const STALE_NAN = scratchF[0]!;

/**
 * True when `v` is the staleness marker. V8 may set the quiet bit of a signalling NaN when it
 * boxes the number (0x7ff0…02 becomes 0x7ff8…02), so the payload is what identifies it; writers
 * of bytes (chunks, WAL, remote write) always emit the canonical 0x7ff0000000000002.
 */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  scratchF[0] = v;
  return scratchU[0] === STALE_NAN_BITS_LO && (scratchU[1]! & 0xfff7ffff) === STALE_NAN_BITS_HI;
}

/** An empty series set. */
export function emptySeriesSet(warnings: readonly string[] = []): SeriesSet {
  return {
    next: () => false,
    at: () => {
      throw new Error('emptySeriesSet.at() called');
    },
    warnings: () => warnings,
  };
}
