import type { Expr } from '../../../promql/parser/index.js';

/** The AST without positions, with matchers as sorted strings, for structural comparison. */
export function shape(e: Expr): unknown {
  return JSON.parse(
    JSON.stringify(e, (k, v: unknown) => {
      if (k === 'posRange') return undefined;
      if (k === 'func') return (v as { name: string }).name;
      if (k === 'matchers') return (v as { toString(): string }[]).map(String).sort();
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v;
    }),
  );
}
