import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Block, Head, Labels, Matcher, STALE_NAN, StorageError, ValueType, writeBlock } from '../../storage/index.js';
import { ALL, L, bits, countSamples, selectAll } from './helpers.js';
import { frameCacheBytes, rowCacheBytes, setFrameCacheBytes, setRowCacheBytes } from '../../storage/block/block.js';

const hqOf = (head: Head) => head.querier(-Infinity, Infinity);

const tmpRoot = fs.mkdtempSync(join(os.tmpdir(), 'sextant-block-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let seq = 0;
const newDir = (): string => {
  const d = join(tmpRoot, `d${seq++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};

const H2 = 7_200_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % H2); // block-aligned

/** A head holding `n` series over [T0, T0 + 2 h) at 15 s, with odd values and jitter. */
function fillHead(n = 40, step = 15_000): Head {
  const head = new Head();
  const refs = new Array<number>(n).fill(0);
  const nan = new Float64Array(1), nu = new Uint32Array(nan.buffer);
  nu[1] = 0x7ff80000;
  nu[0] = 0xdead;
  const payloadNaN = nan[0]!;
  for (let t = T0, r = 0; t < T0 + H2; t += step, r++) {
    const app = head.appender();
    for (let i = 0; i < n; i++) {
      const v = i === 0 && r % 10 === 9 ? STALE_NAN : i === 1 && r % 7 === 3 ? payloadNaN : i === 2 ? (r % 2 ? Infinity : -0) : r * (i + 0.25) + Math.sin(r) * i;
      refs[i] = app.append(refs[i]!, L('__name__', i % 2 ? 'odd_total' : 'even', 'job', 'node', 'instance', `host-${i % 5}`, 'i', String(i), ...(i % 3 === 0 ? ['extra', 'x'] : [])), t + (i % 3), v);
    }
    app.commit();
  }
  return head;
}

function persist(head: Head, dir: string, opts: { chunkSamples?: number; compression?: 'deflate' | 'none' } = {}): Block {
  const cs = head.chunkSeries(T0, T0 + H2);
  const meta = writeBlock(dir, cs, { minTime: T0, maxTime: T0 + H2, chunkSamples: opts.chunkSamples, compression: opts.compression });
  cs.close();
  expect(meta).toBeDefined();
  return Block.open(join(dir, `${meta!.ulid}.block`));
}

describe('block write and read', () => {
  it('round-trips every sample bit-exactly (stale markers, NaN payloads, -0, Inf), in label order', () => {
    const head = fillHead();
    const want = selectAll(head.querier(-Infinity, Infinity));
    for (const [chunkSamples, compression] of [[0, 'none'], [1200, 'none'], [50, 'deflate'], [1200, 'deflate']] as const) {
      const b = persist(head, newDir(), { chunkSamples, compression });
      expect(b.meta.compression).toBe(compression);
      const q = b.querier(-Infinity, Infinity);
      expect(selectAll(q)).toEqual(want);
      q.close();
      expect(b.meta.stats.numSeries).toBe(40);
      expect(b.meta.stats.numSamples).toBe(countSamples(want));
      expect(b.meta.compaction).toEqual({ level: 1, sources: [b.ulid] });
      b.close();
    }
  });

  it('keeps only [minTime, maxTime) and writes nothing for an empty range', () => {
    const head = fillHead(3);
    const dir = newDir();
    const cs = head.chunkSeries(T0, T0 + H2);
    const meta = writeBlock(dir, cs, { minTime: T0 + 600_000, maxTime: T0 + 1_200_000 });
    cs.close();
    const b = Block.open(join(dir, `${meta!.ulid}.block`));
    const got = selectAll(b.querier(-Infinity, Infinity));
    for (const xs of Object.values(got)) {
      expect(xs[0]![0]).toBeGreaterThanOrEqual(T0 + 600_000);
      expect(xs.at(-1)![0]).toBeLessThan(T0 + 1_200_000);
    }
    const cs2 = head.chunkSeries(T0, T0 + H2);
    expect(writeBlock(dir, cs2, { minTime: T0 - 2 * H2, maxTime: T0 - H2 })).toBeUndefined();
    cs2.close();
    expect(fs.readdirSync(dir)).toEqual([`${meta!.ulid}.block`]);
  });

  it('rejects series out of label order and leaves no file behind', () => {
    const dir = newDir();
    const chunkOf = (t: number): { mint: number; maxt: number; numSamples: number; bytes: Uint8Array } => {
      const h = new Head();
      const a = h.appender();
      a.append(0, L('a', '1'), t, 1);
      a.commit();
      const cs = h.chunkSeries(0, Infinity);
      cs.next();
      return cs.at().chunks[0]!;
    };
    const items = [L('b', '1'), L('a', '1')].map((labels) => ({ labels, chunks: [chunkOf(1000)] }));
    let i = -1;
    expect(() => writeBlock(dir, { next: () => ++i < items.length, at: () => items[i]! }, { minTime: 0, maxTime: 10_000 })).toThrow(/out of order/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('block querier', () => {
  const head = fillHead();
  const block = persist(head, newDir());
  const hq = head.querier(-Infinity, Infinity);
  const cases: Array<[string, Matcher[], number, number]> = [
    ['equality', [new Matcher('=', '__name__', 'even')], -Infinity, Infinity],
    ['not equal', [new Matcher('=', 'job', 'node'), new Matcher('!=', 'instance', 'host-1')], -Infinity, Infinity],
    ['regex set', [new Matcher('=~', 'i', '1|7|13|nope')], -Infinity, Infinity],
    ['regex prefix', [new Matcher('=~', 'instance', 'host-.*'), new Matcher('=~', 'i', '2.*')], -Infinity, Infinity],
    ['negative regex', [new Matcher('=~', '__name__', '.+'), new Matcher('!~', 'i', '[0-9]')], -Infinity, Infinity],
    ['empty match selects series without the label', [new Matcher('=', '__name__', 'even'), new Matcher('=', 'extra', '')], -Infinity, Infinity],
    ['regex matching empty', [new Matcher('=~', 'extra', 'x|'), new Matcher('=', 'instance', 'host-0')], -Infinity, Infinity],
    ['!= on an absent label', [new Matcher('!=', 'nope', 'y'), new Matcher('=', 'i', '4')], -Infinity, Infinity],
    ['missing value', [new Matcher('=', 'job', 'other')], -Infinity, Infinity],
    ['a time range inside one chunk', ALL, T0 + 1_000_000, T0 + 1_100_000],
    ['a time range across chunks', ALL, T0 + 1_700_000, T0 + 5_000_000],
    ['the last ms of the block', ALL, T0 + H2 - 20_000, T0 + H2 + 5_000_000],
    ['before the block', ALL, T0 - 100_000, T0 - 1],
  ];
  for (const [name, ms, mint, maxt] of cases) {
    it(`answers as the head does: ${name}`, () => {
      const q = block.querier(mint, maxt);
      const got = selectAll(q, ms, mint, maxt);
      const want = selectAll(hq, ms, mint, maxt);
      expect(got).toEqual(want);
      // Label APIs as the head (all series of the head are in the block's range).
      if (mint === -Infinity) {
        expect(q.labelNames(ms, mint, maxt)).toEqual(hq.labelNames(ms, mint, maxt));
        expect(q.labelValues('i', ms, mint, maxt)).toEqual(hq.labelValues('i', ms, mint, maxt));
      }
      q.close();
    });
  }

  it('lists label names and values from the index', () => {
    const q = block.querier(-Infinity, Infinity);
    expect(q.labelNames([], -Infinity, Infinity)).toEqual(['__name__', 'extra', 'i', 'instance', 'job']);
    expect(q.labelValues('instance', [], -Infinity, Infinity)).toEqual(['host-0', 'host-1', 'host-2', 'host-3', 'host-4']);
    expect(q.labelValues('nope', [], -Infinity, Infinity)).toEqual([]);
    expect(q.labelNames([], T0 + H2, Infinity)).toEqual([]);
    q.close();
  });

  it('seek moves across chunks and never backwards', () => {
    const q = block.querier(-Infinity, Infinity);
    const ss = q.select([new Matcher('=', 'i', '5')], -Infinity, Infinity);
    expect(ss.next()).toBe(true);
    const it = ss.at().iterator();
    expect(it.seek(T0 + 3_600_000)).toBe(ValueType.Float);
    expect(it.atT()).toBe(T0 + 3_600_000 + 2);
    expect(it.seek(T0)).toBe(ValueType.Float);
    expect(it.atT()).toBe(T0 + 3_600_000 + 2);
    expect(it.next()).toBe(ValueType.Float);
    expect(it.atT()).toBe(T0 + 3_615_000 + 2);
    expect(it.seek(T0 + H2)).toBe(ValueType.None);
    q.close();
  });

  it('applies tombstones, persists them in the file, and skips series wholly deleted', () => {
    const dir = newDir();
    const b = persist(fillHead(6), dir);
    const n = b.delete([new Matcher('=', 'i', '3')], T0 + 600_000, T0 + 1_200_000);
    expect(n).toBe(1);
    expect(b.delete([new Matcher('=', 'i', '4')], -Infinity, Infinity)).toBe(1);
    expect(b.delete([new Matcher('=', 'i', '5')], T0 + H2, Infinity)).toBe(0);
    const check = (blk: Block): void => {
      const got = selectAll(blk.querier(-Infinity, Infinity));
      const s3 = got['{__name__="odd_total", extra="x", i="3", instance="host-3", job="node"}']!;
      expect(s3.some(([t]) => t >= T0 + 600_000 && t <= T0 + 1_200_000)).toBe(false);
      expect(s3.length).toBe(480 - 41); // 600 s of 15 s steps, both ends inclusive
      expect(got['{__name__="even", i="4", instance="host-4", job="node"}']).toBeUndefined();
      expect(Object.keys(got).length).toBe(5);
    };
    check(b);
    expect(b.numTombstones).toBe(2);
    const path = b.path;
    b.close();
    check(Block.open(path));
  });

  it('skips a series whose stored data is damaged, with a warning; the other series still answer', () => {
    const head = fillHead(300);
    for (const compression of ['deflate', 'none'] as const) {
      const dir = newDir();
      const b = persist(head, dir, { compression });
      const path = b.path;
      b.close();
      // Damage one stream row in the middle of the file.
      const db = new Database(path);
      const rows = db.prepare('SELECT count(*) FROM stream').pluck().get() as number;
      db.prepare('UPDATE stream SET bytes = zeroblob(length(bytes)) WHERE seq = ?').run(Math.floor(rows / 2));
      db.close();
      const blk = Block.open(path);
      const ss = blk.querier(-Infinity, Infinity).select(ALL, -Infinity, Infinity);
      let n = 0;
      while (ss.next()) {
        const it = ss.at().iterator();
        while (it.next() !== ValueType.None);
        n++;
      }
      expect(n).toBeGreaterThan(100);
      if (compression === 'deflate') {
        expect(n).toBeLessThan(300);
        expect(ss.warnings().length).toBeGreaterThan(0);
        expect(ss.warnings()[0]).toMatch(new RegExp(`block ${blk.ulid}: series \\d+ unreadable: .*frame \\d+ does not inflate`));
      }
      blk.close();
    }
  });

  it('reads through the shared frame cache as without it, and drops a closed block\'s frames', () => {
    const head = fillHead(300);
    const b = persist(head, newDir());
    const read = (blk: Block, mint = -Infinity, maxt = Infinity) => {
      const q = blk.querier(mint, maxt);
      try {
        return selectAll(q, ALL, mint, maxt);
      } finally {
        q.close();
      }
    };
    const old = setFrameCacheBytes(0);
    try {
      const uncached = read(b);
      expect(frameCacheBytes()).toBe(0);
      setFrameCacheBytes(64 << 20);
      const before = frameCacheBytes();
      // A whole-block scan (compaction) does not fill the cache.
      let all = 0;
      for (const bs of b.allSeries()) all += bs.chunks.length;
      expect(all).toBe(b.meta.stats.numChunks);
      expect(frameCacheBytes()).toBe(before);
      // Interleaved reads: a window of every series, then all of it, twice (second time from the cache).
      const window = read(b, T0 + H2 - 600_000, T0 + H2);
      expect(frameCacheBytes()).toBeGreaterThan(before);
      expect(read(b)).toEqual(uncached);
      expect(read(b)).toEqual(uncached);
      expect(read(b, T0 + H2 - 600_000, T0 + H2)).toEqual(window);
      expect(selectAll(hqOf(head), ALL, T0 + H2 - 600_000, T0 + H2)).toEqual(window);
      // A budget smaller than one frame keeps nothing but still answers.
      setFrameCacheBytes(1);
      expect(frameCacheBytes()).toBe(0);
      expect(read(b)).toEqual(uncached);
      setFrameCacheBytes(64 << 20);
      read(b);
      const held = frameCacheBytes();
      expect(held).toBeGreaterThan(0);
      b.close();
      expect(frameCacheBytes()).toBeLessThan(held);
      expect(() => setFrameCacheBytes(-1)).toThrow(/non-negative/);
    } finally {
      setFrameCacheBytes(old);
    }
  });

  it('reads series rows through the shared row cache as without it (dense and sparse selections), and drops a closed block\'s pages', () => {
    const head = fillHead(700);
    const b = persist(head, newDir());
    const hq = head.querier(-Infinity, Infinity);
    const sels: Matcher[][] = [ALL, [new Matcher('=', '__name__', 'even')], [new Matcher('=~', 'i', '3|300|650|699')], [new Matcher('=', 'instance', 'host-2')]];
    const read = (ms: Matcher[], mint = -Infinity, maxt = Infinity) => {
      const q = b.querier(mint, maxt);
      try {
        return { data: selectAll(q, ms, mint, maxt), names: q.labelNames(ms, mint, maxt), values: q.labelValues('i', ms, mint, maxt) };
      } finally {
        q.close();
      }
    };
    const old = setRowCacheBytes(0);
    try {
      const want = sels.map((ms) => ({ data: selectAll(hq, ms), names: hq.labelNames(ms, -Infinity, Infinity), values: hq.labelValues('i', ms, -Infinity, Infinity) }));
      expect(sels.map((ms) => read(ms))).toEqual(want);
      expect(rowCacheBytes()).toBe(0);
      setRowCacheBytes(64 << 20);
      expect(sels.map((ms) => read(ms))).toEqual(want);
      const held = rowCacheBytes();
      expect(held).toBeGreaterThan(0);
      // Again from the cache, and a sparse selection after a dense one (pages cached, then ids looked up).
      expect(sels.map((ms) => read(ms)).reverse()).toEqual(want.slice().reverse());
      expect(read([new Matcher('=', 'i', '699')], T0 + 600_000, T0 + 700_000).data).toEqual(selectAll(hq, [new Matcher('=', 'i', '699')], T0 + 600_000, T0 + 700_000));
      b.close();
      expect(rowCacheBytes()).toBeLessThan(held);
      expect(() => setRowCacheBytes(NaN)).toThrow(/non-negative/);
    } finally {
      setRowCacheBytes(old);
    }
  });

  it('reads only the chunks in the window of long chunk lists (header first), as the head answers', () => {
    const head = fillHead(6, 1000); // 7,200 samples a series: chunk lists of many KiB
    const hq = head.querier(-Infinity, Infinity);
    for (const chunkSamples of [120, 20]) {
      const b = persist(head, newDir(), { chunkSamples }); // 20: a header longer than the first probe
      for (const [mint, maxt] of [[-Infinity, Infinity], [T0, T0 + 60_000], [T0 + 3_000_000, T0 + 3_300_000], [T0 + H2 - 300_000, T0 + H2], [T0 + 1_234_567, T0 + 5_432_100], [T0 + H2 - 1, T0 + H2 + 1]] as const) {
        const q = b.querier(mint, maxt);
        expect(selectAll(q, ALL, mint, maxt)).toEqual(selectAll(hq, ALL, mint, maxt));
        // Seeking inside the window of a partially read list.
        const ss = q.select(ALL, mint, maxt);
        while (ss.next()) {
          const it = ss.at().iterator();
          const target = mint === -Infinity ? T0 + 4_000_000 : (mint + maxt) / 2;
          if (it.seek(target) !== ValueType.None) expect(it.atT()).toBeGreaterThanOrEqual(target);
        }
        q.close();
      }
      b.close();
    }
  });

  it('answers label-only selects from the index without reading chunks', () => {
    const q = block.querier(-Infinity, Infinity);
    const ss = q.select([new Matcher('=', 'job', 'node')], T0 + 60_000, T0 + 120_000, { labelsOnly: true });
    const got: string[] = [];
    while (ss.next()) got.push(ss.at().labels.toString());
    expect(got).toEqual(Object.keys(selectAll(hq, [new Matcher('=', 'job', 'node')], T0 + 60_000, T0 + 120_000)));
    q.close();
  });

  it('reports an unreadable file as a corrupt block naming it', () => {
    const dir = newDir();
    const garbage = join(dir, '01ARZ3NDEKTSV4RRFFQ69G5FAV.block');
    fs.writeFileSync(garbage, Buffer.alloc(8192, 7));
    expect(() => Block.open(garbage)).toThrow(StorageError);
    expect(() => Block.open(garbage)).toThrow(/01ARZ3NDEKTSV4RRFFQ69G5FAV\.block is unreadable/);
    // A valid SQLite file without the block tables.
    const other = join(dir, '01ARZ3NDEKTSV4RRFFQ69G5FAW.block');
    new Database(other).exec('CREATE TABLE x (y)');
    expect(() => Block.open(other)).toThrow(/unreadable/);
  });

  it('stores the chunks in less than their encoded size (lean layout, deflated frames)', () => {
    const head = fillHead(200);
    const cs = head.chunkSeries(T0, T0 + H2);
    let chunkBytes = 0;
    while (cs.next()) for (const c of cs.at().chunks) chunkBytes += c.bytes.length;
    cs.close();
    const b = persist(head, newDir(), { compression: 'none', chunkSamples: 1200 });
    // Re-chunked into 1200-sample chunks the data shrinks; the file adds the index and 7 pages.
    expect(b.sizeBytes).toBeLessThan(chunkBytes * 1.1);
    const z = persist(head, newDir(), { chunkSamples: 1200 });
    expect(z.sizeBytes).toBeLessThan(b.sizeBytes);
    expect(selectAll(z.querier(-Infinity, Infinity))).toEqual(selectAll(b.querier(-Infinity, Infinity)));
    expect(b.meta.stats.numChunks).toBe(200);
    // By default chunks hold 120 samples as the head's (480 samples a series: 4 chunks).
    const d = persist(head, newDir());
    expect(d.meta.stats.numChunks).toBe(200 * 4);
    // The head's chunks are already of that size: stored as they are, not re-encoded.
    const hc = head.chunkSeries(T0, T0 + H2);
    const stored = d.allSeries();
    while (hc.next()) {
      const bs = stored.next();
      expect(bs.done).toBe(false);
      const want = hc.at().chunks.map((c) => Buffer.from(c.bytes).toString('hex'));
      expect((bs.value as { chunks: Array<{ bytes: Uint8Array }> }).chunks.map((c) => Buffer.from(c.bytes).toString('hex'))).toEqual(want);
    }
    hc.close();
    expect(stored.next().done).toBe(true);
    expect(selectAll(d.querier(-Infinity, Infinity))).toEqual(selectAll(b.querier(-Infinity, Infinity)));
    const got = selectAll(b.querier(-Infinity, Infinity));
    expect(countSamples(got)).toBe(200 * 480);
    expect(Object.values(got)[0]!.map(([, v]) => v).every((v) => typeof v === 'string')).toBe(true);
    expect(bits(1)).toBe('3ff00000:0');
    void Labels;
  });
});

describe('overlapping blocks', () => {
  it('merge into one block with every sample once, in time order (first block wins a shared timestamp)', async () => {
    const { mergeBlocks } = await import('../../storage/db/index.js');
    const mk = (ts: number[], off: number): Head => {
      const h = new Head();
      const app = h.appender();
      for (const t of ts) app.append(0, L('__name__', 'm'), T0 + t, t + off);
      app.append(0, L('__name__', 'only', 'off', String(off)), T0 + ts[0]!, off);
      app.commit();
      return h;
    };
    const even = Array.from({ length: 100 }, (_, i) => i * 2000);
    const odd = [0, ...Array.from({ length: 100 }, (_, i) => i * 2000 + 1000)]; // 0 is in both
    const dir = newDir();
    const a = persist(mk(even, 0), dir);
    const b = persist(mk(odd, 0.5), dir);
    const src = mergeBlocks([a, b]);
    const meta = writeBlock(dir, src, { minTime: T0, maxTime: T0 + H2 });
    src.close();
    const m = Block.open(join(dir, `${meta!.ulid}.block`));
    const got = selectAll(m.querier(-Infinity, Infinity));
    const xs = got['{__name__="m"}']!;
    expect(xs.length).toBe(200);
    expect(xs.map(([t]) => t - T0)).toEqual(Array.from({ length: 200 }, (_, i) => i * 1000));
    expect(xs[0]).toEqual([T0, bits(0)]);
    expect(xs[1]).toEqual([T0 + 1000, bits(1000.5)]);
    expect(Object.keys(got)).toEqual(['{__name__="m"}', '{__name__="only", off="0"}', '{__name__="only", off="0.5"}']);
  });
});
