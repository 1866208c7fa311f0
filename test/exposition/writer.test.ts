import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatGoFloat, formatOpenMetricsFloat, PromTextParser, ProtobufParser, ProtobufWriter, TextWriter } from '../../src/exposition/index.js';
import { Labels } from '../../storage/index.js';
import { collect, python, pythonMissing } from './helpers.js';

describe('float formatting (Go strconv)', () => {
  it.each([
    [0, '0'], [-0, '-0'], [1, '1'], [1.5, '1.5'], [0.0001, '0.0001'], [0.00001, '1e-05'], [123456, '123456'],
    [1e6, '1e+06'], [123456789, '1.23456789e+08'], [1.445793e6, '1.445793e+06'], [1e21, '1e+21'], [1e100, '1e+100'],
    [-2.5e-7, '-2.5e-07'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [5e-324, '5e-324'], [0.1 + 0.2, '0.30000000000000004'],
  ])('%s → %s', (v, want) => {
    expect(formatGoFloat(v)).toBe(want);
  });

  it.each([[1, '1.0'], [0.25, '0.25'], [10, '10.0'], [1e6, '1e+06'], [0, '0.0'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [1e-10, '1e-10'], [100000, '100000.0']])(
    'OpenMetrics %s → %s',
    (v, want) => {
      expect(formatOpenMetricsFloat(v)).toBe(want);
    },
  );
});

const SERIES: [Labels, number, number | undefined][] = [
  [Labels.fromPairs('__name__', 'up', 'job', 'node', 'instance', 'a:9100'), 1, 1700000000000],
  [Labels.fromPairs('__name__', 'up', 'job', 'esc', 'v', 'a\\b"c\nd'), 0, 1700000000001],
  [Labels.fromPairs('__name__', 'big'), 1.23456789e8, undefined],
  [Labels.fromPairs('__name__', 'nan'), NaN, 5],
  [Labels.fromPairs('__name__', 'inf', 'x', 'y'), -Infinity, 5],
  [Labels.fromPairs('__name__', 'my.dotted', 'label.name', 'v', 'ok', 'ü'), 0.1, 5],
  [Labels.fromPairs('__name__', 'tiny'), 5e-324, 1000],
];

describe('TextWriter', () => {
  it('writes TYPE and series lines as expfmt does', () => {
    const w = new TextWriter();
    w.family('up', 'untyped');
    w.series(SERIES[0]![0], 1, 1700000000000);
    w.series(SERIES[1]![0], 0, 1700000000001);
    w.family('my.dotted', 'gauge', 'help with \\ and\nnewline');
    w.series(SERIES[5]![0], 0.1);
    expect(w.finish()).toBe(
      '# TYPE up untyped\n' +
        'up{instance="a:9100",job="node"} 1 1700000000000\n' +
        'up{job="esc",v="a\\\\b\\"c\\nd"} 0 1700000000001\n' +
        '# HELP "my.dotted" help with \\\\ and\\nnewline\n' +
        '# TYPE "my.dotted" gauge\n' +
        '{"my.dotted","label.name"="v",ok="ü"} 0.1\n',
    );
  });

  it('round trips through the text parser', () => {
    const w = new TextWriter();
    for (const [l, v, t] of SERIES) {
      w.family(l.metricName(), 'untyped');
      w.series(l, v, t);
    }
    const c = collect(new PromTextParser(Buffer.from(w.finish())));
    expect(c.series.map((r) => [r.labels, r.value, r.ts])).toEqual(SERIES.map(([l, v, t]) => [l.toString(), v, t]));
  });

  const skip = pythonMissing();
  it.skipIf(skip !== '')('python prometheus_client reads what TextWriter writes (legacy names)', () => {
    const w = new TextWriter();
    for (const [l, v, t] of SERIES.slice(0, 5)) {
      w.family(l.metricName(), 'untyped');
      w.series(l, v, t);
    }
    const out = python(
      'import sys,json\nfrom prometheus_client.parser import text_string_to_metric_families\n' +
        'print(json.dumps([[s.name, s.labels, repr(s.value)] for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))',
      w.finish(),
    );
    expect(JSON.parse(out)).toEqual([
      ['up', { instance: 'a:9100', job: 'node' }, '1.0'],
      ['up', { job: 'esc', v: 'a\\b"c\nd' }, '0.0'],
      ['big', {}, '123456789.0'],
      ['nan', {}, 'nan'],
      ['inf', { x: 'y' }, '-inf'],
    ]);
  });
});

describe('TextWriter against promtool (Prometheus 2.42)', () => {
  const PROMTOOL = '/usr/bin/promtool';
  it.skipIf(!existsSync(PROMTOOL))('promtool check metrics parses the output and finds nothing to lint', () => {
    const w = new TextWriter();
    let last = '';
    for (const [l, v, t] of SERIES.slice(0, 5)) {
      if (l.metricName() !== last) w.family(l.metricName(), 'gauge', `help for ${l.metricName()}`);
      last = l.metricName();
      w.series(l, v, t);
    }
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: w.finish(), encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('ProtobufWriter', () => {
  it('round trips counter, gauge and untyped families through the protobuf parser', () => {
    const w = new ProtobufWriter();
    w.family('up', 'gauge', 'targets up');
    w.series(SERIES[0]![0], 1, 1700000000000);
    w.series(SERIES[1]![0], 0, 1700000000001);
    w.family('c_total', 'counter');
    w.series(Labels.fromPairs('__name__', 'c_total', 'a', 'b'), 42);
    w.family('my.dotted', 'untyped');
    w.series(SERIES[5]![0], 0.1, 5);
    w.family('empty', 'gauge'); // no series: not written
    const c = collect(new ProtobufParser(w.finish()));
    expect(c.type).toEqual(new Map([['up', 'gauge'], ['c_total', 'counter'], ['my.dotted', 'unknown']]));
    expect(c.help.get('up')).toBe('targets up');
    expect(c.series.map((r) => [r.labels, r.value, r.ts])).toEqual([
      [SERIES[0]![0].toString(), 1, 1700000000000],
      [SERIES[1]![0].toString(), 0, 1700000000001],
      ['{__name__="c_total", a="b"}', 42, undefined],
      [SERIES[5]![0].toString(), 0.1, 5],
    ]);
  });
});
