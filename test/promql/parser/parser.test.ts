import { describe, expect, it } from 'vitest';
import {
  FUNCTION_SIGNATURES,
  ParseError,
  astToJson,
  formatExpr,
  parse,
  parseDuration,
  formatDuration,
  parseMetric,
  parseSelector,
  parseSeriesDescription,
  prettify,
  SERIES_OMITTED,
  SERIES_STALE,
  SERIES_VALUE,
  typeOf,
  walk,
  children,
} from '../../../promql/parser/index.js';
import { isStaleNaN } from '../../../storage/index.js';
import { readFileSync } from 'node:fs';
import { shape } from './helpers.js';

function errorOf(q: string): string {
  try {
    parse(q);
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return (err as Error).message;
  }
  return '<no error>';
}

// Valid queries and their canonical form (Prometheus's String()).
const VALID: Array<[string, string]> = [
  ['1', '1'],
  ['+Inf', '+Inf'],
  ['-Inf', '-Inf'],
  ['NaN', 'NaN'],
  ['nan', 'NaN'],
  ['.5', '0.5'],
  ['5.', '5'],
  ['5e-3', '0.005'],
  ['5e3', '5000'],
  ['0xc', '12'],
  ['0x_53_AB', '21419'],
  ['0755', '493'],
  ['-0755', '-493'],
  ['1_000_000', '1000000'],
  ['.123_456', '0.123456'],
  ['+5.5e-3', '0.0055'],
  ['1e300', '1' + '0'.repeat(300)],
  ['1 + 1', '1 + 1'],
  ['1 == bool 1', '1 == bool 1'],
  ['-1^2', '-1 ^ 2'],
  ['-1*2', '-1 * 2'],
  ['+1 + -2 * 1', '1 + -2 * 1'],
  ['1 + 2/(3*1)', '1 + 2 / (3 * 1)'],
  ['2 ^ 3 ^ 2', '2 ^ 3 ^ 2'],
  ['-some_metric', '-some_metric'],
  ['+some_metric', '+some_metric'],
  ['5m', '5m'],
  ['-5m', '-5m'],
  ['time() - 1h30m', 'time() - 1h30m'],
  ['foo', 'foo'],
  ['foo:bar:baz', 'foo:bar:baz'],
  ['sum', 'sum'],
  ['foo * sum', 'foo * sum'],
  ['offset{step="1s"}[5m]', 'offset{step="1s"}[5m]'],
  ['by', 'by'],
  ['foo{a="b", c!="d", e=~"f.*", g!~"h"}', 'foo{a="b",c!="d",e=~"f.*",g!~"h"}'],
  ['foo{a="b",}', 'foo{a="b"}'],
  [`foo{a='b'}`, 'foo{a="b"}'],
  ['foo{a=`b\\n`}', 'foo{a="b\\\\n"}'],
  ['foo{a="\\u00e9\\x41\\101\\n"}', 'foo{a="éAA\\n"}'],
  ['{__name__="foo"}', '{__name__="foo"}'],
  ['{"foo.bar"}', '{__name__="foo.bar"}'],
  ['{"foo.bar", "my.label"="x"}', '{"my.label"="x",__name__="foo.bar"}'],
  ['foo{on="x", by="y", offset="z"}', 'foo{by="y",offset="z",on="x"}'],
  ['foo # a comment\n+ bar', 'foo + bar'],
  ['foo offset 5m', 'foo offset 5m'],
  ['foo offset -5m', 'foo offset -5m'],
  ['foo offset 90', 'foo offset 1m30s'],
  ['foo OFFSET 1h30m', 'foo offset 1h30m'],
  ['foo offset 1w', 'foo offset 1w'],
  ['foo offset 2w1d', 'foo offset 15d'],
  ['foo offset 1y', 'foo offset 1y'],
  ['foo @ 100', 'foo @ 100.000'],
  ['foo @ 1.5 offset 1m', 'foo @ 1.500 offset 1m'],
  ['foo offset 1m @ -3', 'foo @ -3.000 offset 1m'],
  ['foo @ - 5', 'foo @ -5.000'],
  ['foo @ +1m', 'foo @ 60.000'],
  ['foo @ start()', 'foo @ start()'],
  ['foo @ end() offset 1m', 'foo @ end() offset 1m'],
  ['foo[5m]', 'foo[5m]'],
  ['foo[300]', 'foo[5m]'],
  ['foo[5m] offset 1m', 'foo[5m] offset 1m'],
  ['foo[5m] @ 10 offset 1m', 'foo[5m] @ 10.000 offset 1m'],
  ['foo{a="b"}[1h30m]', 'foo{a="b"}[1h30m]'],
  ['foo[5m:]', 'foo[5m:]'],
  ['foo[5m:1m]', 'foo[5m:1m]'],
  ['rate(foo[5m])[1h:1m] offset 5m', 'rate(foo[5m])[1h:1m] offset 5m'],
  ['max_over_time(rate(x[5m])[1h:1m])', 'max_over_time(rate(x[5m])[1h:1m])'],
  ['foo[26m+4m]', 'foo[26m + 4m]'],
  ['foo[2m*(10+5)]', 'foo[2m * (10 + 5)]'],
  ['foo[(5m)]', 'foo[5m]'],
  ['foo[29s+1s:5s+5s]', 'foo[29s + 1s:5s + 5s]'],
  ['foo offset (100 + 2)', 'foo offset (100 + 2)'],
  ['foo offset -(1m * 2)', 'foo offset -(1m * 2)'],
  ['foo offset 100 + 2', 'foo offset 1m40s + 2'],
  ['sum(foo)', 'sum(foo)'],
  ['sum by (job) (foo)', 'sum by (job) (foo)'],
  ['sum(foo) by (job, instance)', 'sum by (job, instance) (foo)'],
  ['sum without (job) (foo)', 'sum without (job) (foo)'],
  ['sum without () (foo)', 'sum without () (foo)'],
  ['sum by () (foo)', 'sum(foo)'],
  ['sum by (job,) (foo)', 'sum by (job) (foo)'],
  ['sum by ("my.label", job) (foo)', 'sum by ("my.label", job) (foo)'],
  ['sum by (foo:bar) (x)', 'sum by ("foo:bar") (x)'],
  ['SUM BY (job) (foo)', 'sum by (job) (foo)'],
  ['topk(5, foo)', 'topk(5, foo)'],
  ['bottomk by (a) (5, foo)', 'bottomk by (a) (5, foo)'],
  ['quantile(0.9, foo)', 'quantile(0.9, foo)'],
  ['count_values("value", foo)', 'count_values("value", foo)'],
  ['limitk(2, foo)', 'limitk(2, foo)'],
  ['limit_ratio(0.5, foo)', 'limit_ratio(0.5, foo)'],
  ['group(foo)', 'group(foo)'],
  ['stddev(foo) + stdvar(foo)', 'stddev(foo) + stdvar(foo)'],
  ['foo + on(a) bar', 'foo + on (a) bar'],
  ['foo + ignoring(a, b) bar', 'foo + ignoring (a, b) bar'],
  ['foo * on(a) group_left(b) bar', 'foo * on (a) group_left (b) bar'],
  ['foo * on(a) group_left bar', 'foo * on (a) group_left () bar'],
  ['foo * ignoring(a) group_right bar', 'foo * ignoring (a) group_right () bar'],
  ['foo > bool on(a) bar', 'foo > bool on (a) bar'],
  ['foo and bar or baz unless qux', 'foo and bar or baz unless qux'],
  ['foo and on() bar', 'foo and on () bar'],
  ['foo atan2 bar', 'foo atan2 bar'],
  ['foo == 1', 'foo == 1'],
  ['1 < bool 2 - 1 * 2', '1 < bool 2 - 1 * 2'],
  ['"a" ', '"a"'],
  [`'a\\'b'`, '"a\'b"'],
  ['`raw\\string`', '"raw\\\\string"'],
  ['rate(foo[5m])', 'rate(foo[5m])'],
  ['round(foo)', 'round(foo)'],
  ['round(foo, 5)', 'round(foo, 5)'],
  ['time()', 'time()'],
  ['pi()', 'pi()'],
  ['label_join(foo, "a", ",", "b", "c", "d")', 'label_join(foo, "a", ",", "b", "c", "d")'],
  ['label_replace(foo, "dst", "$1", "src", "(.*)")', 'label_replace(foo, "dst", "$1", "src", "(.*)")'],
  ['histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))', 'histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))'],
  ['sort_by_label(foo, "a", "b")', 'sort_by_label(foo, "a", "b")'],
  ['info(foo, {k="v"})', 'info(foo, {k="v"})'],
  ['info(foo)', 'info(foo)'],
  ['absent(nonexistent{job="myjob"})', 'absent(nonexistent{job="myjob"})'],
  ['(foo)', '(foo)'],
  ['((foo + bar))', '((foo + bar))'],
  ['vector(1) and on() foo', 'vector(1) and on () foo'],
  ['scalar(foo) > bool 1', 'scalar(foo) > bool 1'],
  ['-(foo)', '-(foo)'],
  ['- - 1', '1'],
  ['foo unless on(a) bar', 'foo unless on (a) bar'],
  // From Prometheus's own parser tests.
  ['{__name__=~"bar", __name__!~"baz"}', '{__name__!~"baz",__name__=~"bar"}'],
  ['{__name__="bar", __name__="baz"}', '{__name__="bar",__name__="baz"}'],
  ['{"bar", __name__="baz"}', '{__name__="bar",__name__="baz"}'],
  ['foo[4.18] @ 2.345', 'foo[4s180ms] @ 2.345'],
  ['foo[3ms] @ 2.345', 'foo[3ms] @ 2.345'],
  ['some_metric[5m] @ 1m', 'some_metric[5m] @ 60.000'],
  ['test{a="b"}[5y] @ 1603774699', 'test{a="b"}[5y] @ 1603774699.000'],
  ['test[5w] offset 2w', 'test[5w] offset 2w'],
  ['sum(sum)', 'sum(sum)'],
  ['a + sum', 'a + sum'],
  ['start', 'start'],
  ['end', 'end'],
  ['start{end="foo"}', 'start{end="foo"}'],
  ['foo unless on(start) bar', 'foo unless on (start) bar'],
  ['foo[-10s+15s]', 'foo[-10s + 15s]'],
  ['foo[-(10s-5s)+20s]', 'foo[-(10s - 5s) + 20s]'],
  ['foo[11s+10s-5*2^2]', 'foo[11s + 10s - 5 * 2 ^ 2]'],
  ['foo offset -1^1', 'foo offset -1s ^ 1'],
  ['foo offset 5s-8', 'foo offset 5s - 8'],
  ['foo[4s+4s:1s*2] offset (5s-8)', 'foo[4s + 4s:1s * 2] offset (5s - 8)'],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s]', 'min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s]'],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ -160377509)[4m:3s]', 'min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ -160377509.000)[4m:3s]'],
  ['(foo + bar{nm="val"} @ 1234)[5m:] @ 1603775019', '(foo + bar{nm="val"} @ 1234.000)[5m:] @ 1603775019.000'],
  ['some_metric offset 1m @ 123 [10m:5s]', 'some_metric @ 123.000 offset 1m[10m:5s]'],
  ['sum without(and, by, avg, count, alert, annotations)(some_metric)', 'sum without (and, by, avg, count, alert, annotations) (some_metric)'],
  ['info(http_request_counter_total{namespace="zzz"}, {foo="bar", bar="baz"})', 'info(http_request_counter_total{namespace="zzz"}, {bar="baz",foo="bar"})'],
  ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\" - \\u1234\\U00010111\\U0001011111☺"', '"\\a\\b\\f\\n\\r\\t\\v\\\\\\" - ሴ𐄑𐄑11☺"'],
];

// Invalid queries and Prometheus's messages (checked against promtool where 2.42 and 3.5 agree).
const INVALID: Array<[string, string]> = [
  ['', 'unknown position: parse error: no expression found in input'],
  ['# just a comment\n\n', '1:1: parse error: no expression found in input'],
  ['1+', '1:3: parse error: unexpected end of input'],
  ['.', "1:1: parse error: unexpected character: '.'"],
  ['2.5.', '1:1: parse error: bad number or duration syntax: "2.5."'],
  ['100..4', '1:1: parse error: bad number or duration syntax: "100.."'],
  ['0deadbeef', '1:1: parse error: bad number or duration syntax: "0de"'],
  ['1 /', '1:4: parse error: unexpected end of input'],
  ['*1', '1:1: parse error: unexpected <op:*>'],
  ['(1))', "1:5: parse error: unexpected right parenthesis ')'"],
  ['((1)', '1:5: parse error: unclosed left parenthesis'],
  ['(', '1:2: parse error: unclosed left parenthesis'],
  ['9'.repeat(309), `1:1: parse error: error parsing number: strconv.ParseFloat: parsing "${'9'.repeat(309)}": value out of range`],
  ['1 and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['1 or 1', '1:1: parse error: set operator "or" not allowed in binary scalar expression'],
  ['1 == 1', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
  ['1 !~ 1', "1:3: parse error: unexpected character after '!': '~'"],
  ['1 =~ 1', "1:3: parse error: unexpected character after '=': '~'"],
  ['-"string"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
  ['-test[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
  ['@@', '1:1: parse error: unexpected <op:@>'],
  ['1 offset 1d', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo offset 1s offset 2s', '1:1: parse error: offset may not be set multiple times'],
  ['a - on(b) ignoring(c) d', '1:11: parse error: unexpected <ignoring>'],
  ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
  ['sum(foo bar)', '1:9: parse error: unexpected identifier "bar" in aggregation'],
  ['sum x', '1:5: parse error: unexpected identifier "x"'],
  ['foo{', '1:5: parse error: unexpected end of input inside braces'],
  ['foo{a="b"', '1:10: parse error: unexpected end of input inside braces'],
  ['foo{=}', '1:5: parse error: unexpected "=" in label matching, expected identifier or "}"'],
  ['foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator'],
  ['foo{a=}', '1:7: parse error: unexpected "}" in label matching, expected string'],
  ['foo{a="b" c="d"}', '1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}"'],
  ['foo{a="b",,}', '1:11: parse error: unexpected "," in label matching, expected identifier or "}"'],
  ['foo{1="a"}', "1:5: parse error: unexpected character inside braces: '1'"],
  ['foo{a=~"("}', '1:5: parse error: error parsing regexp: missing closing ): `^(?s:()$`'],
  ['{a=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{a=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
  ['sum by (foo', '1:12: parse error: unclosed left parenthesis'],
  ['sum by (foo bar) (x)', '1:13: parse error: unexpected identifier "bar" in grouping opts, expected "," or ")"'],
  ['sum by (,) (x)', '1:9: parse error: unexpected "," in grouping opts, expected label'],
  ['sum by (1) (x)', '1:9: parse error: unexpected number "1" in grouping opts, expected label'],
  ['sum by foo (x)', '1:8: parse error: unexpected identifier "foo" in grouping opts, expected "("'],
  ['sum(x) by foo', '1:11: parse error: unexpected identifier "foo" in grouping opts, expected "("'],
  ['sum()', '1:1: parse error: no arguments for aggregate expression provided'],
  ['topk(x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
  ['topk(1, 2, x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 3'],
  ['count_values(1, x)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
  ['quantile("a", x)', '1:10: parse error: expected type scalar in aggregation parameter, got string'],
  ['sum(1)', '1:5: parse error: expected type instant vector in aggregation expression, got scalar'],
  ['rate(foo)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ['rate(foo[5m], 1)', '1:1: parse error: expected 1 argument(s) in call to "rate", got 2'],
  ['round()', '1:1: parse error: expected at least 1 argument(s) in call to "round", got 0'],
  ['round(foo, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'],
  ['label_join(x)', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1'],
  ['time(1)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
  ['vector("a")', '1:8: parse error: expected type scalar in call to function "vector", got string'],
  ['unknown(x)', '1:1: parse error: unknown function with name "unknown"'],
  ['rate(foo[5m],)', '1:13: parse error: trailing commas not allowed in function call args'],
  ['foo offset', '1:11: parse error: unexpected end of input in offset, expected number or duration'],
  ['foo offset bar', '1:12: parse error: unexpected identifier "bar" in offset, expected number or duration'],
  ['(foo) offset 5m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo @', '1:6: parse error: unexpected end of input in @, expected timestamp'],
  ['foo @ bar', '1:7: parse error: unexpected identifier "bar" in @, expected timestamp'],
  ['foo @ start', '1:12: parse error: unexpected end of input in @, expected timestamp'],
  ['foo @ 1 @ 2', '1:1: parse error: @ <timestamp> may not be set multiple times'],
  ['(foo) @ 1', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo @ Inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'],
  ['foo "a string that is long"', '1:5: parse error: unexpected string "\\"a string "...'],
  ['foo 12345678901', '1:5: parse error: unexpected number "1234567890"...'],
  ['foo "ééééé"', '1:5: parse error: unexpected string "\\"ééééé\\""...'],
  ['foo "éééé"', '1:5: parse error: unexpected string "\\"éééé\\""'],
  ['foo @ -infinity', '1:8: parse error: unexpected identifier "infinity" in @, expected timestamp'],
  ['foo @ -start()', '1:8: parse error: unexpected "start" in @, expected timestamp'],
  ['foo[', '1:5: parse error: unexpected end of input in duration expression'],
  ['foo[5m', '1:7: parse error: unclosed left bracket'],
  ['foo[5m:', '1:8: parse error: unclosed left bracket'],
  ['foo[bar]', "1:5: parse error: unexpected character in duration expression: 'b'"],
  ['foo[5mm]', '1:5: parse error: bad number or duration syntax: "5mm"'],
  ['foo[0s]', '1:5: parse error: duration must be greater than 0'],
  ['foo[-5m]', '1:5: parse error: duration must be greater than 0'],
  ['foo[5m-10m]', '1:5: parse error: duration must be greater than 0'],
  ['foo[5m/0]', '1:7: parse error: division by zero'],
  ['foo[5m%0]', '1:7: parse error: modulo by zero'],
  ['(foo)[5m]', '1:6: parse error: ranges only allowed for vector selectors'],
  ['foo offset 5m[5m]', '1:14: parse error: no offset modifiers allowed before range'],
  ['foo @ 1 [5m]', '1:9: parse error: no @ modifiers allowed before range'],
  ['foo[5m][5m]', '1:8: parse error: ranges only allowed for vector selectors'],
  ['foo[5m:][1m:]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['foo[5m][1m:]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['1[5m:]', '1:1: parse error: subquery is only allowed on instant vector, got scalar instead'],
  ['foo + bar[5m]', '1:7: parse error: binary expression must contain only scalar and instant vector types'],
  ['foo and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['foo and on(x) group_left bar', '1:1: parse error: no grouping allowed for "and" operation'],
  ['foo + on(x) group_left(x) bar', '1:5: parse error: label "x" must not occur in ON and GROUP clause at once'],
  ['1 + on(x) foo', '1:1: parse error: vector matching only allowed between instant vectors'],
  ['1 + bool 2', '1:3: parse error: bool modifier can only be used on comparison operators'],
  ['foo + bool bar', '1:5: parse error: bool modifier can only be used on comparison operators'],
  ['foo )', "1:6: parse error: unexpected right parenthesis ')'"],
  ['foo ]', "1:5: parse error: unexpected right bracket ']'"],
  ['foo }', "1:5: parse error: unexpected character: '}'"],
  ['"a', '1:1: parse error: unterminated quoted string'],
  ['`a', '1:1: parse error: unterminated raw string'],
  ['"\\q"', "1:1: parse error: unknown escape sequence U+0071 'q'"],
  ['"\\x4"', "1:1: parse error: illegal character U+0022 '\"' in escape sequence"],
  ['5mm', '1:1: parse error: bad number or duration syntax: "5mm"'],
  ['1.5h', '1:1: parse error: unknown unit "." in duration "1.5h"'],
  ['foo !', "1:5: parse error: unexpected character after '!': '\uFFFD'"],
  ['foo ! bar', "1:5: parse error: unexpected character after '!': ' '"],
  ['sum by ("") (x)', '1:9: parse error: invalid label name for grouping: ""'],
  ['foo{"a"}', '1:1: parse error: metric name must not be set twice: "foo" or "a"'],
  ['$', "1:1: parse error: unexpected character: '$'"],
  ['foo @ 1e100', `1:1: parse error: timestamp out of bounds for @ modifier: ${BigInt(1e100).toString()}.000000`],
  ['foo\n  + bar\n  + ]', "3:5: parse error: unexpected right bracket ']'"],
  ['"é" + é', "1:8: parse error: unexpected character: 'é'"],
  // From Prometheus's own parser tests.
  ['{', '1:2: parse error: unexpected end of input inside braces'],
  ['}', "1:1: parse error: unexpected character: '}'"],
  ['some_metric{a=b}', '1:15: parse error: unexpected identifier "b" in label matching, expected string'],
  ['some_metric{a:b="b"}', "1:14: parse error: unexpected character inside braces: ':'"],
  ['foo{a*"b"}', "1:6: parse error: unexpected character inside braces: '*'"],
  ['foo{a>="b"}', "1:6: parse error: unexpected character inside braces: '>'"],
  ['foo{gibberish}', '1:14: parse error: unexpected "}" in label matching, expected label matching operator'],
  ['{x!="a"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{x!~".+"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['foo{__name__= =}', '1:15: parse error: unexpected "=" in label matching, expected string'],
  ['foo{,}', '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'],
  ['foo{__name__ == "bar"}', '1:15: parse error: unexpected "=" in label matching, expected string'],
  ['foo{"a"=}', '1:9: parse error: unexpected "}" in label matching, expected string'],
  ['foo[5m1]', '1:5: parse error: bad number or duration syntax: "5m1"'],
  ['foo[5m:1m1]', '1:8: parse error: bad number or duration syntax: "1m1"'],
  ['foo[5y1hs]', '1:5: parse error: unknown unit "hs" in duration "5y1hs"'],
  ['foo[5m1h]', '1:5: parse error: not a valid duration string: "5m1h"'],
  ['foo["5m"]', `1:5: parse error: unexpected character in duration expression: '"'`],
  ['foo[-1]', '1:5: parse error: duration must be greater than 0'],
  ['some_metric[5m] OFFSET 1mm', '1:24: parse error: bad number or duration syntax: "1mm"'],
  ['some_metric @ start() [5m]', '1:23: parse error: no @ modifiers allowed before range'],
  ['(foo + bar)[5m]', '1:12: parse error: ranges only allowed for vector selectors'],
  ['sum by ("foo)(some_metric{})', '1:9: parse error: unterminated quoted string'],
  ['sum without(==)(some_metric)', '1:13: parse error: unexpected <op:==> in grouping opts, expected label'],
  ['sum without(foo,,)(some_metric)', '1:17: parse error: unexpected "," in grouping opts, expected label'],
  ['sum some_metric by (test)', '1:5: parse error: unexpected identifier "some_metric"'],
  ['sum (some_metric) without (test) by (test)', '1:34: parse error: unexpected <by>'],
  ['MIN keep_common (some_metric)', '1:5: parse error: unexpected identifier "keep_common"'],
  ['topk(some_metric,)', '1:17: parse error: trailing commas not allowed in function call args'],
  ['topk(some_metric, other_metric)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
  ['rate(some_metric[5m]) @ 1234', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['floor(1)', '1:7: parse error: expected type instant vector in call to function "floor", got scalar'],
  ['hour(some_metric, some_metric, some_metric)', '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'],
  ['-=', '1:2: parse error: unexpected "="'],
  ['++-++-+-+-<', '1:11: parse error: unexpected <op:<>'],
  ['e-+=/(0)', '1:4: parse error: unexpected "="'],
  ['a>b()', '1:3: parse error: unknown function with name "b"'],
  ['rate(avg)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ['`\\``', '1:4: parse error: unterminated raw string'],
  ['"\\', '1:1: parse error: escape sequence not terminated'],
  ['"\\c"', "1:1: parse error: unknown escape sequence U+0063 'c'"],
  ['"\\x."', "1:1: parse error: illegal character U+002E '.' in escape sequence"],
  ['foo{bar="baz"}[', '1:16: parse error: unexpected end of input in duration expression'],
  ['test[5d] OFFSET 10s [10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['rate(food[1m])[1h] offset 1h', '1:15: parse error: ranges only allowed for vector selectors'],
  ['foo[5s/0d]', '1:7: parse error: division by zero'],
  ['foo offset (4d/0)', '1:15: parse error: division by zero'],
  ['foo[5s%0d]', '1:7: parse error: modulo by zero'],
  ['foo offset 9.5e10', '1:12: parse error: duration out of range'],
  ['foo[9.5e10]', '1:5: parse error: duration out of range'],
  ['foo offset NaN', '1:12: parse error: duration out of range'],
  ['foo offset -Inf', '1:12: parse error: duration out of range'],
  ['foo[NaN]', "1:5: parse error: unexpected character in duration expression: 'N'"],
  ['foo[-Inf]', "1:6: parse error: unexpected character in duration expression: 'I'"],
  ['foo offset (1m % 0.0 + 1)', '1:16: parse error: modulo by zero'],
  ['sum(', '1:5: parse error: unclosed left parenthesis'],
  ['sum(rate(', '1:10: parse error: unclosed left parenthesis'],
  ['foo[5s x 5s]', "1:8: parse error: unexpected character: 'x', expected ':'"],
  ['info(rate(http_request_counter_total{}[5m]), target_info{foo="bar"})', '1:46: parse error: expected label selectors only, got vector selector instead'],
  ['info(http_request_counter_total{namespace="zzz"}, {foo="bar"} == 1)', '1:51: parse error: expected label selectors only'],
];

describe('parse: valid queries print canonically', () => {
  it.each(VALID)('%s', (q, printed) => {
    const e = parse(q);
    expect(formatExpr(e)).toBe(printed);
    // Round trip: the printed form parses to the same tree and prints the same.
    const again = parse(printed);
    expect(shape(again)).toEqual(shape(e));
    expect(formatExpr(again)).toBe(printed);
  });
});

describe('parse: invalid queries fail with Prometheus wording', () => {
  it.each(INVALID)('%j', (q, msg) => {
    expect(errorOf(q)).toBe(msg);
  });

  it('carries the position and the bare message', () => {
    try {
      parse('foo + on(x)\n  bar bar');
      expect.unreachable();
    } catch (err) {
      const pe = err as ParseError;
      expect(pe.line).toBe(2);
      expect(pe.column).toBe(7);
      expect(pe.detail).toBe('unexpected identifier "bar"');
      expect(pe.posRange.start).toBe(18);
    }
  });

  it('rejects experimental functions when asked to', () => {
    expect(() => parse('mad_over_time(foo[5m])', { experimentalFunctions: false })).toThrow('function "mad_over_time" is not enabled');
    expect(() => parse('limitk(1, foo)', { experimentalFunctions: false })).toThrow(
      'limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions',
    );
    expect(() => parse('mad_over_time(foo[5m])')).not.toThrow();
  });

  it('rejects duration arithmetic when asked to', () => {
    const off = { durationExpressions: false };
    expect(() => parse('foo[5m+1m]', off)).toThrow('1:5: parse error: experimental duration expression is not enabled');
    expect(() => parse('foo offset (1m)', off)).toThrow('1:13: parse error: experimental duration expression is not enabled');
    expect(parse('foo[5m] offset -1m', off).kind).toBe('matrix');
    expect(parse('foo[5m:30s]', off).kind).toBe('subquery');
  });

  it('bounds nesting depth and length', () => {
    expect(errorOf('('.repeat(5000) + '1' + ')'.repeat(5000))).toMatch(/nested too deeply/);
    expect(errorOf('-'.repeat(5000) + '1')).toMatch(/nested too deeply/);
    expect(parse('('.repeat(200) + '1' + ')'.repeat(200)).kind).toBe('paren');
  });
});

describe('parse: tree shape', () => {
  it('precedence and associativity', () => {
    const e = parse('a + b * c ^ d ^ e or f and g unless h == i');
    expect(formatExpr(e)).toBe('a + b * c ^ d ^ e or f and g unless h == i');
    expect(e.kind === 'binary' && e.op).toBe('or');
    const pow = parse('c ^ d ^ e');
    expect(pow.kind === 'binary' && pow.rhs.kind).toBe('binary');
    const sub = parse('a - b - c');
    expect(sub.kind === 'binary' && sub.lhs.kind).toBe('binary');
    // Unary minus binds like *, looser than ^.
    const u = parse('-a ^ b');
    expect(u.kind).toBe('unary');
    const u2 = parse('-a * b');
    expect(u2.kind === 'binary' && u2.lhs.kind).toBe('unary');
  });

  it('folds signs into number literals', () => {
    expect(parse('-1')).toMatchObject({ kind: 'number', value: -1, posRange: { start: 0, end: 2 } });
    expect(parse('- 5m')).toMatchObject({ kind: 'number', value: -300, duration: true });
    expect(parse('-(1)').kind).toBe('unary');
  });

  it('vector matching and set operators', () => {
    const e = parse('foo and bar');
    expect(e).toMatchObject({ kind: 'binary', matching: { card: 'many-to-many', on: false, matchingLabels: [], include: [] } });
    const g = parse('foo * on(a, b) group_left(c) bar');
    expect(g).toMatchObject({ matching: { card: 'many-to-one', on: true, matchingLabels: ['a', 'b'], include: ['c'] } });
    expect(parse('foo * 2')).toMatchObject({ kind: 'binary', matching: null });
    expect(parse('1 + 2')).toMatchObject({ kind: 'binary', matching: null });
  });

  it('selectors, modifiers and ranges', () => {
    const m = parse('foo{a="b"}[5m] @ 100 offset -1m');
    expect(m.kind).toBe('matrix');
    if (m.kind !== 'matrix') return;
    expect(m.range).toBe(300_000);
    expect(m.vector).toMatchObject({ name: 'foo', offset: -60_000, timestamp: 100_000, startOrEnd: null });
    expect(m.vector.matchers.map(String)).toEqual(['a="b"', '__name__="foo"']);
    const s = parse('foo[1h:5m] @ end()');
    expect(s).toMatchObject({ kind: 'subquery', range: 3_600_000, step: 300_000, startOrEnd: 'end', offset: 0 });
    const d = parse('foo[5m:]');
    expect(d).toMatchObject({ kind: 'subquery', step: 0 });
  });

  it('duration expressions evaluate to milliseconds and keep their text', () => {
    const e = parse('sum_over_time(m[29s+1s:((((8 - 2) / 3) * 7s) % 4) + 8000ms] offset -(20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms)))');
    const sq = e.kind === 'call' ? e.args[0]! : e;
    expect(sq).toMatchObject({ kind: 'subquery', range: 30_000, step: 10_000, offset: -200_000 });
    expect(formatExpr(e)).toBe(
      'sum_over_time(m[29s + 1s:((((8 - 2) / 3) * 7s) % 4) + 8s] offset -(20 * (((((8 - 2) / 3) * 7s) % 4) + 8s)))',
    );
    // `offset -2 ^ 2` is `(foo offset -2) ^ 2`, as in Prometheus.
    const p = parse('metric1_total offset -2 ^ 2');
    expect(p).toMatchObject({ kind: 'binary', op: '^', lhs: { kind: 'vector', offset: -2000 } });
    expect(parse('foo[1h30m % 1h]')).toMatchObject({ kind: 'matrix', range: 1_800_000 });
    expect(parse('foo[1800]')).toMatchObject({ kind: 'matrix', range: 1_800_000 });
  });

  it('strings unquote Go escapes; invalid UTF-8 bytes stay distinguishable', () => {
    expect(parse('"a\\tb\\\\c\\"d"')).toMatchObject({ kind: 'string', value: 'a\tb\\c"d' });
    expect(parse("'\\''")).toMatchObject({ value: "'" });
    expect(parse('"\\U0001F600"')).toMatchObject({ value: '😀' });
    expect(parse('"\\xc3\\xa9"')).toMatchObject({ value: 'é' });
    const bad = parse('"a\\xc5z"');
    expect(bad.kind === 'string' && bad.value.length).toBe(3);
    expect(formatExpr(bad)).toBe('"a\\xc5z"');
    expect(parse('`a\nb`')).toMatchObject({ value: 'a\nb' });
  });

  it('types', () => {
    expect(typeOf(parse('1 + 1'))).toBe('scalar');
    expect(typeOf(parse('foo + 1'))).toBe('vector');
    expect(typeOf(parse('foo[5m]'))).toBe('matrix');
    expect(typeOf(parse('foo[5m:]'))).toBe('matrix');
    expect(typeOf(parse('"x"'))).toBe('string');
    expect(typeOf(parse('scalar(foo)'))).toBe('scalar');
  });
});

describe('function table', () => {
  it('has every function of functions.md with its types', () => {
    const md = readFileSync(new URL('../../../../shared/reference/prometheus-v3.5.0/querying/functions.md', import.meta.url), 'utf8');
    const names = new Set<string>();
    for (const m of md.matchAll(/^## `([a-z_0-9]+)\(\)`/gm)) names.add(m[1]!);
    for (const m of md.matchAll(/^## `([a-z_]+)\(\)` and `([a-z_]+)\(\)`/gm)) {
      names.add(m[1]!);
      names.add(m[2]!);
    }
    for (const m of md.matchAll(/^\* `([a-z_0-9]+)\((?:range-vector|scalar, range-vector|v instant-vector|)\)`/gm)) names.add(m[1]!);
    expect(names.size).toBeGreaterThan(70);
    for (const n of names) expect(FUNCTION_SIGNATURES[n], n).toBeDefined();
    expect(FUNCTION_SIGNATURES.rate).toMatchObject({ argTypes: ['matrix'], returnType: 'vector', variadic: 0, experimental: false });
    expect(FUNCTION_SIGNATURES.label_join).toMatchObject({ argTypes: ['vector', 'string', 'string', 'string'], variadic: -1 });
    expect(FUNCTION_SIGNATURES.double_exponential_smoothing!.experimental).toBe(true);
    expect(FUNCTION_SIGNATURES.scalar!.returnType).toBe('scalar');
  });
});

describe('durations', () => {
  it.each([
    ['1h30m', 5_400_000],
    ['5m', 300_000],
    ['1y', 31_536_000_000],
    ['2w1d', 1_296_000_000],
    ['100ms', 100],
    ['1s500ms', 1500],
    ['0', 0],
  ])('parseDuration(%s)', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });
  it.each([
    ['', 'empty duration string'],
    ['1m1h', 'not a valid duration string: "1m1h"'],
    ['1x', 'unknown unit "x" in duration "1x"'],
    ['h', 'not a valid duration string: "h"'],
    ['9999999999y', 'duration out of range'],
  ])('parseDuration(%j) fails', (s, msg) => {
    expect(() => parseDuration(s)).toThrow(msg);
  });
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [90_000, '1m30s'],
    [86_400_000 * 14, '2w'],
    [86_400_000 * 15, '15d'],
    [31_536_000_000, '1y'],
    [31_536_000_000 + 86_400_000, '366d'],
  ])('formatDuration(%d)', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });
});

describe('parseSelector', () => {
  it('returns matchers, name last', () => {
    expect(parseSelector('up{job="api"}').map(String)).toEqual(['job="api"', '__name__="up"']);
    expect(parseSelector('{__name__=~"a|b"}').map(String)).toEqual(['__name__=~"a|b"']);
    expect(parseSelector('sum').map(String)).toEqual(['__name__="sum"']);
    // The non-empty check is the API's (as in Prometheus).
    expect(parseSelector('{a=""}').map(String)).toEqual(['a=""']);
  });
  it('rejects anything but a vector selector', () => {
    expect(() => parseSelector('up[5m]')).toThrow('1:3: parse error: unexpected "["');
    expect(() => parseSelector('rate(up[5m])')).toThrow(ParseError);
    expect(() => parseSelector('up + 1')).toThrow('1:4: parse error: unexpected <op:+>');
    expect(() => parseSelector('')).toThrow(ParseError);
  });
});

describe('series descriptions', () => {
  it('expands the promqltest notation', () => {
    const d = parseSeriesDescription('metric{a="b"} 1+2x3 _ stale Inf -1-1x2 _x2 3x1 NaN');
    expect(d.labels.toObject()).toEqual({ __name__: 'metric', a: 'b' });
    expect(Array.from(d.kinds)).toEqual([0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0].map((k) => [SERIES_VALUE, SERIES_OMITTED, SERIES_STALE][k]));
    const vals = Array.from(d.values);
    expect(vals.slice(0, 4)).toEqual([1, 3, 5, 7]);
    expect(isStaleNaN(d.values[5]!)).toBe(true);
    expect(vals[6]).toBe(Infinity);
    expect(vals.slice(7, 10)).toEqual([-1, -2, -3]);
    expect(vals.slice(12, 14)).toEqual([3, 3]);
    expect(Number.isNaN(vals[14])).toBe(true);
  });
  it('handles tabs, names only, braces only and empty values', () => {
    expect(parseSeriesDescription('up\t0 1').values).toEqual(new Float64Array([0, 1]));
    expect(parseSeriesDescription('{__name__="a", b="c"} 5').labels.toObject()).toEqual({ __name__: 'a', b: 'c' });
    expect(parseSeriesDescription('{"my.metric"} 5').labels.toObject()).toEqual({ __name__: 'my.metric' });
    expect(parseSeriesDescription('up').values.length).toBe(0);
    expect(Array.from(parseSeriesDescription('x 0.5-0.25x2 1e3').values)).toEqual([0.5, 0.25, 0, 1000]);
  });
  it('rejects bad values and bounds expansion', () => {
    expect(() => parseSeriesDescription('up foo')).toThrow('unexpected identifier "foo" in series values, expected number or "stale"');
    expect(() => parseSeriesDescription('up 1x1.5')).toThrow('invalid repetition in series values: strconv.ParseUint: parsing "1.5": invalid syntax');
    expect(() => parseSeriesDescription('up 1x99999999999999999999')).toThrow('value out of range');
    expect(() => parseSeriesDescription('up 1x9999999999999999999')).toThrow('expands to more than');
    expect(() => parseSeriesDescription('up 1+1x20000000')).toThrow('expands to more than');
    expect(() => parseSeriesDescription('up {{schema:1 sum:3}}')).toThrow('native histogram');
  });
  it('parseMetric reads label sets', () => {
    expect(parseMetric('foo{a="b", c="d"}').toObject()).toEqual({ __name__: 'foo', a: 'b', c: 'd' });
    expect(parseMetric('{a="b"}').toObject()).toEqual({ a: 'b' });
    expect(() => parseMetric('foo{a}')).toThrow('unexpected "}" in label set, expected "="');
    expect(() => parseMetric('foo{a="b"} x')).toThrow(ParseError);
  });
});

describe('printing', () => {
  it('astToJson matches the parse_query tree', () => {
    expect(astToJson(parse('sum by (job) (rate(foo{a="b"}[5m] offset 1m)) > bool 1'))).toEqual({
      bool: true,
      lhs: {
        expr: {
          args: [
            {
              matchers: [
                { name: 'a', type: '=', value: 'b' },
                { name: '__name__', type: '=', value: 'foo' },
              ],
              name: 'foo',
              offset: 60000,
              range: 300000,
              startOrEnd: null,
              timestamp: null,
              type: 'matrixSelector',
            },
          ],
          func: { argTypes: ['matrix'], name: 'rate', returnType: 'vector', variadic: 0 },
          type: 'call',
        },
        grouping: ['job'],
        op: 'sum',
        param: null,
        type: 'aggregation',
        without: false,
      },
      matching: null,
      op: '>',
      rhs: { type: 'numberLiteral', val: '1' },
      type: 'binaryExpr',
    });
    expect(JSON.stringify(astToJson(parse('-max_over_time(foo[5m:1m] @ start())')))).toBe(
      '{"expr":{"args":[{"expr":{"matchers":[{"name":"__name__","type":"=","value":"foo"}],"name":"foo","offset":0,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"offset":0,"range":300000,"startOrEnd":"start","step":60000,"timestamp":null,"type":"subquery"}],"func":{"argTypes":["matrix"],"name":"max_over_time","returnType":"vector","variadic":0},"type":"call"},"op":"-","type":"unaryExpr"}',
    );
    expect(astToJson(parse('("a")'))).toEqual({ expr: { type: 'stringLiteral', val: 'a' }, type: 'parenExpr' });
    expect(astToJson(parse('foo and on(a) bar'))).toMatchObject({ matching: { card: 'many-to-many', include: [], labels: ['a'], on: true } });
  });

  it('prettify splits lines longer than 100 bytes like Prometheus', () => {
    expect(prettify(parse('sum(rate(foo[5m]))'))).toBe('sum(rate(foo[5m]))');
    const long = 'sum by (job) (rate(http_requests_total{job="api-server",handler="/api/v1/query"}[5m])) / on (job) group_left sum by (job) (rate(http_requests_total[5m]))';
    expect(prettify(parse(long))).toBe(
      [
        '  sum by (job) (rate(http_requests_total{handler="/api/v1/query",job="api-server"}[5m]))',
        '/ on (job) group_left ()',
        '  sum by (job) (rate(http_requests_total[5m]))',
      ].join('\n'),
    );
    const call = 'histogram_quantile(0.99, sum by (le, job, instance, handler) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))';
    expect(prettify(parse(call))).toBe(
      [
        'histogram_quantile(',
        '  0.99,',
        '  sum by (le, job, instance, handler) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))',
        ')',
      ].join('\n'),
    );
    const deep =
      'sum by (job) (rate(http_requests_total{job="api-server",handler="/api/v1/query",code=~"5..",method="GET"}[5m]))';
    expect(prettify(parse(deep))).toBe(
      [
        'sum by (job) (',
        '  rate(http_requests_total{code=~"5..",handler="/api/v1/query",job="api-server",method="GET"}[5m])',
        ')',
      ].join('\n'),
    );
    for (const q of [long, call, deep]) expect(shape(parse(prettify(parse(q))))).toEqual(shape(parse(q)));
  });
});

describe('walk', () => {
  it('visits parents before children in source order, with the ancestor path', () => {
    const seen: string[] = [];
    walk(parse('sum by (a) (rate(foo[5m])) / on(a) group_left topk(2, bar)'), (n, path) => {
      seen.push(`${path.length}:${n.kind}`);
    });
    expect(seen).toEqual(['0:binary', '1:aggregate', '2:call', '3:matrix', '4:vector', '1:aggregate', '2:number', '2:vector']);
  });
  it('can skip subtrees', () => {
    const kinds: string[] = [];
    walk(parse('rate(foo[5m]) + bar'), (n) => {
      kinds.push(n.kind);
      return n.kind !== 'call';
    });
    expect(kinds).toEqual(['binary', 'call', 'vector']);
    expect(children(parse('-foo'))).toHaveLength(1);
  });
});
