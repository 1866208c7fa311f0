import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig, type RelabelConfig } from '../../src/config/index.js';
import { RE2JS } from 're2js';
import { compileRelabelConfigs, hashmod, relabel, relabelBuilder } from '../../src/relabel/index.js';
import { alternationOfPrefixes, goCase } from '../../src/relabel/relabel.js';
import { Labels, LabelsBuilder } from '../../storage/index.js';

/** Relabel configs through the real loader (so every case is also a valid config). */
function configs(yamlList: string): RelabelConfig[] {
  const indented = yamlList.trim().split('\n').map((l) => '      ' + l).join('\n');
  const c = parseConfig(`scrape_configs:\n  - job_name: t\n    relabel_configs:\n${indented}\n`, 'test.yml');
  return [...c.scrapeConfigs[0]!.relabelConfigs];
}

function run(yamlList: string, input: Record<string, string>): Record<string, string> | null {
  const out = relabel(Labels.from(input), compileRelabelConfigs(configs(yamlList)));
  return out === null ? null : out.toObject();
}

interface Case {
  name: string;
  rules: string;
  input: Record<string, string>;
  output: Record<string, string> | null;
}

const cases: Case[] = [
  {
    name: 'replace with ${1} twice',
    rules: `- {source_labels: [a], regex: 'f(.*)', target_label: d, separator: ';', replacement: 'ch\${1}-ch\${1}', action: replace}`,
    input: { a: 'foo', b: 'bar', c: 'baz' },
    output: { a: 'foo', b: 'bar', c: 'baz', d: 'choo-choo' },
  },
  {
    name: 'replace over two source labels joined by the separator',
    rules: `- {source_labels: [a, b], regex: 'f(.*);(.*)r', target_label: a, replacement: 'b\${1}\${2}m'}`,
    input: { a: 'foo', b: 'bar', c: 'baz' },
    output: { a: 'boobam', b: 'bar', c: 'baz' },
  },
  {
    name: 'replace chain: a later step sees the earlier result',
    rules: `- {source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch\${1}-ch\${1}'}
- {source_labels: [d], regex: '(.*)-.*', target_label: e, replacement: 'x\${1}'}`,
    input: { a: 'foo' },
    output: { a: 'foo', d: 'choo-choo', e: 'xchoo' },
  },
  {
    name: 'replace does nothing when the regex does not match (anchored)',
    rules: `- {source_labels: [a], regex: 'oo', target_label: d, replacement: x}`,
    input: { a: 'foo' },
    output: { a: 'foo' },
  },
  {
    name: 'replace with an empty result deletes the target',
    rules: `- {source_labels: [a], regex: '(f).*', target_label: a, replacement: '\$2'}`,
    input: { a: 'foo', b: 'x' },
    output: { b: 'x' },
  },
  {
    name: '$1x is the group named "1x" (Go Expand), so empty',
    rules: `- {source_labels: [a], regex: '(.*)', target_label: b, replacement: '\$1x'}`,
    input: { a: 'foo', b: 'keep' },
    output: { a: 'foo' },
  },
  {
    name: '${1}x appends',
    rules: `- {source_labels: [a], target_label: b, replacement: '\${1}x'}`,
    input: { a: 'foo' },
    output: { a: 'foo', b: 'foox' },
  },
  {
    name: '$$ is a literal dollar; $ before a non-name is literal',
    rules: `- {source_labels: [a], target_label: b, replacement: '$$1-$-\${'}`,
    input: { a: 'foo' },
    output: { a: 'foo', b: '$1-$-${' },
  },
  {
    name: 'named groups',
    rules: `- {source_labels: [a], regex: '(?P<first>\\w+)-(?P<second>\\w+)', target_label: b, replacement: '\${second}.\$first'}`,
    input: { a: 'one-two' },
    output: { a: 'one-two', b: 'two.one' },
  },
  {
    name: 'default regex on a missing label sets a constant replacement',
    rules: `- {source_labels: [missing], target_label: x, replacement: static}`,
    input: { a: 'foo' },
    output: { a: 'foo', x: 'static' },
  },
  {
    name: 'default replacement from a missing label deletes the target',
    rules: `- {source_labels: [missing], target_label: a}`,
    input: { a: 'foo', b: 'bar' },
    output: { b: 'bar' },
  },
  {
    name: 'target label from a capture group',
    rules: `- {source_labels: [a], regex: '(\\w+)=(\\w+)', target_label: '\${1}', replacement: '\${2}'}`,
    input: { a: 'zone=eu' },
    output: { a: 'zone=eu', zone: 'eu' },
  },
  {
    name: 'a target label that expands to empty is skipped',
    rules: `- {source_labels: [a], regex: '(\\w*)=(\\w+)', target_label: '\${1}', replacement: '\${2}'}`,
    input: { a: '=eu' },
    output: { a: '=eu' },
  },
  {
    name: 'dot matches newline',
    rules: `- {source_labels: [a], regex: 'x.y', action: keep}`,
    input: { a: 'x\ny' },
    output: { a: 'x\ny' },
  },
  {
    name: 'keep drops when not matching',
    rules: `- {source_labels: [a], regex: 'f.*', action: keep}`,
    input: { a: 'bar' },
    output: null,
  },
  {
    name: 'keep with a missing label matches the empty string',
    rules: `- {source_labels: [missing], regex: '', action: keep}`,
    input: { a: 'bar' },
    output: { a: 'bar' },
  },
  {
    name: 'drop when matching over joined labels',
    rules: `- {source_labels: [a, b], regex: 'foo;bar', action: drop}`,
    input: { a: 'foo', b: 'bar' },
    output: null,
  },
  {
    name: 'drop is anchored',
    rules: `- {source_labels: [a], regex: 'o', action: drop}`,
    input: { a: 'foo' },
    output: { a: 'foo' },
  },
  {
    name: 'keepequal keeps equal values',
    rules: `- {source_labels: [a], target_label: b, action: keepequal}`,
    input: { a: 'x', b: 'x' },
    output: { a: 'x', b: 'x' },
  },
  {
    name: 'keepequal drops different values',
    rules: `- {source_labels: [a], target_label: b, action: keepequal}`,
    input: { a: 'x', b: 'y' },
    output: null,
  },
  {
    name: 'dropequal drops equal values (missing equals missing)',
    rules: `- {source_labels: [m1], target_label: m2, action: dropequal}`,
    input: { a: 'x' },
    output: null,
  },
  {
    name: 'dropequal keeps different values',
    rules: `- {source_labels: [a], target_label: b, action: dropequal}`,
    input: { a: 'x', b: 'y' },
    output: { a: 'x', b: 'y' },
  },
  {
    name: 'hashmod',
    rules: `- {source_labels: [a], target_label: shard, modulus: 1000, action: hashmod}`,
    input: { a: 'foo' },
    output: { a: 'foo', shard: String(Number(createHash('md5').update('foo').digest().readBigUInt64BE(8) % 1000n)) },
  },
  {
    name: 'labelmap with the default replacement',
    rules: `- {regex: '__meta_kubernetes_pod_label_(.+)', action: labelmap}`,
    input: { __meta_kubernetes_pod_label_app: 'web', __meta_kubernetes_pod_label_: 'x', other: 'y' },
    output: { __meta_kubernetes_pod_label_app: 'web', __meta_kubernetes_pod_label_: 'x', app: 'web', other: 'y' },
  },
  {
    name: 'labelmap with a template',
    rules: `- {regex: '(f.*)', replacement: '\${1}_copy', action: labelmap}`,
    input: { foo: 'a', bar: 'b' },
    output: { foo: 'a', foo_copy: 'a', bar: 'b' },
  },
  {
    name: 'labelmap with RE2 groups (general path)',
    rules: `- {regex: '__meta_(\\w+?)_(\\w+)', replacement: '\${2}_\${1}', action: labelmap}`,
    input: { __meta_x_y: '1' },
    output: { __meta_x_y: '1', y_x: '1' },
  },
  {
    name: 'labeldrop',
    rules: `- {regex: 'a.*', action: labeldrop}`,
    input: { abc: '1', ab: '2', b: '3' },
    output: { b: '3' },
  },
  {
    name: 'labelkeep',
    rules: `- {regex: 'a.*|__name__', action: labelkeep}`,
    input: { __name__: 'm', abc: '1', b: '3' },
    output: { __name__: 'm', abc: '1' },
  },
  {
    name: 'lowercase',
    rules: `- {source_labels: [a, b], target_label: c, action: lowercase}`,
    input: { a: 'FoO', b: 'BaR' },
    output: { a: 'FoO', b: 'BaR', c: 'foo;bar' },
  },
  {
    name: 'uppercase',
    rules: `- {source_labels: [a], target_label: a, action: uppercase}`,
    input: { a: 'foo' },
    output: { a: 'FOO' },
  },
  {
    name: 'action names are case-insensitive',
    rules: `- {source_labels: [a], regex: 'x', action: Drop}`,
    input: { a: 'x' },
    output: null,
  },
  // The real recipes from issue 3.
  {
    name: 'keep targets by namespace',
    rules: `- {source_labels: [__meta_kubernetes_namespace], regex: 'default|monitoring', action: keep}`,
    input: { __meta_kubernetes_namespace: 'kube-system', __address__: '10.0.0.1:80' },
    output: null,
  },
  {
    name: 'prometheus.io annotations recipe',
    rules: `- {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], regex: 'true', action: keep}
- {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], regex: '(.+)', target_label: __metrics_path__}
- {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '\$1:\$2', target_label: __address__}
- {action: labelmap, regex: '__meta_kubernetes_pod_label_(.+)'}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}`,
    input: {
      __address__: '10.1.2.3:8080',
      __metrics_path__: '/metrics',
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: 'web-1',
      __meta_kubernetes_pod_label_app: 'web',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9102',
    },
    output: {
      __address__: '10.1.2.3:9102',
      __metrics_path__: '/custom',
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: 'web-1',
      __meta_kubernetes_pod_label_app: 'web',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9102',
      app: 'web',
      namespace: 'shop',
      pod: 'web-1',
    },
  },
  {
    name: 'annotation recipe: no path annotation keeps the default path, no port keeps the address',
    rules: `- {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], regex: '(.+)', target_label: __metrics_path__}
- {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '\$1:\$2', target_label: __address__}`,
    input: { __address__: '10.1.2.3:8080', __metrics_path__: '/metrics' },
    output: { __address__: '10.1.2.3:8080', __metrics_path__: '/metrics' },
  },
  {
    name: 'istio sidecar port: ([^:]+)(?::\\d+)?;(\\d+) -> $1:15090',
    rules: `- {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '\$1:15090', target_label: __address__}`,
    input: { __address__: '10.1.2.3', __meta_kubernetes_pod_annotation_prometheus_io_port: '8080' },
    output: { __address__: '10.1.2.3:15090', __meta_kubernetes_pod_annotation_prometheus_io_port: '8080' },
  },
  {
    name: 'metric relabel: drop by cluster_name regex',
    rules: `- {source_labels: [cluster_name], regex: 'staging-.*|dev', action: drop}`,
    input: { __name__: 'up', cluster_name: 'staging-eu' },
    output: null,
  },
  {
    name: 'metric relabel: other clusters kept',
    rules: `- {source_labels: [cluster_name], regex: 'staging-.*|dev', action: drop}`,
    input: { __name__: 'up', cluster_name: 'prod' },
    output: { __name__: 'up', cluster_name: 'prod' },
  },
];

describe('relabel', () => {
  it.each(cases)('$name', ({ rules, input, output }) => {
    expect(run(rules, input)).toEqual(output);
  });

  it('returns the very same Labels when nothing changes', () => {
    const c = compileRelabelConfigs(
      configs(`- {source_labels: [a], regex: 'x', action: drop}
- {source_labels: [a], target_label: a}
- {source_labels: [b], regex: 'nomatch(.*)', target_label: c, replacement: '$1'}
- {regex: 'zzz', action: labeldrop}
- {regex: 'a|b', action: labelkeep}
- {regex: 'nomatch_(.+)', action: labelmap}`),
    );
    const ls = Labels.fromPairs('a', 'foo', 'b', 'bar');
    expect(relabel(ls, c)).toBe(ls);
  });

  it('an empty chain is the identity', () => {
    const ls = Labels.fromPairs('a', 'b');
    expect(relabel(ls, compileRelabelConfigs([]))).toBe(ls);
  });

  it('relabelBuilder works in place on a caller builder', () => {
    const b = new LabelsBuilder(Labels.fromPairs('a', 'foo'));
    const ok = relabelBuilder(b, compileRelabelConfigs(configs(`- {source_labels: [a], target_label: b, replacement: 'x-$1'}`)));
    expect(ok).toBe(true);
    expect(b.labels().toObject()).toEqual({ a: 'foo', b: 'x-foo' });
    expect(relabelBuilder(b, compileRelabelConfigs(configs(`- {source_labels: [a], regex: foo, action: drop}`)))).toBe(false);
  });

  it('a dropped result leaves no state behind for the next call', () => {
    const c = compileRelabelConfigs(configs(`- {source_labels: [a], target_label: z}
- {source_labels: [a], regex: drop, action: drop}`));
    expect(relabel(Labels.fromPairs('a', 'drop'), c)).toBeNull();
    const keep = Labels.fromPairs('a', 'k');
    expect(relabel(keep, c)!.toObject()).toEqual({ a: 'k', z: 'k' });
  });

  it('hashmod uses the last 8 bytes of the md5, big-endian', () => {
    // Prometheus: binary.BigEndian.Uint64(md5.Sum(val)[8:]) % modulus.
    const d = createHash('md5').update('10.0.0.1:9100').digest();
    expect(hashmod('10.0.0.1:9100', 2n ** 63n)).toBe(d.readBigUInt64BE(8) % 2n ** 63n);
  });
});

describe('regex fast paths agree with RE2', () => {
  const values = ['', 'go_gc', 'go_', 'go', 'process_x', 'dev', 'devx', 'staging-eu', 'staging', 'a.b', 'axb', 'a|b', 'x\ny', 'prod-eu'];
  it.each([
    'staging-.*|dev',
    'go_.*|process_.*',
    'a\\.b|x.*',
    'dev|.*',
    'a\\|b.*',
    '(a|b).*',
    'go_[a-z].*|dev',
    'a\\.*',
    'x.y',
  ])('%s', (pattern) => {
    const re = RE2JS.compile(`^(?s:${pattern})$`);
    const fast = alternationOfPrefixes(pattern);
    const c = compileRelabelConfigs([{ sourceLabels: ['v'], separator: ';', regex: pattern, modulus: 0, targetLabel: '', replacement: '$1', action: 'keep' }]);
    for (const v of values) {
      const want = re.matcher(v).matches();
      if (fast) expect(fast(v), `${pattern} on ${JSON.stringify(v)}`).toBe(want);
      expect(relabel(Labels.fromPairs('v', v, 'k', 'x'), c) !== null, `${pattern} on ${JSON.stringify(v)}`).toBe(want);
    }
  });
  it('only plain shapes take the fast path', () => {
    expect(alternationOfPrefixes('staging-.*|dev')).toBeDefined();
    expect(alternationOfPrefixes('(a|b).*')).toBeUndefined();
    expect(alternationOfPrefixes('go_[a-z].*|dev')).toBeUndefined();
    expect(alternationOfPrefixes('a|b')).toBeUndefined();
  });
});

describe('lowercase/uppercase follow Go (simple case mapping per code point)', () => {
  it.each([
    ['ABC', false, 'abc'],
    ['ÄÖÜ', false, 'äöü'],
    ['\u0130stanbul', false, 'istanbul'],
    ['ΟΔΟΣ', false, 'οδοσ'],
    ['straße', true, 'STRAßE'],
    ['ﬀ', true, 'ﬀ'],
    ['héllo 😀', true, 'HÉLLO 😀'],
  ])('%s (upper=%s) -> %s', (input, upper, want) => {
    expect(goCase(input, upper)).toBe(want);
  });
});
