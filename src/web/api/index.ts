/**
 * The Prometheus HTTP API as fastify plugins, one per endpoint group. `apiPlugins` assembles
 * them from the server's parts; each group takes only the dependencies it needs.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Appendable, Matcher, Queryable } from '../../../storage/index.js';
import type { Logger } from '../../log/index.js';
import { seriesApi } from './series.js';
import { statusApi, type RuntimeInfo, type TsdbStatus, type WalReplayStatus } from './status.js';
import { rulesApi } from './rules.js';
import { queryApi, type QueryService } from './query.js';
import { adminApi } from './admin.js';
import { writeApi } from './write.js';
import { targetsApi, type TargetsSource, type MetadataSource } from './targets.js';
import { federateRoute } from './federate.js';
import { BUILD_INFO } from '../../version.js';
import type { RemoteMetadata } from '../../remote/codec.js';

export { ApiError, type ErrorType } from './errors.js';
export { setErrorClassifier } from './route.js';
export type { QueryService, QueryOutcome, QueryOptions, QueryValue } from './query.js';
export type { TargetsSource, MetadataSource } from './targets.js';

export interface ApiDeps {
  flags: ReadonlyMap<string, string>;
  logger: Logger;
  queryable: Queryable;
  appendable: Appendable;
  query: QueryService;
  parseSelector: (s: string) => Matcher[];
  queryTimeoutMs: number;
  /** --query.max-concurrency */
  maxConcurrentQueries: number;
  lookbackDeltaMs: number;
  configYaml: () => string;
  externalLabels: () => Readonly<Record<string, string>>;
  runtime: () => RuntimeInfo;
  tsdbStatus: (limit: number) => TsdbStatus;
  walReplay: () => WalReplayStatus;
  targets: TargetsSource;
  metadata: MetadataSource;
  onRemoteMetadata: (m: RemoteMetadata) => void;
  admin: {
    enabled: boolean;
    deleteSeries: (sets: Matcher[][], mint: number, maxt: number) => Promise<void>;
    cleanTombstones: () => Promise<void>;
    snapshot: (skipHead: boolean) => Promise<string>;
  };
  enableRemoteWriteReceiver: boolean;
}

type Registered = { plugin: FastifyPluginAsync<never>; opts?: object };

export function apiPlugins(d: ApiDeps): Registered[] {
  const list: Registered[] = [
    { plugin: queryApi as FastifyPluginAsync<never>, opts: { service: d.query, defaultTimeoutMs: d.queryTimeoutMs, maxConcurrency: d.maxConcurrentQueries } },
    { plugin: seriesApi as FastifyPluginAsync<never>, opts: { queryable: d.queryable, parseSelector: d.parseSelector } },
    {
      plugin: statusApi as FastifyPluginAsync<never>,
      opts: { buildInfo: BUILD_INFO, flags: d.flags, configYaml: d.configYaml, runtimeInfo: d.runtime, tsdbStatus: d.tsdbStatus, walReplay: d.walReplay },
    },
    { plugin: rulesApi as FastifyPluginAsync<never>, opts: { parseExpr: (q: string) => d.query.parseToJson(q) } },
    { plugin: targetsApi as FastifyPluginAsync<never>, opts: { targets: d.targets, metadata: d.metadata, parseSelector: d.parseSelector } },
    { plugin: adminApi as FastifyPluginAsync<never>, opts: { ...d.admin, parseSelector: d.parseSelector } },
    {
      plugin: federateRoute as FastifyPluginAsync<never>,
      opts: { queryable: d.queryable, parseSelector: d.parseSelector, lookbackDeltaMs: d.lookbackDeltaMs, externalLabels: d.externalLabels },
    },
  ];
  if (d.enableRemoteWriteReceiver) {
    list.push({ plugin: writeApi as FastifyPluginAsync<never>, opts: { appendable: d.appendable, logger: d.logger, onMetadata: d.onRemoteMetadata } });
  } else {
    list.push({ plugin: writeDisabled as FastifyPluginAsync<never> });
  }
  return list;
}

/** Without --web.enable-remote-write-receiver Prometheus answers 404 with this text. */
const writeDisabled: FastifyPluginAsync = async (app) => {
  app.all('/api/v1/write', async (_req, reply) =>
    reply.status(404).type('text/plain; charset=utf-8').send('remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n'),
  );
};
