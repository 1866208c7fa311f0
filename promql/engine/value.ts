/**
 * Query results as the engine returns them. Samples are never one object per point in a range
 * result: each series holds its timestamps and values in two parallel Float64Arrays.
 */
import type { Labels } from '../../storage/index.js';

/** One sample of an instant vector: `t` is the evaluation time (ms). */
export interface InstantSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** One series of a matrix: `t[i]` (ms) and `v[i]` for i < t.length, in time order. Read-only: series may share `t` (the step grid). */
export interface RangeSeries {
  readonly labels: Labels;
  readonly t: Float64Array;
  readonly v: Float64Array;
}

export type QueryValue =
  | { readonly type: 'vector'; readonly samples: InstantSample[] }
  | { readonly type: 'matrix'; readonly series: RangeSeries[] }
  | { readonly type: 'scalar'; readonly t: number; readonly v: number }
  | { readonly type: 'string'; readonly t: number; readonly v: string };

export interface QueryStats {
  /** Samples read from storage plus points produced by functions and subqueries. */
  readonly totalSamples: number;
  /** Largest number of samples held at once. */
  readonly peakSamples: number;
  /** Wall time of the evaluation, ms. */
  readonly evalMs: number;
}
