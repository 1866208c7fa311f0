/**
 * Test helpers: a kubernetes_sd_config with defaults, a collector of sent target groups that
 * tests await on (no sleeping: each send re-checks the waiting predicates), and a recording
 * logger. No vitest imports (the benchmark uses these too).
 */

import type { DiscoveryLogger, LabelSet, TargetGroup } from '../../../discovery/index.js';
import type { KubernetesSD, KubernetesSDConfig } from '../../../discovery/kubernetes/index.js';

/** A kubernetes_sd_config with the loader's defaults filled in. */
export function sdConfig(c: Partial<KubernetesSDConfig> & Pick<KubernetesSDConfig, 'role'>): KubernetesSDConfig {
  return {
    selectors: [],
    attachMetadata: { node: false, namespace: false },
    followRedirects: true,
    enableHttp2: true,
    proxyFromEnvironment: false,
    ...c,
  };
}

/** Collects the groups a discoverer sends; `until` resolves when a predicate holds. */
export class Collector {
  readonly groups = new Map<string, TargetGroup>();
  batches = 0;
  sentGroups = 0;
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  /** Called on every batch with the batch (benchmarks time their updates here). */
  onBatch: ((groups: TargetGroup[]) => void) | undefined;

  readonly send = (groups: TargetGroup[]): void => {
    this.batches++;
    this.sentGroups += groups.length;
    for (const g of groups) this.groups.set(g.source, g);
    this.onBatch?.(groups);
    this.check();
  };

  private check(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.pred()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Resolves when `pred` holds (now or after a later batch); rejects after `timeoutMs` naming `what`. */
  until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; have ${[...this.groups.keys()].join(', ') || 'no groups'}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** The targets of a group merged with the group labels, as the scrape layer sees them. */
  targets(source: string): LabelSet[] {
    const g = this.groups.get(source);
    if (!g) return [];
    return g.targets.map((t) => ({ ...g.labels, ...t }));
  }

  /** Whether a group exists with at least one target. */
  has(source: string): boolean {
    return (this.groups.get(source)?.targets.length ?? 0) > 0;
  }
}

/** A logger that keeps every line, for asserting on errors. */
export class RecordingLogger implements DiscoveryLogger {
  readonly lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  debug(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  /** Error lines whose message or fields mention `text`. */
  errors(text: string): { msg: string; fields: Record<string, unknown> }[] {
    return this.lines.filter((l) => l.level === 'error' && (l.msg.includes(text) || JSON.stringify(l.fields).includes(text)));
  }
}

/** A running discoverer: its collector and how to stop it. */
export interface Running {
  readonly collector: Collector;
  stop(): Promise<void>;
}

/** Starts `sd.newDiscoverer(cfg)` with a fresh collector. */
export function runDiscoverer(sd: KubernetesSD, cfg: KubernetesSDConfig, name = 'test'): Running {
  const collector = new Collector();
  const ac = new AbortController();
  const done = sd.newDiscoverer(cfg, { name }).run(ac.signal, collector.send);
  return {
    collector,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** Resolves when `pred` holds, polling on a timer; for conditions no event announces (metrics, logs). */
export async function eventually(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, Math.min(50, 5 * (i + 1))));
  }
  if (!pred()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
