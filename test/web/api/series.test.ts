import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Head, Labels, STALE_NAN } from '../../../storage/index.js';
import { parseSelector } from '../../../promql/index.js';
import { seriesApi, unescapeLabelName } from '../../../src/web/api/series.js';
import { federateRoute } from '../../../src/web/api/federate.js';
import { ProtobufParser } from '../../../src/exposition/index.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function headWith(series: Array<[Record<string, string>, Array<[number, number]>]>): Head {
  const head = new Head();
  const a = head.appender();
  for (const [labels, samples] of series) {
    let ref = 0;
    const l = Labels.from(labels);
    for (const [t, v] of samples) ref = a.append(ref, l, t, v);
  }
  a.commit();
  return head;
}

const data: Array<[Record<string, string>, Array<[number, number]>]> = [
  [{ __name__: 'up', job: 'node', instance: 'a:9100' }, [[1000, 1], [61_000, 1]]],
  [{ __name__: 'up', job: 'node', instance: 'b:9100' }, [[1000, 0], [61_000, STALE_NAN]]],
  [{ __name__: 'up', job: 'api', instance: 'c:80' }, [[500_000, 1]]],
  [{ __name__: 'http_requests_total', job: 'api', instance: 'c:80', 'service.name': 'checkout' }, [[1000, 10], [61_000, 25]]],
];

async function start(head: Head, now = 100_000) {
  app = Fastify();
  await app.register(seriesApi, { queryable: head, parseSelector });
  await app.register(federateRoute, { queryable: head, parseSelector, lookbackDeltaMs: 300_000, externalLabels: () => ({ dc: 'eu1', job: 'ignored' }), now: () => now });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as { status: string; data: unknown; warnings?: string[]; error?: string; errorType?: string } };
};

describe('/api/v1/series, /labels, /label/<name>/values', () => {
  it('selects series by match[] and time range', async () => {
    const base = await start(headWith(data));
    const r = await get(`${base}/api/v1/series?match[]=up{job="node"}&start=0&end=100`);
    expect(r.body).toEqual({
      status: 'success',
      data: [
        { __name__: 'up', instance: 'a:9100', job: 'node' },
        { __name__: 'up', instance: 'b:9100', job: 'node' },
      ],
    });
    const late = await get(`${base}/api/v1/series?match[]=up&start=400&end=600`);
    expect(late.body.data).toEqual([{ __name__: 'up', instance: 'c:80', job: 'api' }]);
  });

  it('merges several match[] and truncates at limit with a warning', async () => {
    const base = await start(headWith(data));
    const r = await get(`${base}/api/v1/series?match[]=up{job="api"}&match[]=http_requests_total&limit=1`);
    expect(r.body.data).toHaveLength(1);
    expect(r.body.warnings).toEqual(['results truncated due to limit']);
  });

  it('needs match[] for series and rejects bad selectors with bad_data', async () => {
    const base = await start(headWith(data));
    expect((await get(`${base}/api/v1/series`)).body).toEqual({ status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
    const bad = await get(`${base}/api/v1/series?match[]=up{`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^invalid parameter "match\[\]": /);
  });

  it('lists label names and values, with U__ escaped names', async () => {
    const base = await start(headWith(data));
    expect((await get(`${base}/api/v1/labels`)).body.data).toEqual(['__name__', 'instance', 'job', 'service.name']);
    expect((await get(`${base}/api/v1/labels?match[]=up`)).body.data).toEqual(['__name__', 'instance', 'job']);
    expect((await get(`${base}/api/v1/label/job/values`)).body.data).toEqual(['api', 'node']);
    expect((await get(`${base}/api/v1/label/U__service_2e_name/values`)).body.data).toEqual(['checkout']);
    expect((await get(`${base}/api/v1/label/instance/values?match[]=up{job="node"}&limit=1`)).body).toEqual({
      status: 'success',
      data: ['a:9100'],
      warnings: ['results truncated due to limit'],
    });
    expect(unescapeLabelName('U__a__b')).toBe('a_b');
  });

  it('POST with a form body works like GET (Grafana)', async () => {
    const base = await start(headWith(data));
    const r = await fetch(`${base}/api/v1/series`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'match[]=http_requests_total',
    });
    expect(((await r.json()) as { data: unknown[] }).data).toHaveLength(1);
  });
});

describe('/federate', () => {
  it('serves the latest non-stale sample of selected series with external labels', async () => {
    const base = await start(headWith(data));
    const r = await fetch(`${base}/federate?match[]=${encodeURIComponent('{__name__=~"up|http_requests_total"}')}`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    expect(await r.text()).toBe(
      [
        '# TYPE http_requests_total untyped',
        'http_requests_total{dc="eu1",instance="c:80",job="api","service.name"="checkout"} 25 61000',
        '# TYPE up untyped',
        'up{dc="eu1",instance="a:9100",job="node"} 1 61000',
        '',
      ].join('\n'),
    );
  });

  it('answers protobuf when asked, readable by the protobuf parser', async () => {
    const base = await start(headWith(data));
    const r = await fetch(`${base}/federate?match[]=up`, {
      headers: { Accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited' },
    });
    const body = Buffer.from(await r.arrayBuffer());
    const p = new ProtobufParser(body);
    const seen: string[] = [];
    const { LabelsBuilder } = await import('../../../storage/index.js');
    const b = new LabelsBuilder();
    for (let e = p.next(); e !== null; e = p.next()) {
      if (e !== 'series') continue;
      p.labels(b);
      seen.push(`${b.labels().toString()} ${p.value()} ${p.timestamp()}`);
    }
    expect(seen).toHaveLength(1);
    expect(seen).toEqual(['{__name__="up", dc="eu1", instance="a:9100", job="node"} 1 61000']);
  });

  it('rejects a bad selector with 400', async () => {
    const base = await start(headWith(data));
    expect((await fetch(`${base}/federate?match[]=up{`)).status).toBe(400);
  });
});
