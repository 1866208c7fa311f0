/**
 * A scrape pool: the targets and loops of one scrape config. `sync` turns discovered groups
 * into targets and starts/stops loops so that a target keeps its loop (and cache) for as long
 * as it exists; `reload` applies a changed config, carrying caches over where they stay valid.
 */

import type { TargetGroup } from '../../discovery/index.js';
import type { Appendable, Labels } from '../../storage/index.js';
import type { ScrapeConfig } from '../config/types.js';
import type { Logger } from '../log/index.js';
import { acceptHeader, compileRelabelConfigs, relabel, type CompiledRelabel } from './deps.js';
import { HttpClient } from './http.js';
import { ScrapeCache, ScrapeLoop, type LoopSettings } from './loop.js';
import type { ScrapeMetrics } from './metrics.js';
import { Target, targetsFromGroups, type TargetRelabeler } from './target.js';

export interface PoolDeps {
  readonly appendable: Appendable;
  readonly metrics: ScrapeMetrics;
  readonly logger: Logger;
  readonly offsetSeed: number;
  readonly userAgent: string;
  /** Loops waiting to write end-of-run stale markers (cancelled on shutdown). */
  readonly pendingStale: Set<ScrapeLoop>;
  /** False: loops are created but not scheduled (tests drive them with scrapeAndReport). */
  readonly startLoops: boolean;
}

/**
 * Whether the caches of a pool stay valid under a new config: everything that shapes stored
 * labels must be equal (Prometheus ignores interval, timeout, sample limit and HTTP settings).
 */
export function reusableCache(a: ScrapeConfig, b: ScrapeConfig): boolean {
  return configKey(a, true) === configKey(b, true);
}

/** The config as compared on reload; discovery settings are excluded (targets come through sync). */
export function configKey(c: ScrapeConfig, forCache = false): string {
  const { staticConfigs: _s, fileSdConfigs: _f, kubernetesSdConfigs: _k, ...rest } = c;
  if (!forCache) return JSON.stringify(rest);
  const { scrapeInterval: _i, scrapeTimeout: _t, sampleLimit: _l, httpClient: _h, ...r2 } = rest;
  return JSON.stringify(r2);
}

/** HTTP client options Sextant's scraper does not implement yet: said once per pool (re)load. */
function warnUnsupported(cfg: ScrapeConfig, logger: Logger): void {
  const h = cfg.httpClient;
  const missing: string[] = [];
  if (h.proxyUrl || h.proxyFromEnvironment) missing.push('proxy_url/proxy_from_environment');
  if (h.oauth2) missing.push('oauth2');
  if (missing.length > 0) logger.warn('Scrape config uses HTTP client options that are not supported; targets are scraped without them', { scrape_pool: cfg.jobName, options: missing.join(', ') });
}

function publicKey(t: Target): string {
  return t.publicLabels.key() + '\xfe' + t.url;
}

export class ScrapePool {
  cfg: ScrapeConfig;
  private client: HttpClient;
  private targetRelabel: TargetRelabeler | undefined;
  private metricRelabel: CompiledRelabel | undefined;
  private accept: string;
  /** target key → loop. */
  readonly loops = new Map<string, ScrapeLoop>();
  private dropped: Labels[] = [];
  droppedCount = 0;
  private groups: readonly TargetGroup[] = [];
  private stopped = false;

  constructor(
    cfg: ScrapeConfig,
    private readonly deps: PoolDeps,
  ) {
    this.cfg = cfg;
    this.client = new HttpClient(cfg.httpClient);
    this.accept = acceptHeader(cfg.scrapeProtocols, cfg.metricNameEscapingScheme);
    this.compile();
    warnUnsupported(cfg, deps.logger);
  }

  get name(): string {
    return this.cfg.jobName;
  }

  private compile(): void {
    const cfg = this.cfg;
    if (cfg.relabelConfigs.length > 0) {
      const c = compileRelabelConfigs(cfg.relabelConfigs);
      this.targetRelabel = (l) => relabel(l, c);
    } else this.targetRelabel = undefined;
    this.metricRelabel = cfg.metricRelabelConfigs.length > 0 ? compileRelabelConfigs(cfg.metricRelabelConfigs) : undefined;
  }

  private settings(): LoopSettings {
    const d = this.deps;
    return {
      cfg: this.cfg,
      appendable: d.appendable,
      client: this.client,
      accept: this.accept,
      metricRelabel: this.metricRelabel,
      metrics: d.metrics,
      logger: d.logger,
      offsetSeed: d.offsetSeed,
      userAgent: d.userAgent,
    };
  }

  /** Makes the pool's loops match `groups` (the full current set for this pool). */
  sync(groups: readonly TargetGroup[]): void {
    if (this.stopped) return;
    this.groups = groups;
    this.apply(undefined);
  }

  /** Applies a changed config: every loop restarts, caches carried over where still valid. */
  reload(cfg: ScrapeConfig): void {
    const t0 = performance.now();
    const reuse = reusableCache(this.cfg, cfg);
    const oldClient = this.client;
    this.cfg = cfg;
    this.client = new HttpClient(cfg.httpClient);
    this.accept = acceptHeader(cfg.scrapeProtocols, cfg.metricNameEscapingScheme);
    this.compile();
    warnUnsupported(cfg, this.deps.logger);
    this.apply(reuse);
    oldClient.close();
    this.deps.metrics.reloadLength.observe(String(cfg.scrapeInterval / 1000) + 's', (performance.now() - t0) / 1000);
  }

  /** `restart` undefined: a plain sync; true/false: a reload, carrying caches when true. */
  private apply(restart: boolean | undefined): void {
    const t0 = performance.now();
    const { metrics, logger } = this.deps;
    const job = this.cfg.jobName;
    const fresh = new Map<string, Target>();
    const dropped: Labels[] = [];
    let droppedCount = 0;
    const keep = this.cfg.keepDroppedTargets;
    let failures = 0;
    targetsFromGroups(
      this.groups,
      this.cfg,
      this.targetRelabel,
      (t) => {
        if (!fresh.has(t.key)) fresh.set(t.key, t);
      },
      (d) => {
        droppedCount++;
        if (keep === 0 || dropped.length < keep) dropped.push(d);
      },
      (err, g, i) => {
        failures++;
        logger.error('Creating target failed', { scrape_pool: job, err: `instance ${i} in group ${g.source}: ${err}` });
      },
    );
    if (failures > 0) metrics.syncFailed.labels(job).inc(failures);
    this.dropped = dropped;
    this.droppedCount = droppedCount;

    const limit = this.cfg.targetLimit;
    let forced: string | undefined;
    if (limit > 0 && fresh.size > limit) {
      forced = `target_limit exceeded (number of targets: ${fresh.size}, limit: ${limit})`;
      metrics.exceededTargetLimit.labels().inc();
    }

    const carry = new Map<string, ScrapeCache>();
    // On reload, a target whose interval or timeout changed is a new target (its internal
    // labels differ) but the same series: match it by public labels and URL.
    let byPublic: Map<string, string> | undefined;
    if (restart !== undefined) {
      byPublic = new Map();
      for (const [key, t] of fresh) byPublic.set(publicKey(t), key);
    }
    for (const [key, loop] of this.loops) {
      const t = fresh.get(key);
      if (restart !== undefined) {
        const successor = t !== undefined ? key : byPublic!.get(publicKey(loop.target));
        this.loops.delete(key);
        if (successor === undefined) {
          void loop.stop(true, this.deps.pendingStale);
          continue;
        }
        // The successor takes over; no end-of-run staleness for a target that continues.
        void loop.stop(false);
        if (restart) carry.set(successor, loop.cache);
      } else if (t === undefined) {
        void loop.stop(true, this.deps.pendingStale);
        this.loops.delete(key);
      } else {
        loop.target.discoveredLabels = t.discoveredLabels;
        loop.forcedError = forced;
      }
    }
    const settings = this.settings();
    for (const [key, t] of fresh) {
      if (this.loops.has(key)) continue;
      // The target may come back before its old loop wrote stale markers: they then land out of order and are dropped.
      const loop = new ScrapeLoop(t, settings, carry.get(key));
      loop.forcedError = forced;
      this.loops.set(key, loop);
      if (this.deps.startLoops) loop.start();
    }
    metrics.poolTargets.labels(job).set(this.loops.size);
    metrics.poolTargetLimit.labels(job).set(limit);
    metrics.poolSync.labels(job).inc();
    metrics.syncLength.observe(job, (performance.now() - t0) / 1000);
  }

  activeTargets(): Target[] {
    return [...this.loops.values()].map((l) => l.target);
  }

  droppedTargets(): readonly Labels[] {
    return this.dropped;
  }

  /** Stops every loop (with end-of-run staleness when the pool is removed, not on shutdown). */
  async stop(staleness: boolean): Promise<void> {
    this.stopped = true;
    const all = [...this.loops.values()].map((l) => l.stop(staleness, this.deps.pendingStale));
    this.loops.clear();
    await Promise.all(all);
    this.client.close();
  }
}
