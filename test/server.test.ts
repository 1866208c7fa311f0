/**
 * The built server end to end (`node dist/src/main.js`, as `npm start` runs it): it scrapes
 * itself, reloads its config on SIGHUP and POST /-/reload (keeping the old one when the new one
 * is bad, with prometheus_config_last_reload_successful telling), shuts down cleanly on SIGTERM
 * and finds its samples again after a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, getJson, startSextant, type Peer } from './interop/peers.js';

let peer: Peer | undefined;
afterEach(async () => {
  await peer?.stop();
  peer = undefined;
});

const selfConfig = (port: number, extra = '') => `global:
  scrape_interval: 1s
${extra}scrape_configs:
  - job_name: sextant
    static_configs: [{targets: ['127.0.0.1:${port}']}]
`;

async function metricValue(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the server process', () => {
  it('scrapes itself and answers queries about it', async () => {
    peer = await startSextant('global: {scrape_interval: 1s}\n', { args: ['--web.enable-lifecycle'] });
    writeFileSync(join(peer.dir, 'prometheus.yml'), selfConfig(peer.port));
    expect((await fetch(`${peer.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    const up = await eventually(
      async () => {
        const r = await getJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(peer!.url, '/api/v1/query?query=up');
        return r.data.result.length > 0 ? r.data.result : undefined;
      },
      30_000,
      'up from the self-scrape',
    );
    expect(up[0]).toMatchObject({ metric: { __name__: 'up', job: 'sextant', instance: `127.0.0.1:${peer.port}` }, value: [expect.any(Number), '1'] });
    const targets = await getJson<{ data: { activeTargets: Array<{ health: string; scrapePool: string }> } }>(peer.url, '/api/v1/targets');
    expect(targets.data.activeTargets[0]).toMatchObject({ scrapePool: 'sextant', health: 'up' });
    // Filters, as Prometheus: a filtered-out list is empty, not absent.
    expect((await getJson<{ data: unknown }>(peer.url, '/api/v1/targets?state=dropped')).data).toEqual({ activeTargets: [], droppedTargets: [], droppedTargetCounts: { sextant: 0 } });
    expect((await getJson<{ data: { activeTargets: unknown[] } }>(peer.url, '/api/v1/targets?scrapePool=other')).data.activeTargets).toEqual([]);
    expect((await getJson<{ data: unknown }>(peer.url, '/api/v1/scrape_pools')).data).toEqual({ scrapePools: ['sextant'] });
    // HELP/TYPE of the scraped /metrics, per metric and per target.
    const md = await getJson<{ data: Record<string, Array<{ type: string; help: string }>> }>(peer.url, '/api/v1/metadata?metric=prometheus_tsdb_head_series');
    expect(md.data.prometheus_tsdb_head_series).toEqual([{ type: 'gauge', help: expect.stringMatching(/series/i), unit: '' }]);
    const tmd = await getJson<{ data: Array<Record<string, unknown>> }>(
      peer.url,
      '/api/v1/targets/metadata?metric=prometheus_tsdb_head_series&match_target=' + encodeURIComponent('{job="sextant"}'),
    );
    expect(tmd.data).toEqual([
      { target: { instance: `127.0.0.1:${peer.port}`, job: 'sextant' }, type: 'gauge', help: expect.any(String), unit: '' },
    ]);
    expect(await metricValue(peer.url, 'prometheus_tsdb_head_series')).toBeGreaterThan(10);
  });

  it('experimental PromQL functions only with --enable-feature=promql-experimental-functions, as Prometheus 3.5', async () => {
    const q = '/api/v1/query?query=' + encodeURIComponent('sort_by_label(vector(1), "x")') + '&time=4';
    peer = await startSextant('global: {scrape_interval: 1h}\n');
    const off = await fetch(peer.url + q);
    expect(off.status).toBe(400);
    expect(((await off.json()) as { error: string }).error).toMatch(/function "sort_by_label" is not enabled/);
    await peer.stop();
    peer = await startSextant('global: {scrape_interval: 1h}\n', { args: ['--enable-feature=promql-experimental-functions,no-such-feature'] });
    const on = await fetch(peer.url + q);
    expect(on.status).toBe(200);
    expect(peer.output()).toMatch(/Unknown or unsupported feature flag, ignored.*no-such-feature/);
  });

  it('keeps the old config on a bad reload and says so in prometheus_config_last_reload_successful', async () => {
    peer = await startSextant('global: {scrape_interval: 1s}\n', { args: ['--web.enable-lifecycle'] });
    expect(await metricValue(peer.url, 'prometheus_config_last_reload_successful')).toBe(1);
    writeFileSync(join(peer.dir, 'prometheus.yml'), 'global: {scrape_interval: 1s}\nscrape_configs: [{job_name: a, unknown_field: 1}]\n');
    const bad = await fetch(`${peer.url}/-/reload`, { method: 'POST' });
    expect(bad.status).toBe(500);
    expect(await bad.text()).toMatch(/unknown_field/);
    expect(await metricValue(peer.url, 'prometheus_config_last_reload_successful')).toBe(0);
    const cfg = await getJson<{ data: { yaml: string } }>(peer.url, '/api/v1/status/config');
    expect(cfg.data.yaml).not.toMatch(/unknown_field/);
    // SIGHUP reloads too.
    writeFileSync(join(peer.dir, 'prometheus.yml'), selfConfig(peer.port));
    peer.proc.kill('SIGHUP');
    await eventually(async () => ((await metricValue(peer!.url, 'prometheus_config_last_reload_successful')) === 1 ? true : undefined), 10_000, 'a good reload');
  });

  it('shuts down cleanly on SIGTERM and finds its samples after a restart', async () => {
    peer = await startSextant('global: {scrape_interval: 1s}\n', { args: ['--web.enable-remote-write-receiver'] });
    const { encodeWriteRequest } = await import('../src/remote/codec.js');
    const snappy = (await import('snappyjs')).default;
    const now = Date.now();
    const res = await fetch(`${peer.url}/api/v1/write`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
      body: snappy.compress(encodeWriteRequest([{ labels: [{ name: '__name__', value: 'kept' }], samples: [{ timestamp: now, value: 42 }] }])),
    });
    expect(res.status).toBe(204);
    const dir = peer.dir;
    const exited = new Promise<number | null>((r) => peer!.proc.once('exit', (code) => r(code)));
    peer.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'data', 'lock'))).toBe(false);
    // A new process on the same data directory.
    const { spawn } = await import('node:child_process');
    const { SEXTANT_MAIN, freePort } = await import('./interop/peers.js');
    const port = await freePort();
    const proc = spawn(process.execPath, [SEXTANT_MAIN, `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: 'ignore',
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      const r = await eventually(
        async () => {
          const q = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(url, `/api/v1/query?query=kept&time=${now / 1000}`);
          return q.data.result.length > 0 ? q.data.result : undefined;
        },
        30_000,
        'the sample after restart',
      );
      expect(r[0]!.value[1]).toBe('42');
    } finally {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    }
  });
});
