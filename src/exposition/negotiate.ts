/**
 * Content negotiation for scrapes, as Prometheus 3.x does it: the `Accept` header built from
 * `scrape_protocols`, and the parser chosen from the response's `Content-Type` (with
 * `fallback_scrape_protocol` when it is missing, unparsable or unsupported).
 */

import type { ScrapeProtocol } from '../config/types.js';
import { OpenMetricsParser, PromTextParser, type TextParserOptions } from './text.js';
import { ProtobufParser } from './protobuf.js';
import type { MetricParser } from './types.js';

/** The media type (with parameters) Prometheus sends for each protocol (config.ScrapeProtocolsHeaders). */
export const SCRAPE_PROTOCOL_HEADERS: Readonly<Record<ScrapeProtocol, string>> = Object.freeze({
  PrometheusProto: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'PrometheusText0.0.4': 'text/plain;version=0.0.4',
  'PrometheusText1.0.0': 'text/plain;version=1.0.0',
  'OpenMetricsText0.0.1': 'application/openmetrics-text;version=0.0.1',
  'OpenMetricsText1.0.0': 'application/openmetrics-text;version=1.0.0',
});

/** `metric_name_escaping_scheme` values that go into the Accept header. */
export type EscapingScheme = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

/**
 * Prometheus's Accept header for `protocols` in preference order: each gets a q-weight one
 * tenth lower than the previous, starting at 0.(n+1) where n is the number of known protocols
 * (5), then `*\/*` last. The 1.0.0 text formats carry `escaping=<scheme>` (3.x default
 * `allow-utf-8`).
 *
 * @example
 * acceptHeader(['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'])
 * // 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,
 * //  text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*\/*;q=0.2'
 */
export function acceptHeader(protocols: readonly ScrapeProtocol[], escaping: EscapingScheme = 'allow-utf-8'): string {
  const vals: string[] = [];
  let weight = 6; // len(ScrapeProtocolsHeaders) + 1
  for (const p of protocols) {
    let v = SCRAPE_PROTOCOL_HEADERS[p];
    if (v === undefined) throw new Error(`unknown scrape protocol ${JSON.stringify(p)}`);
    if (p === 'PrometheusText1.0.0' || p === 'OpenMetricsText1.0.0') v += `;escaping=${escaping}`;
    vals.push(`${v};q=0.${weight}`);
    weight--;
  }
  vals.push(`*/*;q=0.${weight}`);
  return vals.join(',');
}

/** A parsed `Content-Type`: lower-cased media type and parameters (names lower-cased). */
export interface MediaType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses a Content-Type as Go's mime.ParseMediaType does in essence; null when malformed. */
export function parseMediaType(v: string): MediaType | null {
  const parts = splitParams(v);
  if (parts === null) return null;
  const type = parts[0]!.trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0 || slash === type.length - 1) return null;
  if (!TOKEN.test(type.slice(0, slash)) || !TOKEN.test(type.slice(slash + 1))) return null;
  const params: Record<string, string> = {};
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    const k = p.slice(0, eq).trim().toLowerCase();
    let val = p.slice(eq + 1).trim();
    if (!TOKEN.test(k)) return null;
    if (val.startsWith('"')) {
      if (val.length < 2 || !val.endsWith('"')) return null;
      val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (!TOKEN.test(val)) return null;
    if (Object.hasOwn(params, k)) return null; // duplicate parameter
    params[k] = val;
  }
  return { type, params };
}

/** Splits on `;` outside quoted strings; null on an unterminated quote. */
function splitParams(v: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (inQ) {
      cur += c;
      if (c === '\\' && i + 1 < v.length) cur += v[++i];
      else if (c === '"') inQ = false;
    } else if (c === '"') {
      inQ = true;
      cur += c;
    } else if (c === ';') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (inQ) return null;
  out.push(cur);
  return out;
}

/** Thrown when no parser can be chosen for a response. */
export class ContentTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentTypeError';
  }
}

export interface ParserChoice {
  readonly parser: MetricParser;
  /** The protocol the body is parsed as. */
  readonly protocol: ScrapeProtocol;
  /** Set when the fallback protocol was used (Prometheus logs it at debug level per scrape). */
  readonly warning?: string;
}

export interface ParserForOptions {
  /** `fallback_scrape_protocol`. */
  readonly fallback?: ScrapeProtocol;
  /** OpenMetrics: see {@link TextParserOptions.skipCreatedSeries}. */
  readonly skipCreatedSeries?: boolean;
}

function protocolOf(m: MediaType): ScrapeProtocol | null {
  switch (m.type) {
    case 'application/openmetrics-text':
      return m.params['version'] === '0.0.1' ? 'OpenMetricsText0.0.1' : 'OpenMetricsText1.0.0';
    case 'application/vnd.google.protobuf':
      return 'PrometheusProto';
    case 'text/plain':
      return m.params['version'] === '1.0.0' ? 'PrometheusText1.0.0' : 'PrometheusText0.0.4';
    default:
      return null;
  }
}

/** A parser of `body` for `protocol`. */
export function parserForProtocol(protocol: ScrapeProtocol, body: Buffer, opts: TextParserOptions = {}): MetricParser {
  switch (protocol) {
    case 'PrometheusProto':
      return new ProtobufParser(body);
    case 'OpenMetricsText0.0.1':
    case 'OpenMetricsText1.0.0':
      return new OpenMetricsParser(body, opts);
    default:
      return new PromTextParser(body);
  }
}

/**
 * Picks the parser for a scrape response as Prometheus 3.x (textparse.New): by media type;
 * when the Content-Type is missing, unparsable or unsupported, `opts.fallback` is used with a
 * warning, and without a fallback a {@link ContentTypeError} is thrown with Prometheus's message.
 * (Decompression is the caller's job.)
 */
export function parserFor(contentType: string | undefined, body: Buffer, opts: ParserForOptions = {}): ParserChoice {
  const fb = opts.fallback;
  const popts: TextParserOptions = { skipCreatedSeries: opts.skipCreatedSeries === true };
  const ct = contentType ?? '';
  if (ct === '') {
    if (fb === undefined) {
      throw new ContentTypeError('non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target');
    }
    return {
      parser: parserForProtocol(fb, body, popts),
      protocol: fb,
      warning: `non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol ${JSON.stringify(fb)}`,
    };
  }
  const m = parseMediaType(ct);
  if (m === null) {
    if (fb === undefined) {
      throw new ContentTypeError(`cannot parse Content-Type ${JSON.stringify(ct)} and no fallback_scrape_protocol for target`);
    }
    return {
      parser: parserForProtocol(fb, body, popts),
      protocol: fb,
      warning: `could not parse received Content-Type ${JSON.stringify(ct)}, using fallback_scrape_protocol ${JSON.stringify(fb)}`,
    };
  }
  const p = protocolOf(m);
  if (p !== null) return { parser: parserForProtocol(p, body, popts), protocol: p };
  if (fb === undefined) {
    throw new ContentTypeError(`received unsupported Content-Type ${JSON.stringify(ct)} and no fallback_scrape_protocol specified for target`);
  }
  return {
    parser: parserForProtocol(fb, body, popts),
    protocol: fb,
    warning: `received unsupported Content-Type ${JSON.stringify(ct)}, using fallback_scrape_protocol ${JSON.stringify(fb)}`,
  };
}
