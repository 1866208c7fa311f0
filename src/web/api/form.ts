/**
 * `application/x-www-form-urlencoded` bodies (Grafana POSTs every query this way), parsed into
 * the same shape as fastify's query string: a string per name, an array when repeated.
 */
import type { FastifyInstance } from 'fastify';

export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

/**
 * Adds the form parser to `app` unless a parent context already has it (bodies above fastify's
 * bodyLimit are refused with 413).
 */
export function registerFormParser(app: FastifyInstance): void {
  if (app.hasContentTypeParser('application/x-www-form-urlencoded')) return;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
