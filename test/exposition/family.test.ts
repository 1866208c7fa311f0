import { expect, it } from 'vitest';
import { isSeriesPartOfFamily, type MetricType } from '../../src/exposition/index.js';

it.each([
  ['http_requests_total', 'http_requests', 'counter', true],
  ['http_requests_total', 'http_requests_total', 'counter', true],
  ['http_requests_created', 'http_requests', 'counter', true],
  ['http_requests', 'http_requests', 'counter', true],
  ['http_requests_other', 'http_requests', 'counter', false],
  ['rpc_seconds_bucket', 'rpc_seconds', 'histogram', true],
  ['rpc_seconds_count', 'rpc_seconds', 'histogram', true],
  ['rpc_seconds_sum', 'rpc_seconds', 'histogram', true],
  ['rpc_seconds_bucket', 'rpc_seconds', 'gauge', false],
  ['rpc_seconds_gsum', 'rpc_seconds', 'gaugehistogram', true],
  ['rpc_seconds_sum', 'rpc_seconds', 'gaugehistogram', false],
  ['rpc_seconds', 'rpc_seconds', 'summary', true],
  ['rpc_seconds_count', 'rpc_seconds', 'summary', true],
  ['build_info', 'build', 'info', true],
  ['go_goroutines', 'go_goroutines', 'gauge', true],
  ['go_goroutines_x', 'go_goroutines', 'unknown', false],
  ['other', 'go_goroutines', 'gauge', false],
] as [string, string, MetricType, boolean][])('%s in %s (%s): %s', (series, family, type, want) => {
  expect(isSeriesPartOfFamily(series, family, type)).toBe(want);
});
