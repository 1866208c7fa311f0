/**
 * A real Prometheus 2.42 scrapes a real node_exporter and remote-writes everything it scrapes
 * into Sextant's /api/v1/write. The same queries at the same past instant must then return the
 * same series and values from both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually, freePort, getJson, missing, NODE_EXPORTER, PROMETHEUS, startPrometheus, startSextant, type Peer } from './peers.js';

const skip = missing(PROMETHEUS, NODE_EXPORTER);

interface VectorResult {
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

function canonical(r: VectorResult): string[] {
  return r.data.result
    .map((s) => `${JSON.stringify(Object.entries(s.metric).sort())} ${s.value[0]} ${s.value[1]}`)
    .sort();
}

describe.skipIf(skip !== undefined)(`Prometheus 2.42 remote-writes into Sextant${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let nodeExporter: ChildProcess;
  let prom: Peer;
  let sextant: Peer;

  beforeAll(async () => {
    const nePort = await freePort();
    nodeExporter = spawn(
      NODE_EXPORTER,
      [`--web.listen-address=127.0.0.1:${nePort}`, '--collector.disable-defaults', '--collector.cpu', '--collector.meminfo', '--collector.loadavg', '--collector.filesystem'],
      { stdio: 'ignore' },
    );
    sextant = await startSextant('global: {scrape_interval: 1h}\n', { args: ['--web.enable-remote-write-receiver'] });
    prom = await startPrometheus(`
global:
  scrape_interval: 1s
  external_labels: {replica: a}
scrape_configs:
  - job_name: node
    static_configs: [{targets: ['127.0.0.1:${nePort}']}]
remote_write:
  - url: ${sextant.url}/api/v1/write
    queue_config: {batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 500ms}
`);
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await sextant?.stop();
    nodeExporter?.kill('SIGTERM');
  });

  it('the same queries give the same series and values', async () => {
    // Wait until Sextant holds a few seconds of scrapes, then compare at an instant both have.
    await eventually(
      async () => {
        const r = await getJson<VectorResult>(sextant.url, '/api/v1/query?query=count_over_time(up[1m])');
        return Number(r.data.result[0]?.value[1] ?? 0) >= 5 ? true : undefined;
      },
      60_000,
      'five scrapes of up in Sextant',
    );
    const t = (Date.now() - 3000) / 1000;
    for (const q of [
      'up',
      'node_load1',
      'count by (job, instance) ({job="node"})',
      'sum by (mode) (node_cpu_seconds_total)',
      'node_memory_MemTotal_bytes',
      'rate(node_cpu_seconds_total{mode="idle"}[30s])',
    ]) {
      const path = `/api/v1/query?query=${encodeURIComponent(q)}&time=${t}`;
      const [a, b] = await Promise.all([getJson<VectorResult>(sextant.url, path), getJson<VectorResult>(prom.url, path)]);
      expect(b.data.result.length, q).toBeGreaterThan(0);
      // Prometheus adds its external labels to what it sends, not to its own query results.
      const withoutReplica = (r: VectorResult): VectorResult => ({
        data: { result: r.data.result.map((s) => ({ ...s, metric: Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== 'replica')) })) },
      });
      expect(canonical(withoutReplica(a)), q).toEqual(canonical(b));
    }
    const series = await getJson<{ data: Array<Record<string, string>> }>(sextant.url, '/api/v1/series?match[]=up');
    expect(series.data[0]).toMatchObject({ __name__: 'up', job: 'node', replica: 'a' });
  }, 120_000);
});
