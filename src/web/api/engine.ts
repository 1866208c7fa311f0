/**
 * The query API's view of the PromQL engine: evaluation with per-request options, Prometheus's
 * `stats` object, and the mapping of engine errors to API error types.
 */
import type { Queryable } from '../../../storage/index.js';
import { Engine, EngineError, ParseError } from '../../../promql/index.js';
import type { QueryOptions, QueryOutcome, QueryService } from './query.js';
import { ApiError } from './errors.js';

export interface ParserFns {
  format: (query: string) => string;
  toJson: (query: string) => unknown;
}

export class EngineQueryService implements QueryService {
  constructor(
    private readonly engine: Engine,
    private readonly queryable: Queryable,
    private readonly parser: ParserFns,
  ) {}

  async instant(query: string, t: number, opts: QueryOptions): Promise<QueryOutcome> {
    const began = performance.now();
    let r;
    try {
      r = await this.engine.instantAsync(this.queryable, query, t, { signal: opts.signal, lookbackDelta: opts.lookbackDeltaMs, timeout: opts.timeoutMs });
    } catch (err) {
      // Prometheus names the parameter for an instant query's parse error (not a range query's).
      if (err instanceof EngineError && err.cause instanceof ParseError) {
        throw ApiError.badData(`invalid parameter "query": ${err.message}`, { cause: err });
      }
      throw err;
    }
    return { value: r.value, warnings: r.warnings, infos: r.infos, stats: opts.stats ? promStats(r.stats, began) : undefined };
  }

  async range(query: string, start: number, end: number, step: number, opts: QueryOptions): Promise<QueryOutcome> {
    const began = performance.now();
    const r = await this.engine.rangeAsync(this.queryable, query, start, end, step, {
      signal: opts.signal,
      lookbackDelta: opts.lookbackDeltaMs,
      timeout: opts.timeoutMs,
    });
    return { value: r.value, warnings: r.warnings, infos: r.infos, stats: opts.stats ? promStats(r.stats, began) : undefined };
  }

  format(query: string): string {
    return this.parser.format(query);
  }

  parseToJson(query: string): unknown {
    return this.parser.toJson(query);
  }
}


/** Prometheus's `stats=all` object (timings in seconds). */
function promStats(s: { totalSamples: number; peakSamples: number; evalMs: number }, began: number): unknown {
  const total = (performance.now() - began) / 1000;
  return {
    timings: {
      evalTotalTime: s.evalMs / 1000,
      resultSortTime: 0,
      queryPreparationTime: 0,
      innerEvalTime: s.evalMs / 1000,
      execQueueTime: 0,
      execTotalTime: total,
    },
    samples: { totalQueryableSamples: s.totalSamples, peakSamples: s.peakSamples },
  };
}

/** Engine errors carry the API's error types one to one. */
export function classifyEngineError(err: unknown): ApiError | undefined {
  if (err instanceof EngineError) return new ApiError(err.type, err.message, { cause: err });
  return undefined;
}
