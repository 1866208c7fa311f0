/**
 * Interop: a real prometheus-node-exporter scraped by both Prometheus 2.42 and Sextant's
 * ScrapeManager with the same scrape config; both must store the same series (names and
 * labels). Label values that 3.x normalises (`le`, `quantile`: "1" → "1.0") are compared as
 * numbers, since 2.42 stores them as exposed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Head, Matcher } from '../../storage/index.js';
import { parseConfig } from '../../src/config/index.js';
import { Registry } from '../../src/metrics/index.js';
import { ScrapeManager } from '../../src/scrape/index.js';
import { NODE_EXPORTER, PROMETHEUS, freePort, getJson, missing, startPrometheus, type Peer } from './peers.js';

const why = missing(PROMETHEUS, NODE_EXPORTER);

function canonical(labels: Record<string, string>): string {
  const out: string[] = [];
  for (const n of Object.keys(labels).sort()) {
    let v = labels[n]!;
    if (n === 'le' || n === 'quantile') v = String(Number(v));
    out.push(`${n}=${JSON.stringify(v)}`);
  }
  return `{${out.join(',')}}`;
}

describe.skipIf(why !== undefined)(`node_exporter scraped by Prometheus 2.42 and Sextant${why ? ` (skipped: ${why})` : ''}`, () => {
  let exporter: ChildProcess | undefined;
  let prom: Peer | undefined;
  let sm: ScrapeManager | undefined;
  const head = new Head();
  let address = '';

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    exporter = spawn(
      NODE_EXPORTER,
      ['--collector.disable-defaults', '--collector.loadavg', '--collector.meminfo', '--collector.cpu', '--collector.uname', `--web.listen-address=${address}`],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`http://${address}/metrics`)).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline || exporter.exitCode !== null) throw new Error('node_exporter did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const yaml = `
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['${address}']
        labels: {env: test}
`;
    prom = await startPrometheus(yaml);
    const cfg = parseConfig(yaml, '/tmp/prometheus.yml');
    sm = new ScrapeManager({ appendable: head, registry: new Registry() });
    sm.applyConfig(cfg);
    sm.updateTargets(new Map([['node', cfg.scrapeConfigs[0]!.staticConfigs.map((g, i) => ({ ...g, source: String(i) }))]]));
  }, 90_000);

  afterAll(async () => {
    await sm?.stop();
    await prom?.stop();
    if (exporter && exporter.exitCode === null) {
      const exited = new Promise((r) => exporter!.once('exit', r));
      exporter.kill('SIGTERM');
      await exited;
    }
  });

  it('both store the same series with the same labels', async () => {
    const sextantSeries = (): Set<string> => {
      const q = head.querier(0, Date.now() + 60_000);
      const ss = q.select([new Matcher('=', 'job', 'node')], 0, Date.now() + 60_000);
      const out = new Set<string>();
      while (ss.next()) out.add(canonical(ss.at().labels.toObject()));
      q.close();
      return out;
    };
    const upCount = async (): Promise<number> => {
      const r = await getJson<{ data: { result: { value: [number, string] }[] } }>(prom!.url, '/api/v1/query?query=' + encodeURIComponent('count_over_time(up{job="node"}[1m])'));
      return Number(r.data.result[0]?.value[1] ?? 0);
    };
    // A few scrapes by both (bounded).
    const deadline = Date.now() + 30_000;
    while ((await upCount()) < 4 || (sm!.activeTargets()[0]?.lastScrape ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`not enough scrapes:\n${prom!.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 2500));
    const t = sm!.activeTargets()[0]!;
    expect(t.health).toBe('up');
    expect(t.lastError).toBe('');

    const r = await getJson<{ data: Record<string, string>[] }>(
      prom!.url,
      `/api/v1/series?match[]=${encodeURIComponent('{job="node"}')}&start=${Math.floor(Date.now() / 1000) - 120}&end=${Math.ceil(Date.now() / 1000) + 5}`,
    );
    const promSeries = new Set(r.data.map(canonical));
    const ours = sextantSeries();
    const onlyProm = [...promSeries].filter((s) => !ours.has(s));
    const onlyOurs = [...ours].filter((s) => !promSeries.has(s));
    expect({ onlyProm, onlyOurs }).toEqual({ onlyProm: [], onlyOurs: [] });
    expect(ours.size).toBeGreaterThan(50);
    expect(ours.has(canonical({ __name__: 'up', job: 'node', instance: address, env: 'test' }))).toBe(true);
  }, 60_000);
});
