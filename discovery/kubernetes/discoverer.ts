/**
 * The Kubernetes Discoverer: per role (and per namespace, as Prometheus), it subscribes to the
 * shared informers it needs, keeps small indexes to know which groups a change touches, and
 * sends the touched groups in coalesced batches: a burst of changes within `coalesceMs`
 * becomes one `send`, and each group in it is built once from the caches at send time.
 */

import type { Discoverer, DiscoveryLogger, TargetGroup } from '../types.js';
import {
  buildEndpoints,
  buildEndpointSlice,
  buildIngress,
  buildNode,
  buildPod,
  buildService,
  deletedGroup,
  endpointSliceRefs,
  endpointSliceSource,
  endpointsRefs,
  endpointsSource,
  ingressSource,
  nodeSource,
  podSource,
  serviceSource,
  sliceServiceName,
  type BuildContext,
} from './build.js';
import type { KubernetesRole, KubernetesSDConfig } from './config.js';
import { DEFAULT_TIMING, InformerRegistry, type InformerHandler, type InformerTiming, type SharedInformer } from './informer.js';
import { KubernetesSDMetrics, type KubernetesEvent } from './metrics.js';
import type { EndpointSlice, Endpoints, Ingress, KubeObject, Namespace, Node, Pod, ResourceKind, Service } from './objects.js';
import { openTransport, type ApiTransport, type InClusterOptions } from './transport.js';

/** Server-wide settings of Kubernetes discovery. */
export interface KubernetesSDOptions {
  /** Default: discards everything. */
  readonly logger?: DiscoveryLogger;
  /** Where in-cluster mode looks for credentials (tests point this at a temp dir). */
  readonly inCluster?: InClusterOptions;
  /** Sent as User-Agent. Default `Sextant`. */
  readonly userAgent?: string;
  /** Changes arriving within this window are sent as one batch. Default 50 ms. */
  readonly coalesceMs?: number;
  /** Informer tunables (backoff, page size, watch timeout, linger). */
  readonly timing?: Partial<InformerTiming>;
}

const NOP_LOGGER: DiscoveryLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Log lines per discoverer and minute for malformed fields; the rest are only counted. */
const INVALID_LOGS_PER_MINUTE = 10;

interface TransportEntry {
  readonly t: ApiTransport;
  refs: number;
}

/**
 * Kubernetes discovery for one server: the shared informers, connections and metrics behind
 * every `kubernetes_sd_configs` entry of every scrape config.
 *
 * @example
 * ```ts
 * const k8s = new KubernetesSD({ logger });
 * registry.collected(...)  // for (const f of k8s.metrics.families()) ...
 * const d = k8s.newDiscoverer(cfg, { name: 'kubernetes-pods' });
 * await d.run(signal, (groups) => manager.update(groups));
 * ```
 */
export class KubernetesSD {
  readonly metrics = new KubernetesSDMetrics();
  readonly logger: DiscoveryLogger;
  readonly timing: InformerTiming;
  private readonly inCluster: InClusterOptions;
  private readonly userAgent: string;
  readonly coalesceMs: number;
  private readonly transports = new Map<string, TransportEntry>();
  readonly informers: InformerRegistry;

  constructor(opts: KubernetesSDOptions = {}) {
    this.logger = opts.logger ?? NOP_LOGGER;
    this.inCluster = opts.inCluster ?? {};
    this.userAgent = opts.userAgent ?? 'Sextant';
    this.coalesceMs = opts.coalesceMs ?? 50;
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.informers = new InformerRegistry(this.logger, this.metrics, this.timing, (t) => this.maybeClose(t));
  }

  /** A Discoverer for one kubernetes_sd_configs entry. Nothing connects until `run`. */
  newDiscoverer(cfg: KubernetesSDConfig, opts: { logger?: DiscoveryLogger; name?: string } = {}): Discoverer {
    return new KubernetesDiscoverer(this, cfg, opts.logger ?? this.logger, opts.name ?? '');
  }

  /** Opens (or shares) the connection of `cfg`. */
  async acquireTransport(cfg: KubernetesSDConfig): Promise<ApiTransport> {
    const t = await openTransport(cfg, this.inCluster, this.userAgent);
    const e = this.transports.get(t.key);
    if (e) {
      t.close();
      e.refs++;
      return e.t;
    }
    this.transports.set(t.key, { t, refs: 1 });
    return t;
  }

  releaseTransport(t: ApiTransport): void {
    const e = this.transports.get(t.key);
    if (!e || e.t !== t) return;
    e.refs--;
    this.maybeClose(t);
  }

  private maybeClose(t: ApiTransport): void {
    const e = this.transports.get(t.key);
    if (!e || e.t !== t || e.refs > 0 || this.informers.usesTransport(t)) return;
    this.transports.delete(t.key);
    t.close();
  }

  /** Stops every informer and closes every connection (server shutdown). */
  close(): void {
    this.informers.close();
    for (const e of this.transports.values()) e.t.close();
    this.transports.clear();
  }
}

/** Multi-valued index: object key → values, value → object keys. */
class RefIndex {
  private readonly byObj = new Map<string, readonly string[]>();
  private readonly byVal = new Map<string, Set<string>>();

  set(obj: string, vals: readonly string[]): void {
    this.delete(obj);
    if (vals.length === 0) return;
    this.byObj.set(obj, vals);
    for (const v of vals) {
      let s = this.byVal.get(v);
      if (!s) {
        s = new Set();
        this.byVal.set(v, s);
      }
      s.add(obj);
    }
  }

  delete(obj: string): void {
    const old = this.byObj.get(obj);
    if (!old) return;
    this.byObj.delete(obj);
    for (const v of old) {
      const s = this.byVal.get(v);
      if (!s) continue;
      s.delete(obj);
      if (s.size === 0) this.byVal.delete(v);
    }
  }

  get(val: string): Iterable<string> {
    return this.byVal.get(val) ?? [];
  }
}

function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}

const MAIN_KIND: Record<KubernetesRole, ResourceKind> = {
  node: 'nodes',
  pod: 'pods',
  service: 'services',
  endpoints: 'endpoints',
  endpointslice: 'endpointslices',
  ingress: 'ingresses',
};

/** One role in one namespace ('' = all): the informers it reads and the groups it owes. */
class RoleUnit {
  readonly dirty = new Set<string>();
  private readonly subs: [SharedInformer, InformerHandler][] = [];
  private unsynced = 0;
  readonly main: SharedInformer;
  private services?: SharedInformer;
  private pods?: SharedInformer;
  private nodes?: SharedInformer;
  private namespaces?: SharedInformer;
  /** pod role: node → pods; endpoints roles: node → objects, pod → objects, service → slices. */
  private readonly byNode = new RefIndex();
  private readonly byPod = new RefIndex();
  private readonly byService = new RefIndex();
  readonly ctx: BuildContext;

  constructor(
    private readonly d: KubernetesDiscoverer,
    readonly role: KubernetesRole,
    namespace: string,
    transport: ApiTransport,
  ) {
    const cfg = d.cfg;
    const sel = (r: KubernetesRole): [string, string] => {
      const s = cfg.selectors.find((x) => x.role === r);
      return [s?.label ?? '', s?.field ?? ''];
    };
    const reg = d.sd.informers;
    const inf = (kind: ResourceKind, r: KubernetesRole | undefined): SharedInformer => {
      const [l, f] = r ? sel(r) : ['', ''];
      return reg.get(transport, kind, namespace, l, f);
    };
    this.main = inf(MAIN_KIND[role], role);
    if (role === 'endpoints' || role === 'endpointslice') {
      this.services = inf('services', 'service');
      this.pods = inf('pods', 'pod');
    }
    if (cfg.attachMetadata.node && (role === 'pod' || role === 'endpoints' || role === 'endpointslice')) {
      // Prometheus narrows the node informer by node selectors for the pod role only.
      this.nodes = inf('nodes', role === 'pod' ? 'node' : undefined);
    }
    if (cfg.attachMetadata.namespace && role !== 'node') this.namespaces = inf('namespaces', undefined);

    const services = this.services;
    const pods = this.pods;
    const nodes = this.nodes;
    const namespaces = this.namespaces;
    this.ctx = {
      pod: (ns, name) => pods?.get(ns, name) as Pod | undefined,
      service: (ns, name) => services?.get(ns, name) as Service | undefined,
      node: nodes ? (name) => nodes.get('', name) as Node | undefined : undefined,
      namespace: namespaces ? (name) => namespaces.get('', name) as Namespace | undefined : undefined,
      invalid: (kind, object, problem) => d.invalid(kind, object, problem),
    };
  }

  start(): void {
    const count = (role: string, ev: KubernetesEvent): void => this.d.sd.metrics.event(role, ev);
    const mainHandler: InformerHandler = {
      add: (o) => {
        count(this.role, 'add');
        this.mainChanged(o, false);
      },
      update: (o) => {
        count(this.role, 'update');
        this.mainChanged(o, false);
      },
      delete: (o) => {
        count(this.role, 'delete');
        this.mainChanged(o, true);
      },
      synced: () => this.informerSynced(),
    };
    this.subscribe(this.main, mainHandler);
    if (this.services) {
      const changed = (o: KubeObject): void => {
        const k = keyOf(o);
        if (this.role === 'endpoints') {
          if (this.main.get(o.metadata.namespace ?? '', o.metadata.name)) this.mark(k);
        } else {
          for (const s of this.byService.get(k)) this.mark(s);
        }
      };
      this.subscribe(this.services, {
        add: (o) => {
          count('service', 'add');
          changed(o);
        },
        update: (o) => {
          count('service', 'update');
          changed(o);
        },
        delete: (o) => {
          count('service', 'delete');
          changed(o);
        },
        synced: () => this.informerSynced(),
      });
    }
    if (this.pods) {
      const changed = (o: KubeObject): void => {
        for (const k of this.byPod.get(keyOf(o))) this.mark(k);
      };
      this.subscribe(this.pods, { add: changed, update: changed, delete: changed, synced: () => this.informerSynced() });
    }
    if (this.nodes) {
      const changed = (o: KubeObject): void => {
        for (const k of this.byNode.get(o.metadata.name)) this.mark(k);
      };
      this.subscribe(this.nodes, { add: changed, update: changed, delete: changed, synced: () => this.informerSynced() });
    }
    if (this.namespaces) {
      // Creation and deletion of a namespace reach us through its objects' own events.
      const changed = (o: KubeObject): void => {
        for (const obj of this.main.list(o.metadata.name)) this.mark(keyOf(obj));
      };
      this.subscribe(this.namespaces, { add: () => undefined, update: changed, delete: () => undefined, synced: () => this.informerSynced() });
    }
  }

  private subscribe(inf: SharedInformer, h: InformerHandler): void {
    this.unsynced++;
    this.subs.push([inf, h]);
    inf.subscribe(h);
  }

  stop(): void {
    for (const [inf, h] of this.subs) inf.unsubscribe(h);
    this.subs.length = 0;
    this.dirty.clear();
  }

  get synced(): boolean {
    return this.unsynced === 0;
  }

  private informerSynced(): void {
    this.unsynced--;
    if (this.unsynced !== 0) return;
    // Every informer has its first list: the full set is owed, and the indexes are built.
    for (const o of this.main.list()) {
      this.index(o);
      this.mark(keyOf(o));
    }
  }

  private mainChanged(o: KubeObject, deleted: boolean): void {
    const k = keyOf(o);
    if (deleted) {
      this.byNode.delete(k);
      this.byPod.delete(k);
      this.byService.delete(k);
    } else {
      this.index(o);
    }
    this.mark(k);
  }

  private index(o: KubeObject): void {
    const k = keyOf(o);
    switch (this.role) {
      case 'pod':
        if (this.nodes) {
          const n = (o as Pod).spec?.nodeName;
          this.byNode.set(k, typeof n === 'string' && n !== '' ? [n] : []);
        }
        return;
      case 'endpoints': {
        const r = endpointsRefs(o as Endpoints);
        this.byPod.set(k, r.pods);
        if (this.nodes) this.byNode.set(k, r.nodes);
        return;
      }
      case 'endpointslice': {
        const r = endpointSliceRefs(o as EndpointSlice);
        this.byPod.set(k, r.pods);
        if (this.nodes) this.byNode.set(k, r.nodes);
        const svc = sliceServiceName(o as EndpointSlice);
        this.byService.set(k, svc !== undefined ? [`${o.metadata.namespace}/${svc}`] : []);
        return;
      }
      default:
        return;
    }
  }

  private mark(key: string): void {
    if (!this.synced) return;
    this.dirty.add(key);
    this.d.schedule();
  }

  /** The group for one dirty key, from the caches as they are now. */
  build(key: string): TargetGroup {
    const [ns, name] = splitKey(key);
    const o = this.main.get(ns, name);
    switch (this.role) {
      case 'pod':
        return o ? buildPod(o as Pod, this.ctx) : deletedGroup(podSource(ns, name));
      case 'service':
        return o ? buildService(o as Service, this.ctx) : deletedGroup(serviceSource(ns, name));
      case 'endpoints':
        if (!o) return deletedGroup(endpointsSource(ns, name));
        this.d.overCapacity(o);
        return buildEndpoints(o as Endpoints, this.ctx);
      case 'endpointslice':
        return o ? buildEndpointSlice(o as EndpointSlice, this.ctx) : deletedGroup(endpointSliceSource(ns, name));
      case 'node':
        return o ? buildNode(o as Node, this.ctx) : deletedGroup(nodeSource(name));
      case 'ingress':
        return o ? buildIngress(o as Ingress, this.ctx) : deletedGroup(ingressSource(ns, name));
    }
  }
}

/** Backoff between attempts to open the connection (unreadable kubeconfig, missing in-cluster files). */
function connectDelay(attempt: number, t: InformerTiming): number {
  return Math.min(t.maxBackoffMs, t.initialBackoffMs * 2 ** Math.min(attempt, 30));
}

/** One kubernetes_sd_configs entry. */
export class KubernetesDiscoverer implements Discoverer {
  private units: RoleUnit[] = [];
  private timer: NodeJS.Timeout | undefined;
  private send: ((groups: TargetGroup[]) => void) | undefined;
  private invalidWindowStart = 0;
  private readonly warnedCapacity = new Set<string>();
  private invalidLogged = 0;

  constructor(
    readonly sd: KubernetesSD,
    readonly cfg: KubernetesSDConfig,
    private readonly logger: DiscoveryLogger,
    private readonly name: string,
  ) {}

  async run(signal: AbortSignal, send: (groups: TargetGroup[]) => void): Promise<void> {
    if (signal.aborted) return;
    this.send = send;
    const transport = await this.connect(signal);
    if (!transport) return;
    try {
      const namespaces = this.namespaces(transport);
      for (const ns of namespaces) this.units.push(new RoleUnit(this, this.cfg.role, ns, transport));
      for (const u of this.units) u.start();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      for (const u of this.units) u.stop();
      this.units = [];
      this.send = undefined;
      this.sd.releaseTransport(transport);
    }
  }

  private async connect(signal: AbortSignal): Promise<ApiTransport | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const t = await this.sd.acquireTransport(this.cfg);
        this.logger.info(t.mode === 'in-cluster' ? 'kubernetes discovery: using pod service account via in-cluster config' : `kubernetes discovery: using ${t.mode}`, {
          job: this.name,
          role: this.cfg.role,
          server: t.server,
        });
        return t;
      } catch (e) {
        this.sd.metrics.failures++;
        const delay = connectDelay(attempt, this.sd.timing);
        this.logger.error('kubernetes discovery: cannot connect to the API server', { job: this.name, role: this.cfg.role, err: (e as Error).message, retry_in_ms: delay });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          }, { once: true });
        });
      }
    }
    return undefined;
  }

  /** The namespaces to watch: '' (all) unless names or own_namespace narrow it. */
  private namespaces(t: ApiTransport): string[] {
    if (this.cfg.role === 'node') return [''];
    const names = new Set(this.cfg.namespaces?.names ?? []);
    const own = this.cfg.namespaces?.ownNamespace ?? false;
    if (own) {
      try {
        const ns = t.ownNamespace();
        if (ns === undefined) {
          this.logger.error('kubernetes discovery: namespaces.own_namespace needs in-cluster mode', { job: this.name });
        } else {
          names.add(ns);
        }
      } catch (e) {
        this.sd.metrics.failures++;
        this.logger.error('kubernetes discovery: cannot determine own namespace', { job: this.name, err: (e as Error).message });
      }
    }
    if (names.size === 0 && !own) return [''];
    return [...names];
  }

  /** Endpoints objects cap at 1000 addresses; say so once per object, as Prometheus warns. */
  overCapacity(o: KubeObject): void {
    const v = o.metadata.labels?.['endpoints.kubernetes.io/over-capacity'];
    if (v !== 'truncated' && v !== 'warning') {
      this.warnedCapacity.delete(keyOf(o));
      return;
    }
    if (this.warnedCapacity.has(keyOf(o))) return;
    this.warnedCapacity.add(keyOf(o));
    this.logger.warn(
      v === 'truncated'
        ? 'kubernetes discovery: Endpoints object has more than 1000 addresses and was truncated, use "role: endpointslice" instead'
        : 'kubernetes discovery: Endpoints object has more than 1000 addresses, use "role: endpointslice" instead',
      { job: this.name, endpoints: keyOf(o) },
    );
  }

  /** A malformed field met while building a group: counted, and logged at a bounded rate. */
  invalid(kind: string, object: string, problem: string): void {
    this.sd.metrics.malformedObject(kind);
    const now = Date.now();
    if (now - this.invalidWindowStart > 60_000) {
      this.invalidWindowStart = now;
      this.invalidLogged = 0;
    }
    if (this.invalidLogged++ < INVALID_LOGS_PER_MINUTE) {
      this.logger.error('kubernetes discovery: skipping malformed part of object', { job: this.name, kind, object, problem });
    }
  }

  /** Arms the coalescing timer; the batch goes out `coalesceMs` after its first change. */
  schedule(): void {
    if (this.timer || !this.send) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.sd.coalesceMs);
  }

  private flush(): void {
    const send = this.send;
    if (!send) return;
    const groups: TargetGroup[] = [];
    for (const u of this.units) {
      if (u.dirty.size === 0) continue;
      for (const k of u.dirty) {
        try {
          groups.push(u.build(k));
        } catch (e) {
          this.sd.metrics.failures++;
          this.logger.error('kubernetes discovery: building target group failed', { job: this.name, role: u.role, object: k, err: String(e) });
        }
      }
      u.dirty.clear();
    }
    if (groups.length === 0) return;
    this.sd.metrics.sentBatches++;
    this.sd.metrics.sentGroups += groups.length;
    send(groups);
  }
}
