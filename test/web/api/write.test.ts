import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import snappy from 'snappyjs';
import { Head, Matcher, isStaleNaN, STALE_NAN } from '../../../storage/index.js';
import { writeApi } from '../../../src/web/api/write.js';
import { encodeWriteRequest, decodeWriteRequest, type RemoteMetadata, type WriteSeries } from '../../../src/remote/codec.js';
import { nopLogger } from '../../../src/log/index.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(head: Head, metadata: RemoteMetadata[] = []) {
  app = Fastify();
  await app.register(writeApi, { appendable: head, logger: nopLogger, onMetadata: (m) => metadata.push(m), maxBodyBytes: 1 << 20 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/write`;
}

function post(url: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      ...headers,
    },
  });
}

function series(name: string, extra: Record<string, string>, samples: Array<[number, number]>): WriteSeries {
  return {
    labels: [{ name: '__name__', value: name }, ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v }))].sort((a, b) =>
      a.name < b.name ? -1 : 1,
    ),
    samples: samples.map(([t, v]) => ({ timestamp: t, value: v })),
  };
}

function dump(head: Head, name: string): Array<[string, number[][]]> {
  const q = head.querier(-Infinity, Infinity);
  const ss = q.select([new Matcher('=', '__name__', name)], -Infinity, Infinity);
  const out: Array<[string, number[][]]> = [];
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    const pts: number[][] = [];
    while (it.next()) pts.push([it.atT(), it.atF()]);
    out.push([s.labels.toString(), pts]);
  }
  q.close();
  return out;
}

describe('remote-write codec', () => {
  it('decodes what protobufjs encodes, including negative timestamps, NaN payloads and metadata', () => {
    const req = encodeWriteRequest(
      [series('a', { job: 'x' }, [[-5000, 1], [1_700_000_000_123, Number.NaN], [1_700_000_000_124, STALE_NAN], [2 ** 52, -0]])],
      [{ type: 'counter', family: 'a_total', help: 'An A.', unit: 'seconds' }],
    );
    const seen: Array<{ labels: string[]; ts: number[]; vs: number[] }> = [];
    const meta: RemoteMetadata[] = [];
    const keys: string[] = [];
    const counts = decodeWriteRequest(Buffer.from(req), {
      series: (view) => {
        const names: string[] = [];
        const values: string[] = [];
        const n = view.labels(names, values);
        const labels: string[] = [];
        for (let i = 0; i < n; i++) labels.push(`${names[i]}=${values[i]}`);
        keys.push(view.key());
        seen.push({ labels, ts: [...view.ts.subarray(0, view.n)], vs: [...view.vs.subarray(0, view.n)] });
      },
      metadata: (m) => meta.push(m),
    });
    expect(counts).toEqual({ series: 1, samples: 4 });
    expect(seen[0]!.labels).toEqual(['__name__=a', 'job=x']);
    expect(seen[0]!.ts).toEqual([-5000, 1_700_000_000_123, 1_700_000_000_124, 2 ** 52]);
    expect(Number.isNaN(seen[0]!.vs[1])).toBe(true);
    expect(isStaleNaN(seen[0]!.vs[2]!)).toBe(true);
    expect(Object.is(seen[0]!.vs[3], -0)).toBe(true);
    expect(meta).toEqual([{ type: 'counter', family: 'a_total', help: 'An A.', unit: 'seconds' }]);
    expect(keys[0]!.length).toBeGreaterThan(0);
  });

  it('gives equal keys exactly for equal label lists', () => {
    const req = encodeWriteRequest([series('a', { job: 'x' }, [[1, 1]]), series('a', { job: 'x' }, [[2, 1]]), series('a', { job: 'y' }, [[1, 1]])]);
    const keys: string[] = [];
    decodeWriteRequest(Buffer.from(req), { series: (v) => keys.push(v.key()) });
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).not.toBe(keys[2]);
  });

  it('rejects truncated input with the offset', () => {
    const req = encodeWriteRequest([series('a', {}, [[1, 1]])]);
    expect(() => decodeWriteRequest(Buffer.from(req.subarray(0, req.length - 3)), { series: () => undefined })).toThrow(/offset/);
  });
});

describe('/api/v1/write', () => {
  it('stores series and samples and answers 204', async () => {
    const head = new Head();
    const meta: RemoteMetadata[] = [];
    const url = await start(head, meta);
    const req = encodeWriteRequest(
      [series('up', { job: 'node', instance: 'a:9100' }, [[1000, 1], [2000, 0]]), series('up', { job: 'node', instance: 'b:9100' }, [[1000, 1]])],
      [{ type: 'gauge', family: 'up', help: 'Up.', unit: '' }],
    );
    const res = await post(url, snappy.compress(req));
    expect(res.status).toBe(204);
    expect(dump(head, 'up')).toEqual([
      ['{__name__="up", instance="a:9100", job="node"}', [[1000, 1], [2000, 0]]],
      ['{__name__="up", instance="b:9100", job="node"}', [[1000, 1]]],
    ]);
    expect(meta).toEqual([{ type: 'gauge', family: 'up', help: 'Up.', unit: '' }]);
  });

  it('commits the valid rest and answers 400 naming out-of-order and duplicate samples', async () => {
    const head = new Head();
    const url = await start(head);
    expect((await post(url, snappy.compress(encodeWriteRequest([series('m', {}, [[5000, 1]])])))).status).toBe(204);
    const res = await post(url, snappy.compress(encodeWriteRequest([series('m', {}, [[4000, 2], [5000, 3], [6000, 4]]), series('n', {}, [[1, 1]])])));
    expect(res.status).toBe(400);
    const msg = await res.text();
    expect(msg).toMatch(/1 out of order samples/);
    expect(msg).toMatch(/1 duplicate sample for timestamp/);
    expect(dump(head, 'm')).toEqual([['{__name__="m"}', [[5000, 1], [6000, 4]]]]);
    expect(dump(head, 'n')).toEqual([['{__name__="n"}', [[1, 1]]]]);
  });

  it('rejects series with invalid labels and keeps the others', async () => {
    const head = new Head();
    const url = await start(head);
    const bad: WriteSeries = { labels: [{ name: '__name__', value: 'x' }, { name: 'a', value: '1' }, { name: 'a', value: '2' }], samples: [{ timestamp: 1, value: 1 }] };
    const res = await post(url, snappy.compress(encodeWriteRequest([bad, series('ok', {}, [[1, 1]])])));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/duplicate label name "a"/);
    expect(dump(head, 'ok')).toHaveLength(1);
    expect(dump(head, 'x')).toHaveLength(0);
  });

  it('rejects unsorted labels and empty label names, naming the series', async () => {
    const head = new Head();
    const url = await start(head);
    const unsorted: WriteSeries = { labels: [{ name: '__name__', value: 'u' }, { name: 'z', value: '1' }, { name: 'a', value: '2' }], samples: [{ timestamp: 1, value: 1 }] };
    const r1 = await post(url, snappy.compress(encodeWriteRequest([unsorted])));
    expect(r1.status).toBe(400);
    expect(await r1.text()).toMatch(/labels not sorted by name \("a" after "z"\).*__name__="u"/);
    const empty: WriteSeries = { labels: [{ name: '', value: 'x' }, { name: '__name__', value: 'e' }], samples: [{ timestamp: 1, value: 1 }] };
    const r2 = await post(url, snappy.compress(encodeWriteRequest([empty])));
    expect(r2.status).toBe(400);
    expect(await r2.text()).toMatch(/invalid label name ""/);
    expect(dump(head, 'u')).toHaveLength(0);
    expect(dump(head, 'e')).toHaveLength(0);
  });

  it('answers 400 for corrupt snappy or protobuf and stores nothing', async () => {
    const head = new Head();
    const url = await start(head);
    const r1 = await post(url, Buffer.from('definitely not snappy'));
    expect(r1.status).toBe(400);
    expect(await r1.text()).toMatch(/snappy/);
    const req = encodeWriteRequest([series('z', {}, [[1, 1]]), series('z2', {}, [[1, 1]])]);
    const r2 = await post(url, snappy.compress(req.subarray(0, req.length - 2)));
    expect(r2.status).toBe(400);
    expect(await r2.text()).toMatch(/decode error/);
    expect(dump(head, 'z')).toHaveLength(0);
  });

  it('answers 415 for other encodings and message types, 405 for GET, 413 above the body limit', async () => {
    const head = new Head();
    const url = await start(head);
    const body = snappy.compress(encodeWriteRequest([series('a', {}, [[1, 1]])]));
    const gz = await post(url, body, { 'Content-Encoding': 'gzip' });
    expect(gz.status).toBe(415);
    expect(await gz.text()).toMatch(/only snappy is acceptable/);
    const v2 = await post(url, body, { 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' });
    expect(v2.status).toBe(415);
    const json = await post(url, body, { 'Content-Type': 'application/json' });
    expect(json.status).toBe(415);
    expect((await fetch(url)).status).toBe(405);
    const big = await post(url, new Uint8Array(2 << 20));
    expect(big.status).toBe(413);
    expect(dump(head, 'a')).toHaveLength(0);
  });
});
