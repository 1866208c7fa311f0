import { describe, expect, it } from 'vitest';
import { Head, Matcher, MergeQuerier, ValueType } from '../../storage/index.js';
import { L, selectAll } from './helpers.js';

function head(series: Array<[string, number[]]>): Head {
  const h = new Head();
  const app = h.appender();
  for (const [i, ts] of series) for (const t of ts) app.append(0, L('__name__', 'm', 'i', i), t, t * 10 + Number(i));
  app.commit();
  return h;
}

describe('merging queriers', () => {
  const a = head([
    ['1', [1, 2, 3, 7]],
    ['3', [5]],
  ]);
  const b = head([
    ['1', [2, 4, 7, 9]],
    ['2', [1, 2]],
  ]);
  const c = head([['1', [10, 11]]]);

  it('merges series in label order and overlapping samples without duplicates', () => {
    const q = new MergeQuerier([a.querier(0, 100), b.querier(0, 100), c.querier(0, 100)]);
    const got = selectAll(q);
    expect(Object.keys(got)).toEqual(['{__name__="m", i="1"}', '{__name__="m", i="2"}', '{__name__="m", i="3"}']);
    expect(got['{__name__="m", i="1"}']!.map(([t]) => t)).toEqual([1, 2, 3, 4, 7, 9, 10, 11]);
    expect(q.labelValues('i', [], 0, 100)).toEqual(['1', '2', '3']);
    expect(q.labelNames([new Matcher('=', 'i', '2')], 0, 100)).toEqual(['__name__', 'i']);
    q.close();
  });

  it('seeks across merged and chained parts', () => {
    for (const disjoint of [false, true]) {
      const q = new MergeQuerier([a.querier(0, 3), c.querier(0, 100)], undefined, disjoint);
      const ss = q.select([new Matcher('=', 'i', '1')], 0, 100);
      expect(ss.next()).toBe(true);
      const it = ss.at().iterator();
      expect(it.seek(2)).toBe(ValueType.Float);
      expect([it.atT(), it.atF()]).toEqual([2, 21]);
      expect(it.seek(4)).toBe(ValueType.Float);
      expect(it.atT()).toBe(10);
      expect(it.next()).toBe(ValueType.Float);
      expect(it.atT()).toBe(11);
      expect(it.next()).toBe(ValueType.None);
      expect(it.seek(50)).toBe(ValueType.None);
      q.close();
    }
  });
});
