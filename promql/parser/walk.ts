/**
 * Tree traversal over the PromQL AST (Prometheus's Children / Inspect).
 */
import type { Expr } from './ast.js';
import { assertNever } from './ast.js';

/** The direct subexpressions of `e`, in source order (a matrix selector's vector selector included). */
export function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'number':
    case 'string':
    case 'vector':
      return [];
    case 'matrix':
      return [e.vector];
    case 'subquery':
    case 'unary':
    case 'paren':
    case 'step_invariant':
      return [e.expr];
    case 'call':
      return [...e.args];
    case 'aggregate':
      return e.param ? [e.param, e.expr] : [e.expr];
    case 'binary':
      return [e.lhs, e.rhs];
    default:
      return assertNever(e);
  }
}

/**
 * Visits `e` and its subexpressions depth-first, parents before children. `fn` receives the
 * node and the path of its ancestors (outermost first); returning false skips the node's
 * children. Iterative, so deep trees do not exhaust the stack.
 */
export function walk(e: Expr, fn: (node: Expr, path: readonly Expr[]) => boolean | void): void {
  const stack: Array<{ node: Expr; depth: number }> = [{ node: e, depth: 0 }];
  const path: Expr[] = [];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    path.length = depth;
    if (fn(node, path) === false) continue;
    const kids = children(node);
    path.push(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i]!, depth: depth + 1 });
  }
}
