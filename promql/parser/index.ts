// The PromQL parser's public surface: parse, selectors, series descriptions, printing, JSON.
export type * from './ast.js';
export { assertNever } from './ast.js';
export { ParseError } from './errors.js';
export { FUNCTION_SIGNATURES, AGGREGATORS, getFunction, type AggregatorInfo } from './functions.js';
export {
  parse,
  parseSelector,
  parseMetric,
  parseSeriesDescription,
  parseDuration,
  formatDuration,
  parseNumberLiteral,
  unquoteString,
  typeOf,
  documentedType,
  isComparisonOp,
  isSetOp,
  checkExpr,
  SERIES_VALUE,
  SERIES_OMITTED,
  SERIES_STALE,
  MAX_SERIES_VALUES,
  MAX_QUERY_LENGTH,
  MAX_DEPTH,
  type ParseOptions,
  type SeriesDescription,
} from './parser.js';
export { formatExpr, prettify, astToJson, formatFloat, formatMatcher, quote, type Json } from './printer.js';
export { walk, children } from './walk.js';
