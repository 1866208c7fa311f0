import { describe, expect, it } from 'vitest';
import { JsonChunks } from '../../../src/web/api/jsonbuf.js';
import { formatSampleValue, formatTimestampSeconds } from '../../../src/web/api/format.js';

/** What the byte writer must produce: the string formatting, point by point. */
function viaStrings(points: Array<[number, number]>): string {
  return points.map(([t, v]) => `[${formatTimestampSeconds(t)},"${formatSampleValue(v)}"]`).join(',');
}

function viaBytes(points: Array<[number, number]>, w = new JsonChunks()): string {
  w.points(
    points.map((p) => p[0]),
    points.map((p) => p[1]),
  );
  return Buffer.concat(w.finish()).toString('latin1');
}

describe('byte-level JSON of range points', () => {
  it('matches the string formatting for edge values', () => {
    const values = [0, -0, 1, -1, 7, 10, 99, 2147483647, 2147483648, 2 ** 53 - 1, 2 ** 53, 1e21, 0.1, 1 / 3, -2.5e-7, NaN, Infinity, -Infinity, 123456789012345];
    const times = [0, 1, 999, 1000, 1001, -1, -1500, 1435781430780, 1795498141000, 2 ** 31 * 1000 + 5];
    const points: Array<[number, number]> = [];
    for (const t of times) for (const v of values) points.push([t, v]);
    expect(viaBytes(points)).toBe(viaStrings(points));
  });

  it('matches for random points across many chunks, reusing the grid between series', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const w = new JsonChunks();
    const grid = Array.from({ length: 500 }, (_, i) => 1_700_000_000_000 + i * 15_000 + (i % 7 === 0 ? 250 : 0));
    for (let s = 0; s < 40; s++) {
      const points = grid.map((t, i): [number, number] => [i % 50 === 49 ? t + 1 : t, rand() < 0.5 ? Math.floor(rand() * 1e9) : (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 15)]);
      expect(viaBytes(points, w)).toBe(viaStrings(points));
    }
  });
});
