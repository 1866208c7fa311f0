/**
 * Label matchers with Prometheus semantics: `=`, `!=`, `=~`, `!~`. Regexes are RE2 (re2js),
 * fully anchored, with `.` matching newlines (as Prometheus 3.x compiles `^(?s:…)$`).
 *
 * RE2 in JS is 10× slower than V8's RegExp, so common regex shapes are recognised and matched
 * without it: literals, alternations of literals, prefixes, suffixes, "contains", `.*`, `.+`.
 * A label that is absent has the value '' for matching, so a matcher that matches '' also
 * selects series without the label.
 */
import { RE2JS } from 're2js';

export type MatchType = '=' | '!=' | '=~' | '!~';

export class MatcherError extends Error {
  override readonly name = 'MatcherError';
}

type Test = (v: string) => boolean;

export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Whether the matcher accepts the empty string (and so series lacking the label). */
  readonly matchesEmpty: boolean;
  /**
   * For `=~` / `!~` with a literal or alternation-of-literals regex: the exact values the
   * regex matches, so the index can look them up instead of scanning all values.
   */
  readonly setMatches: readonly string[] | undefined;
  /**
   * The exact values the equality or regex compares against when it is a literal or an
   * alternation of literals, for any match type: `=`/`=~` accept exactly these values and
   * `!=`/`!~` reject exactly these. Undefined for other regexes.
   */
  readonly literalSet: readonly string[] | undefined;
  /** A literal prefix every matching value starts with ('' when none is known). */
  readonly prefix: string;
  private readonly test: Test;

  /** Throws {@link MatcherError} for an invalid regex. */
  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    if (type === '=' || type === '!=') {
      this.test = (v) => v === value;
      this.setMatches = type === '=' ? [value] : undefined;
      this.literalSet = [value];
      this.prefix = type === '=' ? value : '';
    } else {
      const fast = compileRegex(value);
      this.test = fast.test;
      this.setMatches = type === '=~' ? fast.set : undefined;
      this.literalSet = fast.set;
      this.prefix = type === '=~' ? fast.prefix : '';
    }
    this.matchesEmpty = this.matches('');
  }

  matches(v: string): boolean {
    const r = this.test(v);
    return this.type === '=' || this.type === '=~' ? r : !r;
  }

  /** True when the matcher is `=`/`=~` (a positive selection). */
  isPositive(): boolean {
    return this.type === '=' || this.type === '=~';
  }

  /** PromQL notation, e.g. `job=~"api|web"`. */
  toString(): string {
    return `${formatName(this.name)}${this.type}${JSON.stringify(this.value)}`;
  }
}

function formatName(n: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n) ? n : JSON.stringify(n);
}

interface CompiledRegex {
  test: Test;
  set: string[] | undefined;
  prefix: string;
}

const REGEX_CACHE_LIMIT = 10_000;
const regexCache = new Map<string, CompiledRegex>();

/** Compiles a Prometheus regex (anchored, dot-all) choosing the fastest exact strategy. */
export function compileRegex(pattern: string): CompiledRegex {
  const hit = regexCache.get(pattern);
  if (hit) return hit;
  const compiled = compileUncached(pattern);
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  regexCache.set(pattern, compiled);
  return compiled;
}

function compileUncached(pattern: string): CompiledRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?s:${pattern})$`);
  } catch (err) {
    throw new MatcherError(`error parsing regexp: ${(err as Error).message}: \`${pattern}\``, { cause: err });
  }
  const slow: Test = (v) => re.matches(v);

  // Fast paths are chosen only when the pattern is exactly one of these shapes.
  if (pattern === '.*') return { test: () => true, set: undefined, prefix: '' };
  if (pattern === '.+') return { test: (v) => v.length > 0, set: undefined, prefix: '' };
  const alts = literalAlternatives(pattern);
  if (alts) {
    if (alts.length === 1) {
      const lit = alts[0]!;
      return { test: (v) => v === lit, set: alts, prefix: lit };
    }
    const set = new Set(alts);
    return { test: (v) => set.has(v), set: alts, prefix: commonPrefix(alts) };
  }
  // prefix.*   .*suffix   .*contains.*
  if (pattern.endsWith('.*') && !pattern.startsWith('.*')) {
    const lit = literalOf(pattern.slice(0, -2));
    if (lit !== undefined) return { test: (v) => v.startsWith(lit), set: undefined, prefix: lit };
  }
  if (pattern.startsWith('.*') && !pattern.endsWith('.*')) {
    const lit = literalOf(pattern.slice(2));
    if (lit !== undefined) return { test: (v) => v.endsWith(lit), set: undefined, prefix: '' };
  }
  if (pattern.startsWith('.*') && pattern.endsWith('.*') && pattern.length > 4) {
    const lit = literalOf(pattern.slice(2, -2));
    if (lit !== undefined) return { test: (v) => v.includes(lit), set: undefined, prefix: '' };
  }
  const lit = literalPrefix(pattern);
  return { test: lit ? (v) => v.startsWith(lit) && slow(v) : slow, set: undefined, prefix: lit };
}

const META = new Set(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']);

/**
 * The literal text of `p` if it has no regex meaning beyond escaped punctuation, else
 * undefined. `\.` becomes `.`; escapes of letters (classes like `\d`) are not literal.
 */
export function literalOf(p: string): string | undefined {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '\\') {
      const next = p[i + 1];
      if (next === undefined || /[a-zA-Z0-9]/.test(next)) return undefined;
      out += next;
      i++;
    } else if (META.has(ch)) {
      return undefined;
    } else {
      out += ch;
    }
  }
  return out;
}

/** `a|b|c` (optionally wrapped in one group) → ['a','b','c'] when all are literals. */
function literalAlternatives(p: string): string[] | undefined {
  let body = p;
  if (body.startsWith('(?:') && body.endsWith(')')) body = body.slice(3, -1);
  else if (body.startsWith('(') && body.endsWith(')') && !body.startsWith('(?')) body = body.slice(1, -1);
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      cur += ch + (body[i + 1] ?? '');
      i++;
    } else if (ch === '|') {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  const out: string[] = [];
  for (const part of parts) {
    const lit = literalOf(part);
    if (lit === undefined) return undefined;
    out.push(lit);
  }
  return out;
}

/** Literal characters at the start of `p` that every match must begin with. */
function literalPrefix(p: string): string {
  if (hasTopLevelAlternation(p)) return ''; // another branch could bypass the prefix
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    const next = p[i + 1];
    // A quantifier after this char makes it optional.
    if (next === '*' || next === '?' || next === '{') break;
    if (ch === '\\') {
      const esc = p[i + 1];
      if (esc === undefined || /[a-zA-Z0-9]/.test(esc)) break;
      const after = p[i + 2];
      if (after === '*' || after === '?' || after === '{') break;
      out += esc;
      i++;
    } else if (META.has(ch)) {
      break;
    } else {
      out += ch;
    }
  }
  return out;
}

/** True when `p` has a `|` outside any group or character class. */
function hasTopLevelAlternation(p: string): boolean {
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '\\') {
      i++;
    } else if (ch === '[') {
      // Skip the class: a ']' right after '[' or '[^' is literal.
      i++;
      if (p[i] === '^') i++;
      if (p[i] === ']') i++;
      while (i < p.length && p[i] !== ']') {
        if (p[i] === '\\') i++;
        else if (p[i] === '[' && p[i + 1] === ':') {
          const end = p.indexOf(':]', i + 2);
          if (end > 0) i = end + 1;
        }
        i++;
      }
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      depth--;
    } else if (ch === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

function commonPrefix(xs: string[]): string {
  if (xs.length === 0) return '';
  let p = xs[0]!;
  for (const x of xs) {
    let i = 0;
    while (i < p.length && i < x.length && p[i] === x[i]) i++;
    p = p.slice(0, i);
    if (p === '') break;
  }
  return p;
}

/** True when every matcher accepts the label set given by `get` (absent labels read as ''). */
export function matchesAll(matchers: readonly Matcher[], get: (name: string) => string): boolean {
  for (const m of matchers) if (!m.matches(get(m.name))) return false;
  return true;
}
