/**
 * `/api/v1/rules`, `/api/v1/alerts`, `/api/v1/alertmanagers`, `/api/v1/query_exemplars` and
 * `/api/v1/notifications`: valid Prometheus-shaped answers. Sextant evaluates no rules and
 * stores no exemplars yet, so the lists are empty — but every parameter is still validated, so a
 * client gets the same errors it would get from Prometheus.
 */
import type { FastifyPluginAsync } from 'fastify';
import { apiRoute } from './route.js';
import { registerFormParser } from './form.js';
import { ApiError } from './errors.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseOptionalTimeParam } from './params.js';

export interface RulesApiDeps {
  /** Parses a PromQL expression; throws a parse error for bad syntax. */
  parseExpr: (q: string) => unknown;
}

export const rulesApi: FastifyPluginAsync<RulesApiDeps> = async (app, deps) => {
  registerFormParser(app);
  apiRoute(app, '/api/v1/rules', ['GET'], async (params) => {
    const type = params.get('type') ?? '';
    if (type !== '' && type !== 'alert' && type !== 'record') {
      throw ApiError.badData(`invalid query parameter type='${type}'`);
    }
    const limit = params.get('group_limit');
    if (limit !== undefined && limit !== '' && !/^\d+$/.test(limit)) throw ApiError.badData('group_limit needs to be a non-negative number');
    if (params.get('group_next_token') && !limit) throw ApiError.badData('group_limit needs to be present in order to paginate over the groups');
    return { data: { groups: [] } };
  });

  apiRoute(app, '/api/v1/alerts', ['GET'], async () => ({ data: { alerts: [] } }));

  apiRoute(app, '/api/v1/alertmanagers', ['GET'], async () => ({ data: { activeAlertmanagers: [], droppedAlertmanagers: [] } }));

  apiRoute(app, '/api/v1/notifications', ['GET'], async () => ({ data: [] }));

  apiRoute(app, '/api/v1/query_exemplars', ['GET', 'POST'], async (params) => {
    const start = parseOptionalTimeParam(params, 'start', MIN_TIME_MS);
    const end = parseOptionalTimeParam(params, 'end', MAX_TIME_MS);
    if (end < start) throw ApiError.badData('end timestamp must not be before start timestamp');
    try {
      deps.parseExpr(params.get('query') ?? '');
    } catch (err) {
      throw ApiError.badData((err as Error).message, { cause: err });
    }
    return { data: [] };
  });
};
