/**
 * Config → YAML, as Prometheus re-marshals its loaded config for /api/v1/status/config: snake
 * case keys in Prometheus's order, every default written out, durations as `15s`, sizes as
 * `10MiB`, and every secret as `<secret>`. The output loads back to the same Config (except
 * secrets).
 */
import { createHash } from 'node:crypto';
import { Document, isScalar, isSeq, stringify, visit } from 'yaml';
import type { HttpClientOptions, KubernetesSDConfig, TlsOptions } from '../../discovery/index.js';
import type { AlertmanagerConfig, Config, FileSDConfig, GlobalConfig, RelabelConfig, RemoteWriteConfig, ScrapeConfig, StaticConfig } from './types.js';
import { formatDuration } from './units.js';

const SECRET = '<secret>';
type Obj = Record<string, unknown>;

/** Base2Bytes.String(): the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  let v = bytes;
  while (u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  return `${v}${units[u]}`;
}

/** Sets `key` only when `v` is neither undefined, '' nor an empty list/map (yaml omitempty). */
function put(o: Obj, key: string, v: unknown): void {
  if (v === undefined || v === '' || v === null) return;
  if (Array.isArray(v) && v.length === 0) return;
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) return;
  o[key] = v;
}

function putNonZero(o: Obj, key: string, v: number): void {
  if (v !== 0) o[key] = v;
}

function tls(t: TlsOptions | undefined): Obj | undefined {
  if (t === undefined) return undefined;
  const o: Obj = {};
  put(o, 'ca', t.ca);
  put(o, 'ca_file', t.caFile);
  put(o, 'cert', t.cert);
  put(o, 'cert_file', t.certFile);
  if (t.key) o['key'] = SECRET;
  put(o, 'key_file', t.keyFile);
  put(o, 'server_name', t.serverName);
  o['insecure_skip_verify'] = t.insecureSkipVerify;
  put(o, 'min_version', t.minVersion);
  put(o, 'max_version', t.maxVersion);
  return o;
}

function secretHeaders(h: Readonly<Record<string, readonly string[]>> | undefined): Obj | undefined {
  if (h === undefined) return undefined;
  const o: Obj = {};
  for (const [k, vs] of Object.entries(h)) o[k] = vs.map(() => SECRET);
  return o;
}

function httpClient(o: Obj, h: HttpClientOptions): void {
  if (h.basicAuth) {
    const b: Obj = {};
    put(b, 'username', h.basicAuth.username);
    put(b, 'username_file', h.basicAuth.usernameFile);
    if (h.basicAuth.password) b['password'] = SECRET;
    put(b, 'password_file', h.basicAuth.passwordFile);
    o['basic_auth'] = b;
  }
  if (h.authorization) {
    const a: Obj = { type: h.authorization.type };
    if (h.authorization.credentials) a['credentials'] = SECRET;
    put(a, 'credentials_file', h.authorization.credentialsFile);
    o['authorization'] = a;
  }
  if (h.oauth2) {
    const x = h.oauth2;
    const a: Obj = { client_id: x.clientId };
    if (x.clientSecret) a['client_secret'] = SECRET;
    put(a, 'client_secret_file', x.clientSecretFile);
    put(a, 'scopes', x.scopes);
    a['token_url'] = x.tokenUrl;
    put(a, 'endpoint_params', x.endpointParams);
    put(a, 'tls_config', tls(x.tlsConfig));
    put(a, 'proxy_url', x.proxyUrl);
    put(a, 'no_proxy', x.noProxy);
    if (x.proxyFromEnvironment) a['proxy_from_environment'] = true;
    put(a, 'proxy_connect_header', secretHeaders(x.proxyConnectHeader));
    o['oauth2'] = a;
  }
  o['follow_redirects'] = h.followRedirects;
  o['enable_http2'] = h.enableHttp2;
  put(o, 'tls_config', tls(h.tlsConfig));
  put(o, 'proxy_url', h.proxyUrl);
  put(o, 'no_proxy', h.noProxy);
  if (h.proxyFromEnvironment) o['proxy_from_environment'] = true;
  put(o, 'proxy_connect_header', secretHeaders(h.proxyConnectHeader));
  if (h.httpHeaders) {
    const hh: Obj = {};
    for (const [name, v] of Object.entries(h.httpHeaders)) {
      const e: Obj = {};
      put(e, 'values', v.values);
      if (v.secrets && v.secrets.length > 0) e['secrets'] = v.secrets.map(() => SECRET);
      put(e, 'files', v.files);
      hh[name] = e;
    }
    put(o, 'http_headers', hh);
  }
}

function relabel(r: RelabelConfig): Obj {
  const o: Obj = {};
  put(o, 'source_labels', r.sourceLabels);
  o['separator'] = r.separator;
  o['regex'] = r.regex;
  putNonZero(o, 'modulus', r.modulus);
  put(o, 'target_label', r.targetLabel);
  o['replacement'] = r.replacement;
  o['action'] = r.action;
  return o;
}

function statics(list: readonly StaticConfig[]): Obj[] {
  return list.map((g) => {
    const o: Obj = { targets: g.targets.map((t) => t['__address__'] ?? '') };
    put(o, 'labels', g.labels);
    return o;
  });
}

function fileSd(list: readonly FileSDConfig[]): Obj[] {
  return list.map((f) => ({ files: [...f.files], refresh_interval: formatDuration(f.refreshInterval) }));
}

function kubernetesSd(list: readonly KubernetesSDConfig[]): Obj[] {
  return list.map((k) => {
    const o: Obj = {};
    put(o, 'api_server', k.apiServer);
    o['role'] = k.role;
    put(o, 'kubeconfig_file', k.kubeconfigFile);
    if (k.namespaces) o['namespaces'] = { own_namespace: k.namespaces.ownNamespace, names: [...k.namespaces.names] };
    put(o, 'selectors', k.selectors.map((s) => {
      const x: Obj = { role: s.role };
      put(x, 'label', s.label);
      put(x, 'field', s.field);
      return x;
    }));
    o['attach_metadata'] = { node: k.attachMetadata.node, namespace: k.attachMetadata.namespace };
    httpClient(o, k);
    return o;
  });
}

function sd(o: Obj, c: { staticConfigs: readonly StaticConfig[]; fileSdConfigs: readonly FileSDConfig[]; kubernetesSdConfigs: readonly KubernetesSDConfig[] }): void {
  put(o, 'file_sd_configs', fileSd(c.fileSdConfigs));
  put(o, 'kubernetes_sd_configs', kubernetesSd(c.kubernetesSdConfigs));
  put(o, 'static_configs', statics(c.staticConfigs));
}

function global(g: GlobalConfig): Obj {
  const o: Obj = {
    scrape_interval: formatDuration(g.scrapeInterval),
    scrape_timeout: formatDuration(g.scrapeTimeout),
    scrape_protocols: [...g.scrapeProtocols],
    evaluation_interval: formatDuration(g.evaluationInterval),
  };
  if (g.ruleQueryOffset !== 0) o['rule_query_offset'] = formatDuration(g.ruleQueryOffset);
  put(o, 'external_labels', g.externalLabels);
  put(o, 'query_log_file', g.queryLogFile);
  put(o, 'scrape_failure_log_file', g.scrapeFailureLogFile);
  if (g.bodySizeLimit !== 0) o['body_size_limit'] = formatSize(g.bodySizeLimit);
  putNonZero(o, 'sample_limit', g.sampleLimit);
  putNonZero(o, 'label_limit', g.labelLimit);
  putNonZero(o, 'label_name_length_limit', g.labelNameLengthLimit);
  putNonZero(o, 'label_value_length_limit', g.labelValueLengthLimit);
  putNonZero(o, 'target_limit', g.targetLimit);
  putNonZero(o, 'keep_dropped_targets', g.keepDroppedTargets);
  o['metric_name_validation_scheme'] = g.metricNameValidationScheme;
  put(o, 'metric_name_escaping_scheme', g.metricNameEscapingScheme);
  if (g.alwaysScrapeClassicHistograms) o['always_scrape_classic_histograms'] = true;
  if (g.convertClassicHistogramsToNhcb) o['convert_classic_histograms_to_nhcb'] = true;
  return o;
}

function scrape(s: ScrapeConfig): Obj {
  const o: Obj = { job_name: s.jobName };
  if (s.honorLabels) o['honor_labels'] = true;
  o['honor_timestamps'] = s.honorTimestamps;
  o['track_timestamps_staleness'] = s.trackTimestampsStaleness;
  put(o, 'params', s.params);
  o['scrape_interval'] = formatDuration(s.scrapeInterval);
  o['scrape_timeout'] = formatDuration(s.scrapeTimeout);
  o['scrape_protocols'] = [...s.scrapeProtocols];
  put(o, 'fallback_scrape_protocol', s.fallbackScrapeProtocol);
  o['always_scrape_classic_histograms'] = s.alwaysScrapeClassicHistograms ?? false;
  o['convert_classic_histograms_to_nhcb'] = s.convertClassicHistogramsToNhcb ?? false;
  o['metrics_path'] = s.metricsPath;
  o['scheme'] = s.scheme;
  o['enable_compression'] = s.enableCompression;
  put(o, 'scrape_failure_log_file', s.scrapeFailureLogFile);
  if (s.bodySizeLimit !== 0) o['body_size_limit'] = formatSize(s.bodySizeLimit);
  putNonZero(o, 'sample_limit', s.sampleLimit);
  putNonZero(o, 'target_limit', s.targetLimit);
  putNonZero(o, 'label_limit', s.labelLimit);
  putNonZero(o, 'label_name_length_limit', s.labelNameLengthLimit);
  putNonZero(o, 'label_value_length_limit', s.labelValueLengthLimit);
  putNonZero(o, 'native_histogram_bucket_limit', s.nativeHistogramBucketLimit ?? 0);
  putNonZero(o, 'native_histogram_min_bucket_factor', s.nativeHistogramMinBucketFactor ?? 0);
  putNonZero(o, 'keep_dropped_targets', s.keepDroppedTargets);
  o['metric_name_validation_scheme'] = s.metricNameValidationScheme;
  put(o, 'metric_name_escaping_scheme', s.metricNameEscapingScheme);
  httpClient(o, s.httpClient);
  put(o, 'relabel_configs', s.relabelConfigs.map(relabel));
  put(o, 'metric_relabel_configs', s.metricRelabelConfigs.map(relabel));
  sd(o, s);
  return o;
}

function alertmanager(a: AlertmanagerConfig): Obj {
  const o: Obj = {};
  httpClient(o, a.httpClient);
  o['scheme'] = a.scheme;
  o['path_prefix'] = a.pathPrefix;
  o['timeout'] = formatDuration(a.timeout);
  o['api_version'] = a.apiVersion;
  put(o, 'relabel_configs', a.relabelConfigs.map(relabel));
  put(o, 'alert_relabel_configs', a.alertRelabelConfigs.map(relabel));
  sd(o, a);
  return o;
}

function remoteWrite(r: RemoteWriteConfig): Obj {
  const q = r.queueConfig;
  const m = r.metadataConfig;
  const o: Obj = { url: r.url, remote_timeout: formatDuration(r.remoteTimeout) };
  put(o, 'headers', r.headers);
  put(o, 'write_relabel_configs', r.writeRelabelConfigs.map(relabel));
  if (r.nameGiven !== false) o['name'] = r.name;
  o['send_exemplars'] = r.sendExemplars;
  o['send_native_histograms'] = r.sendNativeHistograms;
  if (r.roundRobinDns) o['round_robin_dns'] = true;
  o['protobuf_message'] = r.protobufMessage;
  httpClient(o, r.httpClient);
  o['queue_config'] = {
    capacity: q.capacity,
    max_shards: q.maxShards,
    min_shards: q.minShards,
    max_samples_per_send: q.maxSamplesPerSend,
    batch_send_deadline: formatDuration(q.batchSendDeadline),
    min_backoff: formatDuration(q.minBackoff),
    max_backoff: formatDuration(q.maxBackoff),
    ...(q.retryOnHttp429 ? { retry_on_http_429: true } : {}),
    ...(q.sampleAgeLimit !== 0 ? { sample_age_limit: formatDuration(q.sampleAgeLimit) } : {}),
  };
  o['metadata_config'] = { send: m.send, send_interval: formatDuration(m.sendInterval), max_samples_per_send: m.maxSamplesPerSend };
  return o;
}

/**
 * The default name of an unnamed remote_write queue: 6 hex digits of the md5 of its config as
 * printed (secrets hidden, so the name is stable across a round trip), as Prometheus does.
 */
export function remoteWriteHash(r: Omit<RemoteWriteConfig, 'name' | 'nameGiven'>): string {
  const o = remoteWrite({ ...r, name: '', nameGiven: false });
  return createHash('md5').update(stringify(o, { lineWidth: 0 })).digest('hex').slice(0, 6);
}

/** The loaded config as Prometheus prints it (defaults included, secrets hidden). */
export function formatConfig(c: Omit<Config, 'source'>): string {
  // Prometheus's order: global, alerting, rule_files, scrape_configs, storage, remote_write.
  const o: Obj = { global: global(c.global) };
  const alerting: Obj = {};
  put(alerting, 'alert_relabel_configs', c.alerting.alertRelabelConfigs.map(relabel));
  put(alerting, 'alertmanagers', c.alerting.alertmanagers.map(alertmanager));
  put(o, 'alerting', alerting);
  put(o, 'rule_files', c.ruleFiles);
  // scrape_config_files is not written: the scrape configs read from them are in scrape_configs.
  put(o, 'scrape_configs', c.scrapeConfigs.map(scrape));
  if (c.storage && (c.storage.tsdbOutOfOrderTimeWindow !== 0 || c.storage.exemplarsMaxExemplars !== 100_000)) {
    const st: Obj = {};
    if (c.storage.tsdbOutOfOrderTimeWindow !== 0) st['tsdb'] = { out_of_order_time_window: formatDuration(c.storage.tsdbOutOfOrderTimeWindow) };
    if (c.storage.exemplarsMaxExemplars !== 100_000) st['exemplars'] = { max_exemplars: c.storage.exemplarsMaxExemplars };
    o['storage'] = st;
  }
  put(o, 'remote_write', c.remoteWrite.map(remoteWrite));
  const doc = new Document(o, { version: '1.1' });
  // source_labels in flow style, as Prometheus prints them: `source_labels: [a, b]`.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'source_labels' && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: false });
}
