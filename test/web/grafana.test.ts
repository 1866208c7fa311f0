/**
 * Grafana's Prometheus data source as a client: every request of the checklist in
 * ../shared/reference/grafana-datasource-contract.md ("must have" and "needed for the query
 * editor"), sent the way Grafana sends it — POST form bodies, parameters split between URL and
 * body, float-second times, millisecond exemplar probes, a URL path prefix, Grafana's headers —
 * against the built server, checking the fields Grafana reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import snappy from 'snappyjs';
import { encodeWriteRequest } from '../../src/remote/codec.js';
import { startSextant, type Peer } from '../interop/peers.js';

let peer: Peer;
let base: string;
const T = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000; // data ends 30 min ago
const GRAFANA_HEADERS = {
  'User-Agent': 'Grafana/11.3.0',
  'X-Dashboard-Uid': 'abc',
  'X-Panel-Id': '2',
  'X-Grafana-Org-Id': '1',
  'X-Datasource-Uid': 'prom',
};

beforeAll(async () => {
  peer = await startSextant('global: {scrape_interval: 1h}\n', { args: ['--web.enable-remote-write-receiver', '--web.route-prefix=/prom'] });
  base = `${peer.url}/prom`;
  const series = [];
  for (const job of ['api', 'db']) {
    for (let i = 0; i < 2; i++) {
      const samples = [];
      for (let k = 0; k <= 60; k++) samples.push({ timestamp: T - (60 - k) * 15_000, value: k * (i + 1) });
      series.push({
        labels: [
          { name: '__name__', value: 'http_requests_total' },
          { name: 'instance', value: `h${i}:80` },
          { name: 'job', value: job },
          { name: 'service.name', value: `svc-${job}` },
        ],
        samples,
      });
    }
  }
  const res = await fetch(`${base}/api/v1/write`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
    body: snappy.compress(encodeWriteRequest(series, [{ type: 'counter', family: 'http_requests_total', help: 'Requests.', unit: '' }])),
  });
  expect(res.status).toBe(204);
}, 120_000);

afterAll(async () => {
  await peer?.stop();
});

type Body = { status: string; data?: any; error?: string; errorType?: string; warnings?: string[] };

async function grafana(method: 'GET' | 'POST', path: string, params: Record<string, string | string[]> = {}, urlParams: Record<string, string> = {}) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  const q = new URLSearchParams(urlParams);
  let url = `${base}${path}`;
  let init: RequestInit = { method, headers: { ...GRAFANA_HEADERS, 'Accept-Encoding': 'gzip' } };
  if (method === 'GET') {
    for (const [k, v] of form) q.append(k, v);
  } else {
    init = { ...init, headers: { ...GRAFANA_HEADERS, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() };
  }
  if ([...q].length > 0) url += `?${q}`;
  const r = await fetch(url, init);
  const text = await r.text();
  expect(() => JSON.parse(text), `${method} ${path} must answer JSON, got: ${text}`).not.toThrow();
  return { status: r.status, body: JSON.parse(text) as Body };
}

const sec = (ms: number) => String(ms / 1000);

describe('A. Save & test and dashboards', () => {
  it('1. 1+1 at time=4 is the scalar [4,"2"], by POST form and by GET', async () => {
    for (const method of ['POST', 'GET'] as const) {
      const r = await grafana(method, '/api/v1/query', { query: '1+1', time: '4', timeout: '60s' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
    }
  });

  it('2. query_range with float-second times, float or duration step, timeout and unknown parameters', async () => {
    const start = T - 10 * 60_000 + 0.5;
    for (const step of ['15', '0.5', '60s', '3600']) {
      const r = await grafana('POST', '/api/v1/query_range', {
        query: 'sum by (job) (rate(http_requests_total[5m]))',
        start: sec(Math.round(start)),
        end: sec(T),
        step,
        timeout: '60s',
        max_source_resolution: '5m',
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data.resultType).toBe('matrix');
      const series = r.body.data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
      expect(series.map((s) => s.metric)).toEqual([{ job: 'api' }, { job: 'db' }]);
      const stepMs = /s$/.test(step) ? 60_000 : Number(step) * 1000;
      for (const s of series) {
        for (const [t, v] of s.values) {
          expect(typeof t).toBe('number');
          expect(typeof v).toBe('string');
          expect(Math.round((t * 1000 - Math.round(start)) % stepMs)).toBe(0);
        }
      }
    }
  });

  it('3. vector, scalar and string shapes; NaN and Inf as strings', async () => {
    const v = await grafana('POST', '/api/v1/query', { query: 'http_requests_total{job="api"}', time: sec(T) });
    expect(v.body.data.resultType).toBe('vector');
    expect(v.body.data.result[0]).toEqual({
      metric: { __name__: 'http_requests_total', instance: 'h0:80', job: 'api', 'service.name': 'svc-api' },
      value: [T / 1000, '60'],
    });
    const s = await grafana('POST', '/api/v1/query', { query: 'NaN', time: '4.5' });
    expect(s.body.data).toEqual({ resultType: 'scalar', result: [4.5, 'NaN'] });
    const inf = await grafana('POST', '/api/v1/query', { query: 'vector(1/0)', time: '4' });
    expect(inf.body.data.result[0].value).toEqual([4, '+Inf']);
    const str = await grafana('GET', '/api/v1/query', { query: '"hello"', time: '4' });
    expect(str.body.data).toEqual({ resultType: 'string', result: [4, 'hello'] });
  });

  it('4. POST with parameters in the URL only, the body only, or split: same answer', async () => {
    const p = { query: 'count(http_requests_total)', time: sec(T) };
    const body = await grafana('POST', '/api/v1/query', p);
    const url = await grafana('POST', '/api/v1/query', {}, p);
    const split = await grafana('POST', '/api/v1/query', { query: p.query }, { time: p.time });
    expect(body.body.data.result[0].value).toEqual([T / 1000, '4']);
    expect(url.body).toEqual(body.body);
    expect(split.body).toEqual(body.body);
  });

  it('5. errors: bad PromQL 400 bad_data, execution 422, timeout 503', async () => {
    const bad = await grafana('POST', '/api/v1/query', { query: 'sum(', time: '4' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(bad.body.error).toMatch(/parse error/);
    const exec = await grafana('POST', '/api/v1/query', { query: 'http_requests_total + on(job) http_requests_total', time: sec(T) });
    expect(exec.status).toBe(422);
    expect(exec.body).toMatchObject({ status: 'error', errorType: 'execution' });
    const slow = await grafana('POST', '/api/v1/query_range', {
      query: 'sum(rate(http_requests_total[1m:1ms]))',
      start: sec(T - 3600_000),
      end: sec(T),
      step: '1',
      timeout: '1ms',
    });
    expect(slow.status).toBe(503);
    expect(slow.body).toMatchObject({ status: 'error', errorType: 'timeout' });
  });

  it('6. works behind the path prefix; nothing outside it', async () => {
    expect((await fetch(`${peer.url}/api/v1/query?query=1`)).status).toBe(404);
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
  });
});

describe('B. Query editor, variables, ad-hoc filters, alerting views', () => {
  const range = () => ({ start: String(Math.floor((T - 3600_000) / 1000)), end: String(Math.ceil(T / 1000)) });

  it('7. labels by GET and POST with repeated match[] and limit', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const all = await grafana(method, '/api/v1/labels', { ...range(), limit: '40000' });
      expect(all.body.data).toEqual(['__name__', 'instance', 'job', 'service.name']);
      const some = await grafana(method, '/api/v1/labels', { ...range(), 'match[]': ['http_requests_total{job="api"}', 'up'], limit: '0' });
      expect(some.body.data).toEqual(['__name__', 'instance', 'job', 'service.name']);
    }
  });

  it('8. label values of __name__ and others, with match[] and limit; U__ names', async () => {
    const names = await grafana('GET', '/api/v1/label/__name__/values', { ...range(), limit: '40000', 'match[]': '{__name__=~".*requests.*"}' });
    expect(names.body.data).toEqual(['http_requests_total']);
    const inst = await grafana('GET', '/api/v1/label/instance/values', { ...range(), 'match[]': 'http_requests_total{job="db",instance=~"h.*"}' });
    expect(inst.body.data).toEqual(['h0:80', 'h1:80']);
    const utf8 = await grafana('GET', '/api/v1/label/U__service_2e_name/values', range());
    expect(utf8.body.data).toEqual(['svc-api', 'svc-db']);
    const limited = await grafana('GET', '/api/v1/label/job/values', { ...range(), limit: '1' });
    expect(limited.body.data).toEqual(['api']);
  });

  it('9. series by GET and POST, including {__name__!=""}', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const r = await grafana(method, '/api/v1/series', { ...range(), 'match[]': '{__name__!=""}', limit: '40000' });
      expect(r.body.data).toHaveLength(4);
      expect(r.body.data[0]).toEqual({ __name__: 'http_requests_total', instance: 'h0:80', job: 'api', 'service.name': 'svc-api' });
    }
  });

  it('10. metadata', async () => {
    const r = await grafana('GET', '/api/v1/metadata', { limit: '40000' });
    expect(r.body).toEqual({ status: 'success', data: { http_requests_total: [{ type: 'counter', help: 'Requests.', unit: '' }] } });
  });

  it('11. buildinfo: plain semver, no features', async () => {
    const r = await grafana('GET', '/api/v1/status/buildinfo');
    expect(r.body.data.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.body.data).not.toHaveProperty('features');
  });

  it('12. a POST on a GET-only read endpoint is 405, not 404', async () => {
    for (const path of ['/api/v1/label/job/values', '/api/v1/metadata', '/api/v1/status/buildinfo', '/api/v1/rules']) {
      const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });
      expect(r.status, path).toBe(405);
    }
  });

  it('13. the exemplar probe with millisecond times succeeds with an empty list', async () => {
    const now = Date.now();
    for (const method of ['GET', 'POST'] as const) {
      const r = await grafana(method, '/api/v1/query_exemplars', { query: 'test', start: String(now - 1800_000), end: String(now) });
      expect(r.body).toEqual({ status: 'success', data: [] });
    }
  });

  it('14. rules: an empty group list', async () => {
    expect((await grafana('GET', '/api/v1/rules')).body).toEqual({ status: 'success', data: { groups: [] } });
  });

  it('15. query_result() variables: instant query with an integer time', async () => {
    const r = await grafana('GET', '/api/v1/query', { query: 'count by (job) (http_requests_total)', time: String(T / 1000) });
    expect(r.body.data.resultType).toBe('vector');
    expect(r.body.data.result).toHaveLength(2);
  });
});
