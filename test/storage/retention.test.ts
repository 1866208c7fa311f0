import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '../../storage/index.js';
import { L, query, H, T0, openReady, tempDirs } from './helpers.js';

const newDir = tempDirs('sextant-retention-test-');
const open = openReady;

function fill(db: Storage, series: number, from: number, to: number, step: number): void {
  const refs = new Array<number>(series).fill(0);
  for (let t = from; t < to; t += step) {
    const app = db.appender();
    for (let i = 0; i < series; i++) refs[i] = app.append(refs[i]!, L('__name__', 'm', 'i', String(i)), t, (t / step) * i + Math.cos(t));
    app.commit();
  }
}

const metric = (db: Storage, name: string): number => db.metricFamilies().find((m) => m.name === name)!.value();

describe('retention', () => {
  it('by time: drops whole blocks that end more than the retention before the newest sample', async () => {
    const dir = newDir();
    const db = await open(dir, { retentionTime: 6 * H });
    fill(db, 10, T0, T0 + 20 * H, 300_000);
    const res = db.compact();
    expect(res.persisted.length).toBe(9); // [0, 2h) … [16h, 18h)
    // Newest sample at 20h − 5 min: blocks ending at or before 14h − 5 min + 1 ms are older than 6 h.
    expect(db.blocks().map((b) => (b.minTime - T0) / H)).toEqual([12, 14, 16]);
    expect(res.deleted.length).toBe(6);
    expect(metric(db, 'prometheus_tsdb_time_retentions_total')).toBe(1);
    expect(metric(db, 'prometheus_tsdb_lowest_timestamp')).toBe(T0 + 12 * H);
    const got = query(db);
    for (const xs of Object.values(got)) {
      expect(xs[0]![0]).toBe(T0 + 12 * H);
      expect(xs.at(-1)![0]).toBe(T0 + 20 * H - 300_000);
    }
    expect(fs.readdirSync(join(dir, 'blocks')).length).toBe(3);
    await db.close();
  });

  it('by size: drops the oldest blocks until blocks + WAL fit', async () => {
    const dir = newDir();
    const noCompaction = { maxBlockDuration: 2 * H };
    const db = await open(dir, noCompaction);
    fill(db, 30, T0, T0 + 13 * H, 60_000);
    db.compact();
    const metas = db.blocks();
    expect(metas.length).toBe(5);
    const blockBytes = metas.map((m) => fs.statSync(join(dir, 'blocks', `${m.ulid}.block`)).size);
    const walBytes = metric(db, 'prometheus_tsdb_wal_storage_size_bytes');
    expect(walBytes).toBeGreaterThan(0);
    expect(metric(db, 'prometheus_tsdb_storage_blocks_bytes')).toBe(blockBytes.reduce((a, b) => a + b, 0));
    await db.close();
    // Room for the WAL and the two newest blocks (plus a little).
    const limit = walBytes + blockBytes[3]! + blockBytes[4]! + 100;
    const db2 = await open(dir, { ...noCompaction, retentionSize: limit });
    expect(metric(db2, 'prometheus_tsdb_retention_limit_bytes')).toBe(limit);
    const res = db2.compact();
    expect(res.deleted).toEqual(metas.slice(0, 3).map((m) => m.ulid));
    expect(db2.blocks().map((b) => b.ulid)).toEqual(metas.slice(3).map((m) => m.ulid));
    expect(metric(db2, 'prometheus_tsdb_size_retentions_total')).toBe(1);
    // A second round deletes nothing more.
    expect(db2.compact().deleted).toEqual([]);
    for (const xs of Object.values(query(db2))) expect(xs[0]![0]).toBe(T0 + 6 * H);
    await db2.close();
  });

  it('limits compaction to 10% of the retention time', async () => {
    const dir = newDir();
    // 10% of 60 h = 6 h: 2 h blocks merge into 6 h blocks, never 18 h ones.
    const db = await open(dir, { retentionTime: 60 * H });
    fill(db, 2, T0, T0 + 40 * H, 600_000);
    db.compact();
    const spans = db.blocks().map((b) => (b.maxTime - b.minTime) / H);
    expect(Math.max(...spans)).toBe(6);
    expect(spans.filter((s) => s === 6).length).toBe(6);
    await db.close();
  });
});
