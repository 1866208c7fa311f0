import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Matcher, openStorage, type Storage } from '../../storage/index.js';
import { L, bits, query, type Contents } from './helpers.js';

const tmpRoot = fs.mkdtempSync(join(os.tmpdir(), 'sextant-dbmodel-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const H = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (486 * H));

/**
 * Series without samples in the range dropped: like Prometheus, a select may return a series
 * whose chunks overlap the range even when none of its samples falls inside (or all of those
 * are deleted).
 */
function nonEmpty(c: Contents): Contents {
  return Object.fromEntries(Object.entries(c).filter(([, xs]) => xs.length > 0));
}

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the storage should hold: series key → (t → value bits). */
class Model {
  readonly data = new Map<string, Map<number, string>>();
  add(key: string, t: number, v: number): void {
    let m = this.data.get(key);
    if (!m) this.data.set(key, (m = new Map()));
    m.set(t, bits(v));
  }
  delete(pred: (key: string) => boolean, mint: number, maxt: number): void {
    for (const [k, m] of this.data) if (pred(k)) for (const t of [...m.keys()]) if (t >= mint && t <= maxt) m.delete(t);
  }
  contents(pred: (key: string) => boolean, mint: number, maxt: number): Contents {
    const out: Contents = {};
    for (const k of [...this.data.keys()].sort()) {
      if (!pred(k)) continue;
      const xs = [...this.data.get(k)!].filter(([t]) => t >= mint && t <= maxt).sort((a, b) => a[0] - b[0]);
      if (xs.length > 0) out[k] = xs;
    }
    return out;
  }
}

describe('storage against a model (random appends, deletes, persistence, compaction, restarts)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}`, async () => {
      const r = rng(seed);
      const dir = join(tmpRoot, `s${seed}`);
      const model = new Model();
      let db: Storage = await openStorage({ dir, compactInterval: 0, retentionTime: 0 });
      await db.ready;
      const keyOf = (i: number): string => L('__name__', i % 3 === 0 ? 'x' : 'y', 'i', String(i)).toString();
      const series = 30;
      let t = T0;
      const check = (): void => {
        const mint = T0 + Math.floor(r() * (t - T0)), maxt = mint + Math.floor(r() * (t - mint + H));
        const name = r() < 0.5 ? 'x' : 'y';
        const got = nonEmpty(query(db, [new Matcher('=', '__name__', name)], mint, maxt));
        expect(got).toEqual(model.contents((k) => k.startsWith(`{__name__="${name}"`), mint, maxt));
      };
      for (let step = 0; step < 400; step++) {
        const app = db.appender();
        for (let i = 0; i < series; i++) {
          if (r() < 0.2) continue; // absent from this scrape
          const ts = t + Math.floor(r() * 50);
          const v = r() < 0.05 ? NaN : i * 1000 + step + (r() < 0.5 ? r() : 0);
          app.append(0, L('__name__', i % 3 === 0 ? 'x' : 'y', 'i', String(i)), ts, v);
          model.add(keyOf(i), ts, v);
        }
        app.commit();
        t += 120_000 + Math.floor(r() * 60_000);
        const op = r();
        if (op < 0.03) {
          const i = Math.floor(r() * series);
          // Tombstones also hide samples appended later inside their range (as Prometheus's
          // do), so only ranges of the past are deleted here.
          const mint = T0 + Math.floor(r() * (t - T0)), maxt = Math.min(t - 1, mint + Math.floor(r() * 4 * H));
          db.delete([new Matcher('=', 'i', String(i))], mint, maxt);
          model.delete((k) => k.endsWith(`i="${i}"}`), mint, maxt);
        } else if (op < 0.08) {
          db.compact();
        } else if (op < 0.1) {
          await db.cleanTombstones();
        } else if (op < 0.12) {
          await db.close();
          db = await openStorage({ dir, compactInterval: 0, retentionTime: 0 });
          await db.ready;
        } else if (op < 0.2) {
          check();
        }
      }
      db.compact();
      expect(db.blocks().length).toBeGreaterThan(2);
      expect(db.blocks().some((b) => b.compaction.level > 1)).toBe(true);
      expect(nonEmpty(query(db))).toEqual(model.contents(() => true, -Infinity, Infinity));
      for (let k = 0; k < 10; k++) check();
      await db.close();
    });
  }
});
