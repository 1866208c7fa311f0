/**
 * prometheus.yml → {@link Config}: strict parsing with positions, Prometheus 3.5 defaults and
 * validation (config.go's UnmarshalYAML / Validate, with the same messages where there is one).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkKubernetesSDConfig, KUBERNETES_ROLES, type KubernetesRole, type KubernetesSDConfig, type KubernetesSelector, type LabelSet } from '../../discovery/index.js';
import { isLegacyLabelName, isValidLabelName, isWellFormed } from '../../storage/index.js';
import { ConfigError } from './errors.js';
import { formatConfig, remoteWriteHash } from './format.js';
import { DEFAULT_HTTP_CLIENT, HTTP_CLIENT_KEYS, canonicalHeaderKey, parseHttpClient, resolvePath } from './http.js';
import { parseRelabelConfigs, type NameScheme } from './relabel.js';
import {
  DEFAULT_SCRAPE_PROTOCOLS,
  type AlertingConfig,
  type AlertmanagerConfig,
  type Config,
  type FileSDConfig,
  type GlobalConfig,
  type MetadataConfig,
  type QueueConfig,
  type RemoteWriteConfig,
  type ScrapeConfig,
  type ScrapeProtocol,
  type StaticConfig,
  type EscapingScheme,
} from './types.js';
import { MapReader, Source, joinPath, type Item } from './yaml.js';

const SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = ['PrometheusProto', 'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'];
const ESCAPING_SCHEMES: readonly EscapingScheme[] = ['allow-utf-8', 'underscores', 'dots', 'values'];

/** Limits on what one config may contain (everything from outside is bounded). */
export const CONFIG_LIMITS = Object.freeze({
  maxFileBytes: 64 * 1024 * 1024,
  maxScrapeConfigFiles: 10_000,
});

/** Service discovery mechanisms Prometheus has and Sextant does not (their keys are recognised to say so). */
const UNSUPPORTED_SD = [
  'azure', 'consul', 'digitalocean', 'docker', 'dockerswarm', 'dns', 'ec2', 'eureka', 'gce', 'hetzner', 'http',
  'ionos', 'kuma', 'lightsail', 'linode', 'marathon', 'nerve', 'nomad', 'openstack', 'ovhcloud', 'puppetdb',
  'scaleway', 'serverset', 'stackit', 'triton', 'uyuni', 'vultr',
].map((s) => `${s}_sd_configs`);
const SD_KEYS = ['static_configs', 'file_sd_configs', 'kubernetes_sd_configs', ...UNSUPPORTED_SD];

const GLOBAL_KEYS = [
  'scrape_interval', 'scrape_timeout', 'scrape_protocols', 'evaluation_interval', 'rule_query_offset', 'external_labels',
  'query_log_file', 'scrape_failure_log_file', 'body_size_limit', 'sample_limit', 'label_limit', 'label_name_length_limit',
  'label_value_length_limit', 'target_limit', 'keep_dropped_targets', 'metric_name_validation_scheme',
  'metric_name_escaping_scheme', 'convert_classic_histograms_to_nhcb', 'always_scrape_classic_histograms',
];
const SCRAPE_KEYS = [
  'job_name', 'scrape_interval', 'scrape_timeout', 'scrape_protocols', 'fallback_scrape_protocol',
  'always_scrape_classic_histograms', 'metrics_path', 'honor_labels', 'honor_timestamps', 'track_timestamps_staleness',
  'scheme', 'params', 'enable_compression', 'scrape_failure_log_file', ...HTTP_CLIENT_KEYS, ...SD_KEYS,
  'relabel_configs', 'metric_relabel_configs', 'body_size_limit', 'sample_limit', 'label_limit', 'label_name_length_limit',
  'label_value_length_limit', 'target_limit', 'keep_dropped_targets', 'metric_name_validation_scheme',
  'metric_name_escaping_scheme', 'native_histogram_bucket_limit', 'native_histogram_min_bucket_factor',
  'convert_classic_histograms_to_nhcb',
];
const TOP_KEYS = ['global', 'runtime', 'rule_files', 'scrape_config_files', 'scrape_configs', 'alerting', 'remote_write', 'remote_read', 'storage', 'tracing', 'otlp'];
const K8S_KEYS = ['api_server', 'role', 'kubeconfig_file', 'namespaces', 'selectors', 'attach_metadata', ...HTTP_CLIENT_KEYS];
const ALERTMANAGER_KEYS = ['timeout', 'api_version', 'path_prefix', 'scheme', 'sigv4', ...HTTP_CLIENT_KEYS, ...SD_KEYS, 'relabel_configs', 'alert_relabel_configs'];
const REMOTE_WRITE_KEYS = [
  'url', 'protobuf_message', 'remote_timeout', 'headers', 'write_relabel_configs', 'name', 'send_exemplars',
  'send_native_histograms', 'round_robin_dns', 'sigv4', 'azuread', 'google_iam', 'queue_config', 'metadata_config',
  ...HTTP_CLIENT_KEYS,
];
const QUEUE_KEYS = ['capacity', 'max_shards', 'min_shards', 'max_samples_per_send', 'batch_send_deadline', 'min_backoff', 'max_backoff', 'retry_on_http_429', 'sample_age_limit'];
const REMOTE_READ_KEYS = ['url', 'name', 'required_matchers', 'remote_timeout', 'headers', 'read_recent', 'filter_external_labels', ...HTTP_CLIENT_KEYS];

/** Rule file and scrape config file patterns: a glob only in the last path element. */
const PAT_RULE_PATH = /^[^*]*(\*[^/]*)?$/;
/** file_sd_configs file names. */
const PAT_FILE_SD_NAME = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

export const DEFAULT_GLOBAL_CONFIG: GlobalConfig = Object.freeze({
  scrapeInterval: 60_000,
  scrapeTimeout: 10_000,
  scrapeProtocols: DEFAULT_SCRAPE_PROTOCOLS,
  evaluationInterval: 60_000,
  ruleQueryOffset: 0,
  externalLabels: Object.freeze({}),
  bodySizeLimit: 0,
  sampleLimit: 0,
  targetLimit: 0,
  labelLimit: 0,
  labelNameLengthLimit: 0,
  labelValueLengthLimit: 0,
  keepDroppedTargets: 0,
  metricNameValidationScheme: 'utf8',
});

export const DEFAULT_QUEUE_CONFIG: QueueConfig = Object.freeze({
  capacity: 10_000,
  maxShards: 50,
  minShards: 1,
  maxSamplesPerSend: 2000,
  batchSendDeadline: 5000,
  minBackoff: 30,
  maxBackoff: 5000,
  retryOnHttp429: false,
  sampleAgeLimit: 0,
});

export const DEFAULT_METADATA_CONFIG: MetadataConfig = Object.freeze({ send: true, sendInterval: 60_000, maxSamplesPerSend: 500 });

/** Options of {@link parseConfig}. */
export interface ParseOptions {
  /** Environment for `${VAR}` in external_labels; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against; default the config file's directory. */
  readonly dir?: string;
}

function nameValid(name: string, scheme: NameScheme): boolean {
  return scheme === 'legacy' ? isLegacyLabelName(name) : isValidLabelName(name);
}

/** os.Expand with Prometheus's external_labels rules: `$$` is `$`, undefined variables are ''. */
export function expandEnv(s: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!s.includes('$')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '$' || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1]!;
    if (next === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0 || end === i + 2) {
        // Go: a bad syntax `${` eats the `${` (or `${}`), and stops.
        i = end < 0 ? s.length : end;
        continue;
      }
      const name = s.slice(i + 2, end);
      out += name === '$' ? '$' : env[name] ?? '';
      i = end;
    } else if (next === '$') {
      out += '$';
      i++;
    } else if (/[A-Za-z0-9_]/.test(next)) {
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j]!)) j++;
      out += env[s.slice(i + 1, j)] ?? '';
      i = j - 1;
    } else if ('*#!?-@'.includes(next)) {
      // Shell special names: Go treats `$x` of one special char as a variable name.
      out += env[next] ?? '';
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

function checkScrapeProtocols(list: readonly string[]): string | undefined {
  if (list.length === 0) return 'scrape_protocols cannot be empty';
  const seen = new Set<string>();
  for (const p of list) {
    if (seen.has(p.toLowerCase())) return `duplicated protocol in scrape_protocols, got [${list.join(' ')}]`;
    if (!SCRAPE_PROTOCOLS.includes(p as ScrapeProtocol)) {
      return `scrape_protocols: unknown scrape protocol ${p}, supported: [${SCRAPE_PROTOCOLS.join(' ')}]`;
    }
    seen.add(p.toLowerCase());
  }
  return undefined;
}

function parseLabelSet(m: MapReader, key: string, scheme: NameScheme): Record<string, string> {
  const r = m.strMap(key);
  if (r === undefined) return {};
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(r.value)) {
    const nodes = r.nodes.get(name)!;
    if (!nameValid(name, scheme)) throw m.src.error(nodes.key, joinPath(m.keyPath(key), name), `"${name}" is not a valid label name`);
    if (!isWellFormed(v)) throw m.src.error(nodes.value, joinPath(m.keyPath(key), name), `"${v}" is not a valid label value`);
    out[name] = v;
  }
  return out;
}

function parseGlobal(m: MapReader, env: Readonly<Record<string, string | undefined>>): GlobalConfig {
  const d = DEFAULT_GLOBAL_CONFIG;
  const schemeText = m.str('metric_name_validation_scheme') ?? '';
  if (schemeText !== '' && schemeText !== 'utf8' && schemeText !== 'legacy') {
    throw m.fail('metric_name_validation_scheme', `unknown global name validation method specified, must be either '', 'legacy' or 'utf8', got ${schemeText}`);
  }
  const scheme: NameScheme = schemeText === 'legacy' ? 'legacy' : 'utf8';
  const escText = m.str('metric_name_escaping_scheme') ?? '';
  if (escText !== '' && !ESCAPING_SCHEMES.includes(escText as EscapingScheme)) {
    throw m.fail('metric_name_escaping_scheme', `unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got ${escText}`);
  }
  const labels = parseLabelSet(m, 'external_labels', 'utf8');
  const externalLabels: Record<string, string> = {};
  for (const [n, v] of Object.entries(labels)) {
    const x = expandEnv(v, env);
    if (x !== '') externalLabels[n] = x;
  }
  let scrapeInterval = m.duration('scrape_interval') ?? 0;
  if (scrapeInterval === 0) scrapeInterval = d.scrapeInterval;
  let scrapeTimeout = m.duration('scrape_timeout') ?? 0;
  if (scrapeTimeout > scrapeInterval) throw m.fail('scrape_timeout', 'global scrape timeout greater than scrape interval');
  if (scrapeTimeout === 0) scrapeTimeout = Math.min(d.scrapeTimeout, scrapeInterval);
  let evaluationInterval = m.duration('evaluation_interval') ?? 0;
  if (evaluationInterval === 0) evaluationInterval = d.evaluationInterval;
  const protocols = m.strList('scrape_protocols');
  if (protocols !== undefined) {
    const p = checkScrapeProtocols(protocols);
    if (p !== undefined) throw m.fail('scrape_protocols', `${p} for global config`);
  }
  const g: { -readonly [K in keyof GlobalConfig]: GlobalConfig[K] } = {
    scrapeInterval,
    scrapeTimeout,
    scrapeProtocols: protocols ? Object.freeze(protocols as ScrapeProtocol[]) : d.scrapeProtocols,
    evaluationInterval,
    ruleQueryOffset: m.duration('rule_query_offset') ?? 0,
    externalLabels: Object.freeze(externalLabels),
    bodySizeLimit: m.size('body_size_limit') ?? 0,
    sampleLimit: m.uint('sample_limit', 0),
    targetLimit: m.uint('target_limit', 0),
    labelLimit: m.uint('label_limit', 0),
    labelNameLengthLimit: m.uint('label_name_length_limit', 0),
    labelValueLengthLimit: m.uint('label_value_length_limit', 0),
    keepDroppedTargets: m.uint('keep_dropped_targets', 0),
    metricNameValidationScheme: scheme,
  };
  const qlf = m.str('query_log_file');
  if (qlf) g.queryLogFile = qlf;
  const sflf = m.str('scrape_failure_log_file');
  if (sflf) g.scrapeFailureLogFile = sflf;
  const ac = m.bool('always_scrape_classic_histograms', false);
  if (ac) g.alwaysScrapeClassicHistograms = true;
  const nh = m.bool('convert_classic_histograms_to_nhcb', false);
  if (nh) g.convertClassicHistogramsToNhcb = true;
  if (escText !== '') g.metricNameEscapingScheme = escText as EscapingScheme;
  return Object.freeze(g);
}

function parseStaticConfigs(m: MapReader, scheme: NameScheme): StaticConfig[] {
  return m.seq('static_configs', '[]*targetgroup.Group').map((item, i) => {
    const s = MapReader.item(m.src, item, 'static_config', ['targets', 'labels']);
    const targets = (s.strList('targets') ?? []).map((t) => Object.freeze({ __address__: t }) as LabelSet);
    return Object.freeze({ source: String(i), targets: Object.freeze(targets), labels: Object.freeze(parseLabelSet(s, 'labels', scheme)) });
  });
}

/** Prometheus's checkStaticTargets: a target with a scheme or path is a mistake (when nothing relabels it). */
function checkStaticTargets(m: MapReader, statics: readonly StaticConfig[]): void {
  const items = m.seq('static_configs', '[]*targetgroup.Group');
  statics.forEach((g, i) => {
    for (const t of g.targets) {
      const a = t['__address__'] ?? '';
      if (a.includes('/')) {
        const s = MapReader.item(m.src, items[i]!, 'static_config', ['targets', 'labels']);
        throw s.fail('targets', `"${a}" is not a valid hostname`);
      }
    }
  });
}

function parseFileSD(m: MapReader, dir: string): FileSDConfig[] {
  return m.seq('file_sd_configs', '[]*file.SDConfig').map((item) => {
    const f = MapReader.item(m.src, item, 'file_sd_config', ['files', 'refresh_interval']);
    const files = f.strList('files') ?? [];
    if (files.length === 0) throw f.fail(undefined, 'file service discovery config must contain at least one path name');
    for (const name of files) {
      if (!PAT_FILE_SD_NAME.test(name)) throw f.fail('files', `path name "${name}" is not valid for file discovery`);
    }
    return Object.freeze({
      files: Object.freeze(files.map((p) => resolvePath(dir, p)!)),
      refreshInterval: f.duration('refresh_interval') ?? 300_000,
    });
  });
}

function parseKubernetesSD(m: MapReader, dir: string): KubernetesSDConfig[] {
  return m.seq('kubernetes_sd_configs', '[]*kubernetes.SDConfig').map((item) => {
    const k = MapReader.item(m.src, item, 'kubernetes_sd_config', K8S_KEYS);
    const roleText = k.str('role') ?? '';
    if (roleText === '') throw k.fail(k.present('role') ? 'role' : undefined, 'role missing (one of: pod, service, endpoints, endpointslice, node, ingress)');
    if (!KUBERNETES_ROLES.includes(roleText as KubernetesRole)) throw k.fail('role', `unknown Kubernetes SD role "${roleText}"`);
    const http = parseHttpClient(k, dir);
    const selectors: KubernetesSelector[] = k.seq('selectors', '[]kubernetes.SelectorConfig').map((si) => {
      const s = MapReader.item(k.src, si, 'selector_config', ['role', 'label', 'field']);
      const role = s.str('role') ?? '';
      if (!KUBERNETES_ROLES.includes(role as KubernetesRole)) throw s.fail('role', `unknown Kubernetes SD role "${role}"`);
      const sel: { role: KubernetesRole; label?: string; field?: string } = { role: role as KubernetesRole };
      const label = s.str('label');
      const field = s.str('field');
      if (label) sel.label = label;
      if (field) sel.field = field;
      return Object.freeze(sel);
    });
    const am = k.sub('attach_metadata', 'attach_metadata', ['node', 'namespace']);
    const c: { -readonly [K in keyof KubernetesSDConfig]: KubernetesSDConfig[K] } = {
      ...http,
      role: roleText as KubernetesRole,
      selectors: Object.freeze(selectors),
      attachMetadata: Object.freeze({ node: am.bool('node', false), namespace: am.bool('namespace', false) }),
    };
    const api = k.str('api_server');
    if (api) c.apiServer = api;
    const kc = k.str('kubeconfig_file');
    if (kc) c.kubeconfigFile = resolvePath(dir, kc);
    if (k.has('namespaces')) {
      const ns = k.sub('namespaces', 'namespace_discovery', ['own_namespace', 'names']);
      c.namespaces = Object.freeze({ names: Object.freeze(ns.strList('names') ?? []), ownNamespace: ns.bool('own_namespace', false) });
    }
    const frozen = Object.freeze(c);
    const problem = checkKubernetesSDConfig(frozen);
    if (problem !== undefined) throw k.fail(undefined, problem);
    return frozen;
  });
}

function rejectUnsupportedSD(m: MapReader): void {
  for (const key of UNSUPPORTED_SD) {
    if (m.seq(key, '[]discovery.Config').length > 0) {
      throw m.fail(key, `${key} is not supported by Sextant (supported: static_configs, file_sd_configs, kubernetes_sd_configs)`);
    }
  }
}

function parseScheme(m: MapReader): 'http' | 'https' {
  const s = m.str('scheme') ?? 'http';
  if (s !== 'http' && s !== 'https') throw m.fail('scheme', `scheme must be "http" or "https", got "${s}"`);
  return s;
}

function parseScrapeConfig(src: Source, item: Item, global: GlobalConfig, dir: string): ScrapeConfig {
  if (item.node === null) throw src.error(null, item.path, 'empty or null scrape config section');
  const m = MapReader.item(src, item, 'scrape_config', SCRAPE_KEYS);
  const jobName = m.str('job_name') ?? '';
  if (jobName === '') throw m.fail(m.present('job_name') ? 'job_name' : undefined, 'job_name is empty');

  const schemeText = m.str('metric_name_validation_scheme') ?? '';
  if (schemeText !== '' && schemeText !== 'utf8' && schemeText !== 'legacy') {
    throw m.fail('metric_name_validation_scheme', `unknown scrape config name validation method specified, must be either '', 'legacy' or 'utf8', got ${schemeText}`);
  }
  const scheme: NameScheme = schemeText === '' ? global.metricNameValidationScheme : (schemeText as NameScheme);
  const escText = m.str('metric_name_escaping_scheme') ?? '';
  if (escText !== '' && !ESCAPING_SCHEMES.includes(escText as EscapingScheme)) {
    throw m.fail('metric_name_escaping_scheme', `unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got ${escText}`);
  }
  const escaping: EscapingScheme = (escText || (scheme === 'legacy' ? 'underscores' : global.metricNameEscapingScheme ?? 'allow-utf-8')) as EscapingScheme;
  if (escaping === 'allow-utf-8' && scheme !== 'utf8') {
    throw m.fail('metric_name_escaping_scheme', "scrape_config.metric_name_escaping_scheme cannot be set to 'allow-utf-8' while scrape_config.metric_name_validation_scheme is not set to UTF8");
  }

  const httpClient = parseHttpClient(m, dir);
  rejectUnsupportedSD(m);
  const staticConfigs = parseStaticConfigs(m, scheme);
  const fileSdConfigs = parseFileSD(m, dir);
  const kubernetesSdConfigs = parseKubernetesSD(m, dir);
  const relabelConfigs = parseRelabelConfigs(m, 'relabel_configs', scheme, 'empty or null target relabeling rule in scrape config');
  const metricRelabelConfigs = parseRelabelConfigs(m, 'metric_relabel_configs', scheme, 'empty or null metric relabeling rule in scrape config');
  if (relabelConfigs.length === 0) checkStaticTargets(m, staticConfigs);

  let scrapeInterval = m.duration('scrape_interval') ?? 0;
  if (scrapeInterval === 0) scrapeInterval = global.scrapeInterval;
  let scrapeTimeout = m.duration('scrape_timeout') ?? 0;
  if (scrapeTimeout > scrapeInterval) {
    throw m.fail('scrape_timeout', `scrape timeout greater than scrape interval for scrape config with job name "${jobName}"`);
  }
  if (scrapeTimeout === 0) scrapeTimeout = Math.min(global.scrapeTimeout, scrapeInterval);

  const protocols = m.strList('scrape_protocols');
  if (protocols !== undefined) {
    const p = checkScrapeProtocols(protocols);
    if (p !== undefined) throw m.fail('scrape_protocols', `${p} for scrape config with job name "${jobName}"`);
  }
  const fallback = m.str('fallback_scrape_protocol');
  if (fallback !== undefined && fallback !== '' && !SCRAPE_PROTOCOLS.includes(fallback as ScrapeProtocol)) {
    throw m.fail('fallback_scrape_protocol', `invalid fallback_scrape_protocol for scrape config with job name "${jobName}": unknown scrape protocol ${fallback}, supported: [${SCRAPE_PROTOCOLS.join(' ')}]`);
  }
  const params = m.strListMap('params') ?? {};
  const limit = (key: string, g: number): number => {
    const v = m.uint(key, 0);
    return v === 0 ? g : v;
  };
  const bodySize = m.size('body_size_limit') ?? 0;
  const c: { -readonly [K in keyof ScrapeConfig]: ScrapeConfig[K] } = {
    jobName,
    honorLabels: m.bool('honor_labels', false),
    honorTimestamps: m.bool('honor_timestamps', true),
    trackTimestampsStaleness: m.bool('track_timestamps_staleness', false),
    scrapeInterval,
    scrapeTimeout,
    scrapeProtocols: protocols ? Object.freeze(protocols as ScrapeProtocol[]) : global.scrapeProtocols,
    metricsPath: m.str('metrics_path') || '/metrics',
    scheme: parseScheme(m),
    params: Object.freeze(params),
    enableCompression: m.bool('enable_compression', true),
    httpClient,
    bodySizeLimit: bodySize === 0 ? global.bodySizeLimit : bodySize,
    sampleLimit: limit('sample_limit', global.sampleLimit),
    targetLimit: limit('target_limit', global.targetLimit),
    labelLimit: limit('label_limit', global.labelLimit),
    labelNameLengthLimit: limit('label_name_length_limit', global.labelNameLengthLimit),
    labelValueLengthLimit: limit('label_value_length_limit', global.labelValueLengthLimit),
    keepDroppedTargets: limit('keep_dropped_targets', global.keepDroppedTargets),
    metricNameValidationScheme: scheme,
    metricNameEscapingScheme: escaping,
    staticConfigs: Object.freeze(staticConfigs),
    fileSdConfigs: Object.freeze(fileSdConfigs),
    kubernetesSdConfigs: Object.freeze(kubernetesSdConfigs),
    relabelConfigs: Object.freeze(relabelConfigs),
    metricRelabelConfigs: Object.freeze(metricRelabelConfigs),
  };
  if (fallback) c.fallbackScrapeProtocol = fallback as ScrapeProtocol;
  const sflf = m.str('scrape_failure_log_file') || global.scrapeFailureLogFile;
  if (sflf) c.scrapeFailureLogFile = resolvePath(dir, sflf);
  c.alwaysScrapeClassicHistograms = m.bool('always_scrape_classic_histograms', global.alwaysScrapeClassicHistograms ?? false);
  c.convertClassicHistogramsToNhcb = m.bool('convert_classic_histograms_to_nhcb', global.convertClassicHistogramsToNhcb ?? false);
  c.nativeHistogramBucketLimit = m.uint('native_histogram_bucket_limit', 0);
  c.nativeHistogramMinBucketFactor = m.float('native_histogram_min_bucket_factor', 0);
  return Object.freeze(c);
}

function parseAlertmanager(src: Source, item: Item, dir: string): AlertmanagerConfig {
  if (item.node === null) throw src.error(null, item.path, 'empty or null alertmanager config section');
  const m = MapReader.item(src, item, 'alertmanager_config', ALERTMANAGER_KEYS);
  if (m.has('sigv4')) throw m.fail('sigv4', 'sigv4 is not supported by Sextant');
  const api = m.str('api_version') || 'v2';
  if (api !== 'v2') throw m.fail('api_version', `expected Alertmanager api version to be one of [v2] but got ${api}`);
  const httpClient = parseHttpClient(m, dir);
  rejectUnsupportedSD(m);
  const staticConfigs = parseStaticConfigs(m, 'utf8');
  const relabelConfigs = parseRelabelConfigs(m, 'relabel_configs', 'utf8', 'empty or null Alertmanager target relabeling rule');
  if (relabelConfigs.length === 0) checkStaticTargets(m, staticConfigs);
  return Object.freeze({
    apiVersion: 'v2',
    pathPrefix: m.str('path_prefix') || '/',
    scheme: parseScheme(m),
    timeout: m.duration('timeout') ?? 10_000,
    httpClient,
    staticConfigs: Object.freeze(staticConfigs),
    fileSdConfigs: Object.freeze(parseFileSD(m, dir)),
    kubernetesSdConfigs: Object.freeze(parseKubernetesSD(m, dir)),
    relabelConfigs: Object.freeze(relabelConfigs),
    alertRelabelConfigs: Object.freeze(parseRelabelConfigs(m, 'alert_relabel_configs', 'utf8', 'empty or null Alertmanager alert relabeling rule')),
  });
}

function parseAlerting(m: MapReader, dir: string): AlertingConfig {
  return Object.freeze({
    alertRelabelConfigs: Object.freeze(parseRelabelConfigs(m, 'alert_relabel_configs', 'utf8', 'empty or null alert relabeling rule')),
    alertmanagers: Object.freeze(m.seq('alertmanagers', '[]*config.AlertmanagerConfig').map((it) => parseAlertmanager(m.src, it, dir))),
  });
}

/** Headers remote write sets itself (config.go unchangeableHeaders). */
const UNCHANGEABLE_HEADERS = new Set([
  'host', 'content-encoding', 'content-length', 'content-type', 'user-agent', 'connection', 'keep-alive',
  'proxy-authenticate', 'proxy-authorization', 'www-authenticate', 'accept-encoding',
  'x-prometheus-remote-write-version', 'x-prometheus-remote-read-version', 'x-amz-date', 'x-amz-security-token',
  'x-amz-content-sha256',
]);

function parseRemoteHeaders(m: MapReader): Record<string, string> {
  const h = m.strMap('headers');
  if (h === undefined) return {};
  for (const name of Object.keys(h.value)) {
    const at = h.nodes.get(name)!.key;
    if (name.toLowerCase() === 'authorization') {
      throw m.src.error(at, joinPath(m.keyPath('headers'), name), 'authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter');
    }
    if (UNCHANGEABLE_HEADERS.has(name.toLowerCase())) {
      throw m.src.error(at, joinPath(m.keyPath('headers'), name), `${name} is a reserved header. It must not be changed`);
    }
  }
  return { ...h.value };
}

function parseUrl(m: MapReader, what: string): string {
  const url = m.str('url') ?? '';
  if (url === '') throw m.fail(m.present('url') ? 'url' : undefined, `url for ${what} is empty`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw m.fail('url', `parse "${url}": invalid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw m.fail('url', `url for ${what} must use http or https: "${url}"`);
  return url;
}

function parseRemoteWrite(src: Source, item: Item, dir: string): RemoteWriteConfig {
  if (item.node === null) throw src.error(null, item.path, 'empty or null remote write config section');
  const m = MapReader.item(src, item, 'remote_write', REMOTE_WRITE_KEYS);
  const url = parseUrl(m, 'remote_write');
  const writeRelabelConfigs = parseRelabelConfigs(m, 'write_relabel_configs', 'utf8', 'empty or null relabeling rule in remote write config');
  const headers = parseRemoteHeaders(m);
  const pm = m.str('protobuf_message') || 'prometheus.WriteRequest';
  if (pm !== 'prometheus.WriteRequest' && pm !== 'io.prometheus.write.v2.Request') {
    throw m.fail('protobuf_message', `invalid protobuf_message value: unknown remote write protobuf message ${pm}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request`);
  }
  for (const k of ['sigv4', 'azuread', 'google_iam']) {
    if (m.has(k)) throw m.fail(k, `${k} is not supported by Sextant`);
  }
  const httpClient = parseHttpClient(m, dir);
  const q = m.sub('queue_config', 'queue_config', QUEUE_KEYS);
  const dq = DEFAULT_QUEUE_CONFIG;
  const queueConfig: QueueConfig = Object.freeze({
    capacity: q.uint('capacity', dq.capacity),
    maxShards: q.uint('max_shards', dq.maxShards),
    minShards: q.uint('min_shards', dq.minShards),
    maxSamplesPerSend: q.uint('max_samples_per_send', dq.maxSamplesPerSend),
    batchSendDeadline: q.duration('batch_send_deadline') ?? dq.batchSendDeadline,
    minBackoff: q.duration('min_backoff') ?? dq.minBackoff,
    maxBackoff: q.duration('max_backoff') ?? dq.maxBackoff,
    retryOnHttp429: q.bool('retry_on_http_429', dq.retryOnHttp429),
    sampleAgeLimit: q.duration('sample_age_limit') ?? dq.sampleAgeLimit,
  });
  const md = m.sub('metadata_config', 'metadata_config', ['send', 'send_interval', 'max_samples_per_send']);
  const dm = DEFAULT_METADATA_CONFIG;
  const metadataConfig: MetadataConfig = Object.freeze({
    send: md.bool('send', dm.send),
    sendInterval: md.duration('send_interval') ?? dm.sendInterval,
    maxSamplesPerSend: md.uint('max_samples_per_send', dm.maxSamplesPerSend),
  });
  const base = {
    url,
    remoteTimeout: m.duration('remote_timeout') ?? 30_000,
    headers: Object.freeze(headers),
    writeRelabelConfigs: Object.freeze(writeRelabelConfigs),
    sendExemplars: m.bool('send_exemplars', false),
    sendNativeHistograms: m.bool('send_native_histograms', false),
    roundRobinDns: m.bool('round_robin_dns', false),
    protobufMessage: pm,
    httpClient,
    queueConfig,
    metadataConfig,
  };
  const explicit = m.str('name') ?? '';
  // As Prometheus: an unnamed queue is named by a hash of its config (6 hex digits).
  const name = explicit !== '' ? explicit : remoteWriteHash(base);
  return Object.freeze({ ...base, name, nameGiven: explicit !== '' });
}

/** remote_read: validated (strictly) and otherwise ignored; Sextant has no remote read yet. */
function checkRemoteRead(src: Source, item: Item, dir: string): string {
  const m = MapReader.item(src, item, 'remote_read', REMOTE_READ_KEYS);
  parseUrl(m, 'remote_read');
  m.duration('remote_timeout');
  m.bool('read_recent', false);
  m.bool('filter_external_labels', true);
  parseLabelSet(m, 'required_matchers', 'utf8');
  parseRemoteHeaders(m);
  parseHttpClient(m, dir);
  return m.str('name') ?? '';
}

function checkMisc(top: MapReader): { outOfOrderTimeWindow: number; maxExemplars: number } {
  const rt = top.sub('runtime', 'runtime', ['gogc']);
  rt.int('gogc', 75);
  const st = top.sub('storage', 'storage', ['tsdb', 'exemplars']);
  const tsdb = st.sub('tsdb', 'tsdb', ['out_of_order_time_window']);
  const ex = st.sub('exemplars', 'exemplars', ['max_exemplars']);
  const tr = top.sub('tracing', 'tracing', ['client_type', 'endpoint', 'sampling_fraction', 'insecure', 'headers', 'compression', 'timeout', 'tls_config']);
  const ct = tr.str('client_type');
  if (ct !== undefined && ct !== '' && ct !== 'grpc' && ct !== 'http') throw tr.fail('client_type', `expected tracing client type to be to be one of [grpc http], but got ${ct}`);
  tr.str('endpoint');
  tr.float('sampling_fraction', 0);
  tr.bool('insecure', false);
  tr.strMap('headers');
  tr.str('compression');
  tr.duration('timeout');
  const otlp = top.sub('otlp', 'otlp', ['promote_resource_attributes', 'promote_all_resource_attributes', 'ignore_resource_attributes', 'translation_strategy', 'keep_identifying_resource_attributes', 'convert_histograms_to_nhcb', 'promote_scope_metadata']);
  otlp.strList('promote_resource_attributes');
  otlp.bool('promote_all_resource_attributes', false);
  otlp.strList('ignore_resource_attributes');
  otlp.str('translation_strategy');
  otlp.bool('keep_identifying_resource_attributes', false);
  otlp.bool('convert_histograms_to_nhcb', false);
  otlp.bool('promote_scope_metadata', false);
  return { outOfOrderTimeWindow: tsdb.duration('out_of_order_time_window') ?? 0, maxExemplars: ex.int('max_exemplars', 100_000) };
}

/** Go filepath.Glob for the pattern shapes Prometheus allows (a glob in the last element only). */
export function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!/[*?[]/.test(base)) {
    try {
      statSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const re = globToRegExp(base);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n)).sort().map((n) => join(dir, n));
}

function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('^')) cls = '^' + cls.slice(1);
        out += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (ch === '\\' && i + 1 < glob.length) {
      out += glob[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(out + '$');
}

/**
 * Parses one config text. `file` names the file in errors and is the base for relative paths
 * (rule files, credentials files, file_sd, scrape_config_files). Scrape config files are read
 * synchronously from disk. Throws {@link ConfigError}.
 */
export function parseConfig(text: string, file: string, opts: ParseOptions = {}): Config {
  if (text.length > CONFIG_LIMITS.maxFileBytes) throw new ConfigError(file, 0, 0, '', `config file larger than ${CONFIG_LIMITS.maxFileBytes} bytes`);
  const env = opts.env ?? process.env;
  const dir = opts.dir ?? (file.startsWith('<') ? '' : dirname(resolve(file)));
  const src = new Source(file, text);
  const top = new MapReader(src, src.root(), '', 'config', TOP_KEYS);
  const global = parseGlobal(top.sub('global', 'global', GLOBAL_KEYS), env);

  const ruleFiles = (top.strList('rule_files') ?? []).map((rf) => {
    if (!PAT_RULE_PATH.test(rf)) throw top.fail('rule_files', `invalid rule file path "${rf}"`);
    return resolvePath(dir, rf)!;
  });
  const scrapeConfigFiles = (top.strList('scrape_config_files') ?? []).map((sf) => {
    if (!PAT_RULE_PATH.test(sf)) throw top.fail('scrape_config_files', `invalid scrape config file path "${sf}"`);
    return resolvePath(dir, sf)!;
  });

  const scrapeConfigs: ScrapeConfig[] = [];
  const jobs = new Map<string, string>();
  for (const item of top.seq('scrape_configs', '[]*config.ScrapeConfig')) {
    const sc = parseScrapeConfig(src, item, global, dir);
    if (jobs.has(sc.jobName)) {
      const m = MapReader.item(src, item, 'scrape_config', SCRAPE_KEYS);
      throw m.fail('job_name', `found multiple scrape configs with job name "${sc.jobName}"`);
    }
    jobs.set(sc.jobName, file);
    scrapeConfigs.push(sc);
  }
  let files = 0;
  for (const pattern of scrapeConfigFiles) {
    for (const f of globFiles(pattern)) {
      if (++files > CONFIG_LIMITS.maxScrapeConfigFiles) throw top.fail('scrape_config_files', `more than ${CONFIG_LIMITS.maxScrapeConfigFiles} scrape config files`);
      let t: string;
      try {
        t = readFileSync(f, 'utf8');
      } catch (err) {
        throw top.fail('scrape_config_files', `error reading scrape config file ${f}: ${(err as Error).message}`);
      }
      const fsrc = new Source(f, t);
      const fm = new MapReader(fsrc, fsrc.root(), '', 'scrape_config_file', ['scrape_configs']);
      for (const item of fm.seq('scrape_configs', '[]*config.ScrapeConfig')) {
        const sc = parseScrapeConfig(fsrc, item, global, dirname(resolve(f)));
        const first = jobs.get(sc.jobName);
        if (first !== undefined) {
          const m = MapReader.item(fsrc, item, 'scrape_config', SCRAPE_KEYS);
          throw m.fail('job_name', `found multiple scrape configs with job name "${sc.jobName}", first found in ${first}, then in ${f}`);
        }
        jobs.set(sc.jobName, f);
        scrapeConfigs.push(sc);
      }
    }
  }

  const alerting = parseAlerting(top.sub('alerting', 'alerting', ['alert_relabel_configs', 'alertmanagers']), dir);

  const remoteWrite: RemoteWriteConfig[] = [];
  const rwNames = new Set<string>();
  for (const item of top.seq('remote_write', '[]*config.RemoteWriteConfig')) {
    const rw = parseRemoteWrite(src, item, dir);
    if (rw.nameGiven && rwNames.has(rw.name)) {
      throw MapReader.item(src, item, 'remote_write', REMOTE_WRITE_KEYS).fail('name', `found multiple remote write configs with job name "${rw.name}"`);
    }
    rwNames.add(rw.name);
    remoteWrite.push(rw);
  }
  const rrNames = new Set<string>();
  for (const item of top.seq('remote_read', '[]*config.RemoteReadConfig')) {
    if (item.node === null) throw src.error(null, item.path, 'empty or null remote read config section');
    const name = checkRemoteRead(src, item, dir);
    if (name !== '' && rrNames.has(name)) {
      throw MapReader.item(src, item, 'remote_read', REMOTE_READ_KEYS).fail('name', `found multiple remote read configs with job name "${name}"`);
    }
    rrNames.add(name);
  }
  const misc = checkMisc(top);

  const parsed = {
    global,
    ruleFiles: Object.freeze(ruleFiles),
    scrapeConfigFiles: Object.freeze(scrapeConfigFiles),
    scrapeConfigs: Object.freeze(scrapeConfigs),
    alerting,
    remoteWrite: Object.freeze(remoteWrite),
    storage: Object.freeze({ tsdbOutOfOrderTimeWindow: misc.outOfOrderTimeWindow, exemplarsMaxExemplars: misc.maxExemplars }),
    file,
  };
  return Object.freeze({ ...parsed, source: formatConfig(parsed) });
}

export { canonicalHeaderKey, DEFAULT_HTTP_CLIENT };
