import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { statusApi, type StatusDeps } from '../../../src/web/api/status.js';
import { BUILD_INFO } from '../../../src/version.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const deps: StatusDeps = {
  buildInfo: { ...BUILD_INFO },
  flags: new Map([
    ['query.timeout', '2m'],
    ['web.enable-lifecycle', 'false'],
  ]),
  configYaml: () => 'global:\n  scrape_interval: 15s\n',
  runtimeInfo: () => ({
    startTime: '2026-11-24T00:00:00.000Z',
    CWD: '/',
    hostname: 'h',
    serverTime: '2026-11-24T00:00:01.000Z',
    reloadConfigSuccess: true,
    lastConfigTime: '2026-11-24T00:00:00.000Z',
    corruptionCount: 0,
    goroutineCount: 0,
    GOMAXPROCS: 1,
    GOMEMLIMIT: 0,
    GOGC: '',
    GODEBUG: '',
    storageRetention: '15d',
  }),
  tsdbStatus: (limit) => ({
    headStats: { numSeries: 3, numLabelPairs: 4, chunkCount: 3, minTime: 1000, maxTime: 2000 },
    seriesCountByMetricName: [
      { name: 'a', value: 2 },
      { name: 'b', value: 1 },
    ].slice(0, limit),
    labelValueCountByLabelName: [],
    memoryInBytesByLabelName: [],
    seriesCountByLabelValuePair: [],
  }),
  walReplay: () => ({ min: 0, max: 3, current: 3, state: 'done' }),
};

async function start() {
  app = Fastify();
  await app.register(statusApi, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

describe('/api/v1/status/*', () => {
  it('buildinfo has a plain semver version and no features key', async () => {
    const base = await start();
    const body = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()) as { status: string; data: Record<string, string> };
    expect(body.status).toBe('success');
    expect(body.data.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(body.data).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
  });

  it('config, flags, runtimeinfo and walreplay carry the server facts', async () => {
    const base = await start();
    expect(await (await fetch(`${base}/api/v1/status/config`)).json()).toEqual({ status: 'success', data: { yaml: 'global:\n  scrape_interval: 15s\n' } });
    expect(await (await fetch(`${base}/api/v1/status/flags`)).json()).toEqual({ status: 'success', data: { 'query.timeout': '2m', 'web.enable-lifecycle': 'false' } });
    const rt = (await (await fetch(`${base}/api/v1/status/runtimeinfo`)).json()) as { data: Record<string, unknown> };
    expect(rt.data.storageRetention).toBe('15d');
    expect(rt.data.reloadConfigSuccess).toBe(true);
    expect(await (await fetch(`${base}/api/v1/status/walreplay`)).json()).toEqual({ status: 'success', data: { min: 0, max: 3, current: 3, state: 'done' } });
  });

  it('tsdb honours limit and rejects a bad one with bad_data', async () => {
    const base = await start();
    const ok = (await (await fetch(`${base}/api/v1/status/tsdb?limit=1`)).json()) as { data: { seriesCountByMetricName: unknown[] } };
    expect(ok.data.seriesCountByMetricName).toEqual([{ name: 'a', value: 2 }]);
    const bad = await fetch(`${base}/api/v1/status/tsdb?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'limit must be a positive number' });
  });

  it('answers 405 for a method the endpoint does not accept', async () => {
    const base = await start();
    expect((await fetch(`${base}/api/v1/status/buildinfo`, { method: 'POST' })).status).toBe(405);
  });
});
