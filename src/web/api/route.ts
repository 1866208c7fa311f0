/**
 * Routing helpers shared by every API group: one JSON envelope, one error mapping, merged
 * URL + form parameters, and 405 (not 404) for a method a path does not accept — Grafana falls
 * back from POST to GET only on 405/400.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorBody } from './errors.js';
import { Params } from './params.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

const ALL_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE'];

import { Readable } from 'node:stream';

/**
 * `data` already serialised by hand, as pieces: a large query result is streamed out in chunks
 * of about 64 KiB rather than joined into one huge string first.
 */
export class RawJson {
  constructor(readonly pieces: Iterable<string | Buffer>) {}
}

const CHUNK_CHARS = 64 * 1024;
/** Responses up to this size are sent whole rather than streamed. */
const STREAM_ABOVE = 256 * 1024;

function* envelope(data: RawJson, warnings?: readonly string[], infos?: readonly string[]): Generator<string | Buffer> {
  let buf = '{"status":"success","data":';
  for (const piece of data.pieces) {
    if (typeof piece !== 'string') {
      if (buf !== '') yield buf;
      buf = '';
      yield piece;
      continue;
    }
    buf += piece;
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  if (warnings && warnings.length > 0) buf += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos && infos.length > 0) buf += `,"infos":${JSON.stringify(infos)}`;
  yield buf + '}';
}

/** What a handler returns: the `data` of a success envelope plus annotations. */
export interface ApiResult {
  data: unknown;
  warnings?: readonly string[];
  infos?: readonly string[];
}

/** Classifies an error thrown by a handler; groups can extend it via `setErrorClassifier`. */
let classify: (err: unknown) => ApiError = (err) =>
  err instanceof ApiError ? err : ApiError.internal((err as Error)?.message ?? String(err), { cause: err });

/** Installs the mapping from subsystem errors (PromQL, storage) to API errors. */
export function setErrorClassifier(fn: (err: unknown) => ApiError | undefined): void {
  const base = classify;
  classify = (err) => (err instanceof ApiError ? err : fn(err) ?? base(err));
}

export function toApiError(err: unknown): ApiError {
  return classify(err);
}

/** Sends Prometheus's success envelope. `warnings`/`infos` appear only when non-empty. */
export function sendSuccess(reply: FastifyReply, result: ApiResult): FastifyReply {
  if (result.data instanceof RawJson) {
    // Small answers (most instant queries) go out in one piece; only large ones stream.
    const gen = envelope(result.data, result.warnings, result.infos);
    const head: Array<string | Buffer> = [];
    let size = 0;
    for (;;) {
      const r = gen.next();
      if (r.done) {
        const whole = head.every((x) => typeof x === 'string') ? head.join('') : Buffer.concat(head.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
        return reply.type('application/json').send(whole);
      }
      head.push(r.value);
      size += r.value.length;
      if (size >= STREAM_ABOVE) break;
    }
    const body = Readable.from(
      (function* () {
        yield* head;
        yield* gen;
      })(),
      { objectMode: false },
    );
    // A failure while serialising cannot change the status any more: end the response (the
    // client sees truncated JSON) and log, rather than leave an unhandled stream error.
    body.on('error', (err) => {
      reply.log.error({ err }, 'serialising the response failed');
      reply.raw.destroy(err);
    });
    return reply.type('application/json').send(body);
  }
  let json = `{"status":"success","data":${JSON.stringify(result.data)}`;
  if (result.warnings && result.warnings.length > 0) json += `,"warnings":${JSON.stringify(result.warnings)}`;
  if (result.infos && result.infos.length > 0) json += `,"infos":${JSON.stringify(result.infos)}`;
  return reply.type('application/json').send(json + '}');
}

export function sendError(reply: FastifyReply, err: unknown, warnings?: readonly string[], infos?: readonly string[]): FastifyReply {
  const e = toApiError(err);
  return reply.status(e.status).type('application/json').send(JSON.stringify(errorBody(e, warnings, infos)));
}

export type ApiHandler = (params: Params, req: FastifyRequest, reply: FastifyReply) => Promise<ApiResult | FastifyReply>;

/**
 * Registers `handler` for `methods` on `path` and a 405 for every other method. The handler
 * receives the merged parameters; its result is wrapped in the envelope, its errors mapped.
 * A handler that already sent a reply (streaming) returns the reply itself.
 */
export function apiRoute(app: FastifyInstance, path: string, methods: readonly HttpMethod[], handler: ApiHandler): void {
  app.route({
    method: [...methods],
    url: path,
    handler: async (req, reply) => {
      try {
        const params = Params.fromRequest(req.query, req.body);
        const r = await handler(params, req, reply);
        if ((r as unknown) === reply || reply.sent) return reply;
        return sendSuccess(reply, r as ApiResult);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  });
  const others = ALL_METHODS.filter((m) => !methods.includes(m));
  if (others.length > 0) {
    app.route({
      method: others,
      url: path,
      handler: async (_req, reply) =>
        reply
          .status(405)
          .header('Allow', methods.join(', '))
          .type('application/json')
          .send(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'method not allowed' })),
    });
  }
}
