/**
 * The loaded prometheus.yml, in camelCase, with every default applied. Durations are
 * milliseconds, sizes bytes. This is the contract between the config loader and everything
 * that consumes configuration (scrape, discovery, rules, notifier, remote write, the API).
 * Field docs name the YAML key and its default where it is not obvious.
 */

import type { HttpClientOptions, KubernetesSDConfig } from '../../discovery/index.js';
import type { LabelSet, TargetGroup } from '../../discovery/index.js';

export type { HttpClientOptions, KubernetesSDConfig };

/** `scrape_protocols` entries, in Prometheus's spelling. */
export type ScrapeProtocol =
  | 'PrometheusProto'
  | 'OpenMetricsText1.0.0'
  | 'OpenMetricsText0.0.1'
  | 'PrometheusText1.0.0'
  | 'PrometheusText0.0.4';

/** Prometheus 3.x default order. */
export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze([
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
]);

export type RelabelAction =
  | 'replace'
  | 'keep'
  | 'drop'
  | 'keepequal'
  | 'dropequal'
  | 'hashmod'
  | 'labelmap'
  | 'labeldrop'
  | 'labelkeep'
  | 'lowercase'
  | 'uppercase';

/** One `<relabel_config>`, defaults applied (separator ";", regex "(.*)", replacement "$1", action replace). */
export interface RelabelConfig {
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** The regex as written (unanchored); it is applied fully anchored. */
  readonly regex: string;
  readonly modulus: number;
  readonly targetLabel: string;
  readonly replacement: string;
  readonly action: RelabelAction;
}

export interface FileSDConfig {
  /** Patterns as written, resolved against the config file's directory; `*` allowed in the last path element. */
  readonly files: readonly string[];
  /** `refresh_interval`, default 5m. */
  readonly refreshInterval: number;
}

/** A `static_configs` entry is a target group: `targets` become `{__address__}` label sets. */
export type StaticConfig = TargetGroup;

export interface GlobalConfig {
  /** Default 1m. */
  readonly scrapeInterval: number;
  /** Default 10s (capped at scrapeInterval when that is smaller, as Prometheus does). */
  readonly scrapeTimeout: number;
  readonly scrapeProtocols: readonly ScrapeProtocol[];
  /** Default 1m. */
  readonly evaluationInterval: number;
  /** `rule_query_offset`, default 0. */
  readonly ruleQueryOffset: number;
  readonly externalLabels: LabelSet;
  readonly queryLogFile?: string;
  readonly scrapeFailureLogFile?: string;
  /** 0 = no limit. */
  readonly bodySizeLimit: number;
  readonly sampleLimit: number;
  readonly targetLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly keepDroppedTargets: number;
  /** `metric_name_validation_scheme`: 'utf8' (3.x default) or 'legacy'. */
  readonly metricNameValidationScheme: 'utf8' | 'legacy';
  /** `metric_name_escaping_scheme` when set (scrape configs derive theirs from it). */
  readonly metricNameEscapingScheme?: EscapingScheme;
  /** `always_scrape_classic_histograms`, default false. */
  readonly alwaysScrapeClassicHistograms?: boolean;
  /** `convert_classic_histograms_to_nhcb`, default false. */
  readonly convertClassicHistogramsToNhcb?: boolean;
}

/** `metric_name_escaping_scheme` values. */
export type EscapingScheme = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

export interface ScrapeConfig {
  readonly jobName: string;
  /** Default false. */
  readonly honorLabels: boolean;
  /** Default true. */
  readonly honorTimestamps: boolean;
  /** Default false. */
  readonly trackTimestampsStaleness: boolean;
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  readonly scrapeProtocols: readonly ScrapeProtocol[];
  /** `fallback_scrape_protocol`: used when the response has no usable Content-Type. */
  readonly fallbackScrapeProtocol?: ScrapeProtocol;
  /** Default "/metrics". */
  readonly metricsPath: string;
  /** Default "http". */
  readonly scheme: 'http' | 'https';
  readonly params: Readonly<Record<string, readonly string[]>>;
  /** `enable_compression`, default true (ask for gzip). */
  readonly enableCompression: boolean;
  readonly httpClient: HttpClientOptions;
  /** The limits below default to the global ones; 0 = no limit. */
  readonly bodySizeLimit: number;
  readonly sampleLimit: number;
  readonly targetLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly keepDroppedTargets: number;
  readonly metricNameValidationScheme: 'utf8' | 'legacy';
  readonly staticConfigs: readonly StaticConfig[];
  readonly fileSdConfigs: readonly FileSDConfig[];
  readonly kubernetesSdConfigs: readonly KubernetesSDConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
  // Optional below: added by the loader after the contract was first committed (always set by it).
  /** `metric_name_escaping_scheme`: default 'allow-utf-8' under utf8 validation, 'underscores' under legacy. */
  readonly metricNameEscapingScheme?: EscapingScheme;
  /** `scrape_failure_log_file` (own or global), resolved against the config directory. */
  readonly scrapeFailureLogFile?: string;
  readonly alwaysScrapeClassicHistograms?: boolean;
  readonly convertClassicHistogramsToNhcb?: boolean;
  /** 0 = no limit. */
  readonly nativeHistogramBucketLimit?: number;
  readonly nativeHistogramMinBucketFactor?: number;
}

export interface QueueConfig {
  readonly capacity: number; // 10000
  readonly maxShards: number; // 50
  readonly minShards: number; // 1
  readonly maxSamplesPerSend: number; // 2000
  readonly batchSendDeadline: number; // 5s
  readonly minBackoff: number; // 30ms
  readonly maxBackoff: number; // 5s
  readonly retryOnHttp429: boolean; // false
  readonly sampleAgeLimit: number; // 0
}

export interface MetadataConfig {
  readonly send: boolean; // true
  readonly sendInterval: number; // 1m
  readonly maxSamplesPerSend: number; // 500
}

export interface RemoteWriteConfig {
  readonly url: string;
  /** Default 30s. */
  readonly remoteTimeout: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly writeRelabelConfigs: readonly RelabelConfig[];
  /** Unique among remote_write entries; default derived from a hash of the config. */
  readonly name: string;
  readonly sendExemplars: boolean;
  readonly sendNativeHistograms: boolean;
  /** `protobuf_message`: 'prometheus.WriteRequest' (1.0, default) or 'io.prometheus.write.v2.Request'. */
  readonly protobufMessage: string;
  readonly httpClient: HttpClientOptions;
  readonly queueConfig: QueueConfig;
  readonly metadataConfig: MetadataConfig;
  /** `round_robin_dns`, default false. */
  readonly roundRobinDns?: boolean;
  /** True when `name` was written in the config (false: derived from the hash). */
  readonly nameGiven?: boolean;
}

export interface AlertmanagerConfig {
  /** `api_version`, default v2 (v1 is rejected as in 3.x). */
  readonly apiVersion: 'v2';
  readonly pathPrefix: string;
  readonly scheme: 'http' | 'https';
  /** Default 10s. */
  readonly timeout: number;
  readonly httpClient: HttpClientOptions;
  readonly staticConfigs: readonly StaticConfig[];
  readonly fileSdConfigs: readonly FileSDConfig[];
  readonly kubernetesSdConfigs: readonly KubernetesSDConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly alertRelabelConfigs: readonly RelabelConfig[];
}

export interface AlertingConfig {
  readonly alertRelabelConfigs: readonly RelabelConfig[];
  readonly alertmanagers: readonly AlertmanagerConfig[];
}

export interface StorageSettings {
  /** `storage.tsdb.out_of_order_time_window`, default 0. */
  readonly tsdbOutOfOrderTimeWindow: number;
  /** `storage.exemplars.max_exemplars`, default 100000. */
  readonly exemplarsMaxExemplars: number;
}

export interface Config {
  readonly global: GlobalConfig;
  /** Paths/globs as written, resolved against the config file's directory. */
  readonly ruleFiles: readonly string[];
  readonly scrapeConfigs: readonly ScrapeConfig[];
  readonly alerting: AlertingConfig;
  readonly remoteWrite: readonly RemoteWriteConfig[];
  /**
   * The loaded config re-serialised as Prometheus does for /api/v1/status/config: snake_case,
   * every default written out, relative paths resolved, and every secret (passwords,
   * credentials, bearer tokens, TLS keys, client secrets, secret headers) as `<secret>`.
   * Scrape configs from scrape_config_files appear inline. It loads back to the same config.
   */
  readonly source: string;
  /** `scrape_config_files` patterns, resolved against the config file's directory (their scrape configs are merged into scrapeConfigs). */
  readonly scrapeConfigFiles?: readonly string[];
  /** Runtime-reloadable `storage:` settings. */
  readonly storage?: StorageSettings;
  /** The file it came from, or '<embedded default>'. */
  readonly file: string;
}
