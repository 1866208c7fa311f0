/**
 * The contract of the exposition pull parsers (text 0.0.4, OpenMetrics 1.0, protobuf).
 * A parser walks a scrape body entry by entry without building an object per line; the
 * scrape loop asks only for what it needs (the series key first, labels only on a cache miss).
 */

import type { LabelsBuilder, Labels } from '../../storage/index.js';

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown';

/** What `next()` stopped at. */
export type EntryKind = 'series' | 'help' | 'type' | 'unit' | 'comment';

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds, when given. */
  readonly timestamp?: number;
}

/** Invalid input: names the 1-based line (for protobuf, the message index) and what was wrong. */
export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'ExpositionError';
  }
}

export interface MetricParser {
  /** Advances to the next entry; null at the end of input. Throws ExpositionError. */
  next(): EntryKind | null;
  /**
   * 'series': the series exactly as written (name and label block, no value), a stable key for
   * the scrape cache. Two lines with equal keys denote the same series.
   */
  seriesKey(): string;
  /**
   * 'series': resets `into` and fills it with the series' labels including `__name__`, with
   * `le`/`quantile` values normalised to Prometheus's float formatting (3.x). Empty values are
   * dropped. Throws ExpositionError for a repeated label name (checked here, where the names are
   * decoded, rather than in next(): a series whose key is cached was checked when first seen).
   */
  labels(into: LabelsBuilder): void;
  /** 'series': the sample value (NaN payloads preserved). */
  value(): number;
  /** 'series': the sample's own timestamp in ms, when it has one. */
  timestamp(): number | undefined;
  /** 'series': OpenMetrics `_created` / protobuf created timestamp in ms, when known. */
  createdTimestamp(): number | undefined;
  /** 'series': the exemplar on this line (OpenMetrics, protobuf), when any. */
  exemplar(): Exemplar | undefined;
  /** 'help' | 'type' | 'unit': the metric family name. */
  family(): string;
  /** 'help': the unescaped help text. */
  help(): string;
  /** 'type': the declared type. */
  type(): MetricType;
  /** 'unit': the declared unit. */
  unit(): string;
}
