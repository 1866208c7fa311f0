import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Matcher, StorageError, STALE_NAN, openStorage, type Storage } from '../../storage/index.js';
import { L, countSamples, query, recorder, run, transpileStorage, H, T0, openReady, tempDirs } from './helpers.js';

const newDir = tempDirs('sextant-db-test-');
const open = openReady;

/** Appends `series` series from `from` to `to` (exclusive) every `step` ms; one commit per step. */
function fill(db: Storage, series: number, from: number, to: number, step = 60_000): number {
  const refs = new Array<number>(series).fill(0);
  let n = 0;
  for (let t = from; t < to; t += step) {
    const app = db.appender();
    for (let i = 0; i < series; i++) {
      const v = i === 3 && (t / step) % 17 === 0 ? STALE_NAN : Math.round((t - T0) / 1000) * (i + 1) + (i % 2 ? Math.sqrt(t % 9973) : 0);
      refs[i] = app.append(refs[i]!, L('__name__', i % 2 ? 'b' : 'a', 'i', String(i), 'job', 'j'), t + (i % 4), v);
      n++;
    }
    app.commit();
  }
  return n;
}

describe('openStorage', () => {
  it('persists the oldest head range once the head spans 1.5 block ranges; answers stay the same, also after reopening', async () => {
    const dir = newDir();
    const db = await open(dir);
    const n = fill(db, 20, T0, T0 + 7 * H);
    const before = query(db);
    expect(countSamples(before)).toBe(n);
    const res = db.compact();
    // 7 h of data: [T0, T0+2h) and [T0+2h, T0+4h) and [T0+4h, T0+6h) go until the head spans ≤ 3 h.
    expect(res.persisted.length).toBe(2);
    expect(db.blocks().map((b) => [b.minTime - T0, b.maxTime - T0])).toEqual([
      [0, 2 * H],
      [2 * H, 4 * H],
    ]);
    expect(db.head.minValidTime).toBe(T0 + 4 * H);
    expect(query(db)).toEqual(before);
    // Sub-ranges and matchers across the block/head border.
    const ms = [new Matcher('=', '__name__', 'b'), new Matcher('!=', 'i', '5')];
    const part = query(db, ms, T0 + 3 * H, T0 + 5 * H);
    for (const xs of Object.values(part)) {
      expect(xs[0]![0]).toBeGreaterThanOrEqual(T0 + 3 * H);
      expect(xs.at(-1)![0]).toBeLessThanOrEqual(T0 + 5 * H);
    }
    expect(Object.keys(part).length).toBe(9);
    const q = db.querier(T0, T0 + 7 * H);
    expect(q.labelValues('i', [new Matcher('=', '__name__', 'a')], T0, T0 + 7 * H)).toEqual(['0', '10', '12', '14', '16', '18', '2', '4', '6', '8']);
    expect(q.labelNames([], T0, T0 + H)).toEqual(['__name__', 'i', 'job']);
    q.close();
    // Appending below the persisted range is rejected.
    const app = db.appender();
    expect(() => app.append(0, L('__name__', 'a', 'i', '0', 'job', 'j'), T0 + H, 1)).toThrow(StorageError);
    app.rollback();
    await db.close();
    expect(fs.existsSync(join(dir, 'lock'))).toBe(false);

    const db2 = await open(dir);
    expect(db2.blocks().length).toBe(2);
    expect(query(db2)).toEqual(before);
    // The WAL kept only what the head still needs.
    expect(db2.head.minTime).toBeGreaterThanOrEqual(T0 + 4 * H);
    await db2.close();
  });

  it('compacts adjacent blocks into larger ones once their window is complete, keeping every sample', async () => {
    const dir = newDir();
    const db = await open(dir, { retentionTime: 0 });
    const n = fill(db, 5, T0, T0 + 16 * H, 120_000);
    const before = query(db);
    const res = db.compact();
    // Until the head spans at most 3 h: [0, 2h) … [12h, 14h).
    expect(res.persisted.length).toBe(7);
    // [0, 6h) and [6h, 12h) are complete 6 h windows (the head starts at 14 h): each merged
    // from three 2 h blocks; [12h, 18h) is not complete yet.
    expect(res.compacted.length).toBe(2);
    const metas = db.blocks();
    expect(metas.map((b) => [b.minTime - T0, b.maxTime - T0, b.compaction.level])).toEqual([
      [0, 6 * H, 2],
      [6 * H, 12 * H, 2],
      [12 * H, 14 * H, 1],
    ]);
    expect(metas[0]!.compaction.sources.length).toBe(3);
    expect(query(db)).toEqual(before);
    expect(countSamples(before)).toBe(n);
    expect(fs.readdirSync(join(dir, 'blocks')).length).toBe(3);
    const m = Object.fromEntries(db.metricFamilies().map((f) => [f.name, f.value()]));
    expect(m.prometheus_tsdb_compactions_total).toBe(9);
    expect(m.prometheus_tsdb_blocks_loaded).toBe(3);
    await db.close();
  });

  it('removes blocks already merged into another one when a crash interrupted their removal', async () => {
    const dir = newDir();
    const db = await open(dir);
    fill(db, 3, T0, T0 + 5 * H, 300_000);
    expect(db.compact().persisted.length).toBe(1);
    const [first] = db.blocks();
    const saved = newDir();
    fs.copyFileSync(join(dir, 'blocks', `${first!.ulid}.block`), saved);
    fill(db, 3, T0 + 5 * H, T0 + 10 * H, 300_000);
    const res = db.compact();
    expect(res.compacted.length).toBe(1);
    const merged = db.blocks()[0]!;
    expect(merged.compaction.parents).toContain(first!.ulid);
    const before = query(db);
    await db.close();
    // Put the parent back, as if the process died between writing the merged block and
    // deleting its parents.
    fs.copyFileSync(saved, join(dir, 'blocks', `${first!.ulid}.block`));
    const log = recorder();
    const db2 = await open(dir, { logger: log.logger });
    expect(db2.blocks().map((b) => b.ulid)).not.toContain(first!.ulid);
    expect(fs.existsSync(join(dir, 'blocks', `${first!.ulid}.block`))).toBe(false);
    expect(log.infos.some(([m, f]) => /already compacted/.test(m) && f?.block === first!.ulid)).toBe(true);
    expect(query(db2)).toEqual(before);
    await db2.close();
  });

  it('persists in the background in steps; deletions made meanwhile hold in the new block', async () => {
    const dir = newDir();
    const db = await open(dir, { compactInterval: 60_000 });
    const series = 5000;
    const refs = new Array<number>(series).fill(0);
    for (let t = T0; t < T0 + 4 * H; t += 600_000) {
      const app = db.appender();
      for (let i = 0; i < series; i++) refs[i] = app.append(refs[i]!, L('__name__', 'm', 'i', String(i)), t, i + t / 1e9);
      app.commit();
    }
    expect(db.blocks().length).toBe(0);
    // The last commit scheduled a round; let it start (it yields after 2,000 series).
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(db.blocks().length).toBe(0);
    // One series the round has written already, one it has not reached.
    db.delete([new Matcher('=~', 'i', '0|4999')], T0 + 600_000, T0 + 1_800_000);
    // Queries keep working meanwhile.
    expect(Object.keys(query(db, [new Matcher('=', 'i', '42')])).length).toBe(1);
    for (let k = 0; k < 1000 && db.blocks().length === 0; k++) await new Promise<void>((resolve) => setTimeout(resolve, 5));
    expect(db.blocks().map((b) => [b.minTime - T0, b.maxTime - T0])).toEqual([[0, 2 * H]]);
    const check = (s: Storage): void => {
      const got = query(s, [new Matcher('=~', 'i', '0|4999|1')]);
      expect(got['{__name__="m", i="0"}']!.map(([t]) => (t - T0) / 600_000)).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
      expect(got['{__name__="m", i="4999"}']!.length).toBe(24 - 3);
      expect(got['{__name__="m", i="1"}']!.length).toBe(24);
    };
    check(db);
    await db.close();
    const db2 = await open(dir);
    check(db2);
    await db2.close();
  });

  it('takes a lock: a second open fails naming the directory and the PID; a stale lock is taken over', async () => {
    const dir = newDir();
    const db = await open(dir);
    await expect(openStorage({ dir, compactInterval: 0 })).rejects.toThrow(new RegExp(`data directory ${dir} is in use by process ${process.pid}`));
    await expect(openStorage({ dir, compactInterval: 0 })).rejects.toMatchObject({ code: 'locked' });
    // Another process fails the same way.
    const work = newDir();
    transpileStorage(work);
    fs.writeFileSync(join(work, 'open.mjs'), `import { openStorage } from './storage/index.js';
try { await openStorage({ dir: process.argv[2], compactInterval: 0 }); process.stdout.write('opened'); }
catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })); }`);
    const r = await run(process.execPath, [join(work, 'open.mjs'), dir], { cwd: work });
    expect(JSON.parse(r.out)).toEqual({ code: 'locked', message: expect.stringContaining(`data directory ${dir} is in use by process ${process.pid}`) });
    await db.close();
    // A lock file left by a process that has exited.
    const dead = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    fs.writeFileSync(join(dir, 'lock'), `${dead.out}\n`);
    const log = recorder();
    const db2 = await open(dir, { logger: log.logger });
    expect(log.warnings.some(([m, f]) => /stale lock/.test(m) && f?.pid === Number(dead.out))).toBe(true);
    expect(fs.readFileSync(join(dir, 'lock'), 'utf8').trim()).toBe(String(process.pid));
    await db2.close();
    // A lock naming our own PID that we do not hold: a previous incarnation with the same PID
    // (a container's PID 1 after a restart).
    fs.writeFileSync(join(dir, 'lock'), `${process.pid}\n`);
    const db3 = await open(dir);
    await expect(openStorage({ dir, compactInterval: 0 })).rejects.toMatchObject({ code: 'locked' });
    await db3.close();
  });

  it('logs, counts and skips a corrupt block; the others still answer', async () => {
    const dir = newDir();
    const db = await open(dir);
    fill(db, 4, T0, T0 + 6 * H, 300_000);
    db.compact();
    const metas = db.blocks();
    expect(metas.length).toBe(2);
    await db.close();
    // Damage the first block's file (overwrite its first pages).
    const victim = join(dir, 'blocks', `${metas[0]!.ulid}.block`);
    const fd = fs.openSync(victim, 'r+');
    fs.writeSync(fd, Buffer.alloc(8192, 0xab), 0, 8192, 0);
    fs.closeSync(fd);
    // And a block whose writing was interrupted by a crash.
    const partial = join(dir, 'blocks', '01JD3M2K8Y0000000000000000.block.tmp');
    fs.writeFileSync(partial, Buffer.alloc(5000, 1));
    const log = recorder();
    const db2 = await open(dir, { logger: log.logger });
    expect(fs.existsSync(partial)).toBe(false);
    expect(db2.blocks().map((b) => b.ulid)).toEqual([metas[1]!.ulid]);
    expect(log.warnings.find(([m]) => /unreadable block/.test(m))?.[1]?.path).toBe(victim);
    const m = Object.fromEntries(db2.metricFamilies().map((f) => [f.name, f.value()]));
    expect(m.sextant_tsdb_blocks_corrupt_total).toBe(1);
    const got = query(db2);
    for (const xs of Object.values(got)) expect(xs[0]![0]).toBeGreaterThanOrEqual(T0 + 2 * H);
    expect(fs.existsSync(victim)).toBe(true); // kept for inspection
    await db2.close();
  });

  it('deletes across head and blocks with tombstones, and cleanTombstones rewrites the blocks without the data', async () => {
    const dir = newDir();
    const db = await open(dir);
    fill(db, 6, T0, T0 + 7 * H, 60_000);
    db.compact();
    const sel = [new Matcher('=~', 'i', '1|2')];
    const n = db.delete(sel, T0 + H, T0 + 5 * H);
    expect(n).toBe(2 * 3); // two series in each of two blocks and in the head
    const after = query(db);
    for (const k of Object.keys(after).filter((k) => /i="[12]"/.test(k))) {
      expect(after[k]!.some(([t]) => t >= T0 + H && t <= T0 + 5 * H)).toBe(false);
      expect(after[k]!.some(([t]) => t < T0 + H)).toBe(true);
    }
    expect(db.blocks().map((b) => b.stats.numTombstones)).toEqual([2, 2]);
    await db.cleanTombstones();
    expect(db.blocks().map((b) => b.stats.numTombstones)).toEqual([0, 0]);
    expect(query(db)).toEqual(after);
    // Deleting a whole series from a block.
    db.delete([new Matcher('=', 'i', '0')], -Infinity, Infinity);
    await db.cleanTombstones();
    const gone = query(db);
    expect(Object.keys(gone).some((k) => k.includes('i="0"'))).toBe(false);
    await db.close();
    const db2 = await open(dir);
    expect(query(db2)).toEqual(gone);
    await db2.close();
  });

  it('snapshot: a new Storage opened on the copy answers as the original', async () => {
    const dir = newDir();
    const db = await open(dir);
    fill(db, 8, T0, T0 + 5 * H, 60_000);
    db.compact();
    db.delete([new Matcher('=', 'i', '7')], T0, T0 + H);
    const want = query(db);
    const snap = newDir();
    const res = db.snapshot(snap);
    expect(res.blocks.length).toBe(2); // one persisted block + the head
    const skip = db.snapshot(newDir(), { skipHead: true });
    expect(skip.blocks.length).toBe(1);
    await db.close();
    const copy = await open(snap);
    expect(query(copy)).toEqual(want);
    // The copy keeps working: new samples after the snapshot's end are accepted.
    const app = copy.appender();
    app.append(0, L('__name__', 'a', 'i', '0', 'job', 'j'), T0 + 6 * H, 1);
    app.commit();
    await copy.close();
  });

  it('is not ready until the WAL is replayed; exposes replay status and Prometheus metric names', async () => {
    const dir = newDir();
    const db = await open(dir);
    fill(db, 50, T0, T0 + H, 15_000);
    await db.close();
    const db2 = await openStorage({ dir, compactInterval: 0 });
    expect(db2.isReady()).toBe(false);
    expect(() => db2.appender()).toThrow(/not ready/);
    await db2.ready;
    expect(db2.isReady()).toBe(true);
    expect(db2.walReplayStatus().state).toBe('done');
    const names = db2.metricFamilies().map((m) => m.name);
    for (const want of [
      'prometheus_tsdb_head_series',
      'prometheus_tsdb_head_samples_appended_total',
      'prometheus_tsdb_head_chunks',
      'prometheus_tsdb_head_min_time',
      'prometheus_tsdb_head_max_time',
      'prometheus_tsdb_wal_corruptions_total',
      'prometheus_tsdb_blocks_loaded',
      'prometheus_tsdb_compactions_total',
      'prometheus_tsdb_compactions_failed_total',
      'prometheus_tsdb_storage_blocks_bytes',
      'prometheus_tsdb_retention_limit_bytes',
      'prometheus_tsdb_size_retentions_total',
      'prometheus_tsdb_time_retentions_total',
      'prometheus_tsdb_out_of_order_samples_total',
      'prometheus_tsdb_lowest_timestamp',
    ]) {
      expect(names).toContain(want);
    }
    expect(new Set(names).size).toBe(names.length);
    const m = Object.fromEntries(db2.metricFamilies().map((f) => [f.name, f.value()]));
    expect(m.prometheus_tsdb_head_series).toBe(50);
    expect(m.prometheus_tsdb_head_min_time).toBe(T0);
    expect(db2.stats(3).seriesCountByMetricName).toEqual([
      { name: 'a', value: 25 },
      { name: 'b', value: 25 },
    ]);
    await db2.close();
    await expect(async () => db2.querier(0, 1)).rejects.toThrow(/closed/);
  });
});
