/**
 * `/federate`: the latest sample (within the lookback delta) of every series selected by the
 * `match[]` selectors, with the external labels added where the series lacks them, in the text
 * format or delimited protobuf — as Prometheus serves it, so another Prometheus can scrape Sextant with
 * `honor_labels: true`. Families are untyped, sorted by metric name; stale series are skipped.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Labels, LabelsBuilder, isStaleNaN, ValueType, type Matcher, type Queryable } from '../../../storage/index.js';
import { ProtobufWriter, TextWriter, PROTOBUF_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../../exposition/index.js';
import { Params } from './params.js';
import { registerFormParser } from './form.js';

export interface FederateDeps {
  queryable: Queryable;
  parseSelector: (s: string) => Matcher[];
  lookbackDeltaMs: number;
  externalLabels: () => Readonly<Record<string, string>>;
  now?: () => number;
}

interface Point {
  labels: Labels;
  t: number;
  v: number;
}

/** Latest non-stale sample of each selected series in [now - lookback, now]. */
function selectLatest(deps: FederateDeps, sets: Matcher[][], now: number): Point[] {
  const mint = now - deps.lookbackDeltaMs;
  const q = deps.queryable.querier(mint, now);
  const seen = new Set<string>();
  const out: Point[] = [];
  try {
    for (const matchers of sets) {
      const ss = q.select(matchers, mint, now);
      while (ss.next()) {
        const s = ss.at();
        const key = s.labels.key();
        if (seen.has(key)) continue;
        seen.add(key);
        const it = s.iterator();
        let t = NaN;
        let v = 0;
        while (it.next() === ValueType.Float) {
          const st = it.atT();
          if (st > now) break;
          if (st >= mint) {
            t = st;
            v = it.atF();
          }
        }
        if (t === t && !isStaleNaN(v)) out.push({ labels: s.labels, t, v });
      }
    }
  } finally {
    q.close();
  }
  return out;
}

/** Which of the two federation formats a client asked for (expfmt.Negotiate: protobuf or text). */
function wantsProtobuf(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const p = part.replace(/\s+/g, '');
    return p.startsWith('application/vnd.google.protobuf') && p.includes('proto=io.prometheus.client.MetricFamily') && p.includes('encoding=delimited');
  });
}

/** Writes the points as untyped families sorted by name, external labels added where absent. */
export function writeFederation(points: Point[], external: Readonly<Record<string, string>>, w: TextWriter | ProtobufWriter): void {
  const extNames = Object.keys(external);
  const named = points.filter((p) => p.labels.metricName() !== '');
  named.sort((a, b) => {
    const an = a.labels.metricName();
    const bn = b.labels.metricName();
    return an < bn ? -1 : an > bn ? 1 : Labels.compare(a.labels, b.labels);
  });
  const b = new LabelsBuilder();
  let family: string | undefined;
  for (const p of named) {
    const name = p.labels.metricName();
    if (name !== family) {
      w.family(name, 'untyped');
      family = name;
    }
    let labels = p.labels;
    if (extNames.some((n) => !labels.has(n))) {
      b.reset(labels);
      for (const n of extNames) if (!labels.has(n)) b.set(n, external[n]!);
      labels = b.labels();
    }
    w.series(labels, p.v, p.t);
  }
}

export const federateRoute: FastifyPluginAsync<FederateDeps> = async (app, deps) => {
  registerFormParser(app);
  const handler = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const params = Params.fromRequest(req.query, req.body);
    const sets: Matcher[][] = [];
    for (const s of params.getAll('match[]')) {
      try {
        sets.push(deps.parseSelector(s));
      } catch (err) {
        return reply.status(400).type('text/plain; charset=utf-8').send(`${(err as Error).message}\n`);
      }
    }
    const points = selectLatest(deps, sets, (deps.now ?? Date.now)());
    if (wantsProtobuf(req.headers.accept)) {
      const w = new ProtobufWriter();
      writeFederation(points, deps.externalLabels(), w);
      return reply.type(PROTOBUF_CONTENT_TYPE).send(w.finish());
    }
    const w = new TextWriter();
    writeFederation(points, deps.externalLabels(), w);
    return reply.type(TEXT_CONTENT_TYPE).send(w.finish());
  };
  app.get('/federate', handler);
  app.post('/federate', handler);
};
