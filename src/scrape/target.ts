/**
 * Scrape targets: building them from discovered target groups (Prometheus's PopulateLabels),
 * their URL, identity and health.
 */

import { Labels, LabelsBuilder } from '../../storage/index.js';
import type { LabelSet, TargetGroup } from '../../discovery/index.js';
import type { ScrapeConfig } from '../config/types.js';

export const ADDRESS_LABEL = '__address__';
export const SCHEME_LABEL = '__scheme__';
export const METRICS_PATH_LABEL = '__metrics_path__';
export const SCRAPE_INTERVAL_LABEL = '__scrape_interval__';
export const SCRAPE_TIMEOUT_LABEL = '__scrape_timeout__';
export const PARAM_LABEL_PREFIX = '__param_';
export const META_LABEL_PREFIX = '__meta_';
export const RESERVED_LABEL_PREFIX = '__';

export type TargetHealth = 'up' | 'down' | 'unknown';

/** Prometheus's model.Duration.String(): `1m30s`, `500ms`, `0s`, `2w`, `1y`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let r = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.trunc(ms));
  const unit = (u: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      r += `${v}${u}`;
      rest -= v * mult;
    }
  };
  unit('y', 365 * 86_400_000, true);
  unit('w', 7 * 86_400_000, true);
  unit('d', 86_400_000, false);
  unit('h', 3_600_000, false);
  unit('m', 60_000, false);
  unit('s', 1000, false);
  unit('ms', 1, false);
  return r;
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_MULT = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Prometheus's model.ParseDuration, in ms; undefined when invalid. */
export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (s === '') return undefined;
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  let ms = 0;
  for (let i = 0; i < DURATION_MULT.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * DURATION_MULT[i]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's url.PathEscape-like escaping of a path (slashes kept). */
function pathEscape(p: string): string {
  return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/**
 * One target of a scrape pool. Its labels include the internal `__…` ones that shape the
 * request (`__address__`, `__scheme__`, `__param_*`, …); {@link Target.publicLabels} is what
 * samples get.
 */
export class Target {
  readonly url: string;
  /** Identity within a pool: equal labels and URL mean the same target. */
  readonly key: string;
  /** A stable hash of the key (spreads scrapes within the interval). */
  readonly hash: number;
  readonly publicLabels: Labels;
  readonly interval: number;
  readonly timeout: number;

  health: TargetHealth = 'unknown';
  lastError = '';
  /** ms since the epoch of the last scrape's start; 0 before the first. */
  lastScrape = 0;
  /** Seconds. */
  lastScrapeDuration = 0;

  constructor(
    /** Labels after relabeling, `__meta_*` removed, `instance` defaulted. */
    readonly labels: Labels,
    /** Labels before relabeling. */
    public discoveredLabels: Labels,
    readonly params: Readonly<Record<string, readonly string[]>>,
  ) {
    const q = new Map<string, string[]>();
    for (const [k, v] of Object.entries(params)) q.set(k, v.slice());
    labels.forEach((n, v) => {
      if (!n.startsWith(PARAM_LABEL_PREFIX)) return;
      const k = n.slice(PARAM_LABEL_PREFIX.length);
      const cur = q.get(k);
      if (cur && cur.length > 0) cur[0] = v;
      else q.set(k, [v]);
    });
    const keys = [...q.keys()].sort();
    const query = keys.flatMap((k) => q.get(k)!.map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&');
    let path = labels.get(METRICS_PATH_LABEL);
    if (path !== '' && !path.startsWith('/')) path = '/' + path;
    this.url = `${labels.get(SCHEME_LABEL)}://${labels.get(ADDRESS_LABEL)}${pathEscape(path)}${query ? '?' + query : ''}`;
    this.key = labels.key() + '\xfe' + this.url;
    this.hash = stringHash(this.key);
    const pub: string[] = [];
    labels.forEach((n, v) => {
      if (!n.startsWith(RESERVED_LABEL_PREFIX)) pub.push(n, v);
    });
    this.publicLabels = Labels.fromSortedPairsUnsafe(pub);
    this.interval = parseDuration(labels.get(SCRAPE_INTERVAL_LABEL)) ?? 60_000;
    this.timeout = parseDuration(labels.get(SCRAPE_TIMEOUT_LABEL)) ?? 10_000;
  }

  /**
   * ms from `now` until this target's next scrape slot: its hash (xor the server's seed)
   * modulo the interval, so targets are spread over the interval and keep their slot across
   * restarts, as Prometheus does.
   */
  offset(now: number, seed: number): number {
    const iv = this.interval;
    const base = iv - (now % iv);
    const off = (((this.hash ^ seed) >>> 0) + Math.floor(this.hash / 4294967296)) % iv;
    let next = base + off;
    if (next > iv) next -= iv;
    return next;
  }
}

/** A 53-bit string hash (cyrb53). */
export function stringHash(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Applies relabel configs to a builder; false when the target is dropped. */
export type TargetRelabeler = (labels: Labels) => Labels | null;

/** Result of building one discovered target. */
export type PopulateResult =
  | { readonly kind: 'target'; readonly labels: Labels; readonly discovered: Labels }
  | { readonly kind: 'dropped'; readonly discovered: Labels }
  | { readonly kind: 'error'; readonly error: string; readonly discovered: Labels };

/** The labels a target has before relabeling (Prometheus's PopulateDiscoveredLabels). */
export function discoveredLabels(lb: LabelsBuilder, cfg: ScrapeConfig, target: LabelSet, group: LabelSet): Labels {
  lb.reset(Labels.EMPTY);
  for (const n in group) lb.set(n, group[n]!);
  for (const n in target) lb.set(n, target[n]!);
  const defaults: [string, string][] = [
    ['job', cfg.jobName],
    [SCRAPE_INTERVAL_LABEL, formatDuration(cfg.scrapeInterval)],
    [SCRAPE_TIMEOUT_LABEL, formatDuration(cfg.scrapeTimeout)],
    [METRICS_PATH_LABEL, cfg.metricsPath],
    [SCHEME_LABEL, cfg.scheme],
  ];
  for (const [n, v] of defaults) if (lb.get(n) === '') lb.set(n, v);
  for (const [k, vs] of Object.entries(cfg.params)) {
    const n = PARAM_LABEL_PREFIX + k;
    if (vs.length > 0 && lb.get(n) === '') lb.set(n, vs[0]!);
  }
  return lb.labels();
}

/**
 * Prometheus's PopulateLabels (3.x): discovered labels, relabel_configs, then checks of the
 * address, interval and timeout; `__meta_*` removed; `instance` defaults to `__address__`
 * (no default port is added, as in 3.x).
 */
export function populateLabels(
  lb: LabelsBuilder,
  cfg: ScrapeConfig,
  target: LabelSet,
  group: LabelSet,
  relabel: TargetRelabeler | undefined,
): PopulateResult {
  const discovered = discoveredLabels(lb, cfg, target, group);
  let res = discovered;
  if (relabel) {
    const r = relabel(discovered);
    if (r === null || r.isEmpty()) return { kind: 'dropped', discovered };
    res = r;
  }
  const addr = res.get(ADDRESS_LABEL);
  if (addr === '') return { kind: 'error', error: 'no address', discovered };
  if (addr.includes('/')) return { kind: 'error', error: `${JSON.stringify(addr)} is not a valid hostname`, discovered };
  const interval = res.get(SCRAPE_INTERVAL_LABEL);
  const iv = parseDuration(interval);
  if (iv === undefined) return { kind: 'error', error: `error parsing scrape interval: not a valid duration string: ${JSON.stringify(interval)}`, discovered };
  if (iv === 0) return { kind: 'error', error: 'scrape interval cannot be 0', discovered };
  const timeout = res.get(SCRAPE_TIMEOUT_LABEL);
  const to = parseDuration(timeout);
  if (to === undefined) return { kind: 'error', error: `error parsing scrape timeout: not a valid duration string: ${JSON.stringify(timeout)}`, discovered };
  if (to === 0) return { kind: 'error', error: 'scrape timeout cannot be 0', discovered };
  if (to > iv) return { kind: 'error', error: `scrape timeout cannot be greater than scrape interval (${JSON.stringify(timeout)} > ${JSON.stringify(interval)})`, discovered };
  lb.reset(res);
  lb.filter((n) => !n.startsWith(META_LABEL_PREFIX));
  if (lb.get('instance') === '') lb.set('instance', addr);
  return { kind: 'target', labels: lb.labels(), discovered };
}

/** Builds every target of `groups` (errors and drops reported through the callbacks). */
export function targetsFromGroups(
  groups: readonly TargetGroup[],
  cfg: ScrapeConfig,
  relabel: TargetRelabeler | undefined,
  onTarget: (t: Target) => void,
  onDropped: (discovered: Labels) => void,
  onError: (err: string, group: TargetGroup, index: number) => void,
): void {
  const lb = new LabelsBuilder();
  for (const g of groups) {
    for (let i = 0; i < g.targets.length; i++) {
      const r = populateLabels(lb, cfg, g.targets[i]!, g.labels, relabel);
      if (r.kind === 'target') onTarget(new Target(r.labels, r.discovered, cfg.params));
      else if (r.kind === 'dropped') onDropped(r.discovered);
      else onError(r.error, g, i);
    }
  }
}
