/**
 * The TSDB admin API against a real storage: delete_series hides the deleted range,
 * clean_tombstones keeps it hidden, a snapshot opens as a new storage with the same data, and
 * without --web.enable-admin-api every endpoint is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels, Matcher, openStorage, type Storage } from '../../../storage/index.js';
import { parseSelector } from '../../../promql/index.js';
import { adminApi } from '../../../src/web/api/admin.js';

let app: FastifyInstance | undefined;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function storageWith(points: number): Promise<Storage> {
  const dir = mkdtempSync(join(tmpdir(), 'sextant-admin-'));
  const s = await openStorage({ dir, compactInterval: 0 });
  await s.ready;
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => s.close());
  const a = s.appender();
  for (const job of ['a', 'b']) {
    let ref = 0;
    const l = Labels.from({ __name__: 'm', job });
    for (let i = 0; i < points; i++) ref = a.append(ref, l, 1000 * i, i);
  }
  a.commit();
  return s;
}

function count(s: Storage, job: string): number {
  const q = s.querier(-Infinity, Infinity);
  const ss = q.select([new Matcher('=', 'job', job)], -Infinity, Infinity);
  let n = 0;
  while (ss.next()) {
    const it = ss.at().iterator();
    while (it.next()) n++;
  }
  q.close();
  return n;
}

async function start(storage: Storage, enabled: boolean, snapshots: string) {
  app = Fastify();
  await app.register(adminApi, {
    enabled,
    parseSelector,
    deleteSeries: async (sets, mint, maxt) => {
      for (const m of sets) storage.delete(m, mint, maxt);
    },
    cleanTombstones: async () => storage.cleanTombstones(),
    snapshot: async (skipHead) => {
      storage.snapshot(join(snapshots, 'snap-1'), { skipHead });
      return 'snap-1';
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/admin/tsdb`;
}

describe('/api/v1/admin/tsdb/*', () => {
  it('refuses everything when the admin API is disabled', async () => {
    const s = await storageWith(10);
    const base = await start(s, false, tmpdir());
    for (const p of ['delete_series?match[]=m', 'clean_tombstones', 'snapshot']) {
      const r = await fetch(`${base}/${p}`, { method: 'POST' });
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' });
    }
    expect(count(s, 'a')).toBe(10);
  });

  it('deletes a time range of the matching series; clean_tombstones keeps it deleted', async () => {
    const s = await storageWith(100);
    const base = await start(s, true, tmpdir());
    const r = await fetch(`${base}/delete_series?match[]=m{job="a"}&start=10&end=49.999`, { method: 'POST' });
    expect(r.status).toBe(204);
    expect(count(s, 'a')).toBe(60);
    expect(count(s, 'b')).toBe(100);
    expect((await fetch(`${base}/clean_tombstones`, { method: 'PUT' })).status).toBe(204);
    expect(count(s, 'a')).toBe(60);
  });

  it('validates parameters with Prometheus messages', async () => {
    const s = await storageWith(5);
    const base = await start(s, true, tmpdir());
    expect(await (await fetch(`${base}/delete_series`, { method: 'POST' })).json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
    expect((await fetch(`${base}/delete_series?match[]=m{`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${base}/snapshot?skip_head=maybe`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${base}/snapshot`)).status).toBe(405);
    expect(count(s, 'a')).toBe(5);
  });

  it('writes a snapshot that opens as a storage with the same samples', async () => {
    const s = await storageWith(50);
    const snapshots = mkdtempSync(join(tmpdir(), 'sextant-snap-'));
    cleanup.push(() => rmSync(snapshots, { recursive: true, force: true }));
    const base = await start(s, true, snapshots);
    const r = await fetch(`${base}/snapshot`, { method: 'POST' });
    expect(await r.json()).toEqual({ status: 'success', data: { name: 'snap-1' } });
    const copy = await openStorage({ dir: join(snapshots, 'snap-1'), compactInterval: 0 });
    await copy.ready;
    try {
      expect(count(copy, 'a')).toBe(50);
      expect(count(copy, 'b')).toBe(50);
    } finally {
      await copy.close();
    }
  });
});
