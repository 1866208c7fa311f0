/**
 * The HTTP server: fastify with the management endpoints (`/-/healthy`, `/-/ready`, `/-/reload`,
 * `/-/quit`) and `/metrics`, all under the route prefix. API route groups are fastify plugins
 * registered by the caller through `plugins`, each receiving its dependencies in its options.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
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
}

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
    ignoreTrailingSlash: true,
    ignoreDuplicateSlashes: true,
  });
  const prefix = normalizeRoutePrefix(opts.routePrefix);

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) opts.logger.error('HTTP handler failed', { err: err.message });
    void reply.status(status).type('text/plain; charset=utf-8').send(err.message + '\n');
  });

  await app.register(
    async (r) => {
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
