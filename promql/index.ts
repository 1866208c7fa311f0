// The PromQL subsystem's public surface: the parser's API, the engine and the promqltest runner.
export * from './parser/index.js';
import { parse } from './parser/index.js';
import { Engine as BaseEngine, type EngineOptions } from './engine/engine.js';
import { runPromqltestFiles, runPromqltest as runScript, type EvalOutcome, type RunOptions } from './promqltest/runner.js';

export {
  exprType,
  type EngineOptions,
  type QueryOptions,
  type QueryResult,
  type Logger as EngineLogger,
} from './engine/engine.js';
export {
  EngineError,
  checkRangeResolution,
  formatAnnotation,
  MAX_POINTS_PER_SERIES,
  TIMEOUT_MESSAGE,
  CANCELED_MESSAGE,
  TOO_MANY_SAMPLES_MESSAGE,
  type EngineErrorType,
  type Annotation,
} from './engine/errors.js';
export type { QueryValue, InstantSample, RangeSeries, QueryStats } from './engine/value.js';
export { parseDurationMs, expandValues, type EvalOutcome, type EvalStatus } from './promqltest/runner.js';

/** The engine with the PromQL parser installed (query text or a parsed Expr both work). */
export class Engine extends BaseEngine {
  constructor(opts: EngineOptions = {}) {
    super({ parse: (q) => parse(q), ...opts });
  }
}

/** Runs one promqltest script text; an outcome per eval. */
export function runPromqltest(text: string, file: string, opts: RunOptions = {}): EvalOutcome[] {
  return runScript(text, file, { parse: (q) => parse(q) }, opts);
}

/** `sextant promqltest FILE...`: prints failures and `promqltest: N passed, M failed, K skipped`; resolves to the exit code. */
export function runPromqltestCommand(files: string[], out: NodeJS.WritableStream): Promise<number> {
  return runPromqltestFiles(files, out, { parse: (q) => parse(q) });
}
