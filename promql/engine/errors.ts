/**
 * Engine errors and annotations. Error kinds are the `errorType`s of Prometheus's HTTP API, so
 * the web layer maps them one to one; messages are Prometheus's wording.
 */
import type { PosRange } from '../parser/ast.js';

export type EngineErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly type: EngineErrorType;
  constructor(type: EngineErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.type = type;
  }
}

export const TIMEOUT_MESSAGE = 'query timed out in expression evaluation';
export const CANCELED_MESSAGE = 'query was canceled in expression evaluation';
export const TOO_MANY_SAMPLES_MESSAGE = 'query processing would load too many samples into memory in query execution';

/** The HTTP layer's per-series resolution limit for range queries (Prometheus: 11,000 points). */
export const MAX_POINTS_PER_SERIES = 11_000;

/**
 * Throws the Prometheus `bad_data` error when a range query would return more than 11,000 points
 * per series. `start`, `end` and `step` in ms.
 */
export function checkRangeResolution(start: number, end: number, step: number): void {
  if (step <= 0) {
    throw new EngineError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  if ((end - start) / step > MAX_POINTS_PER_SERIES) {
    throw new EngineError(
      'bad_data',
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
}

export interface Annotation {
  readonly kind: 'warning' | 'info';
  /** The full text, e.g. `PromQL info: metric might not be a counter, …: "foo"`. */
  readonly message: string;
  /** Position of the offending expression in the query text, when known. */
  readonly pos?: PosRange;
}

/** Collects annotations once each (same message and position). */
export class Annotations {
  private readonly seen = new Map<string, Annotation>();

  warn(message: string, pos?: PosRange): void {
    this.add({ kind: 'warning', message: `PromQL warning: ${message}`, pos });
  }

  info(message: string, pos?: PosRange): void {
    this.add({ kind: 'info', message: `PromQL info: ${message}`, pos });
  }

  add(a: Annotation): void {
    const key = `${a.kind}\x00${a.message}\x00${a.pos?.start ?? -1}`;
    if (!this.seen.has(key)) this.seen.set(key, a);
  }

  all(): Annotation[] {
    return [...this.seen.values()];
  }
}

/** `line:col` (1-based) of a character offset, as Prometheus's PositionRange.StartPosInput. */
export function positionOf(query: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < query.length; i++) {
    if (query.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `${line}:${col}`;
}

/** An annotation as the HTTP API prints it: `message (line:col)` when the query text is known. */
export function formatAnnotation(a: Annotation, query: string | undefined): string {
  if (query === undefined || query === '' || a.pos === undefined) return a.message;
  return `${a.message} (${positionOf(query, a.pos.start)})`;
}
