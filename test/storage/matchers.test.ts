import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import { Matcher, MatcherError, compileRegex, matchesAll, Labels } from '../../storage/index.js';

describe('Matcher semantics (Prometheus)', () => {
  it.each([
    { type: '=', value: 'api', input: 'api', want: true },
    { type: '=', value: 'api', input: 'ap', want: false },
    { type: '=', value: '', input: '', want: true },
    { type: '!=', value: 'api', input: 'web', want: true },
    { type: '!=', value: 'api', input: 'api', want: false },
    { type: '!=', value: 'api', input: '', want: true },
    { type: '=~', value: 'a.*', input: 'abc', want: true },
    { type: '=~', value: 'b', input: 'abc', want: false }, // fully anchored
    { type: '=~', value: 'a|b', input: 'ab', want: false },
    { type: '=~', value: '.*', input: 'line1\nline2', want: true }, // . matches newlines (3.x)
    { type: '=~', value: 'line1.line2', input: 'line1\nline2', want: true },
    { type: '=~', value: '(?i)API', input: 'api', want: true },
    { type: '!~', value: 'a.*', input: 'abc', want: false },
    { type: '!~', value: 'a.*', input: 'xyz', want: true },
    { type: '!~', value: '.+', input: '', want: true },
  ] as const)('$input $type "$value" → $want', ({ type, value, input, want }) => {
    expect(new Matcher(type, 'l', value).matches(input)).toBe(want);
  });

  it.each([
    { m: new Matcher('=', 'l', ''), empty: true },
    { m: new Matcher('=', 'l', 'x'), empty: false },
    { m: new Matcher('!=', 'l', ''), empty: false },
    { m: new Matcher('!=', 'l', 'x'), empty: true },
    { m: new Matcher('=~', 'l', '.*'), empty: true },
    { m: new Matcher('=~', 'l', '.+'), empty: false },
    { m: new Matcher('=~', 'l', 'a|'), empty: true },
    { m: new Matcher('=~', 'l', 'a?'), empty: true },
    { m: new Matcher('!~', 'l', '.+'), empty: true },
    { m: new Matcher('!~', 'l', ''), empty: false },
  ])('$m matches the empty string (selects series without the label): $empty', ({ m, empty }) => {
    expect(m.matchesEmpty).toBe(empty);
    expect(matchesAll([m], () => '')).toBe(empty);
  });

  it('exposes fast-path facts the index uses', () => {
    expect(new Matcher('=', 'l', 'x').setMatches).toEqual(['x']);
    expect(new Matcher('=~', 'l', 'a|b|c').setMatches).toEqual(['a', 'b', 'c']);
    expect(new Matcher('=~', 'l', '(?:a|b\\.c)').setMatches).toEqual(['a', 'b.c']);
    expect(new Matcher('!~', 'l', 'a|b').setMatches).toBeUndefined();
    expect(new Matcher('!~', 'l', 'a|b').literalSet).toEqual(['a', 'b']);
    expect(new Matcher('!=', 'l', 'a').literalSet).toEqual(['a']);
    expect(new Matcher('=~', 'l', 'a.*').literalSet).toBeUndefined();
    expect(new Matcher('=~', 'l', 'api_.*').prefix).toBe('api_');
    expect(new Matcher('=~', 'l', 'api_(get|put)').prefix).toBe('api_');
    expect(new Matcher('=~', 'l', 'prefix_a|prefix_b').prefix).toBe('prefix_');
    expect(new Matcher('!~', 'l', 'api_.*').prefix).toBe('');
    expect(new Matcher('=~', 'l', 'ab?c').prefix).toBe('a');
  });

  it('reports invalid regexes as MatcherError naming the pattern', () => {
    expect(() => new Matcher('=~', 'l', 'a(')).toThrow(MatcherError);
    expect(() => new Matcher('=~', 'l', 'a(')).toThrow(/error parsing regexp: .*`a\(`/);
    expect(() => new Matcher('!~', 'l', '[z-a]')).toThrow(MatcherError);
    expect(() => new Matcher('=~', 'l', '(?<name>x)')).not.toThrow(); // RE2 named groups
  });

  it('prints in PromQL notation', () => {
    expect(new Matcher('=~', 'job', 'api|web').toString()).toBe('job=~"api|web"');
    expect(new Matcher('!=', 'k8s.pod', 'a"b').toString()).toBe('"k8s.pod"!="a\\"b"');
  });

  it('matchesAll reads absent labels as empty', () => {
    const l = Labels.fromPairs('__name__', 'up', 'job', 'api');
    const get = (n: string): string => l.get(n);
    expect(matchesAll([new Matcher('=', 'job', 'api'), new Matcher('=', 'env', '')], get)).toBe(true);
    expect(matchesAll([new Matcher('=', 'job', 'api'), new Matcher('!=', 'env', '')], get)).toBe(false);
    expect(matchesAll([], get)).toBe(true);
  });
});

describe('regex fast paths agree with RE2', () => {
  const patterns = [
    '', '.*', '.+', 'foo', 'foo|bar', '(foo|bar)', '(?:a|b|)', 'a||b', 'foo.*', '.*foo', '.*foo.*', 'fo\\.o',
    'a\\|b', 'foo.+', 'ab?c', 'fo{2}', '(?i)foo', 'a+b', '\\d+', '[a-c]x', '.*.*', 'x.*y', 'foo\\.bar.*',
    '.*\\..*', '\\Qa.b\\E', '(a)(b)', '(a|b)c', 'a(b|c)', '.*(foo|bar)', 'foo$', '^foo', 'f.o', '\\.*', 'a\\.*',
    '.*a\\*', '(?s:.*)', '.?', 'foo|', '|foo', '\\\\', 'a\\\\.*', 'é.*', '.*ü', '😀|x', 'ab(c|d)', 'ab[|]c', 'ab[]|]x|y',
    'ab\\|c', 'a(b(c|d)|e)f', 'ab[[:alpha:]|]', 'abc|abd',
  ];
  const inputs = [
    '', 'foo', 'bar', 'fo.o', 'foox', 'xfoo', 'xfoox', 'a|b', 'a', 'b', 'ab', 'abc', 'ac', 'abbc', 'foo\nbar',
    'FOO', 'Foo', 'foo.bar', 'foo.barx', 'foobar', 'fooo', 'fo', 'x', 'xy', 'xay', 'a.b', 'Qa.bE', 'bc', 'cc',
    '123', 'a*', 'xa*', '.', '..', 'aaab', '\\', 'a\\', 'a\\x', 'éa', 'aü', '😀', '\n', 'foo\n', 'f\no', 'abc', 'abd',
    'ab|c', 'y', 'ab]x', 'abx', 'abcf', 'abef', 'abdf', 'abz', 'ab|',
  ];
  it.each(patterns)('/%s/', (p) => {
    const re = RE2JS.compile(`^(?s:${p})$`);
    const fast = compileRegex(p);
    for (const s of inputs) expect(fast.test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(re.matches(s));
    if (fast.set !== undefined) {
      for (const s of inputs) expect(fast.set.includes(s), `set of ${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(re.matches(s));
    }
    for (const s of inputs) if (re.matches(s)) expect(s.startsWith(fast.prefix), `prefix ${JSON.stringify(fast.prefix)} of ${JSON.stringify(p)}`).toBe(true);
  });
});
