/**
 * `/api/v1/write`: the remote-write 1.0 receiver (behind --web.enable-remote-write-receiver).
 *
 * As Prometheus 3.x: 204 when everything was stored; 400 for a body the sender must not retry
 * (malformed protobuf or snappy, invalid labels, samples rejected as out of order, duplicate or
 * too old — the valid rest is committed first); 415 for a content type or encoding it does not
 * speak; 5xx only where retrying can help (storage failures).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import snappy from 'snappyjs';
import { Labels, LabelsBuilder, StorageError, isValidLabelName, type Appendable } from '../../../storage/index.js';
import { decodeWriteRequest, WireError, type RemoteMetadata } from '../../remote/codec.js';
import type { Logger } from '../../log/index.js';

export interface WriteApiDeps {
  appendable: Appendable;
  logger: Logger;
  /** Metadata carried by the request, for /api/v1/metadata. */
  onMetadata?: (m: RemoteMetadata) => void;
  /** Compressed body limit in bytes. Default 32 MiB. */
  maxBodyBytes?: number;
  /** Decompressed body limit in bytes. Default 256 MiB. */
  maxDecodedBytes?: number;
}

const V1_MESSAGE = 'prometheus.WriteRequest';

/** Counts of samples rejected per reason, with the first example of each. */
class Rejections {
  private readonly counts = new Map<string, { n: number; example: string }>();
  total = 0;
  add(reason: string, example: string, n = 1): void {
    const c = this.counts.get(reason);
    if (c) c.n += n;
    else this.counts.set(reason, { n, example });
    this.total += n;
  }
  message(): string {
    return [...this.counts].map(([reason, c]) => `${c.n} ${reason} (first: ${c.example})`).join('; ');
  }
}

function text(reply: FastifyReply, status: number, msg: string): FastifyReply {
  return reply.status(status).type('text/plain; charset=utf-8').send(msg + '\n');
}

/** Checks the Content-Type; returns an error message or undefined when it is remote-write 1.0. */
function checkContentType(ct: string | undefined): string | undefined {
  if (ct === undefined || ct.trim() === '') return undefined; // 1.0 senders that omit it
  const [mediaType, ...params] = ct.split(';').map((s) => s.trim());
  if (mediaType!.toLowerCase() !== 'application/x-protobuf') {
    return `unsupported Content-Type "${ct}"; expected application/x-protobuf`;
  }
  for (const p of params) {
    const [k, v] = p.split('=', 2).map((s) => s.trim());
    if (k!.toLowerCase() === 'proto' && v !== undefined && v.replace(/"/g, '') !== V1_MESSAGE) {
      return `${v} protobuf message is not accepted by this server; accepted [${V1_MESSAGE}]`;
    }
  }
  return undefined;
}

/** Series lookups remembered by their raw label bytes (cleared when full). */
const MAX_CACHED_SERIES = 1_000_000;

export const writeApi: FastifyPluginAsync<WriteApiDeps> = async (app, deps) => {
  const maxBody = deps.maxBodyBytes ?? 32 << 20;
  const maxDecoded = deps.maxDecodedBytes ?? 256 << 20;
  // Senders repeat the same series in every request: their raw label bytes map to the built
  // labels and the last series ref, skipping label decoding, validation and the index lookup.
  const cache = new Map<string, { ref: number; labels: Labels }>();
  const builder = new LabelsBuilder();
  const names: string[] = [];
  const values: string[] = [];
  // Raw bytes whatever the declared type: the handler decides what it accepts.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBody }, (_req, body, done) => done(null, body));

  app.route({
    method: ['GET', 'PUT', 'DELETE'],
    url: '/api/v1/write',
    handler: async (_req, reply) => text(reply.header('Allow', 'POST'), 405, 'method not allowed'),
  });

  app.post('/api/v1/write', async (req, reply) => {
    const ctError = checkContentType(req.headers['content-type']);
    if (ctError) return text(reply, 415, ctError);
    const enc = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (enc !== '' && enc !== 'snappy') {
      return text(reply, 415, `${enc} encoding (compression) is not accepted by this server; only snappy is acceptable`);
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let raw: Buffer;
    try {
      const u = snappy.uncompress(body, maxDecoded) as Uint8Array;
      raw = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    } catch (err) {
      return text(reply, 400, `snappy decode error: ${(err as Error).message}`);
    }

    const app_ = deps.appendable.appender();
    const rejected = new Rejections();
    let fatal: Error | undefined;
    try {
      decodeWriteRequest(raw, {
        series: (view) => {
          if (fatal) return;
          const key = view.key();
          let hit = cache.get(key);
          if (hit === undefined) {
            const n = view.labels(names, values);
            const labels = buildLabels(builder, names, values, n, rejected, view.n);
            if (labels === undefined) return;
            hit = { ref: 0, labels };
            if (cache.size >= MAX_CACHED_SERIES) cache.clear();
            cache.set(key, hit);
          }
          if (view.histograms > 0) rejected.add('native histogram samples not supported', hit.labels.toString(), view.histograms);
          const { ts, vs } = view;
          let ref = hit.ref;
          for (let i = 0; i < view.n; i++) {
            try {
              ref = app_.append(ref, hit.labels, ts[i]!, vs[i]!);
            } catch (err) {
              if (!(err instanceof StorageError)) throw err;
              switch (err.code) {
                case 'out_of_order':
                case 'duplicate_sample':
                case 'too_old':
                case 'invalid_sample':
                case 'invalid_labels':
                  rejected.add(sampleReason(err.code), `${hit.labels.toString()} @${ts[i]}`);
                  break;
                default:
                  fatal = err;
                  return;
              }
            }
          }
          hit.ref = ref;
        },
        metadata: (m) => deps.onMetadata?.(m),
      });
    } catch (err) {
      app_.rollback();
      if (err instanceof WireError) return text(reply, 400, `decode error: ${err.message}`);
      throw err;
    }
    if (fatal) {
      app_.rollback();
      deps.logger.error('remote write: storage failure', { err: fatal.message });
      return text(reply, 500, `storage failure: ${fatal.message}`);
    }
    try {
      app_.commit();
    } catch (err) {
      deps.logger.error('remote write: commit failed', { err: (err as Error).message });
      return text(reply, 500, `commit failed: ${(err as Error).message}`);
    }
    if (rejected.total > 0) {
      deps.logger.warn('remote write: samples rejected', { rejected: rejected.total, detail: rejected.message() });
      return text(reply, 400, rejected.message());
    }
    return reply.status(204).send();
  });
};

function sampleReason(code: string): string {
  switch (code) {
    case 'out_of_order':
      return 'out of order samples';
    case 'duplicate_sample':
      return 'duplicate sample for timestamp';
    case 'too_old':
      return 'out of bounds (too old) samples';
    default:
      return 'invalid samples';
  }
}

/** The label pairs as received (they may be invalid, so not a Labels). */
function labelsText(names: string[], values: string[], n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`${names[i]}=${JSON.stringify(values[i])}`);
  return `{${parts.join(', ')}}`;
}

/** Validated labels of one series, or undefined (and its samples counted) when invalid. */
function buildLabels(b: LabelsBuilder, names: string[], values: string[], n: number, rejected: Rejections, samples: number): Labels | undefined {
  b.reset(Labels.EMPTY);
  let problem: string | undefined;
  for (let i = 0; i < n; i++) {
    const name = names[i]!;
    if (!isValidLabelName(name)) problem ??= `invalid label name "${name}"`;
    else if (b.has(name)) problem ??= `duplicate label name "${name}"`;
    // The spec requires senders to sort; an unsorted set is a broken sender, not a new series.
    else if (i > 0 && name < names[i - 1]!) problem ??= `labels not sorted by name ("${name}" after "${names[i - 1]}")`;
    else b.set(name, values[i]!);
  }
  const labels = b.labels();
  if (problem === undefined && labels.isEmpty()) problem = 'empty label set';
  if (problem === undefined && labels.get('__name__') === '') problem = 'missing metric name';
  if (problem !== undefined) {
    rejected.add(`samples of series with invalid labels: ${problem}`, labelsText(names, values, n), Math.max(samples, 1));
    return undefined;
  }
  return labels;
}
