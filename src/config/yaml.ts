/**
 * A strict reader over a `yaml` Document that keeps positions: every value is read through a
 * {@link MapReader} that knows its YAML path, rejects unknown keys and wrong types with the
 * file:line:column of the node, and decodes scalars as Go's yaml.v2 does for Prometheus
 * (any scalar is accepted as a string, in its source spelling; booleans in YAML 1.1 spelling).
 */
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type Scalar,
} from 'yaml';
import { ConfigError } from './errors.js';
import { parseDuration, parseSize } from './units.js';

/** Largest integer accepted for int fields (Go's uint64 does not fit a JS number exactly). */
const MAX_INT = Number.MAX_SAFE_INTEGER;

/** One parsed YAML file with positions. */
export class Source {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  private readonly lc = new LineCounter();

  /** Throws ConfigError on YAML syntax errors. */
  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.doc = parseDocument(text, {
      lineCounter: this.lc,
      version: '1.1', // yaml.v2's booleans (yes/no/on/off) and merge keys
      merge: true,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
    });
    const err = this.doc.errors[0];
    if (err) {
      const off = err.pos[0];
      const { line, col } = this.lc.linePos(off);
      let msg = err.message.split('\n')[0]!;
      if (err.code === 'DUPLICATE_KEY') {
        const key = /^[^:\n]*/.exec(text.slice(off))![0].trim().replace(/^(['"])(.*)\1$/, '$2');
        msg = `mapping key ${JSON.stringify(key)} already defined`;
      }
      throw new ConfigError(file, line, col, '', `yaml: ${msg}`);
    }
  }

  /** The root node, or null for an empty document. */
  root(): Node | null {
    return this.resolve(this.doc.contents as Node | null);
  }

  /** Follows aliases; a null scalar is returned as null. */
  resolve(node: Node | null | undefined): Node | null {
    let n = node ?? null;
    for (let i = 0; i < 100 && n !== null && isAlias(n); i++) {
      n = (n.resolve(this.doc) as Node | undefined) ?? null;
    }
    if (n !== null && isScalar(n) && n.value === null) return null;
    return n;
  }

  error(node: Node | null | undefined, path: string, reason: string): ConfigError {
    const off = node?.range?.[0];
    if (off === undefined) return new ConfigError(this.file, 0, 0, path, reason);
    const { line, col } = this.lc.linePos(off);
    return new ConfigError(this.file, line, col, path, reason);
  }
}

/** Go yaml.v2's tag name for a node, for "cannot unmarshal" errors. */
export function tagOf(node: Node): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return '!!str';
    if (typeof v === 'boolean') return '!!bool';
    if (typeof v === 'number') return Number.isInteger(v) && !/[.eE]/.test(node.source ?? '') ? '!!int' : '!!float';
    if (v === null) return '!!null';
  }
  return '!!' + typeof node;
}

function unmarshalError(node: Node, into: string): string {
  const t = tagOf(node);
  if (isScalar(node)) return `cannot unmarshal ${t} \`${scalarText(node)}\` into ${into}`;
  return `cannot unmarshal ${t} into ${into}`;
}

/** A scalar's text as yaml.v2 hands it to a string field. */
function scalarText(node: Scalar): string {
  const v = node.value;
  if (typeof v === 'string') return v;
  if (node.source !== undefined && node.type === 'PLAIN') return node.source;
  return String(v);
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

interface Entry {
  readonly key: Node;
  readonly value: Node | null;
}

/** An item of a sequence with its path. */
export interface Item {
  readonly node: Node | null;
  readonly path: string;
}

/**
 * Reads a YAML mapping as one Prometheus config struct. Construct it with the struct's allowed
 * keys: any other key is an error at that key ("field x not found in type y").
 */
export class MapReader {
  readonly src: Source;
  readonly node: Node | null;
  readonly path: string;
  readonly typeName: string;
  private readonly entries = new Map<string, Entry>();

  constructor(src: Source, node: Node | null, path: string, typeName: string, allowed: readonly string[] | null) {
    this.src = src;
    this.node = node;
    this.path = path;
    this.typeName = typeName;
    if (node === null) return;
    if (!isMap(node)) throw src.error(node, path, unmarshalError(node, typeName));
    this.collect(node.items as Pair<Node, Node>[], allowed, 0);
  }

  private collect(items: Pair<Node, Node>[], allowed: readonly string[] | null, depth: number): void {
    const merges: Node[] = [];
    for (const pair of items) {
      const key = pair.key as Node;
      const name = isScalar(key) ? scalarText(key) : undefined;
      if (name === '<<' && isScalar(key) && key.type === 'PLAIN') {
        merges.push(pair.value as Node);
        continue;
      }
      if (name === undefined) throw this.src.error(key, this.path, `invalid key in ${this.typeName}: ${tagOf(key)}`);
      if (allowed !== null && !allowed.includes(name)) {
        throw this.src.error(key, this.path, `field ${name} not found in type ${this.typeName}`);
      }
      if (this.entries.has(name)) {
        if (depth === 0) throw this.src.error(key, this.path, `mapping key "${name}" already defined`);
        continue; // a merged key never overrides an explicit one
      }
      this.entries.set(name, { key, value: this.src.resolve(pair.value as Node) });
    }
    if (depth > 8) throw this.src.error(this.node, this.path, 'merge keys nested too deeply');
    for (const m of merges) {
      const r = this.src.resolve(m);
      const maps = r !== null && isSeq(r) ? r.items.map((x) => this.src.resolve(x as Node)) : [r];
      for (const mm of maps) {
        if (mm === null || !isMap(mm)) throw this.src.error(m, this.path, 'map merge requires map or sequence of maps as the value');
        this.collect(mm.items as Pair<Node, Node>[], allowed, depth + 1);
      }
    }
  }

  /** True when the key is present with a non-null value. */
  has(key: string): boolean {
    return (this.entries.get(key)?.value ?? null) !== null;
  }

  /** True when the key is present at all (even `key:` with no value). */
  present(key: string): boolean {
    return this.entries.has(key);
  }

  keyNode(key: string): Node | null {
    return this.entries.get(key)?.key ?? null;
  }

  valueNode(key: string): Node | null {
    return this.entries.get(key)?.value ?? null;
  }

  /** Position for an error about `key`: its value, else its key, else the map. */
  at(key: string): Node | null {
    return this.valueNode(key) ?? this.keyNode(key) ?? this.node;
  }

  keyPath(key: string): string {
    return joinPath(this.path, key);
  }

  fail(key: string | undefined, reason: string): ConfigError {
    if (key === undefined) return this.src.error(this.node, this.path, reason);
    return this.src.error(this.at(key), this.keyPath(key), reason);
  }

  /** Keys present, in document order. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  private scalar(key: string, into: string): Scalar | undefined {
    const v = this.valueNode(key);
    if (v === null) return undefined;
    if (!isScalar(v)) throw this.src.error(v, this.keyPath(key), unmarshalError(v, into));
    return v;
  }

  str(key: string): string | undefined {
    const s = this.scalar(key, 'string');
    return s === undefined ? undefined : scalarText(s);
  }

  /** A `<secret>` field: read like str (formatConfig prints it as `<secret>`). */
  secret(key: string): string | undefined {
    const s = this.scalar(key, 'Secret');
    return s === undefined ? undefined : scalarText(s);
  }

  bool(key: string, def: boolean): boolean {
    const s = this.scalar(key, 'bool');
    if (s === undefined) return def;
    if (typeof s.value !== 'boolean') throw this.src.error(s, this.keyPath(key), unmarshalError(s, 'bool'));
    return s.value;
  }

  /** A non-negative integer (Go uint / int fields that must not be negative). */
  uint(key: string, def: number): number {
    const s = this.scalar(key, 'uint');
    if (s === undefined) return def;
    const v = s.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_INT || tagOf(s) !== '!!int') {
      throw this.src.error(s, this.keyPath(key), unmarshalError(s, 'uint'));
    }
    return v;
  }

  int(key: string, def: number): number {
    const s = this.scalar(key, 'int');
    if (s === undefined) return def;
    const v = s.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > MAX_INT || tagOf(s) !== '!!int') {
      throw this.src.error(s, this.keyPath(key), unmarshalError(s, 'int'));
    }
    return v;
  }

  float(key: string, def: number): number {
    const s = this.scalar(key, 'float64');
    if (s === undefined) return def;
    if (typeof s.value !== 'number') throw this.src.error(s, this.keyPath(key), unmarshalError(s, 'float64'));
    return s.value;
  }

  /** A Prometheus duration in milliseconds, or undefined when absent. */
  duration(key: string): number | undefined {
    const s = this.scalar(key, 'model.Duration');
    if (s === undefined) return undefined;
    const text = scalarText(s);
    const ms = parseDuration(text);
    if (ms === undefined) throw this.src.error(s, this.keyPath(key), `not a valid duration string: "${text}"`);
    return ms;
  }

  /** A `<size>` in bytes, or undefined when absent. */
  size(key: string): number | undefined {
    const s = this.scalar(key, 'units.Base2Bytes');
    if (s === undefined) return undefined;
    const text = scalarText(s);
    const r = parseSize(text);
    if (typeof r === 'string') throw this.src.error(s, this.keyPath(key), r);
    return r;
  }

  /** The items of a sequence value ([] when absent or null). */
  seq(key: string, into: string): Item[] {
    const v = this.valueNode(key);
    if (v === null) return [];
    if (!isSeq(v)) throw this.src.error(v, this.keyPath(key), unmarshalError(v, into));
    const base = this.keyPath(key);
    return v.items.map((n, i) => ({ node: this.src.resolve(n as Node), path: joinPath(base, i) }));
  }

  /** A list of strings; undefined when absent or null. */
  strList(key: string): string[] | undefined {
    const v = this.valueNode(key);
    if (v === null) return undefined;
    if (!isSeq(v)) throw this.src.error(v, this.keyPath(key), unmarshalError(v, '[]string'));
    const out: string[] = [];
    v.items.forEach((raw, i) => {
      const n = this.src.resolve(raw as Node);
      if (n === null) {
        out.push('');
        return;
      }
      if (!isScalar(n)) throw this.src.error(n, joinPath(this.keyPath(key), i), unmarshalError(n, 'string'));
      out.push(scalarText(n));
    });
    return out;
  }

  /** A map of string → string (e.g. labels, headers); undefined when absent. */
  strMap(key: string): { value: Record<string, string>; nodes: Map<string, { key: Node; value: Node | null }> } | undefined {
    const v = this.valueNode(key);
    if (v === null) return undefined;
    if (!isMap(v)) throw this.src.error(v, this.keyPath(key), unmarshalError(v, 'map[string]string'));
    const value: Record<string, string> = Object.create(null) as Record<string, string>;
    const nodes = new Map<string, { key: Node; value: Node | null }>();
    for (const pair of v.items as Pair<Node, Node>[]) {
      const k = pair.key;
      if (!isScalar(k)) throw this.src.error(k, this.keyPath(key), unmarshalError(k, 'string'));
      const name = scalarText(k);
      const vn = this.src.resolve(pair.value);
      let text = '';
      if (vn !== null) {
        if (!isScalar(vn)) throw this.src.error(vn, joinPath(this.keyPath(key), name), unmarshalError(vn, 'string'));
        text = scalarText(vn);
      }
      value[name] = text;
      nodes.set(name, { key: k, value: vn });
    }
    return { value, nodes };
  }

  /** A map of string → list of strings (params, proxy_connect_header). */
  strListMap(key: string): Record<string, string[]> | undefined {
    const v = this.valueNode(key);
    if (v === null) return undefined;
    if (!isMap(v)) throw this.src.error(v, this.keyPath(key), unmarshalError(v, 'map[string][]string'));
    const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    const inner = new MapReader(this.src, v, this.keyPath(key), 'map[string][]string', null);
    for (const k of inner.keys()) out[k] = inner.strList(k) ?? [];
    return out;
  }

  /** A nested struct; a reader over null (all defaults) when absent. `allowed` null = any key. */
  sub(key: string, typeName: string, allowed: readonly string[] | null): MapReader {
    return new MapReader(this.src, this.valueNode(key), this.keyPath(key), typeName, allowed);
  }

  /** The generic child reader for a sequence item. */
  static item(src: Source, item: Item, typeName: string, allowed: readonly string[]): MapReader {
    return new MapReader(src, item.node, item.path, typeName, allowed);
  }
}
