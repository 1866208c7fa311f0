/**
 * The relabeling engine, with Prometheus 3.5 semantics (model/relabel): every action, RE2
 * regexes anchored at both ends with `.` matching newlines, and `$1` / `${1}` / `$name`
 * expansion exactly as Go's regexp.Expand.
 *
 * Configs are compiled once ({@link compileRelabelConfigs}); {@link relabel} then works on an
 * immutable {@link Labels} and returns the same object when no step changed anything, so a
 * chain of keep/drop steps or replacements that do not apply allocates nothing. Common regex
 * shapes avoid RE2 entirely: `(.*)` (the default), literals and alternations of literals,
 * prefixes, and `literal(.+)` / `literal(.*)` captures (the usual labelmap).
 */
import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import { compileRegex, intern, isValidLabelName, Labels, literalOf, type LabelsBuilder } from '../../storage/index.js';
import type { RelabelAction, RelabelConfig } from '../config/types.js';

/** Thrown by {@link compileRelabelConfigs} for a config that does not compile. */
export class RelabelError extends Error {
  override readonly name = 'RelabelError';
}

/** A template segment: a literal, or a reference to a capture group (-1 = expands to ''). */
type Segment = string | number;

interface Template {
  /** Set when the template has no group references. */
  readonly constant: string | undefined;
  readonly segments: readonly Segment[];
  /** Highest group index referenced (-1 = none). */
  readonly maxGroup: number;
}

/** How a step's regex is matched. */
const enum RegexKind {
  /** `(.*)`: always matches; group 1 = the whole value. */
  CaptureAll,
  /** `literal(.*)` or `literal(.+)`: group 1 = the rest after the prefix. */
  PrefixCapture,
  /** Only a yes/no answer (and group 0) is ever needed. */
  TestOnly,
  /** RE2 with capture groups. */
  General,
}

interface Step {
  readonly action: RelabelAction;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  readonly targetLabel: string;
  readonly modulus: bigint;
  readonly kind: RegexKind;
  readonly prefix: string;
  /** For PrefixCapture: whether the captured rest may be empty (`.*`) or not (`.+`). */
  readonly restMayBeEmpty: boolean;
  readonly test: (v: string) => boolean;
  readonly re: RE2JS | undefined;
  readonly groupCount: number;
  readonly target: Template;
  readonly replacement: Template;
}

/** Relabel configs compiled for {@link relabel}. Immutable; share freely. */
export interface CompiledRelabel {
  readonly steps: readonly Step[];
  /** The configs it was compiled from. */
  readonly configs: readonly RelabelConfig[];
}

const LITERAL_META = /[\\.+*?()|[\]{}^$]/;

/** Parses a Go regexp.Expand template against the regex's group names. */
function parseTemplate(t: string, names: Readonly<Record<string, number>>, groupCount: number): Template {
  if (!t.includes('$')) return { constant: t, segments: [t], maxGroup: -1 };
  const segs: Segment[] = [];
  let lit = '';
  let maxGroup = -1;
  let i = 0;
  while (i < t.length) {
    const ch = t[i]!;
    if (ch !== '$') {
      lit += ch;
      i++;
      continue;
    }
    if (t[i + 1] === '$') {
      lit += '$';
      i += 2;
      continue;
    }
    // extract(): `$name` (longest run of word characters) or `${name}`.
    let name = '';
    let end = i + 1;
    if (t[i + 1] === '{') {
      const close = t.indexOf('}', i + 2);
      name = close < 0 ? '' : t.slice(i + 2, close);
      if (close < 0 || name === '' || !/^\w+$/.test(name)) {
        lit += '$';
        i++;
        continue;
      }
      end = close + 1;
    } else {
      let j = i + 1;
      while (j < t.length && /\w/.test(t[j]!)) j++;
      name = t.slice(i + 1, j);
      if (name === '') {
        lit += '$';
        i++;
        continue;
      }
      end = j;
    }
    let num = -1;
    if (/^\d+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length <= 8) num = Number(name);
    let group: number;
    if (num >= 0) group = num <= groupCount ? num : -1;
    else group = Object.prototype.hasOwnProperty.call(names, name) ? names[name]! : -1;
    if (lit !== '') segs.push(lit);
    lit = '';
    segs.push(group);
    if (group > maxGroup) maxGroup = group;
    i = end;
  }
  if (lit !== '') segs.push(lit);
  if (segs.every((s) => typeof s === 'string' || s === -1)) {
    const c = segs.filter((s): s is string => typeof s === 'string').join('');
    return { constant: c, segments: [c], maxGroup: -1 };
  }
  return { constant: undefined, segments: segs, maxGroup };
}

function expand(t: Template, groups: readonly string[]): string {
  if (t.constant !== undefined) return t.constant;
  let out = '';
  for (const s of t.segments) {
    if (typeof s === 'string') out += s;
    else if (s >= 0) out += groups[s] ?? '';
  }
  return out;
}


/**
 * `a.*|b|c.*`: an alternation of literals and literal prefixes (common in drop rules such as
 * `go_.*|process_.*`), matched without RE2. Undefined for any other shape.
 */
export function alternationOfPrefixes(pattern: string): ((v: string) => boolean) | undefined {
  const branches: string[] = [];
  let cur = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      cur += ch + (pattern[i + 1] ?? '');
      i++;
    } else if (ch === '|') {
      branches.push(cur);
      cur = '';
    } else cur += ch;
  }
  branches.push(cur);
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const b of branches) {
    if (b.endsWith('.*') && !b.endsWith('\\.*')) {
      const lit = literalOf(b.slice(0, -2));
      if (lit === undefined) return undefined;
      prefixes.push(lit);
    } else {
      const lit = literalOf(b);
      if (lit === undefined) return undefined;
      exact.add(lit);
    }
  }
  if (prefixes.length === 0) return undefined; // pure literals: storage's matcher has that path
  if (prefixes.includes('')) return () => true;
  return (v) => {
    if (exact.has(v)) return true;
    for (let i = 0; i < prefixes.length; i++) if (v.startsWith(prefixes[i]!)) return true;
    return false;
  };
}

function compileStep(c: RelabelConfig): Step {
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?s:${c.regex})$`);
  } catch (err) {
    throw new RelabelError(`error parsing regexp: ${(err as Error).message}: \`${c.regex}\``, { cause: err });
  }
  const groupCount = re.groupCount();
  const names = re.namedGroups();
  const target = parseTemplate(c.targetLabel, names, groupCount);
  const replacement = parseTemplate(c.replacement, names, groupCount);
  const fast = compileRegex(c.regex);
  const needsGroups = c.action === 'replace' ? Math.max(target.maxGroup, replacement.maxGroup) > 0 : c.action === 'labelmap' ? replacement.maxGroup > 0 : false;

  let kind = RegexKind.General;
  let prefix = '';
  let restMayBeEmpty = true;
  if (c.regex === '(.*)') kind = RegexKind.CaptureAll;
  else if (!needsGroups) kind = RegexKind.TestOnly;
  else {
    const m = /^(.*)\((\.[*+])\)$/s.exec(c.regex);
    if (m !== null && !LITERAL_META.test(m[1]!) && groupCount === 1 && Object.keys(names).length === 0) {
      kind = RegexKind.PrefixCapture;
      prefix = m[1]!;
      restMayBeEmpty = m[2] === '.*';
    }
  }
  return {
    action: c.action,
    sourceLabels: c.sourceLabels,
    separator: c.separator,
    targetLabel: c.targetLabel,
    modulus: BigInt(c.modulus),
    kind,
    prefix,
    restMayBeEmpty,
    test: alternationOfPrefixes(c.regex) ?? fast.test,
    re,
    groupCount,
    target,
    replacement,
  };
}

/** Compiles relabel configs (already validated by the config loader). Throws {@link RelabelError} on a bad regex. */
export function compileRelabelConfigs(configs: readonly RelabelConfig[]): CompiledRelabel {
  return Object.freeze({ steps: Object.freeze(configs.map(compileStep)), configs });
}

/**
 * Matches `v` and returns its capture groups (group 0 = `v`), or null when it does not match.
 * The returned array is scratch space, valid until the next call.
 */
const scratch: string[] = [];
function matchGroups(s: Step, v: string): string[] | null {
  switch (s.kind) {
    case RegexKind.CaptureAll:
      scratch.length = 2;
      scratch[0] = v;
      scratch[1] = v;
      return scratch;
    case RegexKind.PrefixCapture: {
      if (!v.startsWith(s.prefix)) return null;
      if (!s.restMayBeEmpty && v.length === s.prefix.length) return null;
      scratch.length = 2;
      scratch[0] = v;
      scratch[1] = v.slice(s.prefix.length);
      return scratch;
    }
    case RegexKind.TestOnly:
      if (!s.test(v)) return null;
      scratch.length = 1;
      scratch[0] = v;
      return scratch;
    default: {
      const m = s.re!.matcher(v);
      if (!m.matches()) return null;
      scratch.length = s.groupCount + 1;
      for (let i = 0; i <= s.groupCount; i++) scratch[i] = m.group(i) ?? '';
      return scratch;
    }
  }
}

/**
 * The label set being relabeled: reads from the original Labels until the first change, then
 * from two sorted arrays (names, values) edited in place; the result is built from them
 * without re-sorting. New strings are interned when set.
 */
class State {
  labels: Labels = Labels.EMPTY;
  dirty = false;
  private names: string[] = [];
  private values: string[] = [];

  /** Index of `name` in the current set, or -(insertion point) - 1. */
  private find(name: string): number {
    let lo = 0;
    if (this.dirty) {
      const ns = this.names;
      let hi = ns.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const n = ns[mid]!;
        if (n === name) return mid;
        if (n < name) lo = mid + 1;
        else hi = mid - 1;
      }
      return -lo - 1;
    }
    // Binary search: target label sets have ~40 labels sharing long `__meta_…` prefixes.
    const ls = this.labels;
    let hi = ls.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = ls.nameAt(mid);
      if (n === name) return mid;
      if (n < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  get(name: string): string {
    const i = this.find(name);
    if (i < 0) return '';
    return this.dirty ? this.values[i]! : this.labels.valueAt(i);
  }

  /** Sets `name` to `value`; '' deletes. No-op (and no copy) when it is already so. */
  set(name: string, value: string): void {
    let i = this.find(name);
    const cur = i < 0 ? '' : this.dirty ? this.values[i]! : this.labels.valueAt(i);
    if (cur === value) return;
    if (!this.dirty) {
      const ls = this.labels;
      const n = ls.size;
      this.names.length = n;
      this.values.length = n;
      for (let k = 0; k < n; k++) {
        this.names[k] = ls.nameAt(k);
        this.values[k] = ls.valueAt(k);
      }
      this.dirty = true;
    }
    if (i >= 0) {
      if (value === '') {
        this.names.splice(i, 1);
        this.values.splice(i, 1);
      } else {
        this.values[i] = intern(value);
      }
    } else {
      i = -i - 1;
      this.names.splice(i, 0, intern(name));
      this.values.splice(i, 0, intern(value));
    }
  }

  /** Current labels as a flat [name, value, …] snapshot. */
  snapshot(): string[] {
    if (!this.dirty) return this.labels.toPairs();
    const n = this.names.length;
    const out = new Array<string>(2 * n);
    for (let k = 0; k < n; k++) {
      out[2 * k] = this.names[k]!;
      out[2 * k + 1] = this.values[k]!;
    }
    return out;
  }

  /** The result: the original Labels when nothing changed. Resets the state. */
  finish(): Labels {
    const out = this.dirty ? Labels.fromSortedPairsUnsafe(this.snapshot()) : this.labels;
    this.reset();
    return out;
  }

  reset(): void {
    this.labels = Labels.EMPTY;
    if (this.dirty) {
      this.dirty = false;
      this.names.length = 0;
      this.values.length = 0;
    }
  }
}

function sourceValue(st: State, s: Step): string {
  const ls = s.sourceLabels;
  if (ls.length === 1) return st.get(ls[0]!);
  if (ls.length === 0) return '';
  let v = st.get(ls[0]!);
  for (let i = 1; i < ls.length; i++) v += s.separator + st.get(ls[i]!);
  return v;
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Go's strings.ToLower / ToUpper: each code point through Unicode's simple case mapping (one
 * code point to one), unlike JS's full mapping ('ß' stays 'ß' in upper case, 'İ' lowers to 'i',
 * a final 'Σ' lowers to 'σ').
 */
export function goCase(s: string, upper: boolean): string {
  if (!NON_ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    if (!upper && ch === '\u0130') {
      out += 'i';
      continue;
    }
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    // A multi-code-point result comes from SpecialCasing; Go keeps the character.
    out += m.length === ch.length || [...m].length === 1 ? m : ch;
  }
  return out;
}

/** md5 of the value; the last 8 bytes as a big-endian uint64, mod `modulus` (as Prometheus). */
export function hashmod(value: string, modulus: number | bigint): bigint {
  const h = createHash('md5').update(value, 'utf8').digest();
  return h.readBigUInt64BE(8) % BigInt(modulus);
}

/** Applies one step; false = the label set is dropped. */
function apply(st: State, s: Step): boolean {
  switch (s.action) {
    case 'keep':
      return s.test(sourceValue(st, s));
    case 'drop':
      return !s.test(sourceValue(st, s));
    case 'keepequal':
      return st.get(s.targetLabel) === sourceValue(st, s);
    case 'dropequal':
      return st.get(s.targetLabel) !== sourceValue(st, s);
    case 'replace': {
      const val = sourceValue(st, s);
      const g = matchGroups(s, val);
      if (g === null) return true;
      const target = expand(s.target, g);
      if (!isValidLabelName(target)) return true;
      // An empty result deletes the label (set('') does).
      st.set(target, expand(s.replacement, g));
      return true;
    }
    case 'lowercase':
      st.set(s.targetLabel, goCase(sourceValue(st, s), false));
      return true;
    case 'uppercase':
      st.set(s.targetLabel, goCase(sourceValue(st, s), true));
      return true;
    case 'hashmod':
      st.set(s.targetLabel, hashmod(sourceValue(st, s), s.modulus).toString());
      return true;
    case 'labelmap': {
      // Iterate a fixed view: the original (immutable) Labels, or a copy once edited.
      if (!st.dirty) {
        const ls = st.labels;
        for (let i = 0, n = ls.size; i < n; i++) {
          const g = matchGroups(s, ls.nameAt(i));
          if (g === null) continue;
          const name = expand(s.replacement, g);
          if (name !== '') st.set(name, ls.valueAt(i));
        }
        return true;
      }
      const pairs = st.snapshot();
      for (let i = 0; i < pairs.length; i += 2) {
        const g = matchGroups(s, pairs[i]!);
        if (g === null) continue;
        const name = expand(s.replacement, g);
        if (name !== '') st.set(name, pairs[i + 1]!);
      }
      return true;
    }
    case 'labeldrop':
    case 'labelkeep': {
      const drop = s.action === 'labeldrop';
      if (!st.dirty) {
        const ls = st.labels;
        for (let i = 0, n = ls.size; i < n; i++) if (s.test(ls.nameAt(i)) === drop) st.set(ls.nameAt(i), '');
        return true;
      }
      const pairs = st.snapshot();
      for (let i = 0; i < pairs.length; i += 2) {
        if (s.test(pairs[i]!) === drop) st.set(pairs[i]!, '');
      }
      return true;
    }
    default: {
      const never: never = s.action;
      throw new RelabelError(`unknown relabel action ${String(never)}`);
    }
  }
}

const shared = new State();

/**
 * Applies `compiled` to `labels`. Returns null when a step drops the set, `labels` itself
 * when nothing changed, else the new label set. Synchronous and not re-entrant (it reuses one
 * scratch state); safe in single-threaded JS.
 *
 * @example
 * ```ts
 * const c = compileRelabelConfigs(scrapeConfig.relabelConfigs);
 * const out = relabel(Labels.fromPairs('__address__', 'a:80', 'job', 'x'), c); // null = dropped
 * ```
 */
export function relabel(labels: Labels, compiled: CompiledRelabel): Labels | null {
  const steps = compiled.steps;
  if (steps.length === 0) return labels;
  const st = shared;
  st.labels = labels;
  st.dirty = false;
  for (let i = 0; i < steps.length; i++) {
    if (!apply(st, steps[i]!)) {
      st.reset();
      return null;
    }
  }
  return st.finish();
}

/**
 * Applies `compiled` to a caller's builder (Prometheus's ProcessBuilder): on success the
 * builder holds the result; false when the set is dropped (the builder is then unchanged).
 */
export function relabelBuilder(builder: LabelsBuilder, compiled: CompiledRelabel): boolean {
  const out = relabel(builder.labels(), compiled);
  if (out === null) return false;
  builder.reset(out);
  return true;
}
