/**
 * The HTTP server: fastify with the management endpoints (`/-/healthy`, `/-/ready`, `/-/reload`,
 * `/-/quit`) and `/metrics`, all under the route prefix. API route groups are fastify plugins
 * registered by the caller through `plugins`, each receiving its dependencies in its options.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { compileRegex } from '../../storage/index.js';
import { registerFormParser } from './api/form.js';
import type { Registry } from '../metrics/index.js';
import type { Logger } from '../log/index.js';

export interface WebOptions {
  /** Path prefix for every route, '' or '/prefix' (from --web.route-prefix / --web.external-url). */
  routePrefix: string;
  registry: Registry;
  logger: Logger;
  /** True once storage is open and the WAL replayed. */
  isReady: () => boolean;
  /** --web.enable-lifecycle */
  lifecycle: boolean;
  /** Reloads the configuration; rejects with the reason when the new config is bad. */
  reload: () => Promise<void>;
  /** Starts a clean shutdown. */
  quit: () => void;
  /** API groups: registered under the route prefix. */
  plugins?: ReadonlyArray<{ plugin: FastifyPluginAsync<never>; opts?: object }>;
  /** Limit on request bodies, in bytes. */
  bodyLimit?: number;
  /** --web.read-timeout in ms. */
  readTimeoutMs?: number;
  /** --web.cors.origin: a fully anchored RE2 regex for allowed `Origin`s. Default '.*'. */
  corsOrigin?: string;
}

const gzipAsync = promisify(gzip);
/** Responses smaller than this are sent uncompressed (gzip would not pay for itself). */
const GZIP_MIN_BYTES = 1024;

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Normalises a route prefix: '' for none, otherwise '/x/y' without a trailing slash. */
export function normalizeRoutePrefix(p: string): string {
  let s = p.trim();
  if (s === '' || s === '/') return '';
  if (!s.startsWith('/')) s = '/' + s;
  return s.replace(/\/+$/, '');
}

export async function createWebServer(opts: WebOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 32 * 1024 * 1024,
    requestTimeout: opts.readTimeoutMs ?? 0,
    // Prometheus accepts `//api/v1/query` and trailing slashes loosely; keep routing forgiving.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  });
  const prefix = normalizeRoutePrefix(opts.routePrefix);

  instrument(app, opts.registry, prefix);
  addCors(app, opts.corsOrigin ?? '.*');
  addGzip(app);

  // Under /api/v1/ every answer is Prometheus's JSON envelope (Grafana parses the body whatever
  // the status); elsewhere plain text, as Prometheus's handlers write.
  const isApi = (url: string) => url.includes('/api/v1/') && !url.includes('/api/v1/write');
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) opts.logger.error('HTTP handler failed', { err: err.message });
    if (isApi(req.url)) {
      const errorType = status >= 500 ? 'internal' : 'bad_data';
      void reply.status(status).type('application/json').send(JSON.stringify({ status: 'error', errorType, error: err.message }));
      return;
    }
    void reply.status(status).type('text/plain; charset=utf-8').send(err.message + '\n');
  });
  app.setNotFoundHandler((req, reply) => {
    if (isApi(req.url)) {
      void reply.status(404).type('application/json').send(JSON.stringify({ status: 'error', errorType: 'not_found', error: `unknown API endpoint ${req.url.split('?')[0]}` }));
      return;
    }
    void reply.status(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });

  await app.register(
    async (r) => {
      // Every endpoint reads form bodies the same way (Grafana POSTs forms even to GET-only
      // endpoints and expects 405, not 415).
      registerFormParser(r);
      r.get('/-/healthy', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('Prometheus Server is Healthy.\n'));
      r.get('/-/ready', async (_req, reply) =>
        opts.isReady()
          ? reply.type('text/plain; charset=utf-8').send('Prometheus Server is Ready.\n')
          : reply.status(503).type('text/plain; charset=utf-8').send('Service Unavailable\n'),
      );

      const reloadHandler = async (_req: unknown, reply: import('fastify').FastifyReply) => {
        if (!opts.lifecycle) return reply.status(403).type('text/plain; charset=utf-8').send('Lifecycle API is not enabled.\n');
        try {
          await opts.reload();
          return reply.status(200).send('');
        } catch (err) {
          return reply.status(500).type('text/plain; charset=utf-8').send(`failed to reload config: ${(err as Error).message}\n`);
        }
      };
      r.post('/-/reload', reloadHandler);
      r.put('/-/reload', reloadHandler);
      const quitHandler = async (_req: unknown, reply: import('fastify').FastifyReply) => {
        if (!opts.lifecycle) return reply.status(403).type('text/plain; charset=utf-8').send('Lifecycle API is not enabled.\n');
        setImmediate(opts.quit);
        return reply.type('text/plain; charset=utf-8').send('Requesting termination... Goodbye!\n');
      };
      r.post('/-/quit', quitHandler);
      r.put('/-/quit', quitHandler);
      for (const path of ['/-/reload', '/-/quit']) {
        r.get(path, async (_req, reply) => reply.status(405).type('text/plain; charset=utf-8').send('Only POST or PUT requests allowed\n'));
      }

      r.get('/metrics', async (_req, reply) => reply.type(TEXT_CONTENT_TYPE).send(opts.registry.expose()));
      // CORS preflights: the headers come from the onRequest hook; the body is Prometheus's.
      r.options('/api/v1/*', async (_req, reply) => reply.type('application/json').send('{"status":"success","data":null}'));

      for (const { plugin, opts: pOpts } of opts.plugins ?? []) await r.register(plugin, (pOpts ?? {}) as never);
    },
    { prefix },
  );
  return app;
}

/** Splits `host:port` (IPv6 in brackets allowed); an empty host means all interfaces. */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid --web.listen-address "${addr}": expected host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid --web.listen-address "${addr}": port out of range`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** prometheus_http_requests_total and prometheus_http_request_duration_seconds by handler. */
function instrument(app: FastifyInstance, registry: Registry, prefix: string): void {
  const requests = registry.counter('prometheus_http_requests_total', 'Counter of HTTP requests.', ['code', 'handler']);
  const durations = registry.histogram(
    'prometheus_http_request_duration_seconds',
    'Histogram of latencies for HTTP requests.',
    ['handler'],
    [0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120],
  );
  app.addHook('onResponse', async (req, reply) => {
    let handler = req.routeOptions.url ?? 'other';
    if (prefix !== '' && handler.startsWith(prefix)) handler = handler.slice(prefix.length) || '/';
    requests.labels(String(reply.statusCode), handler).inc();
    durations.labels(handler).observe(reply.elapsedTime / 1000);
  });
}

/** CORS headers for API requests from an allowed Origin, and OPTIONS preflights, as Prometheus. */
function addCors(app: FastifyInstance, origin: string): void {
  const re = compileRegex(origin);
  app.addHook('onRequest', async (req, reply) => {
    const o = req.headers.origin;
    if (o === undefined || !req.url.includes('/api/v1/')) return;
    if (!re.test(o)) return;
    void reply
      .header('Access-Control-Allow-Origin', o)
      .header('Access-Control-Allow-Headers', 'Accept, Authorization, Content-Type, Origin')
      .header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
      .header('Access-Control-Expose-Headers', 'Date')
      .header('Vary', 'Origin');
  });
}

/** gzip for clients that accept it (Grafana, browsers, Prometheus federating). */
function addGzip(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const acceptsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (payload instanceof Readable) {
      if (!acceptsGzip || reply.getHeader('content-encoding') !== undefined) return payload;
      void reply.header('Content-Encoding', 'gzip').header('Vary', 'Accept-Encoding');
      return payload.pipe(createGzip());
    }
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size < GZIP_MIN_BYTES || reply.getHeader('content-encoding') !== undefined) return payload;
    if (!acceptsGzip) return payload;
    const body = await gzipAsync(payload);
    void reply.header('Content-Encoding', 'gzip').header('Vary', 'Accept-Encoding').removeHeader('content-length');
    return body;
  });
}
