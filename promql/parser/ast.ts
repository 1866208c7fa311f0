/**
 * The PromQL abstract syntax tree: a discriminated union on `kind`, readonly, with the source
 * position of every node. Times and durations are int64 milliseconds held in JS numbers.
 *
 * It mirrors Prometheus's promql/parser AST so that behaviour (and `/api/v1/parse_query`
 * output) can follow upstream closely.
 */
import type { Matcher } from '../../storage/index.js';

/** Character offsets into the query text: [start, end). */
export interface PosRange {
  readonly start: number;
  readonly end: number;
}

/** The type an expression evaluates to. */
export type ValueTypeName = 'scalar' | 'vector' | 'matrix' | 'string' | 'none';

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr
  | StepInvariantExpr;

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
  /** Set when the literal was written as a duration (`5m` used as a number): for printing. */
  readonly duration?: boolean;
  readonly posRange: PosRange;
}

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
  readonly posRange: PosRange;
}

/** `@ start()` / `@ end()` as written; resolved to a timestamp by the engine. */
export type AtModifier = 'start' | 'end' | null;

export interface VectorSelector {
  readonly kind: 'vector';
  /** The metric name written before `{`, or '' when only matchers were given. */
  readonly name: string;
  /** All matchers, including the `__name__` equality matcher implied by `name`. */
  readonly matchers: readonly Matcher[];
  /** `offset` in ms (negative allowed); 0 when absent. */
  readonly offset: number;
  /** The offset as written when it was a duration expression (for printing), else undefined. */
  readonly offsetExpr?: DurationExpr;
  /** `@` timestamp in ms, or null when absent or given as start()/end(). */
  readonly timestamp: number | null;
  readonly startOrEnd: AtModifier;
  readonly posRange: PosRange;
}

export interface MatrixSelector {
  readonly kind: 'matrix';
  /** The selector inside; its offset/@ apply to the whole range. */
  readonly vector: VectorSelector;
  /** Range in ms. */
  readonly range: number;
  readonly rangeExpr?: DurationExpr;
  readonly posRange: PosRange;
}

export interface SubqueryExpr {
  readonly kind: 'subquery';
  readonly expr: Expr;
  /** Range in ms. */
  readonly range: number;
  readonly rangeExpr?: DurationExpr;
  /** Resolution step in ms; 0 means "the global evaluation interval" (default step). */
  readonly step: number;
  readonly stepExpr?: DurationExpr;
  readonly offset: number;
  readonly offsetExpr?: DurationExpr;
  readonly timestamp: number | null;
  readonly startOrEnd: AtModifier;
  readonly posRange: PosRange;
}

export interface Call {
  readonly kind: 'call';
  readonly func: FunctionSignature;
  readonly args: readonly Expr[];
  readonly posRange: PosRange;
}

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'count_values'
  | 'quantile'
  | 'limitk'
  | 'limit_ratio';

export interface AggregateExpr {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** The parameter of topk/bottomk/quantile/count_values/limitk/limit_ratio, else null. */
  readonly param: Expr | null;
  /** Labels of `by (…)` or `without (…)`, as written. */
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly posRange: PosRange;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export type Cardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

export interface VectorMatching {
  readonly card: Cardinality;
  /** Labels of `on (…)` or `ignoring (…)`. */
  readonly matchingLabels: readonly string[];
  /** True for `on`, false for `ignoring` (or neither). */
  readonly on: boolean;
  /** Extra labels of `group_left (…)` / `group_right (…)`. */
  readonly include: readonly string[];
}

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  /** Present exactly when both sides are instant vectors (as in Prometheus, which drops it otherwise). */
  readonly matching: VectorMatching | null;
  /** The `bool` modifier of comparisons. */
  readonly returnBool: boolean;
  readonly posRange: PosRange;
}

export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly posRange: PosRange;
}

export interface ParenExpr {
  readonly kind: 'paren';
  readonly expr: Expr;
  readonly posRange: PosRange;
}

/** Inserted by the engine's preprocessing around subtrees whose value is the same at every step. */
export interface StepInvariantExpr {
  readonly kind: 'step_invariant';
  readonly expr: Expr;
  readonly posRange: PosRange;
}

/**
 * A duration expression (3.x `promql-duration-expr`): number and duration literals combined
 * with + - * / % ^, unary minus and parentheses, written in a range, subquery step or offset.
 * It is evaluated to ms at parse time; kept only so the query prints back as written.
 */
export type DurationExpr = NumberLiteral | UnaryExpr | ParenExpr | BinaryExpr;

export interface FunctionSignature {
  readonly name: string;
  readonly argTypes: readonly ValueTypeName[];
  /** 0: exactly argTypes; n > 0: the last n argTypes are optional; -1: the last repeats without bound. */
  readonly variadic: number;
  readonly returnType: ValueTypeName;
  /** Experimental in Prometheus 3.5 (needs --enable-feature=promql-experimental-functions). */
  readonly experimental: boolean;
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
