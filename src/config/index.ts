// The config subsystem's public surface.
export { ConfigError } from './errors.js';
export { parseConfig, expandEnv, globFiles, DEFAULT_GLOBAL_CONFIG, DEFAULT_QUEUE_CONFIG, DEFAULT_METADATA_CONFIG, CONFIG_LIMITS, type ParseOptions } from './parse.js';
export { loadConfigFile, resolveRuleFiles, defaultConfig, loadDefaultConfig, DEFAULT_CONFIG_YAML, EMBEDDED_DEFAULT_FILE } from './load.js';
export { checkConfigCommand, type CheckIo } from './check.js';
export { checkRelabelConfig, DEFAULT_RELABEL_CONFIG, RELABEL_ACTIONS } from './relabel.js';
export { DEFAULT_HTTP_CLIENT } from './http.js';
export { formatConfig, formatSize } from './format.js';
export { parseDuration, formatDuration, parseSize } from './units.js';
export {
  DEFAULT_SCRAPE_PROTOCOLS,
  type Config,
  type GlobalConfig,
  type ScrapeConfig,
  type ScrapeProtocol,
  type RelabelConfig,
  type RelabelAction,
  type FileSDConfig,
  type StaticConfig,
  type QueueConfig,
  type MetadataConfig,
  type RemoteWriteConfig,
  type AlertmanagerConfig,
  type AlertingConfig,
  type StorageSettings,
  type EscapingScheme,
  type HttpClientOptions,
  type KubernetesSDConfig,
} from './types.js';
