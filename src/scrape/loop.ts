/**
 * One scrape loop per target: scheduling at the target's slot in the interval, the HTTP
 * request, parsing through the scrape cache, metric relabeling, limits, staleness markers and
 * the synthetic `up` / `scrape_*` series, all through one appender per scrape (all or nothing).
 *
 * The scrape cache maps each line's series text to its series ref and labels, so an unchanged
 * series costs one Map lookup: no label parsing, no relabeling, no index lookup.
 */

import { Labels, LabelsBuilder, METRIC_NAME, STALE_NAN, StorageError, isLegacyLabelName, isLegacyMetricName, type Appendable, type Appender, type SeriesRef } from '../../storage/index.js';
import type { Logger } from '../log/index.js';
import type { ScrapeConfig, ScrapeProtocol } from '../config/types.js';
import { ExpositionError, parserFor, relabel, type CompiledRelabel, type MetricParser } from './deps.js';
import { BodyBuffer, HttpClient, ScrapeError, TargetScraper } from './http.js';
import type { ScrapeMetrics } from './metrics.js';
import { formatDuration, type Target } from './target.js';

/** `ref` value of a cache entry whose series metric_relabel_configs dropped. */
const DROPPED = -1;

class CacheEntry {
  /** The iteration this series text was last seen in. */
  lastIter = 0;
  /** The iteration it was last tracked for staleness in. */
  trackIter = -1;
  constructor(
    public ref: SeriesRef,
    readonly labels: Labels,
  ) {}
}

/** HELP / TYPE / UNIT of one metric family, as last scraped. */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
  lastIter: number;
}

/**
 * The per-target scrape cache. It survives a config reload of the pool when the target and
 * the settings that shape stored labels are unchanged.
 */
export class ScrapeCache {
  readonly series = new Map<string, CacheEntry>();
  readonly metadata = new Map<string, MetricMetadata>();
  iter = 1;
  /** Iteration of the last full metadata read, and whether the last scrape met new series. */
  metaIter = -1000;
  sawNewSeries = true;
  /** Distinct series entries seen in the current iteration. */
  seen = 0;
  /** Entries at the last successful scrape (Prometheus's flush heuristic). */
  successfulCount = 0;
  /** Series written by the last successful scrape, to be marked stale if they disappear. */
  prev: CacheEntry[] = [];
  cur: CacheEntry[] = [];

  /** Ends an iteration: drops entries not seen (on success), swaps staleness sets. */
  iterDone(success: boolean, metrics: ScrapeMetrics): void {
    let flush = success;
    const count = this.series.size + this.metadata.size;
    if (success) this.successfulCount = count;
    else if (count > this.successfulCount * 2 + 1000) {
      flush = true;
      metrics.cacheFlushForced.labels().inc();
    }
    if (flush) {
      // Nothing to evict when every entry was seen (the usual steady state).
      if (this.seen !== this.series.size) for (const [k, e] of this.series) if (e.lastIter !== this.iter) this.series.delete(k);
      for (const [k, m] of this.metadata) if (this.iter - m.lastIter > 10) this.metadata.delete(k);
    }
    this.iter++;
    this.seen = 0;
    const t = this.prev;
    this.prev = this.cur;
    t.length = 0;
    this.cur = t;
  }
}

export interface LoopSettings {
  readonly cfg: ScrapeConfig;
  readonly appendable: Appendable;
  readonly client: HttpClient;
  readonly accept: string;
  readonly metricRelabel: CompiledRelabel | undefined;
  readonly metrics: ScrapeMetrics;
  readonly logger: Logger;
  readonly offsetSeed: number;
  readonly userAgent: string;
}

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'] as const;

/** Per-scrape counts (reused, no allocation per scrape). */
interface AppendCounts {
  total: number;
  added: number;
  seriesAdded: number;
  outOfOrder: number;
  duplicate: number;
  outOfBounds: number;
}

export class ScrapeLoop {
  readonly cache: ScrapeCache;
  private readonly buffer = new BodyBuffer();
  private readonly lb = new LabelsBuilder();
  private readonly lb2 = new LabelsBuilder();
  private readonly reportLabels: Labels[];
  private readonly reportRefs = new Array<SeriesRef>(REPORT_NAMES.length).fill(0);
  private readonly counts: AppendCounts = { total: 0, added: 0, seriesAdded: 0, outOfOrder: 0, duplicate: 0, outOfBounds: 0 };
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private nextAt = 0;
  /** ms of the last scrape's start (0 = never). */
  private last = 0;
  private readonly intervalLabel: string;
  private readonly fallback: ScrapeProtocol | undefined;
  private readonly scraper: TargetScraper;
  /** When set, every scrape fails with this error without a request (target_limit). */
  forcedError: string | undefined;

  constructor(
    readonly target: Target,
    readonly s: LoopSettings,
    cache?: ScrapeCache,
  ) {
    this.cache = cache ?? new ScrapeCache();
    this.reportLabels = REPORT_NAMES.map((n) => {
      this.lb.reset(target.publicLabels);
      this.lb.set(METRIC_NAME, n);
      return this.lb.labels();
    });
    this.intervalLabel = formatDuration(target.interval);
    this.fallback = s.cfg.fallbackScrapeProtocol;
    this.scraper = new TargetScraper(s.client, {
      url: target.url,
      accept: s.accept,
      gzip: s.cfg.enableCompression,
      timeout: target.timeout,
      bodySizeLimit: s.cfg.bodySizeLimit,
      userAgent: s.userAgent,
    });
  }

  /** Starts scraping at the target's next slot. */
  start(): void {
    const now = Date.now();
    const off = this.target.offset(now, this.s.offsetSeed);
    this.nextAt = now + off;
    this.timer = setTimeout(() => this.tick(), off);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = Date.now();
    if (this.last > 0) this.s.metrics.intervalLength.observe(this.intervalLabel, (now - this.last) / 1000);
    const iv = this.target.interval;
    this.nextAt += iv;
    while (this.nextAt <= now) this.nextAt += iv;
    this.inFlight = this.scrapeAndReport(now).catch((err: unknown) => {
      this.s.logger.error('scrape loop failed', { target: this.target.url, err: (err as Error).message });
    });
    void this.inFlight.then(() => {
      this.inFlight = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => this.tick(), Math.max(0, this.nextAt - Date.now()));
    });
  }

  /** One scrape now (also used by tests and benchmarks to drive loops without timers). */
  async scrapeAndReport(start: number = Date.now()): Promise<void> {
    const t0 = performance.now();
    let err: Error | undefined;
    let body: Buffer | undefined;
    let contentType = '';
    if (this.forcedError !== undefined) err = new Error(this.forcedError);
    else {
      this.abort = new AbortController();
      try {
        const r = await this.scraper.scrape(this.buffer, this.abort.signal);
        body = r.body;
        contentType = r.contentType;
      } catch (e) {
        err = e as Error;
        if (err instanceof ScrapeError && err.kind === 'body_size') this.s.metrics.exceededBodySize.labels().inc();
      } finally {
        this.abort = undefined;
      }
    }
    // A loop stopped during its request writes nothing (its successor or staleness does).
    if (this.stopped) return;
    const duration = (performance.now() - t0) / 1000;
    const c = this.counts;
    let app = this.s.appendable.appender();
    if (err === undefined && body !== undefined) {
      try {
        this.append(app, body, contentType, start);
      } catch (e) {
        err = e as Error;
        app.rollback();
        app = this.s.appendable.appender();
        // As Prometheus: the scrape counts as empty, so everything it had becomes stale.
        const total = c.total, added = c.added;
        this.appendEmpty(app, start);
        c.total = total;
        c.added = added;
        c.seriesAdded = 0;
      }
    } else {
      this.appendEmpty(app, start);
    }
    this.report(app, start, duration, err);
    try {
      app.commit();
    } catch (e) {
      this.s.logger.warn('Scrape commit failed', { target: this.target.url, err: (e as Error).message });
    }
    const t = this.target;
    t.lastScrape = start;
    t.lastScrapeDuration = duration;
    t.lastError = err ? err.message : '';
    t.health = err ? 'down' : 'up';
    this.last = start;
    if (err) this.s.logger.debug('Scrape failed', { target: t.url, err: err.message });
  }

  /** Stale markers for everything of the last successful scrape (a failed or empty scrape). */
  private appendEmpty(app: Appender, t: number): void {
    const c = this.counts;
    c.total = c.added = c.seriesAdded = 0;
    const cache = this.cache;
    cache.cur.length = 0;
    this.writeStale(app, t);
    cache.iterDone(false, this.s.metrics);
  }

  private writeStale(app: Appender, t: number): void {
    const cache = this.cache;
    for (const e of cache.prev) {
      if (e.trackIter === cache.iter) continue;
      try {
        e.ref = app.append(e.ref, e.labels, t, STALE_NAN);
      } catch (err) {
        // Out of order / duplicate: the target came back under a new loop; expected.
        if (!(err instanceof StorageError)) throw err;
      }
    }
  }

  /**
   * Parses `body` and appends its samples at `defTime` (or their own timestamps with
   * honor_timestamps), then stale markers for series of the previous scrape that are gone.
   * Throws (after counting) on parse errors and limits; the caller rolls back.
   */
  append(app: Appender, body: Buffer, contentType: string, defTime: number): void {
    const s = this.s;
    const cfg = s.cfg;
    const cache = this.cache;
    const iter = cache.iter;
    const c = this.counts;
    c.total = c.added = c.seriesAdded = c.outOfOrder = c.duplicate = c.outOfBounds = 0;
    let parser: MetricParser;
    try {
      parser = parserFor(contentType, body, { fallback: this.fallback }).parser;
    } catch (e) {
      this.discardIteration();
      throw e;
    }
    const honorTs = cfg.honorTimestamps;
    const trackTsStale = cfg.trackTimestampsStaleness;
    const sampleLimit = cfg.sampleLimit;
    let sampleLimitExceeded = false;
    let failure: Error | undefined;
    const cur = cache.cur;
    cur.length = 0;
    // HELP/TYPE/UNIT are read when the scrape may have new families (new series last time) and
    // at least every 8 scrapes otherwise; entries live 10 scrapes after their last read.
    const readMeta = cache.sawNewSeries || iter - cache.metaIter >= 8;
    if (readMeta) cache.metaIter = iter;
    try {
      for (let kind = parser.next(); kind !== null; kind = parser.next()) {
        if (kind !== 'series') {
          if (kind !== 'comment' && readMeta) this.metadata(parser, kind, iter);
          continue;
        }
        c.total++;
        const key = parser.seriesKey();
        let e = cache.series.get(key);
        if (e !== undefined) {
          if (e.lastIter !== iter) {
            e.lastIter = iter;
            cache.seen++;
          }
          if (e.ref === DROPPED) continue;
        }
        const v = parser.value();
        const pts = parser.timestamp();
        const t = honorTs && pts !== undefined ? pts : defTime;
        let labels: Labels;
        if (e === undefined) {
          parser.labels(this.lb);
          const l = this.mutateSampleLabels(this.lb.labels());
          if (l === null) {
            const d = new CacheEntry(DROPPED, Labels.EMPTY);
            d.lastIter = iter;
            cache.series.set(key, d);
            cache.seen++;
            continue;
          }
          this.checkSeries(l);
          labels = l;
        } else labels = e.labels;

        if (sampleLimitExceeded) continue;
        if (sampleLimit > 0 && c.added + 1 > sampleLimit) {
          sampleLimitExceeded = true;
          continue;
        }
        let ref: SeriesRef;
        try {
          ref = app.append(e === undefined ? 0 : e.ref, labels, t, v);
        } catch (err) {
          if (!(err instanceof StorageError)) throw err;
          switch (err.code) {
            case 'out_of_order':
              c.outOfOrder++;
              continue;
            case 'duplicate_sample':
              c.duplicate++;
              continue;
            case 'too_old':
              c.outOfBounds++;
              continue;
            default:
              throw err;
          }
        }
        c.added++;
        if (e === undefined) {
          e = new CacheEntry(ref, labels);
          e.lastIter = iter;
          cache.series.set(key, e);
          cache.seen++;
          c.seriesAdded++;
        } else if (e.ref !== ref) e.ref = ref;
        if ((pts === undefined || !honorTs || trackTsStale) && e.trackIter !== iter) {
          e.trackIter = iter;
          cur.push(e);
        }
      }
      if (sampleLimitExceeded) {
        s.metrics.exceededSampleLimit.labels().inc();
        throw new Error('sample limit exceeded');
      }
    } catch (err) {
      failure = err as Error;
    }
    this.countErrors();
    if (failure !== undefined) {
      this.discardIteration();
      throw failure;
    }
    cache.sawNewSeries = c.seriesAdded > 0;
    this.writeStale(app, defTime);
    cache.iterDone(true, s.metrics);
  }

  /** Forgets what a failed append tracked, keeping the previous scrape's series for staleness. */
  private discardIteration(): void {
    this.cache.cur.length = 0;
    this.cache.iter++;
    this.cache.seen = 0;
  }

  private countErrors(): void {
    const c = this.counts;
    const m = this.s.metrics;
    if (c.outOfOrder > 0) {
      m.sampleOutOfOrder.labels().inc(c.outOfOrder);
      this.s.logger.warn('Error on ingesting out-of-order samples', { target: this.target.url, num_dropped: c.outOfOrder });
    }
    if (c.duplicate > 0) {
      m.sampleDuplicate.labels().inc(c.duplicate);
      this.s.logger.warn('Error on ingesting samples with different value but same timestamp', { target: this.target.url, num_dropped: c.duplicate });
    }
    if (c.outOfBounds > 0) {
      m.sampleOutOfBounds.labels().inc(c.outOfBounds);
      this.s.logger.warn('Error on ingesting samples that are too old or are too far into the future', { target: this.target.url, num_dropped: c.outOfBounds });
    }
  }

  private metadata(p: MetricParser, kind: 'help' | 'type' | 'unit', iter: number): void {
    const fam = p.family();
    let m = this.cache.metadata.get(fam);
    if (!m) {
      m = { type: 'unknown', help: '', unit: '', lastIter: iter };
      this.cache.metadata.set(fam, m);
    }
    m.lastIter = iter;
    if (kind === 'help') m.help = p.help();
    else if (kind === 'type') m.type = p.type();
    else m.unit = p.unit();
  }

  /** honor_labels / exported_* conflict handling, then metric_relabel_configs (Prometheus's mutateSampleLabels). */
  private mutateSampleLabels(lset: Labels): Labels | null {
    const lb = this.lb2.reset(lset);
    const tl = this.target.publicLabels;
    if (this.s.cfg.honorLabels) {
      tl.forEach((n, v) => {
        if (!lset.has(n)) lb.set(n, v);
      });
    } else {
      let conflicts: [string, string][] | undefined;
      tl.forEach((n, v) => {
        const existing = lset.get(n);
        if (existing !== '') (conflicts ??= []).push([n, existing]);
        lb.set(n, v);
      });
      if (conflicts) {
        conflicts.sort((a, b) => a[0].length - b[0].length);
        for (const [n, v] of conflicts) {
          let name = n;
          for (;;) {
            name = 'exported_' + name;
            if (lb.get(name) === '') {
              lb.set(name, v);
              break;
            }
          }
        }
      }
    }
    let res = lb.labels();
    if (this.s.metricRelabel !== undefined) {
      const r = relabel(res, this.s.metricRelabel);
      if (r === null || r.isEmpty()) return null;
      res = r;
    }
    return res;
  }

  /** Name present, names valid for the scheme, label limits (a violation fails the scrape). */
  private checkSeries(l: Labels): void {
    const name = l.get(METRIC_NAME);
    if (name === '') throw new Error('__name__ label is missing');
    const cfg = this.s.cfg;
    if (cfg.metricNameValidationScheme === 'legacy') {
      let ok = isLegacyMetricName(name);
      l.forEach((n) => {
        if (n !== METRIC_NAME && !isLegacyLabelName(n)) ok = false;
      });
      if (!ok) throw new Error(`invalid metric name or label names: ${l.toString()}`);
    }
    const trunc = (x: string): string => (x.length > 50 ? x.slice(0, 50) : x);
    if (cfg.labelLimit > 0 && l.size > cfg.labelLimit) {
      this.s.metrics.exceededLabelLimits.labels().inc();
      throw new Error(`label_limit exceeded (metric: ${trunc(name)}, number of labels: ${l.size}, limit: ${cfg.labelLimit})`);
    }
    if (cfg.labelNameLengthLimit > 0 || cfg.labelValueLengthLimit > 0) {
      for (let i = 0; i < l.size; i++) {
        const n = l.nameAt(i), v = l.valueAt(i);
        const nl = Buffer.byteLength(n);
        if (cfg.labelNameLengthLimit > 0 && nl > cfg.labelNameLengthLimit) {
          this.s.metrics.exceededLabelLimits.labels().inc();
          throw new Error(`label_name_length_limit exceeded (metric: ${trunc(name)}, label name: ${trunc(n)}, length: ${nl}, limit: ${cfg.labelNameLengthLimit})`);
        }
        const vl = Buffer.byteLength(v);
        if (cfg.labelValueLengthLimit > 0 && vl > cfg.labelValueLengthLimit) {
          this.s.metrics.exceededLabelLimits.labels().inc();
          throw new Error(`label_value_length_limit exceeded (metric: ${trunc(name)}, label name: ${trunc(n)}, value: ${JSON.stringify(trunc(v))}, length: ${vl}, limit: ${cfg.labelValueLengthLimit})`);
        }
      }
    }
  }

  private report(app: Appender, t: number, duration: number, err: Error | undefined): void {
    const c = this.counts;
    this.reportSample(app, 0, t, err ? 0 : 1);
    this.reportSample(app, 1, t, duration);
    this.reportSample(app, 2, t, c.total);
    this.reportSample(app, 3, t, c.added);
    this.reportSample(app, 4, t, c.seriesAdded);
  }

  private reportSample(app: Appender, i: number, t: number, v: number): void {
    try {
      this.reportRefs[i] = app.append(this.reportRefs[i]!, this.reportLabels[i]!, t, v);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      this.s.logger.debug('Report sample rejected', { target: this.target.url, err: err.message });
    }
  }

  /**
   * Stops the loop. With `staleness`, stale markers for its series (and its synthetic ones)
   * are written when the next scrape would have happened, after waiting two intervals (plus
   * 10%) so that a successor loop for the same target can take over first, as Prometheus does.
   * Resolves when an in-flight scrape has settled (not when the markers are written).
   */
  async stop(staleness: boolean, pending?: Set<ScrapeLoop>): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.inFlight;
    this.scraper.close();
    if (!staleness || this.last === 0) return;
    const iv = this.target.interval;
    const staleTime = Math.max(this.nextAt, Date.now());
    const wait = staleTime - Date.now() + iv + iv / 10;
    pending?.add(this);
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      pending?.delete(this);
      this.writeEndOfRunStaleness(staleTime);
    }, wait);
  }

  /** Cancels pending end-of-run staleness markers (server shutdown). */
  cancelStaleness(): void {
    if (this.staleTimer !== undefined) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  /** Writes the end-of-run stale markers now (exposed for tests). */
  writeEndOfRunStaleness(t: number): void {
    const app = this.s.appendable.appender();
    try {
      this.cache.cur.length = 0;
      this.writeStale(app, t);
      this.cache.iterDone(false, this.s.metrics);
      for (let i = 0; i < REPORT_NAMES.length; i++) this.reportSample(app, i, t, STALE_NAN);
      app.commit();
    } catch (err) {
      app.rollback();
      this.s.logger.warn('Writing stale markers failed', { target: this.target.url, err: (err as Error).message });
    }
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

export { ExpositionError };
