import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createWebServer, normalizeRoutePrefix, parseListenAddress } from '../../src/web/server.js';
import { Registry } from '../../src/metrics/index.js';
import { nopLogger } from '../../src/log/index.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(over: Partial<Parameters<typeof createWebServer>[0]> = {}) {
  const registry = new Registry();
  registry.gauge('test_gauge', 'A gauge.').labels().set(3);
  const calls = { reload: 0, quit: 0 };
  app = await createWebServer({
    routePrefix: '',
    registry,
    logger: nopLogger,
    isReady: () => true,
    lifecycle: true,
    reload: async () => {
      calls.reload++;
    },
    quit: () => {
      calls.quit++;
    },
    ...over,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return { base: `http://127.0.0.1:${addr.port}`, calls };
}

describe('management endpoints', () => {
  it('serves health, readiness and metrics', async () => {
    const { base } = await start();
    const h = await fetch(`${base}/-/healthy`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('Prometheus Server is Healthy.\n');
    const r = await fetch(`${base}/-/ready`);
    expect(r.status).toBe(200);
    const m = await fetch(`${base}/metrics`);
    expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await m.text()).toContain('# TYPE test_gauge gauge\ntest_gauge 3\n');
  });

  it('answers 503 on /-/ready until storage is ready', async () => {
    let ready = false;
    const { base } = await start({ isReady: () => ready });
    expect((await fetch(`${base}/-/ready`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
  });

  it('reloads on POST when lifecycle is enabled, 405 on GET', async () => {
    const { base, calls } = await start();
    expect((await fetch(`${base}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect(calls.reload).toBe(1);
    expect((await fetch(`${base}/-/reload`)).status).toBe(405);
  });

  it('reports a failed reload with 500 and the reason', async () => {
    const { base } = await start({
      reload: async () => {
        throw new Error('bad.yml:3:1: field foo not found');
      },
    });
    const res = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('field foo not found');
  });

  it('refuses lifecycle endpoints when disabled', async () => {
    const { base, calls } = await start({ lifecycle: false });
    const res = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('Lifecycle API is not enabled.\n');
    expect((await fetch(`${base}/-/quit`, { method: 'POST' })).status).toBe(403);
    expect(calls).toEqual({ reload: 0, quit: 0 });
  });

  it('serves everything under the route prefix', async () => {
    const { base } = await start({ routePrefix: '/prom/' });
    expect((await fetch(`${base}/prom/-/healthy`)).status).toBe(200);
    expect((await fetch(`${base}/prom/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(404);
  });
});

describe('helpers', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['prom', '/prom'],
    ['/prom/', '/prom'],
    ['/a/b', '/a/b'],
  ])('normalizeRoutePrefix(%j) = %j', (p, want) => expect(normalizeRoutePrefix(p)).toBe(want));

  it.each([
    ['0.0.0.0:9090', '0.0.0.0', 9090],
    [':9090', '0.0.0.0', 9090],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['[::1]:9090', '::1', 9090],
  ])('parseListenAddress(%j)', (a, host, port) => expect(parseListenAddress(a)).toEqual({ host, port }));

  it.each(['9090', 'localhost', 'host:99999'])('parseListenAddress(%j) fails', (a) => expect(() => parseListenAddress(a)).toThrow('--web.listen-address'));
});
