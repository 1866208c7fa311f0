/**
 * The scrape subsystem's self-metrics, with Prometheus's names and help texts so existing
 * dashboards and alerts (e.g. PrometheusTargetSyncFailure, scrape pool panels) work unchanged.
 */

import { CounterVec, GaugeVec, Registry } from '../metrics/index.js';

/** Keeps a bounded window of observations and reports quantiles (a summary without decay). */
class WindowSummary {
  private readonly values: Float64Array;
  private n = 0;
  private next = 0;
  sum = 0;
  count = 0;
  constructor(size = 512) {
    this.values = new Float64Array(size);
  }
  observe(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    if (this.n < this.values.length) this.n++;
    this.sum += v;
    this.count++;
  }
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const sorted = this.values.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!;
  }
}

const QUANTILES = [0.01, 0.05, 0.5, 0.9, 0.99];

/** A labelled summary exposed as Prometheus exposes summaries (quantiles, _sum, _count). */
class SummaryVec {
  readonly children = new Map<string, WindowSummary>();
  constructor(registry: Registry, name: string, help: string, private readonly label: string, quantiles: readonly number[] = QUANTILES) {
    registry.summary(name, help, () =>
      [...this.children].map(([l, s]) => ({
        labels: { [this.label]: l },
        quantiles: quantiles.map((q) => [q, s.quantile(q)] as const),
        sum: s.sum,
        count: s.count,
      })),
    );
  }
  observe(label: string, v: number): void {
    let s = this.children.get(label);
    if (!s) {
      s = new WindowSummary();
      this.children.set(label, s);
    }
    s.observe(v);
  }
  remove(label: string): void {
    this.children.delete(label);
  }
}

export class ScrapeMetrics {
  readonly intervalLength: SummaryVec;
  readonly syncLength: SummaryVec;
  readonly reloadLength: SummaryVec;
  readonly poolTargets: GaugeVec;
  readonly poolTargetLimit: GaugeVec;
  readonly poolSync: CounterVec;
  readonly syncFailed: CounterVec;
  readonly poolsTotal: CounterVec;
  readonly poolsFailed: CounterVec;
  readonly poolReloads: CounterVec;
  readonly poolReloadsFailed: CounterVec;
  readonly exceededTargetLimit: CounterVec;
  readonly exceededLabelLimits: CounterVec;
  readonly exceededBodySize: CounterVec;
  readonly exceededSampleLimit: CounterVec;
  readonly cacheFlushForced: CounterVec;
  readonly sampleDuplicate: CounterVec;
  readonly sampleOutOfBounds: CounterVec;
  readonly sampleOutOfOrder: CounterVec;

  constructor(registry: Registry = new Registry()) {
    const r = registry;
    this.intervalLength = new SummaryVec(r, 'prometheus_target_interval_length_seconds', 'Actual intervals between scrapes.', 'interval');
    this.syncLength = new SummaryVec(r, 'prometheus_target_sync_length_seconds', 'Actual interval to sync the scrape pool.', 'scrape_job');
    this.reloadLength = new SummaryVec(r, 'prometheus_target_reload_length_seconds', 'Actual interval to reload the scrape pool with a given configuration.', 'interval');
    this.poolTargets = r.gauge('prometheus_target_scrape_pool_targets', 'Current number of targets in this scrape pool.', ['scrape_job']);
    this.poolTargetLimit = r.gauge('prometheus_target_scrape_pool_target_limit', 'Maximum number of targets allowed in this scrape pool.', ['scrape_job']);
    this.poolSync = r.counter('prometheus_target_scrape_pool_sync_total', 'Total number of syncs that were executed on a scrape pool.', ['scrape_job']);
    this.syncFailed = r.counter('prometheus_target_sync_failed_total', 'Total number of target sync failures.', ['scrape_job']);
    this.poolsTotal = r.counter('prometheus_target_scrape_pools_total', 'Total number of scrape pool creation attempts.');
    this.poolsFailed = r.counter('prometheus_target_scrape_pools_failed_total', 'Total number of scrape pool creations that failed.');
    this.poolReloads = r.counter('prometheus_target_scrape_pool_reloads_total', 'Total number of scrape pool reloads.');
    this.poolReloadsFailed = r.counter('prometheus_target_scrape_pool_reloads_failed_total', 'Total number of failed scrape pool reloads.');
    this.exceededTargetLimit = r.counter('prometheus_target_scrape_pool_exceeded_target_limit_total', 'Total number of times scrape pools hit the target limit, during sync or config reload.');
    this.exceededLabelLimits = r.counter('prometheus_target_scrape_pool_exceeded_label_limits_total', 'Total number of times scrape pools hit the label limits, during sync or config reload.');
    this.exceededBodySize = r.counter('prometheus_target_scrapes_exceeded_body_size_limit_total', 'Total number of scrapes that hit the body size limit');
    this.exceededSampleLimit = r.counter('prometheus_target_scrapes_exceeded_sample_limit_total', 'Total number of scrapes that hit the sample limit and were rejected.');
    this.cacheFlushForced = r.counter('prometheus_target_scrapes_cache_flush_forced_total', 'How many times a scrape cache was flushed due to getting big while scrapes are failing.');
    this.sampleDuplicate = r.counter('prometheus_target_scrapes_sample_duplicate_timestamp_total', 'Total number of samples rejected due to duplicate timestamps but different values.');
    this.sampleOutOfBounds = r.counter('prometheus_target_scrapes_sample_out_of_bounds_total', 'Total number of samples rejected due to timestamp falling outside of the time bounds.');
    this.sampleOutOfOrder = r.counter('prometheus_target_scrapes_sample_out_of_order_total', 'Total number of out of order samples ingestion failed attempts due to out of order being disabled.');
    for (const c of [this.poolsTotal, this.poolsFailed, this.poolReloads, this.poolReloadsFailed, this.exceededTargetLimit, this.exceededLabelLimits, this.exceededBodySize, this.exceededSampleLimit, this.cacheFlushForced, this.sampleDuplicate, this.sampleOutOfBounds, this.sampleOutOfOrder]) c.labels();
  }

  /** Drops the per-pool children of a removed pool. */
  removePool(job: string): void {
    this.poolTargets.remove(job);
    this.poolTargetLimit.remove(job);
    this.poolSync.remove(job);
    this.syncFailed.remove(job);
    this.syncLength.remove(job);
  }
}
