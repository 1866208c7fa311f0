/**
 * `/federate`: the latest sample (within the lookback delta) of every series selected by the
 * `match[]` selectors, with the external labels added where the series lacks them, in the text
 * format — as Prometheus serves it, so another Prometheus can scrape Sextant with
 * `honor_labels: true`. Families are untyped, sorted by metric name; stale series are skipped.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Labels, isStaleNaN, ValueType, type Matcher, type Queryable } from '../../../storage/index.js';
import { formatFloatG } from './format.js';
import { Params } from './params.js';
import { registerFormParser } from './form.js';

export interface FederateDeps {
  queryable: Queryable;
  parseSelector: (s: string) => Matcher[];
  lookbackDeltaMs: number;
  externalLabels: () => Readonly<Record<string, string>>;
  now?: () => number;
}

const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A label name as the text format needs it: bare when legacy-valid, quoted otherwise (3.x). */
function labelName(n: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n) ? n : `"${escapeLabelValue(n)}"`;
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

export function federationText(points: Point[], external: Readonly<Record<string, string>>): string {
  const extNames = Object.keys(external).sort();
  const named = points.filter((p) => p.labels.metricName() !== '');
  named.sort((a, b) => {
    const an = a.labels.metricName();
    const bn = b.labels.metricName();
    return an < bn ? -1 : an > bn ? 1 : Labels.compare(a.labels, b.labels);
  });
  let out = '';
  let family = '';
  for (const p of named) {
    const name = p.labels.metricName();
    const quotedName = !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name);
    if (name !== family) {
      out += `# TYPE ${quotedName ? `"${escapeLabelValue(name)}"` : name} untyped\n`;
      family = name;
    }
    const parts: string[] = quotedName ? [`"${escapeLabelValue(name)}"`] : [];
    p.labels.forEach((n, v) => {
      if (n !== '__name__') parts.push(`${labelName(n)}="${escapeLabelValue(v)}"`);
    });
    for (const n of extNames) if (!p.labels.has(n)) parts.push(`${labelName(n)}="${escapeLabelValue(external[n]!)}"`);
    const head = quotedName ? `{${parts.join(',')}}` : parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
    out += `${head} ${formatFloatG(p.v)} ${p.t}\n`;
  }
  return out;
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
    return reply.type(TEXT_TYPE).send(federationText(points, deps.externalLabels()));
  };
  app.get('/federate', handler);
  app.post('/federate', handler);
};
