/**
 * Helpers of the end-to-end tests (e2e.test.ts): loopback HTTP servers standing in for pods'
 * metric endpoints, and a running stack made of the fake API server, a prometheus.yml parsed
 * by the real config loader, the real DiscoveryManager and ScrapeManager, and a Head.
 */

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import { DiscoveryManager, type TargetGroup } from '../../../discovery/index.js';
import { KubernetesSD, type KubernetesSDOptions } from '../../../discovery/kubernetes/index.js';
import { Head, Matcher, ValueType, isStaleNaN } from '../../../storage/index.js';
import { parseConfig, type Config } from '../../../src/config/index.js';
import { Registry } from '../../../src/metrics/index.js';
import { ScrapeManager, discoveryConfigs } from '../../../src/scrape/index.js';
import { FakeApiServer } from './fake-apiserver.js';
import { RecordingLogger } from './harness.js';

export const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export interface PodServerOptions {
  /** Serve HTTPS with this certificate (PEM), as a kubelet does. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Answer 401 unless `Authorization: Bearer <token>` is sent. */
  readonly bearerToken?: string;
}

/** A metrics endpoint of one "pod": fixed bodies per path on one loopback address and port. */
export class PodServer {
  /** Paths requested, in order. */
  readonly requests: string[] = [];
  /** Full request URLs (path and query), in order. */
  readonly urls: string[] = [];
  /** Authorization headers received, in order. */
  readonly authorizations: (string | undefined)[] = [];
  readonly bodies = new Map<string, string>();
  private server: http.Server | undefined;
  port = 0;

  constructor(
    readonly host: string,
    bodies: Record<string, string>,
    private readonly opts: PodServerOptions = {},
  ) {
    for (const [p, b] of Object.entries(bodies)) this.bodies.set(p, b);
  }

  /** Listens on `host:port` (0 = any free port); rejects with the listen error (EADDRINUSE). */
  async start(port = 0): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const path = (req.url ?? '/').split('?')[0]!;
      this.requests.push(path);
      this.urls.push(req.url ?? '/');
      this.authorizations.push(req.headers.authorization);
      if (this.opts.bearerToken !== undefined && req.headers.authorization !== `Bearer ${this.opts.bearerToken}`) {
        res.writeHead(401, { 'Content-Type': 'text/plain' });
        res.end('Unauthorized\n');
        return;
      }
      const body = this.bodies.get(path);
      if (body === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('404 page not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': TEXT });
      res.end(body);
    };
    const server: http.Server = this.opts.tls ? https.createServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, handler) : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** How many times `path` was requested. */
  hits(path: string): number {
    let n = 0;
    for (const p of this.requests) if (p === path) n++;
    return n;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/**
 * Starts one server per entry on the same port (as the pods behind one Endpoints port, or the
 * envoy sidecars on 15090 do). Tries `preferred` first, then free ports picked on the first
 * address; bounded number of attempts.
 */
export async function startOnSamePort(servers: PodServer[], preferred = 0): Promise<number> {
  const candidates = preferred > 0 ? [preferred, 0, 0, 0, 0, 0] : [0, 0, 0, 0, 0];
  let lastErr: unknown;
  for (const want of candidates) {
    const started: PodServer[] = [];
    try {
      await servers[0]!.start(want);
      started.push(servers[0]!);
      const port = servers[0]!.port;
      for (const s of servers.slice(1)) {
        await s.start(port);
        started.push(s);
      }
      return port;
    } catch (err) {
      lastErr = err;
      for (const s of started) await s.stop();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error(`no common free port for ${servers.map((s) => s.host).join(', ')}: ${(lastErr as Error).message}`);
}

/** One stored series: its labels and samples, oldest first. */
export interface Series {
  readonly labels: Record<string, string>;
  readonly samples: [number, number][];
}

/** A running stack: API server → discovery → scrape → Head. */
export class Stack {
  readonly head = new Head();
  readonly registry = new Registry();
  readonly log = new RecordingLogger();
  readonly sd: KubernetesSD;
  readonly sm: ScrapeManager;
  readonly dm: DiscoveryManager;
  /** Every update the discovery manager sent, in order. */
  readonly updates: Map<string, TargetGroup[]>[] = [];
  config: Config | undefined;
  private stopped = false;

  constructor(
    readonly api: FakeApiServer,
    sdOptions: KubernetesSDOptions = {},
  ) {
    this.sd = new KubernetesSD({ logger: this.log, coalesceMs: 5, timing: { lingerMs: 0, initialBackoffMs: 20, maxBackoffMs: 200 }, ...sdOptions });
    this.sm = new ScrapeManager({ appendable: this.head, registry: this.registry, startLoops: true });
    this.dm = new DiscoveryManager(
      (u) => {
        this.updates.push(u);
        this.sm.updateTargets(u);
      },
      { logger: this.log, updateIntervalMs: 20, kubernetes: this.sd },
    );
  }

  /** Parses `yaml` with the real loader and applies it to both managers, as the server does. */
  apply(yaml: string, file = '<e2e prometheus.yml>'): Config {
    const cfg = parseConfig(yaml, file);
    this.config = cfg;
    this.sm.applyConfig(cfg);
    this.dm.applyConfig(discoveryConfigs(cfg));
    return cfg;
  }

  /** Series matching `matchers` with their samples. */
  series(...matchers: Matcher[]): Series[] {
    const q = this.head.querier(-1e15, 1e15);
    try {
      const ss = q.select(matchers.length > 0 ? matchers : [new Matcher('=~', '__name__', '.+')], -1e15, 1e15);
      const out: Series[] = [];
      while (ss.next()) {
        const s = ss.at();
        const it = s.iterator();
        const samples: [number, number][] = [];
        while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
        out.push({ labels: s.labels.toObject(), samples });
      }
      return out;
    } finally {
      q.close();
    }
  }

  /** Series of one scraped instance (all metrics, the synthetic ones included). */
  instance(instance: string, job?: string): Series[] {
    const ms = [new Matcher('=~', '__name__', '.+'), new Matcher('=', 'instance', instance)];
    if (job !== undefined) ms.push(new Matcher('=', 'job', job));
    return this.series(...ms);
  }

  /** Number of successful scrapes of `instance` stored so far (`up` samples equal to 1). */
  okScrapes(instance: string, job?: string): number {
    const ms = [new Matcher('=', '__name__', 'up'), new Matcher('=', 'instance', instance)];
    if (job !== undefined) ms.push(new Matcher('=', 'job', job));
    let n = 0;
    for (const s of this.series(...ms)) for (const [, v] of s.samples) if (v === 1) n++;
    return n;
  }

  /** Whether every series of `instance` ends with a staleness marker. */
  allStale(instance: string): boolean {
    const ss = this.instance(instance);
    return ss.length > 0 && ss.every((s) => s.samples.length > 0 && isStaleNaN(s.samples[s.samples.length - 1]![1]));
  }

  /** Active target addresses of a job, sorted. */
  targets(job: string): string[] {
    return this.sm
      .activeTargets(job)
      .map((t) => t.labels['instance']!)
      .sort();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.dm.stop();
    await this.sm.stop();
    this.sd.close();
  }
}

/** Polls `pred` (for state no event announces: stored samples, scrape results), bounded. */
export async function waitFor(pred: () => boolean, what: string, describe: () => string = () => '', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (pred()) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(50, 5 * (i + 1))));
  }
  const extra = describe();
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra ? `; ${extra}` : ''}`);
}

/** Polls an async `check` until it returns a value (errors count as "not yet"), bounded. */
export async function pollAsync<T>(check: () => Promise<T | undefined>, what: string, describe: () => string = () => '', timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let err: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      err = e;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${err ? `: ${(err as Error).message}` : ''}\n${describe()}`);
}
