/**
 * The scrape manager: one {@link ScrapePool} per scrape config. It takes the loaded config
 * (`applyConfig`, on start and on every reload) and the discovered target groups
 * (`updateTargets`, from the discovery manager), and answers the targets and metadata APIs.
 */

import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { DiscovererConfig, TargetGroup } from '../../discovery/index.js';
import type { Appendable, Labels } from '../../storage/index.js';
import type { Config, ScrapeConfig } from '../config/types.js';
import { nopLogger, type Logger } from '../log/index.js';
import { Registry } from '../metrics/index.js';
import { VERSION } from '../version.js';
import type { ScrapeLoop } from './loop.js';
import { ScrapeMetrics } from './metrics.js';
import { ScrapePool, configKey } from './pool.js';
import { formatDuration, stringHash, type TargetHealth } from './target.js';

export interface ScrapeManagerOptions {
  /** Where samples go (the Head, or a fan-out to remote write). */
  readonly appendable: Appendable;
  /** Self-metrics registry (`prometheus_target_*`). Default: a private one. */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Mixed into every target's slot in the interval. Default: a hash of the host name. */
  readonly offsetSeed?: number;
  /** Default `Sextant/<version>`. */
  readonly userAgent?: string;
  /** Maps a scrape URL to the one shown as `globalUrl` (e.g. localhost → the external host). Default: identity. */
  readonly globalUrl?: (scrapeUrl: string) => string;
  /** Default true. False creates loops without scheduling them (tests drive `scrapeAndReport`). */
  readonly startLoops?: boolean;
}

/** An active target as `/api/v1/targets` shows it. */
export interface ActiveTargetInfo {
  readonly discoveredLabels: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly globalUrl: string;
  readonly lastError: string;
  /** ms since the epoch; 0 before the first scrape (the API prints Go's zero time). */
  readonly lastScrape: number;
  /** Seconds. */
  readonly lastScrapeDuration: number;
  readonly health: TargetHealth;
  /** As written in Prometheus's duration syntax (`15s`). */
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
}

export interface DroppedTargetInfo {
  readonly discoveredLabels: Record<string, string>;
  readonly scrapePool: string;
}

/** One metric family's metadata on one target (`/api/v1/targets/metadata`). */
export interface TargetMetadataInfo {
  /** The target's labels (without `__` ones). */
  readonly target: Labels;
  readonly scrapePool: string;
  readonly metric: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/**
 * @example
 * ```ts
 * const sm = new ScrapeManager({ appendable: head, registry, logger });
 * const dm = new DiscoveryManager((u) => sm.updateTargets(u), { logger });
 * sm.applyConfig(config);
 * dm.applyConfig(discoveryConfigs(config));
 * // on reload: sm.applyConfig(newConfig); dm.applyConfig(discoveryConfigs(newConfig));
 * // on shutdown: dm.stop(); await sm.stop();
 * ```
 */
export class ScrapeManager {
  readonly metrics: ScrapeMetrics;
  private readonly pools = new Map<string, ScrapePool>();
  private readonly poolKeys = new Map<string, string>();
  /** The last groups per pool, also for pools whose config has not arrived yet. */
  private readonly targetSets = new Map<string, TargetGroup[]>();
  private readonly pendingStale = new Set<ScrapeLoop>();
  private readonly logger: Logger;
  private readonly appendable: Appendable;
  private readonly offsetSeed: number;
  private readonly userAgent: string;
  private readonly globalUrl: (u: string) => string;
  private readonly startLoops: boolean;
  private stopped = false;

  constructor(opts: ScrapeManagerOptions) {
    this.appendable = opts.appendable;
    this.logger = (opts.logger ?? nopLogger).with({ component: 'scrape manager' });
    this.metrics = new ScrapeMetrics(opts.registry ?? new Registry());
    this.offsetSeed = opts.offsetSeed ?? stringHash(hostname());
    this.userAgent = opts.userAgent ?? `Sextant/${VERSION}`;
    this.globalUrl = opts.globalUrl ?? ((u) => u);
    this.startLoops = opts.startLoops ?? true;
  }

  /**
   * Applies a (re)loaded config: pools whose scrape config is unchanged (discovery settings
   * aside) keep their loops and caches; changed ones reload; removed ones stop and their
   * targets' series get stale markers. Throws (after applying the rest) when a pool could not be
   * created or reloaded, naming the jobs.
   */
  applyConfig(config: Config): void {
    if (this.stopped) throw new Error('scrape manager is stopped');
    const failed: string[] = [];
    const wanted = new Map<string, ScrapeConfig>();
    for (const sc of config.scrapeConfigs) wanted.set(sc.jobName, sc);
    for (const [name, pool] of this.pools) {
      if (!wanted.has(name)) {
        void pool.stop(true);
        this.pools.delete(name);
        this.poolKeys.delete(name);
        this.metrics.removePool(name);
      }
    }
    for (const [name, sc] of wanted) {
      const key = configKey(sc);
      const pool = this.pools.get(name);
      if (pool) {
        if (this.poolKeys.get(name) === key) continue;
        this.metrics.poolReloads.labels().inc();
        try {
          pool.reload(sc);
          this.poolKeys.set(name, key);
        } catch (err) {
          this.metrics.poolReloadsFailed.labels().inc();
          failed.push(`${name}: ${(err as Error).message}`);
        }
        continue;
      }
      this.metrics.poolsTotal.labels().inc();
      try {
        const p = new ScrapePool(sc, {
          appendable: this.appendable,
          metrics: this.metrics,
          logger: this.logger.with({ scrape_pool: name }),
          offsetSeed: this.offsetSeed,
          userAgent: this.userAgent,
          pendingStale: this.pendingStale,
          startLoops: this.startLoops,
        });
        this.pools.set(name, p);
        this.poolKeys.set(name, key);
        const groups = this.targetSets.get(name);
        if (groups) p.sync(groups);
      } catch (err) {
        this.metrics.poolsFailed.labels().inc();
        failed.push(`${name}: ${(err as Error).message}`);
      }
    }
    if (failed.length > 0) {
      for (const f of failed) this.logger.error('error creating or reloading scrape pool', { err: f });
      throw new Error(`failed to apply scrape configuration: ${failed.join('; ')}`);
    }
  }

  /**
   * Takes the discovery manager's update. Pools whose group array is the same object as last
   * time are not synced again; pools not (yet) in the config are remembered.
   */
  updateTargets(update: ReadonlyMap<string, TargetGroup[]>): void {
    if (this.stopped) return;
    for (const [name, groups] of update) {
      const prev = this.targetSets.get(name);
      if (prev === groups) continue;
      if (groups.length === 0 && !this.pools.has(name)) this.targetSets.delete(name);
      else this.targetSets.set(name, groups);
      this.pools.get(name)?.sync(groups);
    }
  }

  /** Stops every loop without stale markers (a restarted server continues the series). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const all = [...this.pools.values()].map((p) => p.stop(false));
    this.pools.clear();
    await Promise.all(all);
    for (const l of this.pendingStale) l.cancelStaleness();
    this.pendingStale.clear();
  }

  /** Names of the scrape pools, sorted. */
  scrapePools(): string[] {
    return [...this.pools.keys()].sort();
  }

  /** The pool of a job (tests and debugging). */
  pool(name: string): ScrapePool | undefined {
    return this.pools.get(name);
  }

  /** Active targets, by pool name then by their order of discovery. */
  activeTargets(pool?: string): ActiveTargetInfo[] {
    const out: ActiveTargetInfo[] = [];
    for (const name of this.scrapePools()) {
      if (pool !== undefined && name !== pool) continue;
      for (const t of this.pools.get(name)!.activeTargets()) {
        out.push({
          discoveredLabels: t.discoveredLabels.toObject(),
          labels: t.publicLabels.toObject(),
          scrapePool: name,
          scrapeUrl: t.url,
          globalUrl: this.globalUrl(t.url),
          lastError: t.lastError,
          lastScrape: t.lastScrape,
          lastScrapeDuration: t.lastScrapeDuration,
          health: t.health,
          scrapeInterval: formatDuration(t.interval),
          scrapeTimeout: formatDuration(t.timeout),
        });
      }
    }
    return out;
  }

  /** Targets dropped by relabeling (at most keep_dropped_targets per pool when set). */
  droppedTargets(pool?: string): DroppedTargetInfo[] {
    const out: DroppedTargetInfo[] = [];
    for (const name of this.scrapePools()) {
      if (pool !== undefined && name !== pool) continue;
      for (const d of this.pools.get(name)!.droppedTargets()) out.push({ discoveredLabels: d.toObject(), scrapePool: name });
    }
    return out;
  }

  /** pool → number of dropped targets, including those not kept (`droppedTargetCounts`). */
  droppedTargetCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.scrapePools()) out[name] = this.pools.get(name)!.droppedCount;
    return out;
  }

  /** Metadata of every metric family on every active target, as last scraped. */
  targetMetadata(): TargetMetadataInfo[] {
    const out: TargetMetadataInfo[] = [];
    for (const name of this.scrapePools()) {
      for (const loop of this.pools.get(name)!.loops.values()) {
        for (const [metric, m] of loop.cache.metadata) {
          out.push({ target: loop.target.publicLabels, scrapePool: name, metric, type: m.type, help: m.help, unit: m.unit });
        }
      }
    }
    return out;
  }

  /** metric → its distinct metadata across targets (`/api/v1/metadata`). */
  metadata(): Map<string, { type: string; help: string; unit: string }[]> {
    const out = new Map<string, { type: string; help: string; unit: string }[]>();
    const seen = new Set<string>();
    for (const m of this.targetMetadata()) {
      const k = `${m.metric}\xff${m.type}\xff${m.help}\xff${m.unit}`;
      if (seen.has(k)) continue;
      seen.add(k);
      let list = out.get(m.metric);
      if (!list) out.set(m.metric, (list = []));
      list.push({ type: m.type, help: m.help, unit: m.unit });
    }
    return out;
  }
}

/**
 * The discovery configs of every scrape config, for `DiscoveryManager.applyConfig`. File SD
 * patterns are resolved against the config file's directory.
 */
export function discoveryConfigs(config: Config): Map<string, DiscovererConfig[]> {
  const base = config.file && !config.file.startsWith('<') ? dirname(config.file) : process.cwd();
  const out = new Map<string, DiscovererConfig[]>();
  for (const sc of config.scrapeConfigs) {
    const list: DiscovererConfig[] = [];
    if (sc.staticConfigs.length > 0) list.push({ type: 'static', groups: sc.staticConfigs });
    for (const f of sc.fileSdConfigs) list.push({ type: 'file', config: { files: f.files.map((p) => resolve(base, p)), refreshInterval: f.refreshInterval } });
    for (const k of sc.kubernetesSdConfigs) list.push({ type: 'kubernetes', config: k });
    out.set(sc.jobName, list);
  }
  return out;
}
