/**
 * Open-chunk decoder checkpoints (storage/head): a window that starts late in the open chunk
 * is decoded from a saved point instead of the chunk's start. Results must be exactly those of
 * a full decode, for every window start and sample shape, also when the head cuts the chunk
 * and overwrites the checkpoints after the querier took its snapshot.
 */
import { describe, expect, it } from 'vitest';
import { Head, Labels, Matcher, STALE_NAN, ValueType, isStaleNaN, type SampleIterator } from '../../storage/index.js';

const L = (...nv: string[]): Labels => Labels.fromPairs(...nv);

function samples(it: SampleIterator, seekTo?: number): Array<[number, number | string]> {
  const out: Array<[number, number | string]> = [];
  const val = (v: number): number | string => (isStaleNaN(v) ? 'stale' : v);
  if (seekTo !== undefined) {
    if (it.seek(seekTo) === ValueType.None) return out;
    out.push([it.atT(), val(it.atF())]);
  }
  for (let k = 0; k < 100_000 && it.next() !== ValueType.None; k++) out.push([it.atT(), val(it.atF())]);
  return out;
}

/** A series whose values change shape (ints, floats, repeats, NaN, staleness) and irregular timestamps. */
function fill(head: Head, name: string, n: number, t0: number): Array<[number, number | string]> {
  const all: Array<[number, number | string]> = [];
  let t = t0;
  let ref = 0;
  for (let k = 0; k < n; k++) {
    t += 15_000 + ((k * 7919) % 5) * 997 - 1500 + (k % 37 === 0 ? 400_000 : 0);
    const v = k % 23 === 0 ? STALE_NAN : k % 11 === 0 ? 0.1 * k : k % 5 === 0 ? 42 : k * 3 + (k % 3);
    const app = head.appender();
    ref = app.append(ref, L('__name__', name), t, v);
    app.commit();
    all.push([t, isStaleNaN(v) ? 'stale' : v]);
  }
  return all;
}

describe('head open-chunk checkpoints', () => {
  it('every window start returns exactly the samples of a full decode', () => {
    for (const spc of [120, 17, 1000]) {
      const head = new Head({ samplesPerChunk: spc });
      // 300 samples: closed chunks plus an open chunk holding more than 3 checkpoints' worth.
      const all = fill(head, 'm', 300, 1_790_000_000_000);
      const q = head.querier(-Infinity, Infinity);
      try {
        for (let i = 0; i < all.length; i += 1) {
          for (const delta of [-1, 0, 1]) {
            const mint = all[i]![0] + delta;
            const maxt = all[Math.min(all.length - 1, i + 13)]![0];
            const want = all.filter(([t]) => t >= mint && t <= maxt);
            const ss = q.select([new Matcher('=', '__name__', 'm')], mint, maxt);
            const got = ss.next() ? samples(ss.at().iterator()) : [];
            expect(got, `spc ${spc} window [${mint}, ${maxt}]`).toEqual(want);
            const ss2 = q.select([new Matcher('=', '__name__', 'm')], mint, Infinity);
            const seekTo = all[Math.min(all.length - 1, i + 2)]![0];
            const got2 = ss2.next() ? samples(ss2.at().iterator(), seekTo) : [];
            expect(got2, `spc ${spc} seek ${seekTo} from ${mint}`).toEqual(all.filter(([t]) => t >= Math.max(mint, seekTo)));
          }
        }
      } finally {
        q.close();
      }
      head.close();
    }
  });

  it('a snapshot keeps its checkpoint when the head cuts the chunk and starts a new one', () => {
    const head = new Head();
    const all = fill(head, 'm', 100, 1_790_000_000_000); // open chunk with 3 checkpoints
    const last = all[all.length - 1]![0];
    const mint = all[95]![0];
    const q = head.querier(-Infinity, Infinity);
    try {
      const ss = q.select([new Matcher('=', '__name__', 'm')], mint, Infinity);
      expect(ss.next()).toBe(true);
      const s = ss.at();
      // Cut the chunk (120 samples) and fill the next one past its checkpoints.
      fill(head, 'm', 200, last);
      expect(samples(s.iterator())).toEqual(all.slice(95));
    } finally {
      q.close();
    }
    head.close();
  });
});
