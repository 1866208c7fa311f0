import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  ConfigError,
  checkConfigCommand,
  defaultConfig,
  DEFAULT_CONFIG_YAML,
  formatDuration,
  loadConfigFile,
  loadDefaultConfig,
  parseConfig,
  parseDuration,
  parseSize,
  resolveRuleFiles,
  expandEnv,
} from '../../src/config/index.js';
import { INVALID } from './invalid.js';
import { VALID } from './valid.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sextant-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function capture(): { stream: Writable; text: () => string } {
  let s = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += String(chunk);
      cb();
    },
  });
  return { stream, text: () => s };
}

describe('examples load', () => {
  it('examples/prometheus.yml', async () => {
    const c = await loadConfigFile(join(root, 'examples/prometheus.yml'));
    expect(c.global.scrapeInterval).toBe(15_000);
    expect(c.global.evaluationInterval).toBe(15_000);
    expect(c.scrapeConfigs.map((s) => s.jobName)).toEqual(['prometheus']);
    expect(c.scrapeConfigs[0]!.staticConfigs[0]!.targets).toEqual([{ __address__: 'localhost:9090' }]);
    expect(c.scrapeConfigs[0]!.scrapeTimeout).toBe(10_000);
  });

  it('the prometheus.yml in examples/kubernetes/configmap.yaml', () => {
    const cm = parseYaml(readFileSync(join(root, 'examples/kubernetes/configmap.yaml'), 'utf8')) as { data: Record<string, string> };
    const c = parseConfig(cm.data['prometheus.yml']!, 'configmap.yaml:prometheus.yml');
    expect(c.global.externalLabels).toEqual({ cluster: 'example' });
    expect(c.scrapeConfigs.length).toBeGreaterThanOrEqual(8);
    const roles = new Set(c.scrapeConfigs.flatMap((s) => s.kubernetesSdConfigs.map((k) => k.role)));
    expect([...roles].sort()).toEqual(['endpoints', 'endpointslice', 'ingress', 'node', 'pod', 'service']);
    const own = c.scrapeConfigs.find((s) => s.jobName === 'sextant')!.kubernetesSdConfigs[0]!;
    expect(own.namespaces).toEqual({ names: [], ownNamespace: true });
    expect(own.selectors).toEqual([{ role: 'pod', label: 'app.kubernetes.io/name=sextant' }]);
    const api = c.scrapeConfigs.find((s) => s.jobName === 'kubernetes-apiservers')!;
    expect(api.scheme).toBe('https');
    expect(api.httpClient.authorization).toEqual({ type: 'Bearer', credentialsFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
    expect(api.httpClient.tlsConfig?.caFile).toBe('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
  });
});

describe('defaults', () => {
  it('an empty file gets every Prometheus default', () => {
    const c = parseConfig('', 'empty.yml');
    expect(c.global).toMatchObject({
      scrapeInterval: 60_000,
      scrapeTimeout: 10_000,
      evaluationInterval: 60_000,
      ruleQueryOffset: 0,
      externalLabels: {},
      scrapeProtocols: ['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'],
      metricNameValidationScheme: 'utf8',
      bodySizeLimit: 0,
      sampleLimit: 0,
    });
    expect(c.scrapeConfigs).toEqual([]);
    expect(c.remoteWrite).toEqual([]);
    expect(c.alerting).toEqual({ alertRelabelConfigs: [], alertmanagers: [] });
  });

  it('scrape configs inherit global interval, timeout, limits and protocols', () => {
    const c = parseConfig(
      `global:
  scrape_interval: 30s
  scrape_timeout: 20s
  body_size_limit: 1KB
  sample_limit: 5
  label_limit: 6
  label_name_length_limit: 7
  label_value_length_limit: 8
  target_limit: 9
  keep_dropped_targets: 10
  scrape_protocols: [PrometheusText0.0.4]
scrape_configs:
  - job_name: a
  - job_name: b
    scrape_interval: 5s
  - job_name: c
    sample_limit: 100
    body_size_limit: 2MB
`,
      'x.yml',
    );
    const [a, b, cc] = c.scrapeConfigs;
    expect(a).toMatchObject({ scrapeInterval: 30_000, scrapeTimeout: 20_000, bodySizeLimit: 1024, sampleLimit: 5, labelLimit: 6, labelNameLengthLimit: 7, labelValueLengthLimit: 8, targetLimit: 9, keepDroppedTargets: 10, scrapeProtocols: ['PrometheusText0.0.4'] });
    // A timeout inherited from global is capped at a smaller interval.
    expect(b).toMatchObject({ scrapeInterval: 5_000, scrapeTimeout: 5_000 });
    expect(cc).toMatchObject({ sampleLimit: 100, bodySizeLimit: 2 * 1024 * 1024 });
    expect(a).toMatchObject({ metricsPath: '/metrics', scheme: 'http', honorLabels: false, honorTimestamps: true, trackTimestampsStaleness: false, enableCompression: true, metricNameEscapingScheme: 'allow-utf-8' });
    expect(a!.httpClient).toEqual({ followRedirects: true, enableHttp2: true, proxyFromEnvironment: false });
  });

  it('timeout default is min(10s, interval)', () => {
    const c = parseConfig('global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n  - {job_name: b, scrape_interval: 1m}\n', 'x.yml');
    expect(c.global.scrapeTimeout).toBe(5_000);
    expect(c.scrapeConfigs[0]!.scrapeTimeout).toBe(5_000);
    expect(c.scrapeConfigs[1]!.scrapeTimeout).toBe(5_000); // the global's (already capped) timeout
  });

  it('legacy validation defaults escaping to underscores', () => {
    const c = parseConfig('scrape_configs:\n  - {job_name: a, metric_name_validation_scheme: legacy}\n', 'x.yml');
    expect(c.scrapeConfigs[0]).toMatchObject({ metricNameValidationScheme: 'legacy', metricNameEscapingScheme: 'underscores' });
  });

  it('relabel defaults', () => {
    const c = parseConfig('scrape_configs:\n  - job_name: a\n    relabel_configs: [{target_label: x}]\n', 'x.yml');
    expect(c.scrapeConfigs[0]!.relabelConfigs[0]).toEqual({ sourceLabels: [], separator: ';', regex: '(.*)', modulus: 0, targetLabel: 'x', replacement: '$1', action: 'replace' });
  });

  it('remote write and alerting defaults', () => {
    const c = parseConfig("remote_write: [{url: 'http://a/w'}]\nalerting: {alertmanagers: [{static_configs: [{targets: ['am:9093']}]}]}\n", 'x.yml');
    expect(c.remoteWrite[0]).toMatchObject({
      url: 'http://a/w',
      remoteTimeout: 30_000,
      protobufMessage: 'prometheus.WriteRequest',
      sendExemplars: false,
      sendNativeHistograms: false,
      queueConfig: { capacity: 10_000, maxShards: 50, minShards: 1, maxSamplesPerSend: 2000, batchSendDeadline: 5000, minBackoff: 30, maxBackoff: 5000, retryOnHttp429: false, sampleAgeLimit: 0 },
      metadataConfig: { send: true, sendInterval: 60_000, maxSamplesPerSend: 500 },
    });
    expect(c.remoteWrite[0]!.name).toMatch(/^[0-9a-f]{6}$/);
    expect(c.alerting.alertmanagers[0]).toMatchObject({ apiVersion: 'v2', pathPrefix: '/', scheme: 'http', timeout: 10_000 });
    expect(c.alerting.alertmanagers[0]!.staticConfigs[0]!.targets).toEqual([{ __address__: 'am:9093' }]);
  });

  it('bearer_token becomes authorization; relative file paths resolve against the config directory', () => {
    const c = parseConfig(
      `scrape_configs:
  - job_name: a
    bearer_token_file: tok
    tls_config: {ca_file: certs/ca.pem, cert_file: /abs/c.pem, key_file: k.pem}
    file_sd_configs: [{files: ['sd/*.json']}]
  - job_name: b
    bearer_token: s3cr3t
rule_files: ['rules/*.yml']
`,
      '/etc/sextant/prometheus.yml',
    );
    const [a, b] = c.scrapeConfigs;
    expect(a!.httpClient.authorization).toEqual({ type: 'Bearer', credentialsFile: '/etc/sextant/tok' });
    expect(a!.httpClient.bearerTokenFile).toBeUndefined();
    expect(a!.httpClient.tlsConfig).toMatchObject({ caFile: '/etc/sextant/certs/ca.pem', certFile: '/abs/c.pem', keyFile: '/etc/sextant/k.pem' });
    expect(a!.fileSdConfigs[0]).toEqual({ files: ['/etc/sextant/sd/*.json'], refreshInterval: 300_000 });
    expect(b!.httpClient.authorization).toEqual({ type: 'Bearer', credentials: 's3cr3t' });
    expect(c.ruleFiles).toEqual(['/etc/sextant/rules/*.yml']);
  });

  it('external labels expand environment variables ($$ is a dollar; empty results are dropped)', () => {
    const c = parseConfig("global:\n  external_labels: {region: '${REGION}', a: 'x-$ZONE', cost: '$$5', gone: '${NOPE}'}\n", 'x.yml', { env: { REGION: 'eu', ZONE: 'z1' } });
    expect(c.global.externalLabels).toEqual({ region: 'eu', a: 'x-z1', cost: '$5' });
    expect(expandEnv('${A}${B}c', { A: '1' })).toBe('1c');
  });

  it('params and static labels', () => {
    const c = parseConfig("scrape_configs:\n  - job_name: a\n    params: {module: [x, y]}\n    static_configs:\n      - {targets: ['a:1', 'b:2'], labels: {env: prod}}\n      - targets: ['c:3']\n", 'x.yml');
    const s = c.scrapeConfigs[0]!;
    expect(s.params).toEqual({ module: ['x', 'y'] });
    expect(s.staticConfigs).toEqual([
      { source: '0', targets: [{ __address__: 'a:1' }, { __address__: 'b:2' }], labels: { env: 'prod' } },
      { source: '1', targets: [{ __address__: 'c:3' }], labels: {} },
    ]);
  });

  it('scalars given to string fields keep their source spelling (as yaml.v2)', () => {
    const c = parseConfig("scrape_configs:\n  - job_name: 0123\n    relabel_configs: [{source_labels: [a], regex: 1.50, action: keep}]\n", 'x.yml');
    expect(c.scrapeConfigs[0]!.jobName).toBe('0123');
    expect(c.scrapeConfigs[0]!.relabelConfigs[0]!.regex).toBe('1.50');
  });
});

describe('invalid configs', () => {
  it.each(INVALID)('$name', ({ yaml, line, column, message }) => {
    let err: unknown;
    try {
      parseConfig(yaml, 'bad.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toContain(message);
    expect(e.file).toBe('bad.yml');
    if (line > 0) {
      expect(e.line, e.message).toBe(line);
      expect(e.message.startsWith(`bad.yml:${line}:`)).toBe(true);
    }
    if (column !== undefined) expect(e.column, e.message).toBe(column);
  });
});

describe('valid configs', () => {
  it.each(VALID)('$name', ({ yaml }) => {
    expect(() => parseConfig(yaml, 'good.yml')).not.toThrow();
  });
});

describe('units', () => {
  it.each([
    ['0', 0],
    ['1ms', 1],
    ['15s', 15_000],
    ['1m30s', 90_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['2d3h4m5s6ms', 2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5_000 + 6],
  ])('duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '15', '1.5s', '-1s', '1s1m', '1m1m', '1h ', 's', '1S', '10000000000y'])('bad duration %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it('formats durations like model.Duration', () => {
    expect([0, 1, 15_000, 90_000, 5_400_000, 86_400_000 * 8].map(formatDuration)).toEqual(['0s', '1ms', '15s', '1m30s', '1h30m', '1w1d']);
  });
  it.each([
    ['0', 0],
    ['512B', 512],
    ['1KB', 1024],
    ['10MB', 10 * 2 ** 20],
    ['1GB', 2 ** 30],
    ['1TB', 2 ** 40],
    ['1PB', 2 ** 50],
    ['2KiB', 2048],
    ['1.5KB', 1536],
    ['1GB512MB', 2 ** 30 + 512 * 2 ** 20],
  ])('size %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  it.each(['', '10', '10mb', '1ZB', 'MB', '1 MB'])('bad size %j', (text) => {
    expect(typeof parseSize(text)).toBe('string');
  });
});

describe('source (as /api/v1/status/config shows it)', () => {
  const yaml = `global:
  external_labels: {dc: eu}
scrape_configs:
  - job_name: a # comment
    basic_auth: {username: u, password: hunter2}
    body_size_limit: 10MB
    static_configs: [{targets: ['x:1'], labels: {env: prod}}]
    relabel_configs: [{source_labels: [a], regex: 'on', action: keep}]
  - job_name: b
    authorization: {credentials: "tok-1"}
    tls_config: {cert: CERT, key: PRIVATE-KEY}
    kubernetes_sd_configs: [{role: pod, namespaces: {names: [x]}}]
    file_sd_configs: [{files: [sd.json]}]
  - job_name: c
    bearer_token: tok-2
    proxy_url: http://p:1
    proxy_connect_header: {X-Auth: [tok-3]}
    http_headers: {X-Key: {secrets: [tok-5], values: [plain]}}
remote_write:
  - url: http://r/w
    oauth2: {client_id: id, client_secret: tok-4, token_url: http://t}
    write_relabel_configs: [{source_labels: [__name__], regex: 'x.*', action: drop}]
alerting:
  alertmanagers: [{static_configs: [{targets: ['am:9093']}]}]
`;
  const c = parseConfig(yaml, '/etc/p/x.yml');

  it('hides every secret', () => {
    for (const s of ['hunter2', 'tok-1', 'PRIVATE-KEY', 'tok-2', 'tok-3', 'tok-4', 'tok-5']) expect(c.source).not.toContain(s);
    expect(c.source.match(/<secret>/g)!.length).toBe(7);
    expect(c.scrapeConfigs[0]!.httpClient.basicAuth?.password).toBe('hunter2');
  });

  it('writes defaults in Prometheus spelling', () => {
    expect(c.source).toContain('  scrape_interval: 1m\n  scrape_timeout: 10s\n');
    expect(c.source).toContain('\n  body_size_limit: 10MiB\n');
    expect(c.source).toContain('\n- job_name: a\n  honor_timestamps: true\n');
    expect(c.source).toContain('\n  metrics_path: /metrics\n');
    expect(c.source).toContain('/etc/p/sd.json');
  });

  it('loads back to the same config, secrets aside', () => {
    const again = parseConfig(c.source, '/etc/p/x.yml');
    const strip = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'source' ? undefined : v === '<secret>' ? 'S' : v)));
    const hide = (x: unknown): unknown =>
      JSON.parse(JSON.stringify(x, (k, v) => (['password', 'credentials', 'key', 'clientSecret', 'source'].includes(k) ? 'S' : k === 'proxyConnectHeader' || k === 'secrets' ? 'S' : v)));
    expect(hide(strip(again))).toEqual(hide(strip(c)));
    for (const v of VALID) {
      const first = parseConfig(v.yaml, '/etc/p/v.yml');
      expect(hide(strip(parseConfig(first.source, '/etc/p/v.yml'))), v.name).toEqual(hide(strip(first)));
    }
  });
});

describe('files on disk', () => {
  it('scrape_config_files are merged; duplicates across files are errors naming both', async () => {
    const dir = join(tmp, 'scf');
    mkdirSync(join(dir, 'jobs'), { recursive: true });
    writeFileSync(join(dir, 'jobs', 'a.yml'), 'scrape_configs:\n  - job_name: from-a\n    static_configs: [{targets: [x:1]}]\n');
    writeFileSync(join(dir, 'jobs', 'b.yml'), 'scrape_configs:\n  - job_name: from-b\n    scrape_interval: 5s\n');
    writeFileSync(join(dir, 'prometheus.yml'), "global: {scrape_interval: 20s}\nscrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n");
    const c = await loadConfigFile(join(dir, 'prometheus.yml'));
    expect(c.scrapeConfigs.map((s) => [s.jobName, s.scrapeInterval])).toEqual([
      ['main', 20_000],
      ['from-a', 20_000],
      ['from-b', 5_000],
    ]);
    writeFileSync(join(dir, 'jobs', 'c.yml'), 'scrape_configs:\n  - job_name: from-a\n');
    await expect(loadConfigFile(join(dir, 'prometheus.yml'))).rejects.toThrow(
      `${join(dir, 'jobs', 'c.yml')}:2:15: scrape_configs[0].job_name: found multiple scrape configs with job name "from-a", first found in ${join(dir, 'jobs', 'a.yml')}, then in ${join(dir, 'jobs', 'c.yml')}`,
    );
    writeFileSync(join(dir, 'jobs', 'c.yml'), 'scrape_configs:\n  - job_name: c\n    bogus: 1\n');
    await expect(loadConfigFile(join(dir, 'prometheus.yml'))).rejects.toThrow(`${join(dir, 'jobs', 'c.yml')}:3:5`);
  });

  it('rule file globs resolve against the config directory', async () => {
    const dir = join(tmp, 'rules');
    mkdirSync(join(dir, 'r'), { recursive: true });
    writeFileSync(join(dir, 'r', 'b.yml'), 'groups: []\n');
    writeFileSync(join(dir, 'r', 'a.yml'), 'groups: []\n');
    writeFileSync(join(dir, 'r', 'a.txt'), 'x');
    writeFileSync(join(dir, 'prometheus.yml'), "rule_files: ['r/*.yml', 'single.yml', 'r/a.yml']\n");
    const c = await loadConfigFile(join(dir, 'prometheus.yml'));
    expect(resolveRuleFiles(c)).toEqual([join(dir, 'r', 'a.yml'), join(dir, 'r', 'b.yml')]);
  });

  it('a missing file is a ConfigError naming it', async () => {
    await expect(loadConfigFile(join(tmp, 'nope.yml'))).rejects.toThrow(/nope\.yml: open .*nope\.yml/);
  });
});

describe('default config', () => {
  it('scrapes Sextant itself at the listen address', () => {
    const c = loadDefaultConfig('0.0.0.0:9999');
    expect(c.file).toBe('<embedded default>');
    expect(c.global).toMatchObject({ scrapeInterval: 15_000, evaluationInterval: 15_000 });
    expect(c.scrapeConfigs.map((s) => [s.jobName, s.staticConfigs[0]!.targets])).toEqual([['sextant', [{ __address__: 'localhost:9999' }]]]);
    expect(defaultConfig(':9090')).toContain('"localhost:9090"');
    expect(defaultConfig('127.0.0.1:1234')).toContain('"127.0.0.1:1234"');
    expect(parseConfig(DEFAULT_CONFIG_YAML, 'd.yml').scrapeConfigs[0]!.jobName).toBe('sextant');
  });
});

describe('check config command', () => {
  it('prints like promtool and returns 0/1', async () => {
    const dir = join(tmp, 'check');
    mkdirSync(join(dir, 'rules'), { recursive: true });
    writeFileSync(join(dir, 'rules', 'ok.yml'), 'groups: []\n');
    writeFileSync(join(dir, 'good.yml'), "rule_files: ['rules/*.yml']\nscrape_configs: [{job_name: a}]\n");
    writeFileSync(join(dir, 'bad.yml'), 'scrape_configs:\n  - job_name: a\n    foo: 1\n');
    const out = capture();
    const err = capture();
    expect(await checkConfigCommand([join(dir, 'good.yml')], { stdout: out.stream, stderr: err.stream })).toBe(0);
    expect(out.text()).toBe(
      `Checking ${join(dir, 'good.yml')}\n  SUCCESS: 1 rule files found\n SUCCESS: ${join(dir, 'good.yml')} is valid prometheus config file syntax\n\n` +
        `Checking ${join(dir, 'rules', 'ok.yml')}\n  SUCCESS: readable YAML (rule syntax not checked yet)\n\n`,
    );
    expect(err.text()).toBe('');
    const out2 = capture();
    const err2 = capture();
    expect(await checkConfigCommand([join(dir, 'bad.yml'), join(dir, 'good.yml')], { stdout: out2.stream, stderr: err2.stream })).toBe(1);
    expect(out2.text()).toContain(`Checking ${join(dir, 'bad.yml')}\n`);
    expect(out2.text()).toContain(`SUCCESS: ${join(dir, 'good.yml')}`);
    expect(err2.text()).toBe(`  FAILED: ${join(dir, 'bad.yml')}:3:5: scrape_configs[0]: field foo not found in type scrape_config\n`);
  });

  it('fails on an unreadable rule file', async () => {
    const dir = join(tmp, 'check2');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'r.yml'), 'groups: [\n');
    writeFileSync(join(dir, 'p.yml'), "rule_files: ['r.yml']\n");
    const out = capture();
    const err = capture();
    expect(await checkConfigCommand([join(dir, 'p.yml')], { stdout: out.stream, stderr: err.stream })).toBe(1);
    expect(err.text()).toContain(`FAILED:\n     ${join(dir, 'r.yml')}:`);
  });

  it.each([
    ['a rule file that does not exist', "rule_files: ['missing.yml']\n", 'missing.yml" does not point to an existing file'],
    ['a credentials file that does not exist', 'scrape_configs: [{job_name: a, bearer_token_file: nope}]\n', 'error checking authorization credentials or bearer token file'],
    ['a client certificate that does not exist', 'scrape_configs: [{job_name: a, tls_config: {cert_file: c.pem, key_file: k.pem}}]\n', 'error checking client cert file'],
    ['a file_sd file that is not a list of target groups', "scrape_configs: [{job_name: a, file_sd_configs: [{files: ['sd.yml']}]}]\n", 'checking SD file'],
  ])('like promtool, fails on %s', async (_name, yaml, message) => {
    const dir = mkdtempSync(join(tmp, 'refs-'));
    writeFileSync(join(dir, 'sd.yml'), 'targets: [a]\n');
    writeFileSync(join(dir, 'p.yml'), yaml);
    const out = capture();
    const err = capture();
    expect(await checkConfigCommand([join(dir, 'p.yml')], { stdout: out.stream, stderr: err.stream })).toBe(1);
    expect(err.text()).toContain(message);
  });

  it('warns about a file_sd pattern with no files, and accepts valid SD files', async () => {
    const dir = mkdtempSync(join(tmp, 'sd-'));
    writeFileSync(join(dir, 'ok.json'), JSON.stringify([{ targets: ['a:1'], labels: { env: 'x' } }]));
    writeFileSync(join(dir, 'p.yml'), "scrape_configs: [{job_name: a, file_sd_configs: [{files: ['ok.json', 'none/*.yml']}]}]\n");
    const out = capture();
    const err = capture();
    expect(await checkConfigCommand([join(dir, 'p.yml')], { stdout: out.stream, stderr: err.stream })).toBe(0);
    expect(out.text()).toContain(`  WARNING: file "${join(dir, 'none/*.yml')}" for file_sd in scrape job "a" does not exist\n`);
    expect(err.text()).toBe('');
  });
});
