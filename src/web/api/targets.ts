/**
 * `/api/v1/targets`, `/api/v1/scrape_pools`, `/api/v1/targets/metadata` and `/api/v1/metadata`:
 * what the scrape manager knows about its targets and the HELP/TYPE/UNIT they expose (plus
 * metadata received by remote write).
 */
import type { FastifyPluginAsync } from 'fastify';
import { matchesAll, type Labels, type Matcher } from '../../../storage/index.js';
import { apiRoute } from './route.js';
import { ApiError } from './errors.js';
import { parseLimitParam } from './params.js';

export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  /** RFC 3339, or "0001-01-01T00:00:00Z" before the first scrape (Go's zero time). */
  lastScrape: string;
  /** Seconds. */
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval: string;
  scrapeTimeout: string;
}

export interface DroppedTarget {
  discoveredLabels: Record<string, string>;
  scrapePool: string;
}

export interface TargetsSource {
  activeTargets(): ActiveTarget[];
  droppedTargets(): DroppedTarget[];
  /** Dropped targets per pool, including those not kept (keep_dropped_targets). */
  droppedTargetCounts(): Record<string, number>;
  scrapePools(): string[];
}

export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

export interface TargetMetadata extends MetricMetadata {
  /** The target's labels (after relabeling). */
  target: Labels;
  metric: string;
}

export interface MetadataSource {
  /** Every (target, metric) metadata entry currently known. */
  targetMetadata(): Iterable<TargetMetadata>;
  /** Metadata received without a target (remote write), by metric name. */
  extraMetadata(): Iterable<[string, MetricMetadata]>;
}

export interface TargetsApiDeps {
  targets: TargetsSource;
  metadata: MetadataSource;
  parseSelector: (s: string) => Matcher[];
}

export const targetsApi: FastifyPluginAsync<TargetsApiDeps> = async (app, deps) => {
  apiRoute(app, '/api/v1/targets', ['GET'], async (params) => {
    const state = (params.get('state') ?? '').toLowerCase();
    const pool = params.get('scrapePool') ?? '';
    const showActive = state === '' || state === 'any' || state === 'active';
    const showDropped = state === '' || state === 'any' || state === 'dropped';
    const inPool = (t: { scrapePool: string }) => pool === '' || t.scrapePool === pool;
    const byPool = (a: { scrapePool: string }, b: { scrapePool: string }) => (a.scrapePool < b.scrapePool ? -1 : a.scrapePool > b.scrapePool ? 1 : 0);
    const data: Record<string, unknown> = {
      activeTargets: showActive ? deps.targets.activeTargets().filter(inPool).sort(byPool) : [],
      droppedTargets: showDropped ? deps.targets.droppedTargets().filter(inPool).sort(byPool) : [],
    };
    if (showDropped) {
      const counts = deps.targets.droppedTargetCounts();
      data.droppedTargetCounts = pool === '' ? counts : { [pool]: counts[pool] ?? 0 };
    }
    return { data };
  });

  apiRoute(app, '/api/v1/scrape_pools', ['GET'], async () => ({ data: { scrapePools: [...deps.targets.scrapePools()].sort() } }));

  apiRoute(app, '/api/v1/targets/metadata', ['GET'], async (params) => {
    const limit = parseLimitParam(params.get('limit'));
    const metric = params.get('metric') ?? '';
    const mt = params.get('match_target') ?? '';
    let matchers: Matcher[] = [];
    if (mt !== '') {
      try {
        matchers = deps.parseSelector(mt);
      } catch (err) {
        throw ApiError.badData(`invalid parameter "match_target": ${(err as Error).message}`, { cause: err });
      }
    }
    const out: Array<Record<string, unknown>> = [];
    const targetsSeen = new Set<string>();
    for (const m of deps.metadata.targetMetadata()) {
      if (metric !== '' && m.metric !== metric) continue;
      if (!matchesAll(matchers, (n) => m.target.get(n))) continue;
      const key = m.target.key();
      if (!targetsSeen.has(key)) {
        if (limit > 0 && targetsSeen.size >= limit) continue;
        targetsSeen.add(key);
      }
      const entry: Record<string, unknown> = { target: m.target.toObject() };
      if (metric === '') entry.metric = m.metric;
      entry.type = m.type;
      entry.help = m.help;
      entry.unit = m.unit;
      out.push(entry);
    }
    return { data: out };
  });

  apiRoute(app, '/api/v1/metadata', ['GET'], async (params) => {
    const limit = parseLimitParam(params.get('limit'));
    const perMetric = parseLimitParam(params.get('limit_per_metric'));
    const metric = params.get('metric') ?? '';
    const byMetric = new Map<string, Map<string, MetricMetadata>>();
    const add = (name: string, md: MetricMetadata) => {
      if (metric !== '' && name !== metric) return;
      let set = byMetric.get(name);
      if (!set) {
        if (limit > 0 && byMetric.size >= limit) return;
        set = new Map();
        byMetric.set(name, set);
      }
      const k = `${md.type}\xff${md.help}\xff${md.unit}`;
      if (!set.has(k) && (perMetric <= 0 || set.size < perMetric)) set.set(k, { type: md.type, help: md.help, unit: md.unit });
    };
    for (const m of deps.metadata.targetMetadata()) add(m.metric, m);
    for (const [name, md] of deps.metadata.extraMetadata()) add(name, md);
    const data: Record<string, MetricMetadata[]> = {};
    for (const [name, set] of byMetric) data[name] = [...set.values()];
    return { data };
  });
};


