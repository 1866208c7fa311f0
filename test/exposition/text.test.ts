import { describe, expect, it } from 'vitest';
import { ExpositionError, OpenMetricsParser, PromTextParser, type MetricParser } from '../../src/exposition/index.js';
import { Labels } from '../../storage/index.js';
import { collect } from './helpers.js';

const text = (s: string): MetricParser => new PromTextParser(Buffer.from(s));
const om = (s: string): MetricParser => new OpenMetricsParser(Buffer.from(s));

function rows(p: MetricParser): [string, number, number | undefined][] {
  return collect(p).series.map((r) => [r.labels, r.value, r.ts]);
}

function errorOf(p: MetricParser): ExpositionError {
  try {
    collect(p);
  } catch (e) {
    if (e instanceof ExpositionError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('text format 0.0.4: valid input', () => {
  it.each([
    { name: 'minimal line', input: 'a 1\n', want: [['{__name__="a"}', 1, undefined]] },
    { name: 'no trailing newline', input: 'a 1', want: [['{__name__="a"}', 1, undefined]] },
    { name: 'empty braces', input: 'a{} 1\n', want: [['{__name__="a"}', 1, undefined]] },
    { name: 'timestamp', input: 'a 1 1395066363000\n', want: [['{__name__="a"}', 1, 1395066363000]] },
    { name: 'blanks and tabs everywhere but before the name', input: 'a  { b = "c" ,  d="e" , }   \t 2   3  \n\n \t\n', want: [['{__name__="a", b="c", d="e"}', 2, 3]] },
    // Prometheus 3.5 keeps leading blanks in a bare metric name (2.42 then rejects the name).
    { name: 'leading blanks stay in the name, as in Prometheus 3.5', input: ' \ta 1\n', want: [[Labels.fromPairs('__name__', ' \ta').toString(), 1, undefined]] },
    { name: 'trailing comma', input: 'a{b="c",} 1\n', want: [['{__name__="a", b="c"}', 1, undefined]] },
    { name: 'escapes in label values', input: 'a{b="x\\\\y\\"z\\nw"} 1\n', want: [['{__name__="a", b="x\\\\y\\"z\\nw"}', 1, undefined]] },
    { name: 'unknown escape kept as written', input: 'a{b="\\t"} 1\n', want: [['{__name__="a", b="\\\\t"}', 1, undefined]] },
    { name: 'UTF-8 label value', input: 'a{b="日本 ü"} 1\n', want: [['{__name__="a", b="日本 ü"}', 1, undefined]] },
    { name: 'quoted UTF-8 metric name', input: '{"my.metric", label="x"} 1\n', want: [['{__name__="my.metric", label="x"}', 1, undefined]] },
    { name: 'quoted name alone', input: '{"my.metric"} 1\n', want: [['{__name__="my.metric"}', 1, undefined]] },
    { name: 'quoted name after labels', input: '{a="b", "my.metric"} 1\n', want: [['{__name__="my.metric", a="b"}', 1, undefined]] },
    { name: 'quoted label names', input: 'a{"label.name"="x", "b"="y"} 1\n', want: [['{__name__="a", b="y", "label.name"="x"}', 1, undefined]] },
    { name: 'empty label value drops the label', input: 'a{b=""} 1\n', want: [['{__name__="a"}', 1, undefined]] },
    { name: 'NaN', input: 'a NaN\n', want: [['{__name__="a"}', NaN, undefined]] },
    { name: 'nan lower case', input: 'a nan\n', want: [['{__name__="a"}', NaN, undefined]] },
    { name: 'Inf', input: 'a Inf\n', want: [['{__name__="a"}', Infinity, undefined]] },
    { name: '-Inf', input: 'a -Inf\n', want: [['{__name__="a"}', -Infinity, undefined]] },
    { name: '+infinity', input: 'a +infinity\n', want: [['{__name__="a"}', Infinity, undefined]] },
    { name: 'exponent', input: 'a 1.5e3\nb 1E-3\nc -2.5e+2\n', want: [['{__name__="a"}', 1500, undefined], ['{__name__="b"}', 0.001, undefined], ['{__name__="c"}', -250, undefined]] },
    { name: 'leading dot, trailing dot, leading zeros, plus sign', input: 'a .5\nb 5.\nc 0042\nd +1\n', want: [['{__name__="a"}', 0.5, undefined], ['{__name__="b"}', 5, undefined], ['{__name__="c"}', 42, undefined], ['{__name__="d"}', 1, undefined]] },
    { name: 'many digits', input: 'a 1234567890123456789\nb 0.1000000000000000055511151231257827\n', want: [['{__name__="a"}', 1234567890123456789, undefined], ['{__name__="b"}', 0.1, undefined]] },
    { name: 'other comments ignored', input: '# hello\n#no space\n# HELPX a b\n#\ta 1\na 1\n', want: [['{__name__="a"}', 1, undefined]] },
    { name: 'untyped type', input: '# TYPE a untyped\na 1\n', want: [['{__name__="a"}', 1, undefined]] },
    { name: 'name with colons', input: 'a:b:c_d 1\n', want: [['{__name__="a:b:c_d"}', 1, undefined]] },
    { name: 'label value with a raw newline (accepted like Prometheus)', input: 'a{b="x\ny"} 1\nc 2\n', want: [['{__name__="a", b="x\\ny"}', 1, undefined], ['{__name__="c"}', 2, undefined]] },
  ])('$name', ({ input, want }) => {
    expect(rows(text(input))).toEqual(want);
  });

  it('HELP unescapes \\\\ and \\n only; TYPE maps untyped to unknown', () => {
    const c = collect(text('# HELP a x\\\\y\\nz \\"q\\"\n# TYPE a untyped\n# HELP "my.metric" dotted\n# TYPE "my.metric" gauge\n'));
    expect(c.help.get('a')).toBe('x\\y\nz \\"q\\"');
    expect(c.type.get('a')).toBe('unknown');
    expect(c.help.get('my.metric')).toBe('dotted');
    expect(c.type.get('my.metric')).toBe('gauge');
  });

  it('HELP text keeps everything after the one separator', () => {
    const c = collect(text('# HELP a   spaced  out  \n# HELP b\n'));
    expect(c.help.get('a')).toBe('  spaced  out  ');
    expect(c.help.get('b')).toBe('');
  });

  it('le of histograms and quantile of summaries are normalised; other types and labels are not', () => {
    const c = collect(
      text(
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="0.25"} 1\nh_bucket{le="1e6"} 1\nh_bucket{le="+Inf"} 2\nh_bucket{le="x"} 2\n' +
          '# TYPE s summary\ns{quantile="1"} 1\ns{quantile="0.99"} 1\ns{le="1"} 1\n' +
          '# TYPE g gauge\ng{le="1",quantile="1"} 1\n',
      ),
    );
    expect(c.series.map((r) => r.labels)).toEqual([
      '{__name__="h_bucket", le="1.0"}',
      '{__name__="h_bucket", le="0.25"}',
      '{__name__="h_bucket", le="1e+06"}',
      '{__name__="h_bucket", le="+Inf"}',
      '{__name__="h_bucket", le="x"}',
      '{__name__="s", quantile="1.0"}',
      '{__name__="s", quantile="0.99"}',
      '{__name__="s", le="1"}',
      '{__name__="g", le="1", quantile="1"}',
    ]);
  });

  it('seriesKey is the series as written', () => {
    const p = text('a{b="c"}   1\n{"x.y"} 2\n');
    expect(p.next()).toBe('series');
    expect(p.seriesKey()).toBe('a{b="c"}');
    expect(p.next()).toBe('series');
    expect(p.seriesKey()).toBe('{"x.y"}');
    expect(p.next()).toBe(null);
    expect(p.next()).toBe(null);
  });

  it('accessors without labels(): value and timestamp straight from next()', () => {
    const p = text('a{b="c"} 7 9\n');
    expect(p.next()).toBe('series');
    expect(p.value()).toBe(7);
    expect(p.timestamp()).toBe(9);
    expect(p.createdTimestamp()).toBeUndefined();
    expect(p.exemplar()).toBeUndefined();
  });

  it('a huge line and a huge label value parse', () => {
    const v = 'x'.repeat(1 << 20);
    const labels = Array.from({ length: 500 }, (_, i) => `l${i}="${i}"`).join(',');
    const c = collect(text(`a{big="${v}",${labels}} 1\n`));
    expect(c.series).toHaveLength(1);
    expect(c.series[0]!.labels.length).toBeGreaterThan(1 << 20);
  });
});

describe('text format 0.0.4: invalid input', () => {
  it.each([
    { name: 'no value', input: 'a\n', line: 1, msg: 'expected value after metric, got "\\n" (LINEBREAK) while parsing: "a\\n"' },
    { name: 'no value at EOF', input: 'ok 1\na', line: 2, msg: 'expected value after metric, got "" (EOF)' },
    { name: 'bad value', input: 'a 1\nb abc\n', line: 2, msg: 'strconv.ParseFloat: parsing "abc": invalid syntax while parsing: "b abc"' },
    { name: 'hex float', input: 'a 0x1p3\n', line: 1, msg: 'unsupported character in float' },
    { name: 'hex without exponent', input: 'a 0x10\n', line: 1, msg: 'strconv.ParseFloat: parsing "0x10": invalid syntax' },
    { name: 'underscore digits', input: 'a 1_000\n', line: 1, msg: 'unsupported character in float' },
    { name: 'out of range', input: 'a 1e400\n', line: 1, msg: 'strconv.ParseFloat: parsing "1e400": value out of range' },
    { name: 'signed NaN', input: 'a +NaN\n', line: 1, msg: 'invalid syntax' },
    { name: 'float timestamp', input: 'a 1 1.5\n', line: 1, msg: 'expected timestamp or new record' },
    { name: 'negative timestamp (the format doc example; Prometheus rejects it too)', input: 'w{problem="division by zero"} +Inf -3982045\n', line: 1, msg: 'expected timestamp or new record' },
    { name: 'timestamp out of range', input: 'a 1 99999999999999999999\n', line: 1, msg: 'value out of range' },
    { name: 'junk after timestamp', input: 'a 1 2 3\n', line: 1, msg: 'expected next entry after timestamp, got "3"' },
    { name: 'unterminated label value', input: 'a{b="c} 1\n', line: 1, msg: 'unterminated quoted label value' },
    { name: 'missing equal', input: 'a{b"c"} 1\n', line: 1, msg: 'expected equal, got "\\"" (QSTRING)' },
    { name: 'unquoted label value', input: 'a{b=c} 1\n', line: 1, msg: 'expected label value' },
    { name: 'bad label name', input: 'x 1\n\na{1b="c"} 1\n', line: 3, msg: 'expected label name, got "1' },
    { name: 'unclosed brace', input: 'a{b="c"\n', line: 1, msg: 'expected label name' },
    { name: 'duplicate label', input: 'a{b="1",b="2"} 1\n', line: 1, msg: 'label name "b" is not unique' },
    { name: 'duplicate label, first empty', input: 'a{b="",b="2"} 1\n', line: 1, msg: 'label name "b" is not unique' },
    { name: 'duplicate among many labels', input: `a{${Array.from({ length: 30 }, (_, i) => `l${i}="v"`).join(',')},l3="w"} 1\n`, line: 1, msg: 'label name "l3" is not unique' },
    { name: '__name__ as a label next to the name', input: 'a{__name__="b"} 1\n', line: 1, msg: 'label name "__name__" is not unique' },
    { name: 'no metric name in braces', input: '{a="b"} 1\n', line: 1, msg: 'metric name not set' },
    { name: 'two quoted names', input: '{"a","b"} 1\n', line: 1, msg: 'metric name already set' },
    { name: 'empty quoted name', input: '{""} 1\n', line: 1, msg: 'missing metric name' },
    { name: 'invalid type', input: '# TYPE a foo\n', line: 1, msg: 'invalid metric type "foo"' },
    { name: 'OpenMetrics type in text', input: '# TYPE a info\n', line: 1, msg: 'invalid metric type "info"' },
    { name: 'TYPE without name', input: '# TYPE \n', line: 1, msg: 'expected metric name after TYPE' },
    { name: 'invalid UTF-8 label value', input: Buffer.concat([Buffer.from('a{b="'), Buffer.from([0xff, 0xfe]), Buffer.from('"} 1\n')]), line: 1, msg: 'invalid UTF-8 label value' },
    { name: 'invalid UTF-8 help', input: Buffer.concat([Buffer.from('# HELP a '), Buffer.from([0xc3]), Buffer.from('\n')]), line: 1, msg: 'is not a valid utf8 string' },
    { name: 'garbage line', input: 'a 1\n\n\n!!!\n', line: 4, msg: 'expected a valid start token, got "!!!" (INVALID)' },
    { name: 'line count across multi-line label value', input: 'a{b="x\ny"} 1\nc\n', line: 3, msg: 'expected value after metric' },
  ])('$name (line $line)', ({ input, line, msg }) => {
    const e = errorOf(new PromTextParser(typeof input === 'string' ? Buffer.from(input) : input));
    expect(e.line).toBe(line);
    expect(e.reason).toContain(msg);
    expect(e.message).toBe(`line ${line}: ${e.reason}`);
  });
});

describe('OpenMetrics 1.0: valid input', () => {
  it('types, units, help escaping, EOF', () => {
    const c = collect(
      om(
        '# TYPE foo_seconds counter\n# UNIT foo_seconds seconds\n# HELP foo_seconds Some text and \\n some \\" escaping\n' +
          'foo_seconds_total 17.0\nfoo_seconds_created 1520430000.123\n' +
          '# TYPE i info\ni_info{v="1"} 1\n# TYPE s stateset\ns{s="a"} 1\ns{s="b"} 0\n' +
          '# TYPE gh gaugehistogram\ngh_bucket{le="1"} 1\ngh_bucket{le="+Inf"} 2\ngh_gcount 2\ngh_gsum 3\n' +
          '# TYPE u unknown\nu 1\n# EOF\n',
      ),
    );
    expect(c.type).toEqual(new Map([['foo_seconds', 'counter'], ['i', 'info'], ['s', 'stateset'], ['gh', 'gaugehistogram'], ['u', 'unknown']]));
    expect(c.unit.get('foo_seconds')).toBe('seconds');
    expect(c.help.get('foo_seconds')).toBe('Some text and \n some " escaping');
    expect(c.series.map((r) => [r.labels, r.value])).toEqual([
      ['{__name__="foo_seconds_total"}', 17],
      // Prometheus 3.5 stores _created lines as ordinary series unless created-timestamp
      // ingestion is on (see skipCreatedSeries).
      ['{__name__="foo_seconds_created"}', 1520430000.123],
      ['{__name__="i_info", v="1"}', 1],
      ['{__name__="s", s="a"}', 1],
      ['{__name__="s", s="b"}', 0],
      // gaugehistogram le values are not normalised (Prometheus does it for histogram only).
      ['{__name__="gh_bucket", le="1"}', 1],
      ['{__name__="gh_bucket", le="+Inf"}', 2],
      ['{__name__="gh_gcount"}', 2],
      ['{__name__="gh_gsum"}', 3],
      ['{__name__="u"}', 1],
    ]);
  });

  it('EOF without a final newline', () => {
    expect(rows(om('a 1\n# EOF'))).toEqual([['{__name__="a"}', 1, undefined]]);
  });

  it('timestamps are float seconds, truncated to ms as Prometheus does (int64(ts*1000))', () => {
    expect(rows(om('a 1 1520879607.789\nb 2 123\nc 3 -1.5\nd 4 1e3\n# EOF\n'))).toEqual([
      ['{__name__="a"}', 1, Math.trunc(1520879607.789 * 1000)],
      ['{__name__="b"}', 2, 123000],
      ['{__name__="c"}', 3, -1500],
      ['{__name__="d"}', 4, 1e6],
    ]);
  });

  it('exemplars: labels, value, optional timestamp, with and without a sample timestamp', () => {
    const p = om(
      '# TYPE foo histogram\nfoo_bucket{le="0.1"} 8 # {trace_id="KOO5S4vxi0o"} 0.067\n' +
        'foo_bucket{le="1"} 9 # {trace_id="oHg5SJYRHA0",span="x"} 0.5 1520879607.789\n' +
        'foo_bucket{le="+Inf"} 10 123 # {} 2\nfoo_count 10\nfoo_sum 3\n# EOF\n',
    );
    expect(p.next()).toBe('type');
    expect(p.next()).toBe('series');
    let ex = p.exemplar()!;
    expect(ex.labels.toString()).toBe('{trace_id="KOO5S4vxi0o"}');
    expect(ex.value).toBe(0.067);
    expect(ex.timestamp).toBeUndefined();
    expect(p.next()).toBe('series');
    ex = p.exemplar()!;
    expect(ex.labels.toString()).toBe('{span="x", trace_id="oHg5SJYRHA0"}');
    expect(ex.timestamp).toBe(Math.trunc(1520879607.789 * 1000));
    expect(p.next()).toBe('series');
    expect(p.timestamp()).toBe(123000);
    ex = p.exemplar()!;
    expect(ex.labels.isEmpty()).toBe(true);
    expect(ex.value).toBe(2);
    expect(p.next()).toBe('series');
    expect(p.exemplar()).toBeUndefined();
  });

  it('quoted UTF-8 names', () => {
    const c = collect(om('# TYPE "my.counter" counter\n{"my.counter_total","a.b"="c"} 1\n# EOF\n'));
    expect(c.type.get('my.counter')).toBe('counter');
    expect(c.series[0]!.labels).toBe('{__name__="my.counter_total", "a.b"="c"}');
  });

  it('skipCreatedSeries: _created lines become createdTimestamp() of their metric point', () => {
    const body = Buffer.from(
      '# TYPE foo counter\nfoo_total{a="1"} 17\nfoo_created{a="1"} 1520430000.5\nfoo_total{a="2"} 3\n' +
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 1\nh_created 1000\n' +
        '# TYPE g gauge\ng_created 5\n# EOF\n',
    );
    const c = collect(new OpenMetricsParser(body, { skipCreatedSeries: true }));
    expect(c.series.map((r) => [r.labels, r.ct])).toEqual([
      ['{__name__="foo_total", a="1"}', 1520430000500],
      ['{__name__="foo_total", a="2"}', undefined],
      ['{__name__="h_bucket", le="1.0"}', 1000000],
      ['{__name__="h_bucket", le="+Inf"}', 1000000],
      ['{__name__="h_count"}', 1000000],
      ['{__name__="h_sum"}', 1000000],
      // Gauges have no created timestamp: g_created is an ordinary series.
      ['{__name__="g_created"}', undefined],
    ]);
  });
});

describe('OpenMetrics created timestamps at scale', () => {
  it('skipCreatedSeries over a family of 5,000 counters (one look-ahead pass per family)', () => {
    let body = '# TYPE c counter\n';
    for (let i = 0; i < 5000; i++) body += `c_total{i="${i}"} ${i}\nc_created{i="${i}"} ${1000 + i}.5\n`;
    body += '# TYPE g gauge\ng 1\n# EOF\n';
    const c = collect(new OpenMetricsParser(Buffer.from(body), { skipCreatedSeries: true }));
    expect(c.series).toHaveLength(5001);
    const wrong = c.series.slice(0, 5000).filter((r, i) => r.ct !== (1000 + i) * 1000 + 500);
    expect(wrong).toEqual([]);
    expect(c.series[5000]!.ct).toBeUndefined();
  });
});

describe('OpenMetrics 1.0: invalid input', () => {
  it.each([
    { name: 'missing EOF', input: 'a 1\n', line: 2, msg: 'data does not end with # EOF' },
    { name: 'empty body', input: '', line: 1, msg: 'data does not end with # EOF' },
    { name: 'data after EOF', input: 'a 1\n# EOF\nb 1\n', line: 3, msg: 'unexpected data after # EOF' },
    { name: 'blank line after EOF', input: '# EOF\n\n', line: 2, msg: 'unexpected data after # EOF' },
    { name: 'blank line', input: 'a 1\n\nb 1\n# EOF\n', line: 2, msg: 'expected a valid start token, got "\\n" (LINEBREAK)' },
    { name: 'invalid type', input: '# TYPE a untyped\n# EOF\n', line: 1, msg: 'invalid metric type "untyped"' },
    { name: 'unit not a suffix', input: '# TYPE foo counter\n# UNIT foo seconds\n# EOF\n', line: 2, msg: 'unit "seconds" not a suffix of metric "foo"' },
    { name: 'unit suffix without underscore', input: '# UNIT fooseconds seconds\n# EOF\n', line: 1, msg: 'unit "seconds" not a suffix of metric "fooseconds"' },
    { name: 'plain comment', input: '# hello\n# EOF\n', line: 1, msg: 'expected a valid start token' },
    { name: 'two spaces before value', input: 'a  1\n# EOF\n', line: 1, msg: 'expected value after metric' },
    { name: 'space in labels', input: 'a{b="c", d="e"} 1\n# EOF\n', line: 1, msg: 'expected label name' },
    { name: 'missing comma', input: 'a{b="c"d="e"} 1\n# EOF\n', line: 1, msg: 'expected comma or brace close' },
    { name: 'NaN timestamp', input: 'a 1 NaN\n# EOF\n', line: 1, msg: 'invalid timestamp NaN' },
    { name: 'bad exemplar', input: 'a_total 1 # x\n# EOF\n', line: 1, msg: 'expected exemplar labels' },
    { name: 'exemplar without value', input: 'a_total 1 # {a="b"}\n# EOF\n', line: 1, msg: 'expected value after exemplar labels' },
    { name: 'exemplar with a metric name', input: 'a_total 1 # {"x"} 1\n# EOF\n', line: 1, msg: 'expected label name' },
    { name: 'truncated line', input: '# TYPE a gauge\na 1', line: 2, msg: 'data does not end with # EOF' },
    { name: 'duplicate label', input: 'a{b="1",b="1"} 1\n# EOF\n', line: 1, msg: 'label name "b" is not unique' },
    { name: 'exemplar on a gauge', input: '# TYPE g gauge\ng 1 # {a="b"} 1\n# EOF\n', line: 2, msg: 'metric name g does not support exemplars' },
    { name: 'exemplar on a histogram _sum', input: '# TYPE h histogram\nh_sum 1 # {a="b"} 1\n# EOF\n', line: 2, msg: 'metric name h_sum does not support exemplars' },
    { name: 'HELP without the space before its (empty) text', input: '# HELP a\n# EOF\n', line: 1, msg: 'expected text in HELP' },
    { name: 'TYPE without a type', input: '# TYPE a\n# EOF\n', line: 1, msg: 'expected text in TYPE' },
  ])('$name (line $line)', ({ input, line, msg }) => {
    const e = errorOf(om(input));
    expect(e.reason).toContain(msg);
    expect(e.line).toBe(line);
  });
});
