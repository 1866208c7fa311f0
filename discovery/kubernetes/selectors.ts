/**
 * Kubernetes label and field selector syntax: parsing (to validate config before anything is
 * sent to the API server, with a message that names the problem) and matching (used by tests'
 * fake API server and by nothing on the discovery path: the API server does the filtering).
 */

/** One label-selector requirement. */
export type LabelRequirement =
  | { readonly op: 'exists' | 'notexists'; readonly key: string }
  | { readonly op: '=' | '!='; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: '>' | '<'; readonly key: string; readonly value: number };

/** One field-selector term (`key=value`, `key==value`, `key!=value`). */
export interface FieldRequirement {
  readonly key: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** Thrown by the parsers; the message names the offending part. */
export class SelectorError extends Error {}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string): void {
  const slash = key.indexOf('/');
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0) throw new SelectorError(`key "${key}": prefix part must be non-empty`);
    if (prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix)) {
      throw new SelectorError(`key "${key}": prefix part must be a lowercase DNS subdomain`);
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME_RE.test(name)) {
    throw new SelectorError(
      `key "${key}": name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`,
    );
  }
}

function checkValue(key: string, value: string): void {
  if (value.length > 63 || (value.length > 0 && !NAME_RE.test(value))) {
    throw new SelectorError(
      `value "${value}" for key "${key}": must be empty or 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`,
    );
  }
}

type Tok =
  | { t: 'id'; v: string; at: number }
  | { t: 'op'; v: '=' | '==' | '!=' | '!' | '>' | '<' | '(' | ')' | ','; at: number }
  | { t: 'end'; at: number };

function lexLabels(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '!' && s[i + 1] === '=') {
      out.push({ t: 'op', v: '!=', at: i });
      i += 2;
    } else if (c === '=' && s[i + 1] === '=') {
      out.push({ t: 'op', v: '==', at: i });
      i += 2;
    } else if (c === '=' || c === '!' || c === '>' || c === '<' || c === '(' || c === ')' || c === ',') {
      out.push({ t: 'op', v: c, at: i });
      i++;
    } else {
      const start = i;
      while (i < s.length && !' \t\n\r!=><(),'.includes(s[i])) i++;
      out.push({ t: 'id', v: s.slice(start, i), at: start });
    }
  }
  out.push({ t: 'end', at: s.length });
  return out;
}

/** Parses a label selector (`a=b,c!=d,e in (f,g),!h,i`). Empty = matches everything. */
export function parseLabelSelector(s: string): LabelRequirement[] {
  const toks = lexLabels(s);
  const reqs: LabelRequirement[] = [];
  let p = 0;
  const peek = (): Tok => toks[p];
  const fail = (msg: string): never => {
    throw new SelectorError(`${msg} at position ${peek().at}`);
  };
  if (peek().t === 'end') return reqs;
  for (;;) {
    let tok = peek();
    if (tok.t === 'op' && tok.v === '!') {
      p++;
      tok = peek();
      if (tok.t !== 'id') fail('expected a key after "!"');
      const key = (tok as { v: string }).v;
      checkKey(key);
      p++;
      reqs.push({ op: 'notexists', key });
    } else {
      if (tok.t !== 'id') fail('expected a key');
      const key = (tok as { v: string }).v;
      checkKey(key);
      p++;
      const op = peek();
      if (op.t === 'end' || (op.t === 'op' && op.v === ',')) {
        reqs.push({ op: 'exists', key });
      } else if (op.t === 'op' && (op.v === '=' || op.v === '==' || op.v === '!=')) {
        p++;
        const v = peek();
        let value = '';
        if (v.t === 'id') {
          value = v.v;
          p++;
        } else if (!(v.t === 'end' || (v.t === 'op' && v.v === ','))) {
          fail(`expected a value for key "${key}"`);
        }
        checkValue(key, value);
        reqs.push({ op: op.v === '!=' ? '!=' : '=', key, value });
      } else if (op.t === 'op' && (op.v === '>' || op.v === '<')) {
        p++;
        const v = peek();
        if (v.t !== 'id' || !/^-?[0-9]+$/.test(v.v)) fail(`expected an integer after "${op.v}" for key "${key}"`);
        reqs.push({ op: op.v, key, value: Number((v as { v: string }).v) });
        p++;
      } else if (op.t === 'id' && (op.v === 'in' || op.v === 'notin')) {
        p++;
        const open = peek();
        if (!(open.t === 'op' && open.v === '(')) fail(`expected "(" after "${op.v}"`);
        p++;
        const values: string[] = [];
        for (let n = 0; n <= s.length; n++) {
          const v = peek();
          if (v.t === 'id') {
            checkValue(key, v.v);
            values.push(v.v);
            p++;
          } else {
            values.push('');
          }
          const sep = peek();
          if (sep.t === 'op' && sep.v === ',') {
            p++;
            continue;
          }
          if (sep.t === 'op' && sep.v === ')') {
            p++;
            break;
          }
          fail(`expected "," or ")" in the value set of key "${key}"`);
        }
        reqs.push({ op: op.v, key, values: values.length === 1 && values[0] === '' ? [] : values });
      } else {
        fail(`unexpected "${(op as { v: string }).v}" after key "${key}"`);
      }
    }
    const sep = peek();
    if (sep.t === 'end') return reqs;
    if (!(sep.t === 'op' && sep.v === ',')) fail('expected ","');
    p++;
  }
}

/** True when `labels` satisfy every requirement. */
export function matchLabelSelector(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = has ? l[r.key] : undefined;
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case '=':
        if (v !== r.value) return false;
        break;
      case '!=':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case '>':
      case '<': {
        if (v === undefined || !/^-?[0-9]+$/.test(v)) return false;
        const n = Number(v);
        if (r.op === '>' ? !(n > r.value) : !(n < r.value)) return false;
        break;
      }
    }
  }
  return true;
}

/**
 * Parses a field selector (`metadata.name=x,spec.nodeName!=y`); `\,`, `\=` and `\\` escape.
 * Empty = matches everything.
 */
export function parseFieldSelector(s: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  // Split on unescaped commas.
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (i + 1 >= s.length) throw new SelectorError(`invalid escape sequence at end of "${s}"`);
      cur += c + s[i + 1];
      i++;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  for (const part of parts) {
    if (part === '') continue;
    let found = false;
    for (let i = 0; i < part.length && !found; i++) {
      if (part[i] === '\\') {
        i++;
        continue;
      }
      let op: '=' | '!=' | undefined;
      let len = 0;
      if (part.startsWith('!=', i)) {
        op = '!=';
        len = 2;
      } else if (part.startsWith('==', i)) {
        op = '=';
        len = 2;
      } else if (part[i] === '=') {
        op = '=';
        len = 1;
      }
      if (op !== undefined) {
        const key = part.slice(0, i);
        if (key === '') throw new SelectorError(`missing field name in "${part}"`);
        out.push({ key: unescapeField(key), op, value: unescapeField(part.slice(i + len)) });
        found = true;
      }
    }
    if (!found) throw new SelectorError(`"${part}" is not of the form field=value or field!=value`);
  }
  return out;
}

function unescapeField(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      const n = s[i + 1];
      if (n !== '\\' && n !== ',' && n !== '=') throw new SelectorError(`invalid escape sequence "\\${n ?? ''}" in "${s}"`);
      out += n;
      i++;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** Returns the parse error of a label selector, or undefined. */
export function checkLabelSelector(s: string): string | undefined {
  try {
    parseLabelSelector(s);
    return undefined;
  } catch (e) {
    if (e instanceof SelectorError) return e.message;
    throw e;
  }
}

/** Returns the parse error of a field selector, or undefined. */
export function checkFieldSelector(s: string): string | undefined {
  try {
    parseFieldSelector(s);
    return undefined;
  } catch (e) {
    if (e instanceof SelectorError) return e.message;
    throw e;
  }
}
