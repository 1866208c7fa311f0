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

describe('HTTP behaviour shared by every endpoint', () => {
  it('counts requests by handler and code in prometheus_http_requests_total', async () => {
    const { base } = await start();
    await fetch(`${base}/-/healthy`);
    await fetch(`${base}/-/healthy`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/prometheus_http_requests_total\{code="200",handler="\/-\/healthy"\} 2/);
    expect(text).toMatch(/prometheus_http_request_duration_seconds_count\{handler="\/-\/healthy"\} 2/);
  });

  it('gzips large responses for clients that accept it', async () => {
    const registry = new Registry();
    const g = registry.gauge('big_gauge', 'A gauge with many series.', ['i']);
    for (let i = 0; i < 200; i++) g.labels(String(i)).set(i);
    const { base } = await start({ registry });
    const { request } = await import('node:http');
    const raw = await new Promise<{ enc: string | undefined; body: Buffer }>((resolve, reject) => {
      request(`${base}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ enc: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(raw.enc).toBe('gzip');
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(raw.body).toString()).toContain('big_gauge{i="199"} 199');
  });

  it('sets CORS headers for an allowed Origin on API paths only', async () => {
    const { base } = await start({ corsOrigin: 'https?://grafana\\.example' });
    // A 404 answer still carries the headers: they are set before routing.
    const ok = await fetch(`${base}/api/v1/anything`, { headers: { Origin: 'https://grafana.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://grafana.example');
    const no = await fetch(`${base}/api/v1/anything`, { headers: { Origin: 'https://evil.example' } });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
    const notApi = await fetch(`${base}/-/healthy`, { headers: { Origin: 'https://grafana.example' } });
    expect(notApi.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('answers under /api/v1/ are always JSON', () => {
  it('unknown endpoints get a not_found envelope, preflights a success', async () => {
    const { base } = await start();
    const r = await fetch(`${base}/api/v1/nope?x=1`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ status: 'error', errorType: 'not_found', error: 'unknown API endpoint /api/v1/nope' });
    const o = await fetch(`${base}/api/v1/query`, { method: 'OPTIONS', headers: { Origin: 'http://x' } });
    expect(o.status).toBe(200);
    expect(o.headers.get('access-control-allow-origin')).toBe('http://x');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
