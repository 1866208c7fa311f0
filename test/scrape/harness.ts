// Shared helpers of the scrape tests: a controllable HTTP target on 127.0.0.1, config from
// YAML through the real loader, and reading a Head back.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { Head, Matcher, isStaleNaN, ValueType, type Labels } from '../../storage/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { Registry } from '../../src/metrics/index.js';
import { ScrapeManager, type ScrapeLoop } from '../../src/scrape/index.js';

export interface Reply {
  status?: number;
  contentType?: string;
  body: string | Buffer;
  /** ms before answering. */
  delay?: number;
  /** gzip when the request accepts it. */
  gzip?: boolean;
  headers?: Record<string, string>;
}

export class FakeTarget {
  reply: Reply = { body: '' };
  /** Per-path replies (override `reply`). */
  readonly paths = new Map<string, Reply>();
  readonly requests: http.IncomingMessage[] = [];
  private server!: http.Server;
  port = 0;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.requests.push(req);
      const r = this.paths.get(req.url!.split('?')[0]!) ?? this.reply;
      const send = (): void => {
        let body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
        const headers: Record<string, string> = { ...r.headers };
        if (r.contentType !== undefined) headers['Content-Type'] = r.contentType;
        if (r.gzip && /gzip/.test(String(req.headers['accept-encoding']))) {
          body = gzipSync(body);
          headers['Content-Encoding'] = 'gzip';
        }
        res.writeHead(r.status ?? 200, headers);
        res.end(body);
      };
      if (r.delay) setTimeout(send, r.delay);
      else send();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROTOBUF = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

export function config(yaml: string): Config {
  return parseConfig(yaml, '/tmp/prometheus.yml');
}

export function setup(opts: { startLoops?: boolean } = {}) {
  const head = new Head();
  const registry = new Registry();
  const sm = new ScrapeManager({ appendable: head, registry, startLoops: opts.startLoops ?? false });
  return { head, registry, sm };
}

/** The only loop of a pool. */
export function loopOf(sm: ScrapeManager, pool: string): ScrapeLoop {
  const loops = [...sm.pool(pool)!.loops.values()];
  if (loops.length !== 1) throw new Error(`pool ${pool} has ${loops.length} loops`);
  return loops[0]!;
}

export interface StoredSeries {
  labels: Labels;
  samples: [number, number][];
}

/** Every series matching `matchers` (default: all) with its samples. */
export function read(head: Head, ...matchers: Matcher[]): StoredSeries[] {
  const q = head.querier(-1e15, 1e15);
  const ms = matchers.length > 0 ? matchers : [new Matcher('=~', '__name__', '.+')];
  const ss = q.select(ms, -1e15, 1e15);
  const out: StoredSeries[] = [];
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    const samples: [number, number][] = [];
    while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
    out.push({ labels: s.labels, samples });
  }
  q.close();
  return out;
}

export function byName(head: Head, name: string, ...more: Matcher[]): StoredSeries[] {
  return read(head, new Matcher('=', '__name__', name), ...more);
}

/** The single value of `name` at `t`. */
export function valueAt(head: Head, name: string, t: number): number | undefined {
  const s = byName(head, name);
  if (s.length !== 1) throw new Error(`${s.length} series named ${name}`);
  return s[0]!.samples.find(([ts]) => ts === t)?.[1];
}

export const stale = (v: number | undefined): boolean => v !== undefined && isStaleNaN(v);

export const SYNTHETIC = ['scrape_duration_seconds', 'scrape_samples_post_metric_relabeling', 'scrape_samples_scraped', 'scrape_series_added', 'up'];

/** Polls `pred` until true, bounded. */
export async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
