/**
 * PromQL parse errors, worded and positioned as Prometheus's: `1:8: parse error: unexpected <op:*>`.
 * Line and column are 1-based; the column counts UTF-8 bytes from the line start, as Go does.
 */
import type { PosRange } from './ast.js';

export class ParseError extends Error {
  override readonly name = 'ParseError';
  /** The message without the position prefix, e.g. `unexpected <op:*>`. */
  readonly detail: string;
  /** Where in the query (UTF-16 offsets). */
  readonly posRange: PosRange;
  readonly query: string;
  /** 1-based line and byte column of posRange.start. */
  readonly line: number;
  readonly column: number;

  constructor(query: string, posRange: PosRange, detail: string, lineOffset = 0) {
    const { line, column, prefix } = positionOf(query, posRange.start, lineOffset);
    super(`${prefix}: parse error: ${detail}`);
    this.detail = detail;
    this.posRange = posRange;
    this.query = query;
    this.line = line;
    this.column = column;
  }
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Prometheus's PositionRange.StartPosInput. */
function positionOf(query: string, pos: number, lineOffset: number): { line: number; column: number; prefix: string } {
  if (query === '') return { line: 0, column: 0, prefix: 'unknown position' };
  if (pos < 0 || pos > query.length) return { line: 0, column: 0, prefix: 'invalid position' };
  const before = query.slice(0, pos);
  const lastBreak = before.lastIndexOf('\n');
  let line = 1 + lineOffset;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 0x0a) line++;
  const column = lastBreak < 0 ? utf8Length(before) + 1 : utf8Length(before.slice(lastBreak + 1)) + 1;
  return { line, column, prefix: `${line}:${column}` };
}
