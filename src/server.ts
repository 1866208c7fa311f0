/**
 * The server: wires flags, configuration, storage, discovery, scraping, the PromQL engine and
 * the HTTP API together, and owns the process lifecycle (reload on SIGHUP or /-/reload, clean
 * shutdown on SIGTERM/SIGINT).
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { ParsedFlags } from './flags/index.js';
import { parseDurationFlag, parseSizeFlag } from './flags/index.js';
import { createLogger, type LogFormat, type LogLevel } from './log/index.js';
import { Registry, registerProcessMetrics } from './metrics/index.js';
import { BUILD_INFO } from './version.js';
import { createWebServer, normalizeRoutePrefix, parseListenAddress } from './web/server.js';
import { loadConfigFile, parseConfig, defaultConfig, type Config } from './config/index.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openStorage, type Storage, type Matcher } from '../storage/index.js';
import { DiscoveryManager } from '../discovery/index.js';
import { ScrapeManager, discoveryConfigs } from './scrape/index.js';
import { Engine, parse, parseSelector, prettify, astToJson } from '../promql/index.js';
import { apiPlugins, setErrorClassifier } from './web/api/index.js';
import { EngineQueryService, classifyEngineError } from './web/api/engine.js';
import type { RemoteMetadata } from './remote/codec.js';
import type { TsdbStatus } from './web/api/status.js';

/** Where the configuration comes from: a file, or the embedded default. */
type ConfigSource = { file: string } | { embedded: string };

/**
 * An explicit --config.file must load; without one, ./prometheus.yml is used when present and
 * otherwise the embedded default, which scrapes Sextant itself.
 */
export function configSource(flags: ParsedFlags, listenAddress: string): ConfigSource {
  const file = flags.values.get('config.file')!;
  if (flags.explicit.has('config.file') || existsSync(file)) return { file: resolve(file) };
  return { embedded: defaultConfig(listenAddress) };
}

async function loadConfig(src: ConfigSource): Promise<Config> {
  return 'file' in src ? loadConfigFile(src.file) : parseConfig(src.embedded, '<embedded default>');
}

function externalUrlPrefix(flags: ParsedFlags): string {
  const explicit = flags.values.get('web.route-prefix') ?? '';
  if (explicit !== '') return normalizeRoutePrefix(explicit);
  const ext = flags.values.get('web.external-url') ?? '';
  if (ext === '') return '';
  try {
    return normalizeRoutePrefix(new URL(ext).pathname);
  } catch {
    throw new Error(`invalid --web.external-url "${ext}": not a URL`);
  }
}

export async function runServer(flags: ParsedFlags): Promise<number> {
  const f = (name: string) => flags.values.get(name)!;
  const logger = createLogger({ level: f('log.level') as LogLevel, format: f('log.format') as LogFormat });
  const listen = f('web.listen-address');
  const { host, port } = parseListenAddress(listen);
  const routePrefix = externalUrlPrefix(flags);
  const dataDir = resolve(f('storage.tsdb.path'));
  const retentionSize = parseSizeFlag(f('storage.tsdb.retention.size'));
  // As Prometheus: 15d unless only a size limit was given.
  const retentionTime =
    flags.explicit.has('storage.tsdb.retention.time') || retentionSize === 0 ? parseDurationFlag(f('storage.tsdb.retention.time')) : 0;
  const queryTimeout = parseDurationFlag(f('query.timeout'));
  const lookbackDelta = parseDurationFlag(f('query.lookback-delta'));
  const maxSamples = Number(f('query.max-samples'));

  logger.info('Starting Sextant', { version: BUILD_INFO.version, node: process.version });

  const registry = new Registry();
  registerProcessMetrics(registry);
  registry.gauge('prometheus_build_info', 'A metric with a constant 1 value labeled by version, revision, branch and goversion.', [
    'version', 'revision', 'branch', 'goversion',
  ]).labels(BUILD_INFO.version, BUILD_INFO.revision, BUILD_INFO.branch, BUILD_INFO.goVersion).set(1);
  const readyGauge = registry.gauge('prometheus_ready', 'Whether Prometheus startup was fully completed and the server is ready for normal operation.').labels();
  const reloadOk = registry.gauge('prometheus_config_last_reload_successful', 'Whether the last configuration reload attempt was successful.').labels();
  const reloadTime = registry.gauge('prometheus_config_last_reload_success_timestamp_seconds', 'Timestamp of the last successful configuration reload.').labels();
  const reloadsTotal = registry.counter('prometheus_config_reloads_total', 'Number of configuration reloads (sextant).', ['result']);

  // The config is checked before anything starts: a bad one at startup is fatal, as in Prometheus.
  const source = configSource(flags, listen);
  let config: Config;
  try {
    config = await loadConfig(source);
  } catch (err) {
    logger.error('Error loading config', { file: 'file' in source ? source.file : '<embedded default>', err: (err as Error).message });
    return 1;
  }
  const startTime = new Date();
  let lastConfigTime = new Date();
  let lastReloadOk = true;
  reloadOk.set(1);
  reloadTime.set(lastConfigTime.getTime() / 1000);

  let storage: Storage | undefined;
  let ready = false;
  let shuttingDown: Promise<void> | undefined;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));

  let scrape: ScrapeManager | undefined;
  // With the registry, the manager registers prometheus_sd_* (manager, file and Kubernetes SD).
  const discovery = new DiscoveryManager((update) => scrape?.updateTargets(update), {
    logger: logger.with({ component: 'discovery manager scrape' }),
    registry,
  });
  /** Metadata that arrived by remote write, by metric name. */
  const remoteMetadata = new Map<string, { type: string; help: string; unit: string }>();

  const reload = async (): Promise<void> => {
    let next: Config;
    try {
      next = await loadConfig(source);
    } catch (err) {
      lastReloadOk = false;
      reloadOk.set(0);
      reloadsTotal.labels('failure').inc();
      logger.error('Error reloading config', { err: (err as Error).message });
      throw err;
    }
    config = next;
    if (scrape) {
      scrape.applyConfig(config);
      discovery.applyConfig(discoveryConfigs(config));
    }
    lastReloadOk = true;
    lastConfigTime = new Date();
    reloadOk.set(1);
    reloadTime.set(lastConfigTime.getTime() / 1000);
    reloadsTotal.labels('success').inc();
    logger.info('Completed loading of configuration file', { file: config.file });
  };

  const shutdown = (why: string): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.warn(`${why}, exiting gracefully...`);
      ready = false;
      readyGauge.set(0);
      discovery.stop();
      logger.debug('discovery stopped');
      await scrape?.stop();
      logger.debug('scrape manager stopped');
      await app.close();
      logger.debug('web server closed');
      await storage?.close();
      logger.debug('storage closed');
      logger.info('See you next time!');
      resolveExit(0);
    })().catch((err: unknown) => {
      logger.error('Error during shutdown', { err: (err as Error).message });
      resolveExit(1);
    });
    return shuttingDown;
  };

  // As Prometheus 3.5: experimental functions and duration arithmetic only behind their flags.
  const features = new Set(f('enable-feature').split(',').map((x) => x.trim()).filter((x) => x !== ''));
  const parseOpts = {
    experimentalFunctions: features.has('promql-experimental-functions'),
    durationExpressions: features.has('promql-duration-expr'),
  };
  for (const feature of features) {
    if (!KNOWN_FEATURES.has(feature)) logger.warn('Unknown or unsupported feature flag, ignored', { feature });
  }
  const parseQuery = (q: string) => parse(q, parseOpts);
  const engine = new Engine({
    lookbackDelta,
    timeout: queryTimeout,
    maxSamples,
    noStepSubqueryInterval: config.global.evaluationInterval,
    parse: parseQuery,
    logger: logger.with({ component: 'query engine' }),
  });
  setErrorClassifier(classifyEngineError);
  const need = (): Storage => {
    if (!storage || !storage.isReady()) throw new Error('storage is not ready');
    return storage;
  };
  const queryable = { querier: (mint: number, maxt: number) => need().querier(mint, maxt) };
  const appendable = { appender: () => need().appender() };

  const app = await createWebServer({
    routePrefix,
    registry,
    logger: logger.with({ component: 'web' }),
    isReady: () => ready,
    lifecycle: f('web.enable-lifecycle') === 'true',
    reload,
    quit: () => void shutdown('Received termination request via web service'),
    corsOrigin: f('web.cors.origin'),
    readTimeoutMs: parseDurationFlag(f('web.read-timeout')),
    plugins: apiPlugins({
      flags: flags.values,
      logger,
      queryable,
      appendable,
      query: new EngineQueryService(engine, queryable, {
        format: (q) => prettify(parseQuery(q)),
        toJson: (q) => astToJson(parseQuery(q)),
      }),
      parseSelector,
      queryTimeoutMs: queryTimeout,
      maxConcurrentQueries: Number(f('query.max-concurrency')),
      lookbackDeltaMs: lookbackDelta,
      configYaml: () => config.source,
      externalLabels: () => config.global.externalLabels,
      runtime: () => ({
        startTime: startTime.toISOString(),
        CWD: process.cwd(),
        hostname: hostname(),
        serverTime: new Date().toISOString(),
        reloadConfigSuccess: lastReloadOk,
        lastConfigTime: lastConfigTime.toISOString(),
        corruptionCount: walCorruptions(),
        goroutineCount: 0,
        GOMAXPROCS: 1,
        GOMEMLIMIT: 0,
        GOGC: '',
        GODEBUG: '',
        storageRetention: retentionText(retentionTime, f('storage.tsdb.retention.size'), retentionSize),
      }),
      tsdbStatus: (limit) => tsdbStatus(need(), limit),
      walReplay: () => storage?.walReplayStatus() ?? { min: 0, max: 0, current: 0, state: 'waiting' },
      targets: {
        activeTargets: () =>
          (scrape?.activeTargets() ?? []).map((t) => ({ ...t, lastScrape: t.lastScrape > 0 ? new Date(t.lastScrape).toISOString() : '0001-01-01T00:00:00Z' })),
        droppedTargets: () => scrape?.droppedTargets() ?? [],
        droppedTargetCounts: () => scrape?.droppedTargetCounts() ?? {},
        scrapePools: () => scrape?.scrapePools() ?? [],
      },
      metadata: {
        targetMetadata: () => scrape?.targetMetadata() ?? [],
        extraMetadata: () => remoteMetadata.entries(),
      },
      onRemoteMetadata: (m: RemoteMetadata) => {
        if (remoteMetadata.size < MAX_REMOTE_METADATA || remoteMetadata.has(m.family)) {
          remoteMetadata.set(m.family, { type: m.type, help: m.help, unit: m.unit });
        }
      },
      admin: {
        enabled: f('web.enable-admin-api') === 'true',
        deleteSeries: async (sets: Matcher[][], mint: number, maxt: number) => {
          for (const m of sets) need().delete(m, mint, maxt);
        },
        cleanTombstones: async () => need().cleanTombstones(),
        snapshot: async (skipHead: boolean) => {
          const name = snapshotName();
          const dir = join(dataDir, 'snapshots', name);
          mkdirSync(join(dataDir, 'snapshots'), { recursive: true });
          need().snapshot(dir, { skipHead });
          return name;
        },
      },
      enableRemoteWriteReceiver: f('web.enable-remote-write-receiver') === 'true',
    }),
  });
  /** Read through the storage metric registered at open (no family list built per request). */
  let walCorruptions = (): number => 0;

  // Listen first: /-/healthy answers and /-/ready says 503 while the WAL replays.
  try {
    await app.listen({ host, port });
  } catch (err) {
    logger.error('Unable to start web listener', { address: listen, err: (err as Error).message });
    return 1;
  }
  logger.info('Listening', { address: listen, prefix: routePrefix || '/' });

  const onSignal = (sig: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn(`Received ${sig} again, exiting now`);
      process.exit(1);
    }
    void shutdown(`Received ${sig}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => void reload().catch(() => undefined));

  try {
    storage = await openStorage({
      dir: dataDir,
      retentionTime,
      retentionSize,
      logger: logger.with({ component: 'tsdb' }),
    });
    await storage.ready;
  } catch (err) {
    logger.error('Opening storage failed', { dir: dataDir, err: (err as Error).message });
    await storage?.close().catch(() => undefined);
    await app.close();
    return 1;
  }
  for (const m of storage.metricFamilies()) {
    registry.collected(m.name, m.help, m.type, m.value);
    if (m.name === 'prometheus_tsdb_wal_corruptions_total') walCorruptions = m.value;
  }
  logger.info('TSDB started', { dir: dataDir });

  scrape = new ScrapeManager({ appendable, registry, logger });
  scrape.applyConfig(config);
  discovery.applyConfig(discoveryConfigs(config));

  ready = true;
  readyGauge.set(1);
  logger.info('Server is ready to receive web requests.');
  return exited;
}

/** --enable-feature values Sextant acts on; others are logged and ignored. */
const KNOWN_FEATURES = new Set(['promql-experimental-functions', 'promql-duration-expr']);

/** Remote-write metadata kept for /api/v1/metadata: distinct metric names at most. */
const MAX_REMOTE_METADATA = 100_000;

/** Prometheus's snapshot directory name: UTC time plus random hex. */
function snapshotName(): string {
  const d = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${d}-${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0')}`;
}

/** Head statistics in /api/v1/status/tsdb's shape (an empty head prints int64's extremes). */
function tsdbStatus(storage: Storage, limit: number): TsdbStatus {
  const s = storage.stats(limit);
  return {
    headStats: {
      numSeries: s.numSeries,
      numLabelPairs: s.numLabelPairs,
      chunkCount: s.chunkCount,
      minTime: Number.isFinite(s.minTime) ? s.minTime : 9223372036854775807,
      maxTime: Number.isFinite(s.maxTime) ? s.maxTime : -9223372036854775808,
    },
    seriesCountByMetricName: s.seriesCountByMetricName,
    labelValueCountByLabelName: s.labelValueCountByLabelName,
    memoryInBytesByLabelName: s.memoryInBytesByLabelName,
    seriesCountByLabelValuePair: s.seriesCountByLabelValuePair,
  };
}

function retentionText(timeMs: number, sizeFlag: string, sizeBytes: number): string {
  const parts: string[] = [];
  if (timeMs > 0) parts.push(formatRetention(timeMs));
  if (sizeBytes > 0) parts.push(sizeFlag);
  return parts.join(' or ');
}

function formatRetention(ms: number): string {
  const units: Array<[string, number]> = [['y', 31_536_000_000], ['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  let out = '';
  let rest = ms;
  for (const [u, n] of units) {
    if (rest >= n) {
      out += Math.floor(rest / n) + u;
      rest %= n;
    }
  }
  return out || '0s';
}

