import { describe, expect, it } from 'vitest';
import {
  Labels,
  LabelsBuilder,
  compareStrings,
  formatLabelName,
  intern,
  isLegacyLabelName,
  isLegacyMetricName,
  isValidLabelName,
  isValidMetricName,
  isWellFormed,
  quoteString,
} from '../../storage/index.js';

describe('Labels', () => {
  it('sorts by name, drops empty values, keeps the last of a repeated name', () => {
    const l = Labels.fromPairs('job', 'api', '__name__', 'up', 'empty', '', 'job', 'web');
    expect(l.toPairs()).toEqual(['__name__', 'up', 'job', 'web']);
    expect(l.size).toBe(2);
    expect(l.get('job')).toBe('web');
    expect(l.get('empty')).toBe('');
    expect(l.has('empty')).toBe(false);
    expect(l.metricName()).toBe('up');
    expect(Labels.from({ b: '2', a: '1', c: '' }).toPairs()).toEqual(['a', '1', 'b', '2']);
    expect(Labels.from(new Map([['z', '1']])).toObject()).toEqual({ z: '1' });
  });

  it('an empty set is empty', () => {
    expect(Labels.fromPairs().isEmpty()).toBe(true);
    expect(Labels.fromPairs('a', '').isEmpty()).toBe(true);
    expect(Labels.EMPTY.toString()).toBe('{}');
  });

  it('equality, hashing and keys agree', () => {
    const a = Labels.fromPairs('a', '1', 'b', '2');
    const b = Labels.fromPairs('b', '2', 'a', '1');
    const c = Labels.fromPairs('a', '1', 'b', '3');
    expect(a.equals(b)).toBe(true);
    expect(a.hash()).toBe(b.hash());
    expect(a.key()).toBe(b.key());
    expect(a.equals(c)).toBe(false);
    expect(a.hash()).not.toBe(c.hash());
    expect(a.key()).not.toBe(c.key());
    // Boundaries between strings matter: {a="bc"} is not {ab="c"}.
    const x = Labels.fromPairs('a', 'bc'), y = Labels.fromPairs('ab', 'c');
    expect(x.key()).not.toBe(y.key());
    expect(x.hash()).not.toBe(y.hash());
    expect(Number.isSafeInteger(a.hash()) && a.hash() >= 0).toBe(true);
  });

  it('hashes spread: no collisions over many similar sets', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) seen.add(Labels.fromPairs('__name__', 'node_cpu_seconds_total', 'cpu', String(i % 64), 'instance', `10.0.${i >> 8}.${i & 255}:9100`).hash());
    expect(seen.size).toBe(20_000);
  });

  it.each([
    { a: [], b: [], want: 0 },
    { a: ['a', '1'], b: ['a', '1'], want: 0 },
    { a: ['a', '1'], b: ['a', '2'], want: -1 },
    { a: ['a', '1'], b: ['b', '0'], want: -1 },
    { a: ['a', '1'], b: ['a', '1', 'b', '1'], want: -1 }, // a prefix sorts first
    { a: ['b', '1'], b: ['a', '1', 'b', '1'], want: 1 },
    { a: ['a', 'Z'], b: ['a', 'a'], want: -1 }, // byte order
  ])('compare($a, $b) has the sign of $want', ({ a, b, want }) => {
    const r = Labels.compare(Labels.fromPairs(...a), Labels.fromPairs(...b));
    expect(Math.sign(r)).toBe(want);
    expect(Math.sign(Labels.compare(Labels.fromPairs(...b), Labels.fromPairs(...a)))).toBe(-want || 0);
  });

  it('without, only and builder', () => {
    const l = Labels.fromPairs('__name__', 'up', 'job', 'api', 'instance', 'h:1');
    expect(l.without('job').toPairs()).toEqual(['__name__', 'up', 'instance', 'h:1']);
    expect(l.without()).toBe(l);
    expect(l.only('job', 'nope').toPairs()).toEqual(['job', 'api']);
    const b = l.builder();
    b.set('job', 'web').set('instance', '').del('__name__').set('new', 'x');
    expect(b.labels().toPairs()).toEqual(['job', 'web', 'new', 'x']);
    expect(b.labels().toString()).toBe('{job="web", new="x"}');
    expect(l.toString()).toBe('{__name__="up", instance="h:1", job="api"}'); // unchanged
    const f = new LabelsBuilder(l).filter((n) => n !== 'instance');
    expect(f.labels().toPairs()).toEqual(['__name__', 'up', 'job', 'api']);
    expect(f.has('job')).toBe(true);
    expect(f.get('instance')).toBe('');
    expect(f.size).toBe(2);
    expect(new LabelsBuilder().labels()).toBe(Labels.EMPTY);
  });

  it('interns names and values so equal strings share one instance', () => {
    const v1 = ['node', '_exporter'].join('');
    const v2 = ['node_', 'exporter'].join('');
    expect(intern(v1)).toBe(intern(v2));
    const a = Labels.fromPairs('job', v1);
    const b = Labels.fromPairs('job', v2);
    expect(a.valueAt(0)).toBe(b.valueAt(0));
  });

  it('prints like Prometheus, quoting UTF-8 names', () => {
    expect(Labels.fromPairs('__name__', 'up', 'job', 'a"b\\c\nd').toString()).toBe('{__name__="up", job="a\\"b\\\\c\\nd"}');
    expect(Labels.fromPairs('foo.bar', 'x', 'ok_name', 'y').toString()).toBe('{"foo.bar"="x", ok_name="y"}');
  });
});

describe('names and quoting', () => {
  it.each([
    ['a', true, true],
    ['_a1', true, true],
    ['a:b', false, true],
    ['1a', false, false],
    ['a-b', false, false],
    ['', false, false],
  ])('%j: legacy label %s, legacy metric %s', (name, label, metric) => {
    expect(isLegacyLabelName(name)).toBe(label);
    expect(isLegacyMetricName(name)).toBe(metric);
  });

  it('Prometheus 3 accepts any well-formed UTF-8 name, never an empty one', () => {
    expect(isValidLabelName('foo.bar')).toBe(true);
    expect(isValidLabelName('ünïcödé 名前')).toBe(true);
    expect(isValidMetricName('http.server.duration')).toBe(true);
    expect(isValidLabelName('')).toBe(false);
    expect(isValidLabelName('a\ud800b')).toBe(false); // lone surrogate: not UTF-8
    expect(isValidLabelName('a\udc00')).toBe(false);
    expect(isWellFormed('😀')).toBe(true);
    expect(isWellFormed('\ud83d')).toBe(false);
  });

  it.each([
    ['plain', '"plain"'],
    ['q"b\\s', '"q\\"b\\\\s"'],
    ['\n\r\t\x07\x08\x0c\x0b', '"\\n\\r\\t\\a\\b\\f\\v"'],
    ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
    ['ünïcödé 名前 😀', '"ünïcödé 名前 😀"'],
    ['\u0085\u00ad', '"\\u0085\\u00ad"'], // C1 control and soft hyphen are not printable
    ['\u2028\ufeff', '"\\u2028\\ufeff"'],
    ['a\u00a0b', '"a\\u00a0b"'], // non-ASCII spaces are escaped by Go
    ['\u{e0001}', '"\\U000e0001"'],
  ])('quoteString(%j) is Go strconv.Quote: %s', (s, want) => {
    expect(quoteString(s)).toBe(want);
  });

  it('formatLabelName quotes only non-legacy names', () => {
    expect(formatLabelName('job')).toBe('job');
    expect(formatLabelName('k8s.pod')).toBe('"k8s.pod"');
  });

  it('compareStrings orders by UTF-16 code units', () => {
    expect(['b', 'B', 'a', 'é', ''].sort(compareStrings)).toEqual(['', 'B', 'a', 'b', 'é']);
  });
});
