/**
 * Signatures of every PromQL function of Prometheus 3.5 (querying/functions.md), used to
 * type-check calls at parse time. The engine keeps the implementations in a table with the
 * same keys.
 */
import type { AggregateOp, FunctionSignature, ValueTypeName } from './ast.js';

const V: ValueTypeName = 'vector';
const M: ValueTypeName = 'matrix';
const S: ValueTypeName = 'scalar';
const STR: ValueTypeName = 'string';

function sig(
  name: string,
  argTypes: ValueTypeName[],
  returnType: ValueTypeName,
  variadic = 0,
  experimental = false,
): FunctionSignature {
  return Object.freeze({ name, argTypes: Object.freeze(argTypes), variadic, returnType, experimental });
}

const LIST: FunctionSignature[] = [
  sig('abs', [V], V),
  sig('absent', [V], V),
  sig('absent_over_time', [M], V),
  sig('acos', [V], V),
  sig('acosh', [V], V),
  sig('asin', [V], V),
  sig('asinh', [V], V),
  sig('atan', [V], V),
  sig('atanh', [V], V),
  sig('avg_over_time', [M], V),
  sig('ceil', [V], V),
  sig('changes', [M], V),
  sig('clamp', [V, S, S], V),
  sig('clamp_max', [V, S], V),
  sig('clamp_min', [V, S], V),
  sig('cos', [V], V),
  sig('cosh', [V], V),
  sig('count_over_time', [M], V),
  sig('days_in_month', [V], V, 1),
  sig('day_of_month', [V], V, 1),
  sig('day_of_week', [V], V, 1),
  sig('day_of_year', [V], V, 1),
  sig('deg', [V], V),
  sig('delta', [M], V),
  sig('deriv', [M], V),
  sig('double_exponential_smoothing', [M, S, S], V, 0, true),
  sig('exp', [V], V),
  sig('floor', [V], V),
  sig('histogram_avg', [V], V),
  sig('histogram_count', [V], V),
  sig('histogram_sum', [V], V),
  sig('histogram_stddev', [V], V),
  sig('histogram_stdvar', [V], V),
  sig('histogram_fraction', [S, S, V], V),
  sig('histogram_quantile', [S, V], V),
  sig('hour', [V], V, 1),
  sig('idelta', [M], V),
  sig('increase', [M], V),
  sig('info', [V, V], V, 1, true),
  sig('irate', [M], V),
  sig('label_replace', [V, STR, STR, STR, STR], V),
  sig('label_join', [V, STR, STR, STR], V, -1),
  sig('last_over_time', [M], V),
  sig('ln', [V], V),
  sig('log10', [V], V),
  sig('log2', [V], V),
  sig('mad_over_time', [M], V, 0, true),
  sig('max_over_time', [M], V),
  sig('min_over_time', [M], V),
  sig('minute', [V], V, 1),
  sig('month', [V], V, 1),
  sig('pi', [], S),
  sig('predict_linear', [M, S], V),
  sig('present_over_time', [M], V),
  sig('quantile_over_time', [S, M], V),
  sig('rad', [V], V),
  sig('rate', [M], V),
  sig('resets', [M], V),
  sig('round', [V, S], V, 1),
  sig('scalar', [V], S),
  sig('sgn', [V], V),
  sig('sin', [V], V),
  sig('sinh', [V], V),
  sig('sort', [V], V),
  sig('sort_desc', [V], V),
  sig('sort_by_label', [V, STR], V, -1, true),
  sig('sort_by_label_desc', [V, STR], V, -1, true),
  sig('sqrt', [V], V),
  sig('stddev_over_time', [M], V),
  sig('stdvar_over_time', [M], V),
  sig('sum_over_time', [M], V),
  sig('tan', [V], V),
  sig('tanh', [V], V),
  sig('time', [], S),
  sig('timestamp', [V], V),
  sig('ts_of_last_over_time', [M], V, 0, true),
  sig('ts_of_max_over_time', [M], V, 0, true),
  sig('ts_of_min_over_time', [M], V, 0, true),
  sig('vector', [S], V),
  sig('year', [V], V, 1),
];

/** Every PromQL function by name. */
export const FUNCTION_SIGNATURES: Readonly<Record<string, FunctionSignature>> = Object.freeze(
  Object.fromEntries(LIST.map((f) => [f.name, f])),
);

export function getFunction(name: string): FunctionSignature | undefined {
  return Object.prototype.hasOwnProperty.call(FUNCTION_SIGNATURES, name) ? FUNCTION_SIGNATURES[name] : undefined;
}

export interface AggregatorInfo {
  readonly op: AggregateOp;
  /** The type of the parameter before the expression, or null when there is none. */
  readonly paramType: ValueTypeName | null;
  readonly experimental: boolean;
}

/** The aggregation operators. */
export const AGGREGATORS: Readonly<Record<AggregateOp, AggregatorInfo>> = Object.freeze({
  sum: { op: 'sum', paramType: null, experimental: false },
  avg: { op: 'avg', paramType: null, experimental: false },
  count: { op: 'count', paramType: null, experimental: false },
  min: { op: 'min', paramType: null, experimental: false },
  max: { op: 'max', paramType: null, experimental: false },
  group: { op: 'group', paramType: null, experimental: false },
  stddev: { op: 'stddev', paramType: null, experimental: false },
  stdvar: { op: 'stdvar', paramType: null, experimental: false },
  topk: { op: 'topk', paramType: 'scalar', experimental: false },
  bottomk: { op: 'bottomk', paramType: 'scalar', experimental: false },
  count_values: { op: 'count_values', paramType: 'string', experimental: false },
  quantile: { op: 'quantile', paramType: 'scalar', experimental: false },
  limitk: { op: 'limitk', paramType: 'scalar', experimental: true },
  limit_ratio: { op: 'limit_ratio', paramType: 'scalar', experimental: true },
});
