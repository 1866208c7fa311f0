/**
 * Metadata queries over stored series: `/api/v1/series`, `/api/v1/labels` and
 * `/api/v1/label/<name>/values`, with `match[]`, `start`, `end`, `limit`, and the `U__`
 * escaping of UTF-8 label names in the values path.
 */
import type { FastifyPluginAsync } from 'fastify';
import { isValidLabelName, type Labels, type Matcher, type Queryable } from '../../../storage/index.js';
import { apiRoute } from './route.js';
import { registerFormParser } from './form.js';
import { ApiError } from './errors.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseLimitParam, parseOptionalTimeParam, type Params } from './params.js';

export interface SeriesApiDeps {
  queryable: Queryable;
  /** Parses one `match[]` series selector (PromQL syntax) into matchers; throws on bad syntax. */
  parseSelector: (s: string) => Matcher[];
}

/** Prometheus's limit-reached warning text. */
const LIMIT_WARNING = 'results truncated due to limit';

function timeRange(params: Params): { start: number; end: number } {
  const start = parseOptionalTimeParam(params, 'start', MIN_TIME_MS);
  const end = parseOptionalTimeParam(params, 'end', MAX_TIME_MS);
  if (end < start) throw ApiError.badData('invalid parameter "end": end timestamp must not be before start time');
  return { start, end };
}

/**
 * The `match[]` selectors. As Prometheus: each must have a matcher that does not match the
 * empty string; /series names the parameter in its errors, /labels and /label/…/values do not.
 */
function selectors(params: Params, deps: SeriesApiDeps, required: boolean, prefix: string): Matcher[][] {
  const raw = params.getAll('match[]');
  if (raw.length === 0 && required) throw ApiError.badData('no match[] parameter provided');
  return raw.map((s) => {
    let matchers: Matcher[];
    try {
      matchers = deps.parseSelector(s);
    } catch (err) {
      throw ApiError.badData(`${prefix}${(err as Error).message}`, { cause: err });
    }
    if (!matchers.some((m) => !m.matches(''))) throw ApiError.badData(`${prefix}match[] must contain at least one non-empty matcher`);
    return matchers;
  });
}

/** Sorted union of string lists. */
function mergeSorted(lists: string[][]): string[] {
  if (lists.length === 1) return lists[0]!;
  return [...new Set(lists.flat())].sort();
}

/**
 * `U__` decoding of a label name in a URL path (Prometheus 3.x, model.UnescapeName with the
 * values escaping scheme): `U__` prefix, `_` for `_`... `__` for a literal underscore, `_XX_`
 * hex code points.
 */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const body = name.slice(3);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '_') {
      out += ch;
      continue;
    }
    if (body[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const end = body.indexOf('_', i + 1);
    if (end < 0) return name; // malformed: use as written, as Prometheus does
    const hex = body.slice(i + 1, end);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return name;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff) return name;
    out += String.fromCodePoint(cp);
    i = end;
  }
  return out;
}

export const seriesApi: FastifyPluginAsync<SeriesApiDeps> = async (app, deps) => {
  registerFormParser(app);
  apiRoute(app, '/api/v1/series', ['GET', 'POST'], async (params) => {
    const sets = selectors(params, deps, true, 'invalid parameter "match[]": ');
    const { start, end } = timeRange(params);
    const limit = parseLimitParam(params.get('limit'));
    const q = deps.queryable.querier(start, end);
    try {
      const seen = new Map<string, Labels>();
      let truncated = false;
      outer: for (const matchers of sets) {
        const ss = q.select(matchers, start, end, { labelsOnly: true });
        while (ss.next()) {
          const l = ss.at().labels;
          const k = l.key();
          if (seen.has(k)) continue;
          if (limit > 0 && seen.size >= limit) {
            truncated = true;
            break outer;
          }
          seen.set(k, l);
        }
      }
      let list = [...seen.values()];
      if (sets.length > 1) list = list.sort((a, b) => (a.key() < b.key() ? -1 : 1));
      return { data: list.map((l) => l.toObject()), warnings: truncated ? [LIMIT_WARNING] : [] };
    } finally {
      q.close();
    }
  });

  apiRoute(app, '/api/v1/labels', ['GET', 'POST'], async (params) => {
    const sets = selectors(params, deps, false, '');
    const { start, end } = timeRange(params);
    const limit = parseLimitParam(params.get('limit'));
    const q = deps.queryable.querier(start, end);
    try {
      const names = sets.length === 0 ? q.labelNames([], start, end) : mergeSorted(sets.map((m) => q.labelNames(m, start, end)));
      const truncated = limit > 0 && names.length > limit;
      return { data: truncated ? names.slice(0, limit) : names, warnings: truncated ? [LIMIT_WARNING] : [] };
    } finally {
      q.close();
    }
  });

  apiRoute(app, '/api/v1/label/:name/values', ['GET'], async (params, req) => {
    const raw = (req.params as { name: string }).name;
    const name = unescapeLabelName(raw);
    if (!isValidLabelName(name)) throw ApiError.badData(`invalid label name: "${raw}"`);
    const sets = selectors(params, deps, false, '');
    const { start, end } = timeRange(params);
    const limit = parseLimitParam(params.get('limit'));
    const q = deps.queryable.querier(start, end);
    try {
      const values =
        sets.length === 0 ? q.labelValues(name, [], start, end) : mergeSorted(sets.map((m) => q.labelValues(name, m, start, end)));
      const truncated = limit > 0 && values.length > limit;
      return { data: truncated ? values.slice(0, limit) : values, warnings: truncated ? [LIMIT_WARNING] : [] };
    } finally {
      q.close();
    }
  });
};
