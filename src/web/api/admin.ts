/**
 * The TSDB admin API (`/api/v1/admin/tsdb/*`), answered only with --web.enable-admin-api:
 * `delete_series`, `clean_tombstones` and `snapshot`. Disabled, each answers Prometheus's
 * 503 `unavailable` "admin APIs disabled".
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Matcher } from '../../../storage/index.js';
import { apiRoute } from './route.js';
import { ApiError } from './errors.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseTimeParam, type Params } from './params.js';
import { registerFormParser } from './form.js';

export interface AdminApiDeps {
  enabled: boolean;
  parseSelector: (s: string) => Matcher[];
  /** Deletes the samples of the series matching any matcher set within [mint, maxt]. */
  deleteSeries: (sets: Matcher[][], mint: number, maxt: number) => Promise<void>;
  cleanTombstones: () => Promise<void>;
  /** Writes a snapshot under <data dir>/snapshots and returns its directory name. */
  snapshot: (skipHead: boolean) => Promise<string>;
}

function parseBool(params: Params, name: string): boolean {
  const v = params.get(name);
  if (v === undefined || v === '') return false;
  // Go's strconv.ParseBool.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw ApiError.badData(`unable to parse boolean '${name}' argument: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

export const adminApi: FastifyPluginAsync<AdminApiDeps> = async (app, deps) => {
  registerFormParser(app);
  const guard = () => {
    if (!deps.enabled) throw ApiError.unavailable('admin APIs disabled');
  };

  apiRoute(app, '/api/v1/admin/tsdb/delete_series', ['POST', 'PUT'], async (params, _req, reply) => {
    guard();
    const raw = params.getAll('match[]');
    if (raw.length === 0) throw ApiError.badData('no match[] parameter provided');
    const s = params.get('start');
    const e = params.get('end');
    const start = s ? parseTimeParam(s, 'start') : MIN_TIME_MS;
    const end = e ? parseTimeParam(e, 'end') : MAX_TIME_MS;
    const sets = raw.map((m) => {
      try {
        return deps.parseSelector(m);
      } catch (err) {
        throw ApiError.badData((err as Error).message, { cause: err });
      }
    });
    await deps.deleteSeries(sets, start, end);
    return reply.status(204).send();
  });

  apiRoute(app, '/api/v1/admin/tsdb/clean_tombstones', ['POST', 'PUT'], async (_params, _req, reply) => {
    guard();
    await deps.cleanTombstones();
    return reply.status(204).send();
  });

  apiRoute(app, '/api/v1/admin/tsdb/snapshot', ['POST', 'PUT'], async (params) => {
    guard();
    const skipHead = parseBool(params, 'skip_head');
    const name = await deps.snapshot(skipHead);
    return { data: { name } };
  });
};
