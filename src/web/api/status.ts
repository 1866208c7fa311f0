/**
 * `/api/v1/status/*`: buildinfo, config, flags, runtimeinfo, tsdb, walreplay — the shapes of
 * Prometheus's responses, filled from the dependencies the server passes in.
 */
import type { FastifyPluginAsync } from 'fastify';
import { apiRoute } from './route.js';
import { ApiError } from './errors.js';

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

export interface RuntimeInfo {
  startTime: string;
  CWD: string;
  hostname: string;
  serverTime: string;
  reloadConfigSuccess: boolean;
  lastConfigTime: string;
  corruptionCount: number;
  goroutineCount: number;
  GOMAXPROCS: number;
  GOMEMLIMIT: number;
  GOGC: string;
  GODEBUG: string;
  storageRetention: string;
}

export interface NameValue {
  name: string;
  value: number;
}

export interface TsdbStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: NameValue[];
  labelValueCountByLabelName: NameValue[];
  memoryInBytesByLabelName: NameValue[];
  seriesCountByLabelValuePair: NameValue[];
}

export interface WalReplayStatus {
  min: number;
  max: number;
  current: number;
  state: 'waiting' | 'in progress' | 'done';
}

export interface StatusDeps {
  buildInfo: BuildInfo;
  /** Every flag and its value, as strings. */
  flags: ReadonlyMap<string, string>;
  /** The loaded configuration as YAML. */
  configYaml: () => string;
  runtimeInfo: () => RuntimeInfo;
  /** Head cardinality statistics, `limit` entries per list. */
  tsdbStatus: (limit: number) => TsdbStatus;
  walReplay: () => WalReplayStatus;
}

export const statusApi: FastifyPluginAsync<StatusDeps> = async (app, deps) => {
  apiRoute(app, '/api/v1/status/buildinfo', ['GET'], async () => ({ data: deps.buildInfo }));
  apiRoute(app, '/api/v1/status/config', ['GET'], async () => ({ data: { yaml: deps.configYaml() } }));
  apiRoute(app, '/api/v1/status/flags', ['GET'], async () => ({ data: Object.fromEntries(deps.flags) }));
  apiRoute(app, '/api/v1/status/runtimeinfo', ['GET'], async () => ({ data: deps.runtimeInfo() }));
  apiRoute(app, '/api/v1/status/walreplay', ['GET'], async () => ({ data: deps.walReplay() }));
  apiRoute(app, '/api/v1/status/tsdb', ['GET'], async (params) => {
    const raw = params.get('limit');
    let limit = 10;
    if (raw !== undefined) {
      limit = Number(raw);
      if (!/^\d+$/.test(raw) || limit < 1) throw ApiError.badData('limit must be a positive number');
    }
    return { data: deps.tsdbStatus(limit) };
  });
};
