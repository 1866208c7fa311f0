/**
 * A real Prometheus 2.42 federates from Sextant's /federate (`honor_labels: true`, a `match[]`
 * selector) and ends up with the selected series, carrying Sextant's external labels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, getJson, missing, PROMETHEUS, startPrometheus, startSextant, type Peer } from './peers.js';

const skip = missing(PROMETHEUS);

describe.skipIf(skip !== undefined)(`Prometheus 2.42 federates from Sextant${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let prom: Peer;
  let sextant: Peer;

  beforeAll(async () => {
    // Sextant scrapes itself every second; its config is rewritten once its port is known.
    sextant = await startSextant('global: {scrape_interval: 1s}\n', {
      args: ['--web.enable-lifecycle'],
    });
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(
      join(sextant.dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  external_labels: {dc: eu1}
scrape_configs:
  - job_name: sextant
    static_configs: [{targets: ['127.0.0.1:${sextant.port}']}]
`,
    );
    const reload = await fetch(`${sextant.url}/-/reload`, { method: 'POST' });
    expect(reload.status).toBe(200);
    prom = await startPrometheus(`
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{job="sextant"}']
    static_configs: [{targets: ['127.0.0.1:${sextant.port}']}]
`);
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await sextant?.stop();
  });

  it('ends up with the selected series and the external labels', async () => {
    const r = await eventually(
      async () => {
        const res = await getJson<{ data: { result: Array<{ metric: Record<string, string> }> } }>(
          prom.url,
          '/api/v1/query?query=' + encodeURIComponent('up{job="sextant"}'),
        );
        return res.data.result.length > 0 ? res.data.result : undefined;
      },
      60_000,
      'up{job="sextant"} federated into Prometheus',
    );
    expect(r[0]!.metric).toMatchObject({ __name__: 'up', job: 'sextant', instance: `127.0.0.1:${sextant.port}`, dc: 'eu1' });
    const names = await getJson<{ data: string[] }>(prom.url, '/api/v1/label/__name__/values?match[]=' + encodeURIComponent('{job="sextant"}'));
    expect(names.data).toEqual(expect.arrayContaining(['up', 'scrape_duration_seconds', 'prometheus_tsdb_head_series', 'process_cpu_seconds_total']));
    // The federation scrape itself succeeded.
    const fed = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(prom.url, '/api/v1/query?query=' + encodeURIComponent('up{job="federate"}'));
    expect(fed.data.result[0]!.value[1]).toBe('1');
  }, 120_000);
});
