// Self-metrics: the registry behind `/metrics`.
export {
  type SummarySnapshot,
  Registry,
  Counter,
  Gauge,
  Histogram,
  CounterVec,
  GaugeVec,
  HistogramVec,
  DEFAULT_BUCKETS,
  type MetricType,
} from './registry.js';
export { registerProcessMetrics } from './process.js';
