/**
 * The discovery manager: runs one provider (a {@link Discoverer}) per distinct SD config, keeps
 * the latest group per source of each, and hands the consumer (the scrape manager or the
 * notifier) `Map<pool, TargetGroup[]>` at most once per `updateIntervalMs` (Prometheus's 5 s
 * `updatert`), so a burst of discovery events becomes one target sync.
 *
 * Identical SD configs are one provider shared by every pool that lists them. `applyConfig`
 * keeps providers whose config is unchanged running (with their groups), starts new ones and
 * stops removed ones; a pool whose set of providers changed is sent again.
 */

import { FileDiscoverer, FileSDMetrics, type FileSDOptions } from './file/index.js';
import { KubernetesSD, type CollectedFamily, type KubernetesSDConfig } from './kubernetes/index.js';
import { StaticDiscoverer } from './static.js';
import type { Discoverer, DiscoveryLogger, TargetGroup } from './types.js';

/** One SD config of a pool. All `static` entries of a pool are merged into one provider. */
export type DiscovererConfig =
  | { readonly type: 'static'; readonly groups: readonly TargetGroup[] }
  | { readonly type: 'file'; readonly config: FileSDOptions }
  | { readonly type: 'kubernetes'; readonly config: KubernetesSDConfig };

export interface DiscoveryManagerOptions {
  readonly logger?: DiscoveryLogger;
  /** The `name` label of the SD metrics: 'scrape' or 'notify'. Default 'scrape'. */
  readonly name?: string;
  /** Minimum ms between two sends to the consumer. Default 5000 (Prometheus's updatert). */
  readonly updateIntervalMs?: number;
  /** Shared Kubernetes SD; created (and closed on stop) by the manager when absent. */
  readonly kubernetes?: KubernetesSD;
  /** Shared file SD counters. */
  readonly fileMetrics?: FileSDMetrics;
  /** Shared manager counters (so a 'scrape' and a 'notify' manager register them once). */
  readonly metrics?: DiscoveryMetrics;
  /** File SD: delay between a watch event and the re-read. */
  readonly fileDebounceMs?: number;
  /**
   * Where to register the SD metrics (the server's self-metrics Registry, structurally): the
   * manager's, file SD's and, when the manager creates it, Kubernetes SD's families.
   */
  readonly registry?: { collected(name: string, help: string, type: 'counter' | 'gauge', collect: CollectedFamily['collect']): void };
}

type Consumer = (update: Map<string, TargetGroup[]>) => void;

const NOP_LOGGER: DiscoveryLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Provider {
  readonly key: string;
  /** `static/0`, `file/1`, `kubernetes/2`, as Prometheus names them in logs. */
  readonly name: string;
  readonly abort: AbortController;
  subs: Set<string>;
  readonly groups: Map<string, TargetGroup>;
}

/** Counters of the discovery managers of one server, with Prometheus's names. */
export class DiscoveryMetrics {
  private readonly managers = new Set<DiscoveryManager>();

  /** @internal */
  attach(m: DiscoveryManager): void {
    this.managers.add(m);
  }

  families(): CollectedFamily[] {
    const per = (f: (m: DiscoveryManager) => number) => () => [...this.managers].map((m) => ({ labels: { name: m.name }, value: f(m) }));
    return [
      {
        name: 'prometheus_sd_discovered_targets',
        help: 'Current number of discovered targets.',
        type: 'gauge',
        collect: () => {
          const out: { labels: Record<string, string>; value: number }[] = [];
          for (const m of this.managers) for (const [config, value] of m.discoveredTargets()) out.push({ labels: { config, name: m.name }, value });
          return out;
        },
      },
      { name: 'prometheus_sd_received_updates_total', help: 'Total number of update events received from the SD providers.', type: 'counter', collect: per((m) => m.receivedUpdates) },
      { name: 'prometheus_sd_updates_total', help: 'Total number of update events sent to the SD consumers.', type: 'counter', collect: per((m) => m.sentUpdates) },
      { name: 'prometheus_sd_updates_delayed_total', help: 'Total number of update events that couldn\'t be sent immediately.', type: 'counter', collect: per((m) => m.delayedUpdates) },
      { name: 'prometheus_sd_failed_configs', help: 'Current number of service discovery configurations that failed to load.', type: 'gauge', collect: per((m) => m.failedConfigs) },
    ];
  }
}

/**
 * @example
 * ```ts
 * const dm = new DiscoveryManager((update) => scrapeManager.updateTargets(update), { logger });
 * dm.applyConfig(discoveryConfigs(config));   // Map<job, DiscovererConfig[]>
 * ...
 * dm.stop();
 * ```
 */
export class DiscoveryManager {
  readonly name: string;
  receivedUpdates = 0;
  sentUpdates = 0;
  delayedUpdates = 0;
  failedConfigs = 0;

  private readonly logger: DiscoveryLogger;
  private readonly updateIntervalMs: number;
  private k8s: KubernetesSD | undefined;
  private readonly ownsK8s: boolean;
  private readonly fileMetrics: FileSDMetrics;
  private readonly fileDebounceMs: number | undefined;
  private readonly providers = new Map<string, Provider>();
  /** pool → its providers' keys, in config order. */
  private pools = new Map<string, string[]>();
  /** pool → the array last sent (rebuilt only when dirty). */
  private readonly sent = new Map<string, TargetGroup[]>();
  private readonly dirty = new Set<string>();
  /** Pools removed by the last applyConfig: sent once with no groups. */
  private readonly removed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = -Infinity;
  private nextId = 0;
  private stopped = false;

  private consumer: Consumer | undefined;

  /** `new DiscoveryManager(consumer, opts)`, or `new DiscoveryManager(opts)` then {@link subscribe}. */
  constructor(consumer?: Consumer | DiscoveryManagerOptions, opts: DiscoveryManagerOptions = {}) {
    if (typeof consumer !== 'function') {
      opts = consumer ?? opts;
      consumer = undefined;
    }
    this.consumer = consumer;
    this.name = opts.name ?? 'scrape';
    this.logger = opts.logger ?? NOP_LOGGER;
    this.updateIntervalMs = opts.updateIntervalMs ?? 5000;
    this.k8s = opts.kubernetes;
    this.ownsK8s = opts.kubernetes === undefined;
    this.fileMetrics = opts.fileMetrics ?? new FileSDMetrics();
    this.fileDebounceMs = opts.fileDebounceMs;
    const metrics = opts.metrics ?? new DiscoveryMetrics();
    metrics.attach(this);
    if (opts.registry) {
      const fams = [...(opts.metrics ? [] : metrics.families()), ...(opts.fileMetrics ? [] : this.fileMetrics.families())];
      if (this.ownsK8s) {
        this.k8s = new KubernetesSD({ logger: this.logger });
        fams.push(...this.k8s.metrics.families());
      }
      for (const f of fams) opts.registry.collected(f.name, f.help, f.type, f.collect);
    }
  }

  /** Sets the consumer of updates (replacing any earlier one); it gets the current state next flush. */
  subscribe(consumer: Consumer): void {
    this.consumer = consumer;
    for (const pool of this.pools.keys()) this.dirty.add(pool);
    this.trigger();
  }

  /**
   * Sets the SD configs per pool. Providers whose config is unchanged keep running and keep
   * their groups; the others are stopped or started. A pool with no SD config gets an empty
   * static provider, so it exists (with no targets), as in Prometheus.
   */
  applyConfig(cfg: ReadonlyMap<string, readonly DiscovererConfig[]>): void {
    if (this.stopped) throw new Error('discovery manager is stopped');
    const wanted = new Map<string, { cfg: DiscovererConfig; subs: Set<string> }>();
    const pools = new Map<string, string[]>();
    for (const [pool, list] of cfg) {
      const statics: TargetGroup[] = [];
      const keys: string[] = [];
      const add = (c: DiscovererConfig): void => {
        const key = providerKey(c);
        let w = wanted.get(key);
        if (!w) {
          w = { cfg: c, subs: new Set() };
          wanted.set(key, w);
        }
        w.subs.add(pool);
        if (!keys.includes(key)) keys.push(key);
      };
      let hasStatic = false;
      for (const c of list) {
        if (c.type === 'static') {
          hasStatic = true;
          statics.push(...c.groups);
        } else add(c);
      }
      if (hasStatic || list.length === 0) add({ type: 'static', groups: statics });
      pools.set(pool, keys);
    }

    for (const [key, p] of this.providers) {
      const w = wanted.get(key);
      if (!w) {
        p.abort.abort();
        this.providers.delete(key);
        for (const s of p.subs) this.dirty.add(s);
        continue;
      }
      for (const s of w.subs) if (!p.subs.has(s)) this.dirty.add(s);
      for (const s of p.subs) if (!w.subs.has(s)) this.dirty.add(s);
      p.subs = w.subs;
    }
    this.failedConfigs = 0;
    for (const [key, w] of wanted) {
      if (this.providers.has(key)) continue;
      for (const s of w.subs) this.dirty.add(s);
      this.start(key, w.cfg, w.subs);
    }
    for (const pool of this.pools.keys()) {
      if (!pools.has(pool)) {
        this.removed.add(pool);
        this.sent.delete(pool);
        this.dirty.delete(pool);
      }
    }
    for (const pool of pools.keys()) this.removed.delete(pool);
    this.pools = pools;
    this.trigger();
  }

  private start(key: string, cfg: DiscovererConfig, subs: Set<string>): void {
    const name = `${cfg.type}/${this.nextId++}`;
    let d: Discoverer;
    try {
      d = this.newDiscoverer(cfg, [...subs][0] ?? '');
    } catch (err) {
      this.failedConfigs++;
      this.logger.error('Cannot create service discovery', { provider: name, err: (err as Error).message });
      return;
    }
    const p: Provider = { key, name, abort: new AbortController(), subs, groups: new Map() };
    this.providers.set(key, p);
    const signal = p.abort.signal;
    d.run(signal, (groups) => {
      if (signal.aborted || this.stopped) return;
      this.receivedUpdates++;
      for (const g of groups) {
        if (g.targets.length === 0) p.groups.delete(g.source);
        else p.groups.set(g.source, g);
      }
      for (const s of p.subs) this.dirty.add(s);
      this.trigger();
    }).catch((err: unknown) => {
      this.logger.error('Service discovery failed', { provider: name, err: (err as Error).message });
    });
  }

  private newDiscoverer(cfg: DiscovererConfig, pool: string): Discoverer {
    switch (cfg.type) {
      case 'static':
        return new StaticDiscoverer(cfg.groups);
      case 'file':
        return new FileDiscoverer(cfg.config, { logger: this.logger, metrics: this.fileMetrics, debounceMs: this.fileDebounceMs });
      case 'kubernetes':
        this.k8s ??= new KubernetesSD({ logger: this.logger });
        return this.k8s.newDiscoverer(cfg.config, { logger: this.logger, name: pool });
    }
  }

  private trigger(): void {
    if (this.stopped || this.timer !== undefined || (this.dirty.size === 0 && this.removed.size === 0)) return;
    const delay = Math.max(0, this.lastFlush + this.updateIntervalMs - Date.now());
    if (delay > 0) this.delayedUpdates++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  /** Sends now whatever changed (tests; normally the timer does it). */
  flush(): void {
    if (this.stopped || (this.dirty.size === 0 && this.removed.size === 0)) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (const pool of this.dirty) this.sent.set(pool, this.collect(pool));
    this.dirty.clear();
    const update = new Map<string, TargetGroup[]>();
    for (const pool of this.pools.keys()) update.set(pool, this.sent.get(pool) ?? (this.sent.set(pool, this.collect(pool)), this.sent.get(pool)!));
    for (const pool of this.removed) update.set(pool, []);
    this.removed.clear();
    this.lastFlush = Date.now();
    this.sentUpdates++;
    try {
      this.consumer?.(update);
    } catch (err) {
      this.logger.error('Discovery consumer failed', { err: (err as Error).message });
    }
  }

  private collect(pool: string): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const key of this.pools.get(pool) ?? []) {
      const p = this.providers.get(key);
      if (p) for (const g of p.groups.values()) out.push(g);
    }
    return out;
  }

  /**
   * The groups of every pool as of the last send. The array of a pool is the same object
   * until that pool changes, so a consumer can skip unchanged pools by identity.
   */
  targets(): Map<string, TargetGroup[]> {
    return new Map(this.sent);
  }

  /** pool → number of targets discovered (prometheus_sd_discovered_targets). */
  discoveredTargets(): Map<string, number> {
    const out = new Map<string, number>();
    for (const pool of this.pools.keys()) {
      let n = 0;
      for (const g of this.collect(pool)) n += g.targets.length;
      out.set(pool, n);
    }
    return out;
  }

  /** Stops every provider; nothing more is sent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const p of this.providers.values()) p.abort.abort();
    this.providers.clear();
    if (this.ownsK8s && this.k8s) this.k8s.close();
  }
}

function providerKey(c: DiscovererConfig): string {
  return c.type + ':' + JSON.stringify(c.type === 'static' ? c.groups : c.config);
}
