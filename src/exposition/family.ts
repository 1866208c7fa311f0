/**
 * Which metric family a sample belongs to, for attaching HELP/TYPE/UNIT metadata to series
 * (Prometheus's isSeriesPartOfFamily, plus the OpenMetrics `_created` series).
 */

import type { MetricType } from './types.js';

function cut(name: string, suffix: string): string | undefined {
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
}

function cutAny(name: string, suffixes: readonly string[]): string {
  for (const s of suffixes) {
    const c = cut(name, s);
    if (c !== undefined) return c;
  }
  return name;
}

const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['_sum', '_count', '_created'],
  info: ['_info'],
};

/**
 * True when the series named `seriesName` is part of the family `family` of type `type`:
 * `foo_total` of counter `foo` (or of counter `foo_total`, as the text format names counters),
 * `foo_bucket` / `foo_sum` / `foo_count` of histogram `foo`, `foo_info` of info `foo`, and so on;
 * gauges, statesets and unknown-typed families own only their exact name.
 *
 * @example
 * isSeriesPartOfFamily('http_requests_total', 'http_requests', 'counter') // true
 * isSeriesPartOfFamily('rpc_seconds_bucket', 'rpc_seconds', 'histogram') // true
 * isSeriesPartOfFamily('rpc_seconds_bucket', 'rpc_seconds', 'gauge') // false
 */
export function isSeriesPartOfFamily(seriesName: string, family: string, type: MetricType): boolean {
  if (!seriesName.startsWith(family)) return false;
  const suffixes = SUFFIXES[type];
  if (suffixes === undefined) return seriesName === family;
  let fam = family;
  if (type === 'counter') fam = cut(fam, '_total') ?? fam;
  return cutAny(seriesName, suffixes) === fam;
}
