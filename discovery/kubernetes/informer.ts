/**
 * Shared list+watch informers on @kubernetes/client-node's ListWatch (the object cache, the
 * resourceVersion bookkeeping and the relist-and-diff after `410 Gone`), around which this file
 * adds what a long-running server needs:
 *  - LIST in pages (`limit`/`continue`), rejecting malformed items instead of crashing;
 *  - WATCH with bookmarks and a server-side timeout over our own transport, line-by-line
 *    decoding with a size limit, malformed events counted and skipped;
 *  - reconnect with exponential backoff and jitter after errors (ListWatch itself gives up),
 *    resuming from the last resourceVersion, and a full relist when it is too old;
 *  - one informer per connection, resource kind, namespace and selectors, shared by every
 *    scrape config that needs it (reference counted, stopped a little after the last user).
 */

import type { IncomingMessage } from 'node:http';

import type { DiscoveryLogger } from '../types.js';
import type { KubernetesSDMetrics } from './metrics.js';
import { checkObject, resourcePath, RESOURCES, trimObject, type KubeObject, type ResourceKind } from './objects.js';
import { KubernetesApiError, KubernetesConfigError, type ApiTransport } from './transport.js';

type CacheModule = typeof import('@kubernetes/client-node/dist/cache.js');
type LibObject = import('@kubernetes/client-node/dist/types.js').KubernetesObject;
type LibWatch = import('@kubernetes/client-node/dist/watch.js').Watch;
type ListWatch = InstanceType<CacheModule['ListWatch']>;

let cacheModule: Promise<CacheModule> | undefined;
/** Loaded on first use: it drags in the library's serializer, which is not small. */
function loadCacheModule(): Promise<CacheModule> {
  cacheModule ??= import('@kubernetes/client-node/dist/cache.js') as Promise<CacheModule>;
  return cacheModule;
}

/** Tunables; the defaults suit a real cluster, tests shrink them. */
export interface InformerTiming {
  /** First retry delay after an error; doubles up to maxBackoffMs, with ±20% jitter. Default 800 ms (client-go). */
  readonly initialBackoffMs: number;
  /** Default 30 s. */
  readonly maxBackoffMs: number;
  /** Server-side watch timeout sent as `timeoutSeconds`; the watch is then resumed. Default 300–600 s, randomised like client-go. */
  readonly watchTimeoutSeconds: number;
  /** LIST page size. Default 500 (client-go's). */
  readonly pageSize: number;
  /** How long an unused informer keeps running (so a config reload does not relist). Default 10 s. */
  readonly lingerMs: number;
  /** A request with no bytes for this long is aborted and retried. Default 60 s beyond the watch timeout. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_TIMING: InformerTiming = Object.freeze({
  initialBackoffMs: 800,
  maxBackoffMs: 30_000,
  watchTimeoutSeconds: 0,
  pageSize: 500,
  lingerMs: 10_000,
  idleTimeoutMs: 0,
});

/** Limits on what the API server may send us. */
const MAX_LIST_PAGE_BYTES = 256 << 20;
const MAX_WATCH_LINE_BYTES = 16 << 20;
const MAX_LIST_PAGES = 100_000;
/** Malformed-object log lines per informer and minute; the rest are only counted. */
const MALFORMED_LOGS_PER_MINUTE = 10;

/** Receives an informer's changes. Callbacks must not throw (they are guarded anyway). */
export interface InformerHandler {
  add(o: KubeObject): void;
  update(o: KubeObject): void;
  delete(o: KubeObject): void;
  /** The first full list has been applied (called at once for a late subscriber). */
  synced(): void;
}

async function readBody(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    const b = c as Buffer;
    size += b.length;
    if (size > limit) {
      res.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The API server's error for a non-2xx response, with its Status message when it sent one. */
async function apiError(res: IncomingMessage, what: string): Promise<KubernetesApiError> {
  const status = res.statusCode ?? 0;
  let msg = '';
  try {
    const text = await readBody(res, 1 << 20);
    try {
      const s = JSON.parse(text) as { message?: unknown; reason?: unknown };
      if (typeof s.message === 'string') msg = s.message;
      else if (typeof s.reason === 'string') msg = s.reason;
    } catch {
      msg = text.slice(0, 200).trim();
    }
  } catch {
    // The status code says enough.
  }
  const hint =
    status === 401
      ? ' (unauthorized: check the credentials)'
      : status === 403
        ? ' (forbidden: check the RBAC rules of the service account)'
        : status === 404
          ? ' (the API server does not serve this resource)'
          : '';
  return new KubernetesApiError(status, `${what}: HTTP ${status}${hint}${msg ? `: ${msg}` : ''}`);
}

/** One list+watch of one resource kind in one namespace (or all) with fixed selectors. */
export class SharedInformer {
  readonly key: string;
  readonly path: string;
  refs = 0;
  private lw: ListWatch | undefined;
  private readonly handlers = new Set<InformerHandler>();
  private syncedOnce = false;
  private listedSinceWatch = false;
  private stopped = false;
  private starting = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lastWatchStart = 0;
  private lastWatchEvents = 0;
  private malformedWindowStart = 0;
  private malformedLogged = 0;
  private readonly aborts = new Set<AbortController>();

  constructor(
    readonly transport: ApiTransport,
    readonly kind: ResourceKind,
    readonly namespace: string,
    readonly labelSelector: string,
    readonly fieldSelector: string,
    private readonly logger: DiscoveryLogger,
    private readonly metrics: KubernetesSDMetrics,
    private readonly timing: InformerTiming,
    private readonly onIdle: (inf: SharedInformer) => void,
  ) {
    this.key = informerKey(transport.key, kind, namespace, labelSelector, fieldSelector);
    this.path = resourcePath(kind, namespace);
  }

  /** Whether the first full list has been applied. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  /** The cached object, or undefined. `namespace` is '' for cluster-scoped kinds. */
  get(namespace: string, name: string): KubeObject | undefined {
    return this.lw?.get(name, RESOURCES[this.kind].namespaced ? namespace : undefined) as KubeObject | undefined;
  }

  /** The cached objects, of one namespace when given. */
  list(namespace?: string): readonly KubeObject[] {
    return (this.lw?.list(namespace) ?? []) as readonly KubeObject[];
  }

  subscribe(h: InformerHandler): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.handlers.add(h);
    this.refs++;
    if (this.syncedOnce) queueMicrotask(() => this.handlers.has(h) && this.guard(() => h.synced()));
    if (!this.starting && !this.stopped) {
      this.starting = true;
      this.start().catch((e: unknown) => this.failed(e));
    }
  }

  unsubscribe(h: InformerHandler): void {
    if (!this.handlers.delete(h)) return;
    this.refs--;
    if (this.refs === 0) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        if (this.refs === 0) this.onIdle(this);
      }, this.timing.lingerMs);
      this.lingerTimer.unref();
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.error('kubernetes discovery: event handler failed', { path: this.path, err: String(e) });
    }
  }

  private what(): string {
    const sel = [this.labelSelector && `labelSelector=${this.labelSelector}`, this.fieldSelector && `fieldSelector=${this.fieldSelector}`].filter(Boolean).join(' ');
    return `${this.path}${sel ? ` (${sel})` : ''} on ${this.transport.server}`;
  }

  private async start(): Promise<void> {
    const { ListWatch } = await loadCacheModule();
    if (this.stopped) return;
    const watcher = { watch: this.watch.bind(this) } as unknown as LibWatch; // duck-typed: ListWatch only calls watch()
    const lw = new ListWatch<LibObject>(this.path, watcher, () => this.listAll(), false, this.labelSelector || undefined, this.fieldSelector || undefined);
    this.lw = lw;
    this.metrics.informers++;
    lw.on('add', (o) => {
      for (const h of this.handlers) this.guard(() => h.add(o as KubeObject));
    });
    lw.on('update', (o) => {
      for (const h of this.handlers) this.guard(() => h.update(o as KubeObject));
    });
    lw.on('delete', (o) => {
      for (const h of this.handlers) this.guard(() => h.delete(o as KubeObject));
    });
    lw.on('error', (err) => this.failed(err));
    await lw.start();
  }

  /** ListWatch gave up after an error: log, count, and restart later from the last resourceVersion. */
  private failed(err: unknown): void {
    if (this.stopped) return;
    this.metrics.failures++;
    const delay = this.backoff();
    const e = err as { message?: string; statusCode?: number };
    const fields: Record<string, unknown> = { path: this.path, server: this.transport.server, retry_in_ms: delay, err: e?.message ?? String(err) };
    if (e?.statusCode) fields.status = e.statusCode;
    if (err instanceof KubernetesConfigError) this.logger.error('kubernetes discovery: cannot authenticate to the API server', fields);
    else this.logger.error('kubernetes discovery: list/watch failed', fields);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) (this.lw ? this.lw.start() : this.start()).catch((e: unknown) => this.failed(e));
    }, delay);
    this.retryTimer.unref();
  }

  private backoff(): number {
    const base = Math.min(this.timing.maxBackoffMs, this.timing.initialBackoffMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private malformed(what: string): void {
    this.metrics.malformedObject(this.kind);
    const now = Date.now();
    if (now - this.malformedWindowStart > 60_000) {
      this.malformedWindowStart = now;
      this.malformedLogged = 0;
    }
    if (this.malformedLogged++ < MALFORMED_LOGS_PER_MINUTE) {
      this.logger.error('kubernetes discovery: skipping malformed object', { path: this.path, server: this.transport.server, problem: what });
    }
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams();
    if (this.labelSelector) q.set('labelSelector', this.labelSelector);
    if (this.fieldSelector) q.set('fieldSelector', this.fieldSelector);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  private newAbort(): AbortController {
    const ac = new AbortController();
    this.aborts.add(ac);
    return ac;
  }

  /** LIST in pages; a page with `410` (expired continue token) restarts the list once. */
  private async listAll(): Promise<{ metadata: { resourceVersion: string }; items: LibObject[] }> {
    const ac = this.newAbort();
    try {
      for (let restart = 0; ; restart++) {
        const items: LibObject[] = [];
        let cont = '';
        let rv = '';
        let expired = false;
        for (let page = 0; page < MAX_LIST_PAGES; page++) {
          const params: Record<string, string> = { limit: String(this.timing.pageSize) };
          if (cont) params.continue = cont;
          const res = await this.transport.get(this.path + this.query(params), ac.signal, this.idleTimeout());
          this.metrics.request(res.statusCode);
          if (res.statusCode === 410 && cont && restart === 0) {
            res.resume();
            expired = true;
            break;
          }
          if (res.statusCode !== 200) throw await apiError(res, `LIST ${this.what()}`);
          const text = await readBody(res, MAX_LIST_PAGE_BYTES);
          let body: { metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown };
          try {
            body = JSON.parse(text) as typeof body;
          } catch (e) {
            throw new Error(`LIST ${this.what()}: response is not JSON: ${(e as Error).message}`);
          }
          if (typeof body !== 'object' || body === null || !Array.isArray(body.items)) {
            throw new Error(`LIST ${this.what()}: response has no items list`);
          }
          for (const it of body.items) {
            const problem = checkObject(this.kind, it);
            if (problem) this.malformed(problem);
            else items.push(trimObject(this.kind, it as KubeObject) as LibObject);
          }
          rv = typeof body.metadata?.resourceVersion === 'string' ? body.metadata.resourceVersion : '';
          cont = typeof body.metadata?.continue === 'string' ? body.metadata.continue : '';
          if (!cont) break;
        }
        if (expired) continue;
        if (rv === '') throw new Error(`LIST ${this.what()}: response has no metadata.resourceVersion`);
        this.attempt = 0;
        this.listedSinceWatch = true;
        return { metadata: { resourceVersion: rv }, items };
      }
    } catch (e) {
      if (!(e instanceof KubernetesApiError) && !(e instanceof KubernetesConfigError)) this.metrics.request(undefined);
      throw e;
    } finally {
      this.aborts.delete(ac);
    }
  }

  private idleTimeout(): number {
    return this.timing.idleTimeoutMs > 0 ? this.timing.idleTimeoutMs : 60_000;
  }

  /**
   * The Watch ListWatch calls after each list and each clean watch end. Never throws; reports
   * the end through `done` (with an error ListWatch restarts us via 'error', with a 410 it
   * relists, with null it re-watches from the last resourceVersion).
   */
  private async watch(
    _path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const ac = this.newAbort();
    const afterList = this.listedSinceWatch;
    if (afterList) {
      this.listedSinceWatch = false;
      if (!this.syncedOnce) {
        this.syncedOnce = true;
        for (const h of this.handlers) this.guard(() => h.synced());
      }
    }
    // A watch that ended at once without events (a proxy cutting streams, a flapping server)
    // must not turn into a hot loop: wait as after an error. A fresh list in between is no loop.
    const quick = !afterList && this.lastWatchStart > 0 && Date.now() - this.lastWatchStart < 1000 && this.lastWatchEvents === 0;
    const delay = quick ? this.backoff() : 0;
    let finished = false;
    const finish = (err: unknown): void => {
      if (finished || ac.signal.aborted) return;
      finished = true;
      this.aborts.delete(ac);
      ac.abort();
      done(err);
    };
    void (async () => {
      if (delay > 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          ac.signal.addEventListener('abort', () => {
            clearTimeout(t);
            r();
          });
        });
        if (ac.signal.aborted) return;
      }
      this.lastWatchStart = Date.now();
      this.lastWatchEvents = 0;
      const timeout = this.timing.watchTimeoutSeconds > 0 ? this.timing.watchTimeoutSeconds : Math.round(300 + Math.random() * 300);
      const q: Record<string, string> = { watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(timeout) };
      if (params.resourceVersion !== undefined && params.resourceVersion !== '') q.resourceVersion = String(params.resourceVersion);
      let res: IncomingMessage;
      try {
        res = await this.transport.get(this.path + this.query(q), ac.signal, this.timing.idleTimeoutMs > 0 ? this.timing.idleTimeoutMs : (timeout + 60) * 1000);
      } catch (e) {
        if (!ac.signal.aborted && !(e instanceof KubernetesConfigError)) this.metrics.request(undefined);
        finish(e);
        return;
      }
      this.metrics.request(res.statusCode);
      if (res.statusCode !== 200) {
        const err = await apiError(res, `WATCH ${this.what()}`);
        if (err.statusCode === 410) this.gone();
        finish(err);
        return;
      }
      this.readEvents(res, ac, callback, finish);
    })().catch((e: unknown) => finish(e));
    return ac;
  }

  private gone(): void {
    this.metrics.relists++;
    this.logger.info('kubernetes discovery: resourceVersion too old (410 Gone), relisting', { path: this.path, server: this.transport.server });
  }

  /** Splits the chunked stream into JSON lines and hands decoded events to ListWatch. */
  private readEvents(res: IncomingMessage, ac: AbortController, callback: (phase: string, obj: unknown) => void, finish: (err: unknown) => void): void {
    let buf = '';
    const onAbort = (): void => {
      res.destroy();
    };
    ac.signal.addEventListener('abort', onAbort);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() !== '') this.event(line, callback, finish);
        if (ac.signal.aborted) return;
      }
      if (buf.length > MAX_WATCH_LINE_BYTES) {
        this.malformed(`watch event longer than ${MAX_WATCH_LINE_BYTES} bytes`);
        finish(new Error(`WATCH ${this.what()}: event longer than ${MAX_WATCH_LINE_BYTES} bytes`));
      }
    });
    res.on('end', () => {
      if (buf.trim() !== '') this.event(buf, callback, finish);
      finish(null);
    });
    res.on('error', (e) => finish(e));
    res.on('close', () => finish(null));
  }

  private event(line: string, callback: (phase: string, obj: unknown) => void, finish: (err: unknown) => void): void {
    let ev: { type?: unknown; object?: unknown };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      this.malformed(`watch event is not JSON: ${line.slice(0, 120)}`);
      return;
    }
    const obj = ev?.object as { code?: unknown; message?: unknown; metadata?: { resourceVersion?: unknown } } | undefined;
    switch (ev?.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const problem = checkObject(this.kind, obj);
        if (problem) {
          this.malformed(`${ev.type} event: ${problem}`);
          return;
        }
        this.lastWatchEvents++;
        this.attempt = 0;
        callback(ev.type, trimObject(this.kind, obj as KubeObject));
        return;
      }
      case 'BOOKMARK':
        if (typeof obj?.metadata?.resourceVersion !== 'string') {
          this.malformed('BOOKMARK event without metadata.resourceVersion');
          return;
        }
        this.lastWatchEvents++;
        callback('BOOKMARK', obj);
        return;
      case 'ERROR': {
        const code = typeof obj?.code === 'number' ? obj.code : 0;
        if (code === 410) {
          this.gone();
          callback('ERROR', obj); // ListWatch forgets the resourceVersion; the clean end relists.
          finish(null);
          return;
        }
        finish(new KubernetesApiError(code, `WATCH ${this.what()}: error event${code ? ` ${code}` : ''}: ${typeof obj?.message === 'string' ? obj.message : 'no message'}`));
        return;
      }
      default:
        this.malformed(`watch event with unknown type ${JSON.stringify(ev?.type)}`);
    }
  }

  /** Stops watching and forgets the cache. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    for (const ac of this.aborts) ac.abort();
    this.aborts.clear();
    if (this.lw) {
      void this.lw.stop();
      this.metrics.informers--;
    }
    this.handlers.clear();
  }
}

/** The sharing key: same connection, kind, namespace and selectors = same informer. */
export function informerKey(transportKey: string, kind: ResourceKind, namespace: string, label: string, field: string): string {
  return JSON.stringify([transportKey, kind, namespace, label, field]);
}

/** The role whose events a kind's changes count under (namespaces count under none). */
export function kindRole(kind: ResourceKind): string | undefined {
  switch (kind) {
    case 'pods':
      return 'pod';
    case 'services':
      return 'service';
    case 'endpoints':
      return 'endpoints';
    case 'endpointslices':
      return 'endpointslice';
    case 'nodes':
      return 'node';
    case 'ingresses':
      return 'ingress';
    case 'namespaces':
      return undefined;
  }
}

/** All running informers of one server, by key. */
export class InformerRegistry {
  private readonly informers = new Map<string, SharedInformer>();

  constructor(
    private readonly logger: DiscoveryLogger,
    private readonly metrics: KubernetesSDMetrics,
    private readonly timing: InformerTiming,
    private readonly onTransportUnused: (t: ApiTransport) => void,
  ) {}

  /** The informer for this key, created (not yet started) if needed. Pair with `subscribe`. */
  get(transport: ApiTransport, kind: ResourceKind, namespace: string, label: string, field: string): SharedInformer {
    const ns = RESOURCES[kind].namespaced ? namespace : '';
    const key = informerKey(transport.key, kind, ns, label, field);
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new SharedInformer(transport, kind, ns, label, field, this.logger, this.metrics, this.timing, (i) => this.retire(i));
      this.informers.set(key, inf);
    }
    return inf;
  }

  private retire(inf: SharedInformer): void {
    if (this.informers.get(inf.key) !== inf) return;
    this.informers.delete(inf.key);
    inf.stop();
    for (const other of this.informers.values()) if (other.transport === inf.transport) return;
    this.onTransportUnused(inf.transport);
  }

  /** Whether any informer still reads through `t`. */
  usesTransport(t: ApiTransport): boolean {
    for (const inf of this.informers.values()) if (inf.transport === t) return true;
    return false;
  }

  /** Number of informers (running or lingering). */
  get size(): number {
    return this.informers.size;
  }

  /** Stops everything (server shutdown). */
  close(): void {
    const transports = new Set<ApiTransport>();
    for (const inf of this.informers.values()) {
      transports.add(inf.transport);
      inf.stop();
    }
    this.informers.clear();
    for (const t of transports) this.onTransportUnused(t);
  }
}
