/**
 * Writers of exposition formats for /federate: the text format 0.0.4 (as Go's expfmt writes it)
 * and varint-delimited protobuf MetricFamily messages.
 *
 * Usage: call `family()` when the metric name changes, then `series()` for each series of that
 * family (its `__name__` is taken from the labels), then `finish()`.
 */

import { isLegacyLabelName, isLegacyMetricName, METRIC_NAME, type Labels } from '../../storage/index.js';
import { formatGoFloat } from './floats.js';
import { MetricFamilyType, MetricTypeEnum } from './proto.js';
import type { MetricType } from './types.js';

/** Media types of the writers' output. */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** Label value escaping of the text formats: `\`, `"` and line feed. */
export function escapeLabelValue(v: string): string {
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** HELP escaping of the text format 0.0.4: `\` and line feed. */
export function escapeHelp(v: string): string {
  if (!/[\\\n]/.test(v)) return v;
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function textType(t: MetricType | 'untyped'): string {
  switch (t) {
    case 'counter':
    case 'gauge':
    case 'histogram':
    case 'summary':
      return t;
    default:
      return 'untyped';
  }
}

function quoteName(n: string): string {
  return '"' + escapeLabelValue(n) + '"';
}

/** Accumulates a text format 0.0.4 body. */
export class TextWriter {
  private readonly out: string[] = [];
  private size = 0;

  /** `# HELP` (when `help` is given) and `# TYPE` lines; unknown types are written as `untyped`. */
  family(name: string, type: MetricType | 'untyped' = 'untyped', help?: string): void {
    const n = isLegacyMetricName(name) ? name : quoteName(name);
    if (help !== undefined) this.push(`# HELP ${n} ${escapeHelp(help)}\n`);
    this.push(`# TYPE ${n} ${textType(type)}\n`);
  }

  /**
   * One sample line: `name{labels} value [timestamp]`, labels in the set's order without
   * `__name__`; a name outside the legacy character set goes quoted inside the braces.
   */
  series(labels: Labels, value: number, timestampMs?: number): void {
    this.push(formatSeriesLine(labels, value, timestampMs));
  }

  private push(s: string): void {
    this.out.push(s);
    this.size += s.length;
  }

  /** Characters written so far (for response size limits). */
  get length(): number {
    return this.size;
  }

  finish(): string {
    return this.out.join('');
  }
}

/** One text-format sample line (with its trailing line feed). */
export function formatSeriesLine(labels: Labels, value: number, timestampMs?: number): string {
  const name = labels.metricName();
  const legacy = isLegacyMetricName(name);
  let s = legacy ? name : '';
  let first = true;
  if (!legacy) {
    s += '{' + quoteName(name);
    first = false;
  }
  for (let i = 0; i < labels.size; i++) {
    const n = labels.nameAt(i);
    if (n === METRIC_NAME) continue;
    s += first ? '{' : ',';
    first = false;
    s += (isLegacyLabelName(n) ? n : quoteName(n)) + '="' + escapeLabelValue(labels.valueAt(i)) + '"';
  }
  if (!first) s += '}';
  s += ' ' + formatGoFloat(value);
  if (timestampMs !== undefined) s += ' ' + String(timestampMs);
  return s + '\n';
}

const PB_TYPES: Partial<Record<MetricType | 'untyped', number>> = {
  counter: MetricTypeEnum.COUNTER,
  gauge: MetricTypeEnum.GAUGE,
};

interface PbMetric {
  label: { name: string; value: string }[];
  counter?: { value: number };
  gauge?: { value: number };
  untyped?: { value: number };
  timestampMs?: number;
}

/** Accumulates varint-delimited MetricFamily messages (counter, gauge, otherwise untyped). */
export class ProtobufWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private name = '';
  private help: string | undefined;
  private type: number = MetricTypeEnum.UNTYPED;
  private metrics: PbMetric[] = [];

  family(name: string, type: MetricType | 'untyped' = 'untyped', help?: string): void {
    this.flush();
    this.name = name;
    this.help = help;
    this.type = PB_TYPES[type] ?? MetricTypeEnum.UNTYPED;
  }

  series(labels: Labels, value: number, timestampMs?: number): void {
    const label: { name: string; value: string }[] = [];
    labels.forEach((n, v) => {
      if (n !== METRIC_NAME) label.push({ name: n, value: v });
    });
    const m: PbMetric = { label };
    if (this.type === MetricTypeEnum.COUNTER) m.counter = { value };
    else if (this.type === MetricTypeEnum.GAUGE) m.gauge = { value };
    else m.untyped = { value };
    if (timestampMs !== undefined) m.timestampMs = timestampMs;
    this.metrics.push(m);
  }

  private flush(): void {
    if (this.metrics.length === 0) return;
    const msg: Record<string, unknown> = { name: this.name, type: this.type, metric: this.metrics };
    if (this.help !== undefined) msg['help'] = this.help;
    const bytes = MetricFamilyType.encodeDelimited(MetricFamilyType.fromObject(msg)).finish();
    this.chunks.push(bytes);
    this.size += bytes.length;
    this.metrics = [];
  }

  /** Bytes written so far (complete families only). */
  get length(): number {
    return this.size;
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}
