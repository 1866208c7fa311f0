/** Loading prometheus.yml from disk, and the embedded default config. */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { CONFIG_LIMITS, globFiles, parseConfig, type ParseOptions } from './parse.js';
import type { Config } from './types.js';

/** Reads and parses a config file; throws {@link ConfigError} (also for unreadable files). */
export async function loadConfigFile(path: string, opts: ParseOptions = {}): Promise<Config> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new Error('is a directory');
    if (st.size > CONFIG_LIMITS.maxFileBytes) throw new Error(`larger than ${CONFIG_LIMITS.maxFileBytes} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, 0, 0, '', `open ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(text, path, opts);
}

/** The rule files a config names: its patterns expanded (sorted per pattern, duplicates removed). */
export function resolveRuleFiles(config: Config): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of config.ruleFiles) {
    for (const f of globFiles(p)) {
      if (!seen.has(f)) {
        seen.add(f);
        out.push(f);
      }
    }
  }
  return out;
}

/**
 * The embedded default config: Sextant scrapes itself at `listenAddress` (host:port, as given to
 * --web.listen-address; an empty host becomes localhost) every 15s.
 */
export function defaultConfig(listenAddress: string): string {
  let addr = listenAddress;
  if (addr.startsWith(':')) addr = 'localhost' + addr;
  else if (addr.startsWith('0.0.0.0:')) addr = 'localhost' + addr.slice('0.0.0.0'.length);
  else if (addr.startsWith('[::]:')) addr = 'localhost' + addr.slice('[::]'.length);
  return `# Sextant's embedded default configuration (no --config.file and no ./prometheus.yml).
global:
  scrape_interval: 15s
  evaluation_interval: 15s

scrape_configs:
  - job_name: sextant
    static_configs:
      - targets: [${JSON.stringify(addr)}]
`;
}

/** The embedded default config for the default listen address (0.0.0.0:9090). */
export const DEFAULT_CONFIG_YAML: string = defaultConfig('localhost:9090');

/** Name used as `Config.file` for the embedded default. */
export const EMBEDDED_DEFAULT_FILE = '<embedded default>';

/** Parses {@link defaultConfig}(listenAddress). */
export function loadDefaultConfig(listenAddress: string): Config {
  return parseConfig(defaultConfig(listenAddress), EMBEDDED_DEFAULT_FILE);
}
