/** Internal value representation: every value covers all steps of the evaluator at once. */
import { Labels, LabelsBuilder } from '../../storage/index.js';

/** An instant vector over all steps: `has[i]` says whether the series has a value at step i. */
export interface StepSeries {
  labels: Labels;
  readonly v: Float64Array;
  readonly has: Uint8Array;
  /** Delayed `__name__` removal: the name is dropped when the query's result is produced. */
  dropName: boolean;
}

/** Raw samples of one series (a range vector): ts/vs[0..n) in time order, no stale markers. */
export interface RawSeries {
  readonly labels: Labels;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly n: number;
  readonly dropName: boolean;
}

export type Val =
  | { readonly kind: 'vector'; readonly series: StepSeries[] }
  | { readonly kind: 'scalar'; readonly v: Float64Array }
  | { readonly kind: 'string'; readonly s: string }
  | { readonly kind: 'matrix'; readonly series: RawSeries[] };

/** The labels removed with the metric name (3.5 type-and-unit labels go with it). */
export const NAME_LIKE = ['__name__', '__type__', '__unit__'] as const;

export function dropMetricName(l: Labels): Labels {
  if (!l.has('__name__') && !l.has('__type__') && !l.has('__unit__')) return l;
  return l.without('__name__', '__type__', '__unit__');
}

export function newSeries(labels: Labels, n: number, dropName = false): StepSeries {
  return { labels, v: new Float64Array(n), has: new Uint8Array(n), dropName };
}

export function anyPresent(s: StepSeries): boolean {
  const h = s.has;
  for (let i = 0; i < h.length; i++) if (h[i]) return true;
  return false;
}

export function presentCount(s: StepSeries): number {
  let c = 0;
  const h = s.has;
  for (let i = 0; i < h.length; i++) c += h[i]!;
  return c;
}

/** Labels built with a builder (a shared helper for label-changing code). */
export function withLabel(l: Labels, name: string, value: string): Labels {
  return new LabelsBuilder(l).set(name, value).labels();
}

/**
 * Evaluation steps are generators: they `yield` (nothing) where the evaluation may pause, so
 * one evaluator serves both the synchronous API (yields ignored) and the asynchronous one (each
 * yield hands the event loop back and checks cancellation).
 */
export type Gen<T> = Generator<void, T, void>;
