/**
 * A fake Kubernetes API server on 127.0.0.1 speaking the real list/watch protocol, for the
 * discovery tests and the k8s-sd benchmark:
 *  - LIST with `labelSelector`, `fieldSelector`, `limit`/`continue` (410 for an expired token),
 *    answering a `*List` with `metadata.resourceVersion`;
 *  - WATCH (`watch=true`) from a `resourceVersion` over a chunked stream of JSON lines
 *    (ADDED / MODIFIED / DELETED / BOOKMARK / ERROR), replaying history after that version,
 *    sending `410 Gone` as an ERROR event when the version is older than the kept history
 *    (or as an HTTP status, like some proxies), honouring `timeoutSeconds`, and translating
 *    selector transitions into ADDED/DELETED as the real server does;
 *  - Status-JSON errors (401 without the expected credentials, 404 for unknown resources,
 *    injected 403/500/...), optional TLS, a request log, and hooks to drop watches, compact
 *    history and inject malformed items or event lines.
 *
 * Mutations happen through methods (create/update/remove), not HTTP: discovery only reads.
 * No vitest imports here: the benchmark uses this file too.
 */

import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import {
  matchLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  type FieldRequirement,
  type LabelRequirement,
  type ResourceKind,
} from '../../../discovery/kubernetes/index.js';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string; namespace?: string; labels?: Record<string, string> } };

interface ResourceInfo {
  readonly group: string; // '' for core
  readonly version: string;
  readonly namespaced: boolean;
  readonly kind: string;
}

const RESOURCE_INFO: Record<ResourceKind, ResourceInfo> = {
  nodes: { group: '', version: 'v1', namespaced: false, kind: 'Node' },
  pods: { group: '', version: 'v1', namespaced: true, kind: 'Pod' },
  services: { group: '', version: 'v1', namespaced: true, kind: 'Service' },
  endpoints: { group: '', version: 'v1', namespaced: true, kind: 'Endpoints' },
  namespaces: { group: '', version: 'v1', namespaced: false, kind: 'Namespace' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', namespaced: true, kind: 'EndpointSlice' },
  ingresses: { group: 'networking.k8s.io', version: 'v1', namespaced: true, kind: 'Ingress' },
};

function apiVersion(r: ResourceInfo): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

interface HistoryEvent {
  readonly rv: number;
  readonly kind: ResourceKind;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Obj;
  readonly prev: Obj | undefined;
}

interface Watcher {
  readonly kind: ResourceKind;
  readonly namespace: string;
  readonly label: LabelRequirement[];
  readonly field: FieldRequirement[];
  readonly res: http.ServerResponse;
  readonly bookmarks: boolean;
  timer?: NodeJS.Timeout;
}

/** One logged request. */
export interface LoggedRequest {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** Common name of the TLS client certificate, if one was presented. */
  readonly clientCN?: string;
  /** performance.now() when it arrived. */
  readonly at: number;
}

export interface FakeApiServerOptions {
  /** Serve HTTPS with this certificate (PEM). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca?: string | Buffer; readonly requestCert?: boolean };
  /** Accepted `Authorization` header values; empty = no authentication. */
  readonly authorization?: readonly string[];
  /** Number of events kept for watch resumption. Default 100 000. */
  readonly historyLimit?: number;
  /** Send a BOOKMARK on every watch this often (when the client allows). 0 = never. Default 0. */
  readonly bookmarkIntervalMs?: number;
  /** Answer a too-old watch with HTTP 410 instead of a 200 stream carrying an ERROR event. */
  readonly goneAsHttpStatus?: boolean;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function clone<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

function fieldValue(o: Obj, path: string): string | undefined {
  let cur: unknown = o;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined || cur === null ? undefined : String(cur);
}

function matchesFields(o: Obj, reqs: readonly FieldRequirement[]): boolean {
  for (const r of reqs) {
    const v = fieldValue(o, r.key) ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

export class FakeApiServer {
  private server: http.Server | https.Server;
  private readonly store = new Map<ResourceKind, Map<string, Obj>>();
  private readonly rawItems = new Map<ResourceKind, unknown[]>();
  private readonly history: HistoryEvent[] = [];
  private historyStart = 0;
  private rv = 1000;
  private minRv = 1000;
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly failures = new Map<string, { status: number; remaining: number }>();
  private readonly watchListeners = new Set<() => void>();
  private uidSeq = 0;
  /** Sorted keys per kind for paging, rebuilt after creations and deletions. */
  private readonly sortedKeys = new Map<ResourceKind, string[]>();
  /** Every request, in order. */
  readonly requests: LoggedRequest[] = [];
  url = '';
  /** Accepted `Authorization` values (empty = none required); tests change it to rotate credentials. */
  authorization: string[];

  constructor(private readonly opts: FakeApiServerOptions = {}) {
    this.authorization = [...(opts.authorization ?? [])];
    for (const k of Object.keys(RESOURCE_INFO) as ResourceKind[]) this.store.set(k, new Map());
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = opts.tls
      ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: opts.tls.requestCert ?? false, rejectUnauthorized: false }, handler)
      : http.createServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const a = this.server.address() as AddressInfo;
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${a.port}`;
    return this;
  }

  /** Stops listening and cuts every connection, keeping all state (an API server going down). */
  async goDown(): Promise<void> {
    this.dropWatches();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Listens again on the same port after {@link goDown}. */
  async comeBack(): Promise<void> {
    const port = Number(new URL(this.url).port);
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async close(): Promise<void> {
    for (const w of this.watchers) {
      if (w.timer) clearInterval(w.timer);
      w.res.destroy();
    }
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  // -------------------------------------------------------------------------------------
  // objects

  private key(kind: ResourceKind, ns: string | undefined, name: string): string {
    return RESOURCE_INFO[kind].namespaced ? `${ns ?? ''}/${name}` : name;
  }

  /** Adds an object (deep-copied), assigning resourceVersion, uid and creationTimestamp. */
  create(kind: ResourceKind, obj: object): Obj {
    const o = clone(obj) as Obj;
    const k = this.key(kind, o.metadata.namespace, o.metadata.name);
    const m = this.store.get(kind)!;
    if (m.has(k)) throw new Error(`fake apiserver: ${kind} ${k} already exists`);
    o.metadata.uid ??= `uid-${++this.uidSeq}`;
    o.metadata.creationTimestamp ??= '2025-06-01T10:00:00Z';
    this.bump(kind, 'ADDED', o, undefined);
    m.set(k, o);
    this.sortedKeys.delete(kind);
    return o;
  }

  /** Replaces an object, bumping its resourceVersion. */
  update(kind: ResourceKind, obj: object): Obj {
    const o = clone(obj) as Obj;
    const k = this.key(kind, o.metadata.namespace, o.metadata.name);
    const m = this.store.get(kind)!;
    const prev = m.get(k);
    if (!prev) throw new Error(`fake apiserver: ${kind} ${k} does not exist`);
    o.metadata.uid = prev.metadata.uid;
    o.metadata.creationTimestamp = prev.metadata.creationTimestamp;
    this.bump(kind, 'MODIFIED', o, prev);
    m.set(k, o);
    return o;
  }

  /** Creates or replaces. */
  apply(kind: ResourceKind, obj: { metadata: { name: string; namespace?: string } }): Obj {
    return this.get(kind, obj.metadata.namespace ?? '', obj.metadata.name) ? this.update(kind, obj) : this.create(kind, obj);
  }

  /** Deletes an object; watchers get DELETED with its last state. */
  remove(kind: ResourceKind, namespace: string, name: string): void {
    const k = this.key(kind, namespace, name);
    const m = this.store.get(kind)!;
    const prev = m.get(k);
    if (!prev) throw new Error(`fake apiserver: ${kind} ${k} does not exist`);
    m.delete(k);
    this.sortedKeys.delete(kind);
    const o = clone(prev);
    this.bump(kind, 'DELETED', o, prev);
  }

  get(kind: ResourceKind, namespace: string, name: string): Obj | undefined {
    const o = this.store.get(kind)!.get(this.key(kind, namespace, name));
    return o ? clone(o) : undefined;
  }

  /** Number of stored objects of a kind. */
  count(kind: ResourceKind): number {
    return this.store.get(kind)!.size;
  }

  private bump(kind: ResourceKind, type: HistoryEvent['type'], o: Obj, prev: Obj | undefined): void {
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    const ev: HistoryEvent = { rv: this.rv, kind, type, object: o, prev };
    this.history.push(ev);
    const limit = this.opts.historyLimit ?? 100_000;
    if (this.history.length - this.historyStart > limit) {
      this.historyStart++;
      this.minRv = this.history[this.historyStart - 1].rv;
      if (this.historyStart > 4096) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const w of this.watchers) if (w.kind === kind) this.deliver(w, ev);
  }

  /** Forgets all history: watches from any earlier resourceVersion now get 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.historyStart = 0;
    this.minRv = this.rv;
  }

  // -------------------------------------------------------------------------------------
  // failure injection

  /** The next `count` requests for `kind` (list or watch) fail with `status`. `count` Infinity = until cleared. */
  fail(kind: ResourceKind, status: number, count = Infinity): void {
    this.failures.set(kind, { status, remaining: count });
  }

  clearFailures(): void {
    this.failures.clear();
  }

  /** Items sent verbatim in every LIST of `kind` (malformed objects). */
  injectListItem(kind: ResourceKind, item: unknown): void {
    let a = this.rawItems.get(kind);
    if (!a) {
      a = [];
      this.rawItems.set(kind, a);
    }
    a.push(item);
  }

  /** Writes a raw line to every open watch of `kind` (malformed events). */
  injectWatchLine(kind: ResourceKind, line: string): void {
    for (const w of this.watchers) if (w.kind === kind) w.res.write(line + '\n');
  }

  /** Closes every open watch abruptly, as a restarting API server or a load balancer would. */
  dropWatches(): void {
    for (const w of this.watchers) {
      if (w.timer) clearInterval(w.timer);
      w.res.socket?.destroy();
    }
    this.watchers.clear();
  }

  /** Sends a BOOKMARK at the current resourceVersion on every watch that allows them. */
  sendBookmarks(): void {
    for (const w of this.watchers) if (w.bookmarks) this.bookmark(w);
  }

  /** Open watches of `kind`. */
  watchCount(kind: ResourceKind): number {
    let n = 0;
    for (const w of this.watchers) if (w.kind === kind) n++;
    return n;
  }

  /** Resolves once at least `n` watches of `kind` are open (bounded by `timeoutMs`). */
  async waitForWatches(kind: ResourceKind, n: number, timeoutMs = 20_000): Promise<void> {
    if (this.watchCount(kind) >= n) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.watchListeners.delete(check);
        reject(new Error(`fake apiserver: ${this.watchCount(kind)} of ${n} ${kind} watches open after ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (this.watchCount(kind) >= n) {
          clearTimeout(t);
          this.watchListeners.delete(check);
          resolve();
        }
      };
      this.watchListeners.add(check);
    });
  }

  /** Requests whose path starts with `prefix`. */
  requestsTo(prefix: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  // -------------------------------------------------------------------------------------
  // HTTP

  private route(path: string): { kind: ResourceKind; namespace: string } | undefined {
    const parts = path.split('/').filter(Boolean);
    let rest: string[];
    let group = '';
    if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
    else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1];
      if (parts[2] !== 'v1') return undefined;
      rest = parts.slice(3);
    } else return undefined;
    let namespace = '';
    if (rest[0] === 'namespaces' && rest.length === 3) {
      namespace = decodeURIComponent(rest[1]);
      rest = rest.slice(2);
    }
    if (rest.length !== 1) return undefined;
    const kind = rest[0] as ResourceKind;
    const info = RESOURCE_INFO[kind];
    if (!info || info.group !== group) return undefined;
    if (namespace && !info.namespaced) return undefined;
    return { kind, namespace };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const peer = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
    this.requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers, clientCN: peer?.subject?.CN, at: performance.now() });
    const fail = (code: number, reason: string, message: string): void => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(statusBody(code, reason, message));
    };
    if (req.method !== 'GET') return fail(405, 'MethodNotAllowed', `method ${req.method} not allowed`);
    const auth = this.authorization;
    if (auth.length > 0 && !auth.includes(req.headers.authorization ?? '')) {
      return fail(401, 'Unauthorized', 'Unauthorized');
    }
    const r = this.route(url.pathname);
    if (!r) return fail(404, 'NotFound', 'the server could not find the requested resource');
    const f = this.failures.get(r.kind);
    if (f && f.remaining > 0) {
      f.remaining--;
      const reason = f.status === 403 ? 'Forbidden' : f.status === 404 ? 'NotFound' : f.status === 401 ? 'Unauthorized' : 'InternalError';
      const msg =
        f.status === 403
          ? `${r.kind} is forbidden: User "system:serviceaccount:monitoring:sextant" cannot list resource "${r.kind}" in API group "${RESOURCE_INFO[r.kind].group}" at the cluster scope`
          : f.status === 404
            ? 'the server could not find the requested resource'
            : `internal error listing ${r.kind}`;
      return fail(f.status, reason, msg);
    }
    let label: LabelRequirement[];
    let field: FieldRequirement[];
    try {
      label = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
      field = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '');
    } catch (e) {
      return fail(400, 'BadRequest', `unable to parse requirement: ${(e as Error).message}`);
    }
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      this.watch(r.kind, r.namespace, label, field, url.searchParams, res);
    } else {
      this.list(r.kind, r.namespace, label, field, url.searchParams, res, fail);
    }
  }

  private matches(o: Obj, namespace: string, label: LabelRequirement[], field: FieldRequirement[]): boolean {
    if (namespace && o.metadata.namespace !== namespace) return false;
    return matchLabelSelector(label, o.metadata.labels) && matchesFields(o, field);
  }

  private list(
    kind: ResourceKind,
    namespace: string,
    label: LabelRequirement[],
    field: FieldRequirement[],
    q: URLSearchParams,
    res: http.ServerResponse,
    fail: (code: number, reason: string, message: string) => void,
  ): void {
    const info = RESOURCE_INFO[kind];
    const limit = Number(q.get('limit') ?? '0');
    let after = '';
    let listRv = this.rv;
    const cont = q.get('continue');
    if (cont) {
      let tok: { rv: number; after: string };
      try {
        tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as typeof tok;
      } catch {
        return fail(400, 'BadRequest', 'invalid continue token');
      }
      if (tok.rv < this.minRv) return fail(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
      after = tok.after;
      listRv = tok.rv;
    }
    let keys = this.sortedKeys.get(kind);
    if (!keys) {
      keys = [...this.store.get(kind)!.keys()].sort();
      this.sortedKeys.set(kind, keys);
    }
    const items: Obj[] = [];
    let next = '';
    let lo = 0;
    if (after) {
      // Binary search for the first key after the continue token's.
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid] <= after) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let i = lo; i < keys.length; i++) {
      const k = keys[i];
      const o = this.store.get(kind)!.get(k)!;
      if (!this.matches(o, namespace, label, field)) continue;
      if (limit > 0 && items.length >= limit) {
        next = Buffer.from(JSON.stringify({ rv: listRv, after: keyOf(kind, items[items.length - 1]) })).toString('base64url');
        break;
      }
      items.push(o);
    }
    const raw = !cont ? (this.rawItems.get(kind) ?? []) : [];
    const metadata: Record<string, string> = { resourceVersion: String(listRv) };
    if (next) metadata.continue = next;
    const body = `{"kind":"${info.kind}List","apiVersion":"${apiVersion(info)}","metadata":${JSON.stringify(metadata)},"items":[${[...items.map((o) => JSON.stringify(o)), ...raw.map((o) => JSON.stringify(o))].join(',')}]}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  }

  private watch(kind: ResourceKind, namespace: string, label: LabelRequirement[], field: FieldRequirement[], q: URLSearchParams, res: http.ServerResponse): void {
    const info = RESOURCE_INFO[kind];
    const rvParam = q.get('resourceVersion') ?? '';
    const from = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    if (from !== undefined && (!Number.isFinite(from) || from < this.minRv)) {
      const msg = `too old resource version: ${rvParam} (${this.minRv})`;
      if (this.opts.goneAsHttpStatus) {
        res.writeHead(410, { 'Content-Type': 'application/json' });
        res.end(statusBody(410, 'Expired', msg));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: msg, reason: 'Expired', code: 410 } }) + '\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { kind, namespace, label, field, res, bookmarks: q.get('allowWatchBookmarks') === 'true' };
    if (from === undefined) {
      // No resourceVersion: start with the current state as ADDED events.
      for (const o of this.store.get(kind)!.values()) {
        if (this.matches(o, namespace, label, field)) res.write(JSON.stringify({ type: 'ADDED', object: { kind: info.kind, apiVersion: apiVersion(info), ...o } }) + '\n');
      }
    } else {
      for (let i = this.historyStart; i < this.history.length; i++) {
        const ev = this.history[i];
        if (ev.rv > from && ev.kind === kind) this.deliver(w, ev);
      }
    }
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const end = (): void => {
      if (w.timer) clearInterval(w.timer);
      this.watchers.delete(w);
    };
    let timeoutTimer: NodeJS.Timeout | undefined;
    if (timeout > 0) {
      timeoutTimer = setTimeout(() => {
        end();
        res.end();
      }, timeout * 1000);
    }
    if (w.bookmarks && (this.opts.bookmarkIntervalMs ?? 0) > 0) {
      w.timer = setInterval(() => this.bookmark(w), this.opts.bookmarkIntervalMs);
    }
    res.on('close', () => {
      if (timeoutTimer) clearTimeout(timeoutTimer);
      end();
    });
    for (const l of [...this.watchListeners]) l();
  }

  private bookmark(w: Watcher): void {
    const info = RESOURCE_INFO[w.kind];
    w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: info.kind, apiVersion: apiVersion(info), metadata: { resourceVersion: String(this.rv) } } }) + '\n');
  }

  /** Sends one history event to a watcher, turning selector transitions into ADDED/DELETED. */
  private deliver(w: Watcher, ev: HistoryEvent): void {
    const now = this.matches(ev.object, w.namespace, w.label, w.field);
    const before = ev.prev !== undefined && this.matches(ev.prev, w.namespace, w.label, w.field);
    let type: string;
    if (ev.type === 'ADDED') {
      if (!now) return;
      type = 'ADDED';
    } else if (ev.type === 'DELETED') {
      if (!before) return;
      type = 'DELETED';
    } else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    else return;
    const info = RESOURCE_INFO[ev.kind];
    w.res.write(JSON.stringify({ type, object: { kind: info.kind, apiVersion: apiVersion(info), ...ev.object } }) + '\n');
  }
}

function keyOf(kind: ResourceKind, o: Obj): string {
  return RESOURCE_INFO[kind].namespaced ? `${o.metadata.namespace ?? ''}/${o.metadata.name}` : o.metadata.name;
}
