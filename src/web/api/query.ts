/**
 * `/api/v1/query`, `/api/v1/query_range`, `/api/v1/format_query` and `/api/v1/parse_query`.
 *
 * Results are serialised by hand into Prometheus's exact JSON (values as strings in Go's
 * shortest formatting, timestamps as seconds with three ms digits): a range query can return
 * millions of points, and building an object per point only to stringify it would dominate.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Labels } from '../../../storage/index.js';
import { apiRoute, RawJson } from './route.js';
import { ApiError } from './errors.js';
import { parseDurationParam, parseLimitParam, parseOptionalTimeParam, parseTimeParam, type Params } from './params.js';
import { formatSampleValue, formatTimestampSeconds } from './format.js';
import { registerFormParser } from './form.js';
import { JsonChunks } from './jsonbuf.js';
import { checkRangeResolution } from '../../../promql/index.js';

/** A query result, in the shape the PromQL engine returns it. */
export type QueryValue =
  | { type: 'vector'; samples: ReadonlyArray<{ labels: Labels; t: number; v: number }> }
  | { type: 'matrix'; series: ReadonlyArray<{ labels: Labels; t: ArrayLike<number>; v: ArrayLike<number> }> }
  | { type: 'scalar'; t: number; v: number }
  | { type: 'string'; t: number; v: string };

export interface QueryOutcome {
  value: QueryValue;
  warnings: readonly string[];
  infos: readonly string[];
  /** Prometheus's `stats` object when asked for (`stats=all`). */
  stats?: unknown;
}

export interface QueryOptions {
  signal: AbortSignal;
  /** Effective timeout: the smaller of --query.timeout and the `timeout` parameter. */
  timeoutMs: number;
  /** `lookback_delta` parameter, when given. */
  lookbackDeltaMs?: number;
  stats: boolean;
}

export interface QueryService {
  instant(query: string, t: number, opts: QueryOptions): Promise<QueryOutcome>;
  range(query: string, start: number, end: number, step: number, opts: QueryOptions): Promise<QueryOutcome>;
  /** Parses for format_query / parse_query; throws the parser's error. */
  format(query: string): string;
  parseToJson(query: string): unknown;
}

export interface QueryApiDeps {
  service: QueryService;
  /** --query.timeout in ms. */
  defaultTimeoutMs: number;
  /** --query.max-concurrency: queries evaluated at once; the others wait their turn. Default 20. */
  maxConcurrency?: number;
  now?: () => number;
}

function labelsJson(l: Labels): string {
  let s = '{';
  for (let i = 0; i < l.size; i++) {
    if (i > 0) s += ',';
    s += JSON.stringify(l.nameAt(i)) + ':' + JSON.stringify(l.valueAt(i));
  }
  return s + '}';
}

/** The `data` object of a query response, as JSON text in pieces (one or a few per series). */
export function* valueJson(v: QueryValue, stats?: unknown): Generator<string | Buffer> {
  switch (v.type) {
    case 'scalar':
      yield `{"resultType":"scalar","result":[${formatTimestampSeconds(v.t)},"${formatSampleValue(v.v)}"]`;
      break;
    case 'string':
      yield `{"resultType":"string","result":[${formatTimestampSeconds(v.t)},${JSON.stringify(v.v)}]`;
      break;
    case 'vector': {
      yield '{"resultType":"vector","result":[';
      let sep = '';
      for (const s of v.samples) {
        yield `${sep}{"metric":${labelsJson(s.labels)},"value":[${formatTimestampSeconds(s.t)},"${formatSampleValue(s.v)}"]}`;
        sep = ',';
      }
      yield ']';
      break;
    }
    case 'matrix': {
      yield '{"resultType":"matrix","result":[';
      const w = new JsonChunks();
      for (let k = 0; k < v.series.length; k++) {
        const s = v.series[k]!;
        w.text(`${k > 0 ? ',' : ''}{"metric":${labelsJson(s.labels)},"values":[`);
        w.points(s.t, s.v);
        w.ascii(']}');
        yield* w.take();
      }
      yield* w.finish();
      yield ']';
      break;
    }
  }
  if (stats !== undefined) yield `,"stats":${JSON.stringify(stats)}`;
  yield '}';
}

const LIMIT_WARNING = 'results truncated due to limit';

function applyLimit(v: QueryValue, limit: number): { value: QueryValue; truncated: boolean } {
  if (limit <= 0) return { value: v, truncated: false };
  if (v.type === 'vector' && v.samples.length > limit) return { value: { type: 'vector', samples: v.samples.slice(0, limit) }, truncated: true };
  if (v.type === 'matrix' && v.series.length > limit) return { value: { type: 'matrix', series: v.series.slice(0, limit) }, truncated: true };
  return { value: v, truncated: false };
}

/** Aborts when the client disconnects before the answer is sent. */
function clientSignal(req: FastifyRequest): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const onClose = () => ac.abort(new Error('client disconnected'));
  req.raw.socket.once('close', onClose);
  return { signal: ac.signal, done: () => req.raw.socket.off('close', onClose) };
}

/** A counting semaphore: at most `slots` holders; waiters are served in arrival order. */
export class Gate {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(slots: number) {
    this.free = Math.max(1, slots);
  }
  async run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new ApiError('canceled', 'query was canceled while waiting for a query slot'));
        };
        const go = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(go);
      });
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export const queryApi: FastifyPluginAsync<QueryApiDeps> = async (app, deps) => {
  registerFormParser(app);
  const now = deps.now ?? Date.now;
  const gate = new Gate(deps.maxConcurrency ?? 20);

  const options = (params: Params, signal: AbortSignal): QueryOptions => {
    let timeoutMs = deps.defaultTimeoutMs;
    const to = params.get('timeout');
    if (to !== undefined && to !== '') {
      const t = parseDurationParam(to, 'timeout');
      if (t > 0 && (timeoutMs <= 0 || t < timeoutMs)) timeoutMs = t;
    }
    const lb = params.get('lookback_delta');
    const lookbackDeltaMs = lb !== undefined && lb !== '' ? parseDurationParam(lb, 'lookback_delta') : undefined;
    return { signal, timeoutMs, lookbackDeltaMs, stats: (params.get('stats') ?? '') !== '' };
  };

  const respond = (r: QueryOutcome, limit: number) => {
    const { value, truncated } = applyLimit(r.value, limit);
    const warnings = truncated ? [...r.warnings, LIMIT_WARNING] : r.warnings;
    return { data: new RawJson(valueJson(value, r.stats)), warnings, infos: r.infos };
  };

  apiRoute(app, '/api/v1/query', ['GET', 'POST'], async (params, req) => {
    const limit = parseLimitParam(params.get('limit'));
    const t = parseOptionalTimeParam(params, 'time', now());
    const c = clientSignal(req);
    try {
      const opts = options(params, c.signal);
      const r = await gate.run(() => deps.service.instant(params.get('query') ?? '', t, opts), c.signal);
      return respond(r, limit);
    } finally {
      c.done();
    }
  });

  apiRoute(app, '/api/v1/query_range', ['GET', 'POST'], async (params, req) => {
    const limit = parseLimitParam(params.get('limit'));
    const start = parseTimeParam(params.get('start') ?? '', 'start');
    const end = parseTimeParam(params.get('end') ?? '', 'end');
    if (end < start) throw ApiError.badData('invalid parameter "end": end timestamp must not be before start time');
    const step = parseDurationParam(params.get('step') ?? '', 'step');
    if (step <= 0) {
      throw ApiError.badData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    }
    checkRangeResolution(start, end, step);
    const c = clientSignal(req);
    try {
      const opts = options(params, c.signal);
      const r = await gate.run(() => deps.service.range(params.get('query') ?? '', start, end, step, opts), c.signal);
      return respond(r, limit);
    } finally {
      c.done();
    }
  });

  apiRoute(app, '/api/v1/format_query', ['GET', 'POST'], async (params) => {
    try {
      return { data: deps.service.format(params.get('query') ?? '') };
    } catch (err) {
      throw ApiError.badData(`invalid parameter "query": ${(err as Error).message}`, { cause: err });
    }
  });

  apiRoute(app, '/api/v1/parse_query', ['GET', 'POST'], async (params) => {
    try {
      return { data: deps.service.parseToJson(params.get('query') ?? '') };
    } catch (err) {
      throw ApiError.badData(`invalid parameter "query": ${(err as Error).message}`, { cause: err });
    }
  });
};
