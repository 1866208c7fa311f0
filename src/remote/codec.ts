/**
 * Remote-write 1.0 (`prometheus.WriteRequest`) wire codec.
 *
 * Decoding walks the protobuf bytes directly and hands each time series to a callback with its
 * samples in reused typed arrays: a request carries thousands of samples, and protobufjs's
 * generated decoder would build an object per sample and per int64 timestamp. Encoding (the
 * sender side, and tests) uses the same schema via protobufjs.
 */
import protobuf from 'protobufjs';

/** MetricMetadata.MetricType as numbered in remote.proto / types.proto. */
export const METRIC_TYPE_NAMES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;
export type RemoteMetricType = (typeof METRIC_TYPE_NAMES)[number];

export interface RemoteMetadata {
  type: RemoteMetricType;
  family: string;
  help: string;
  unit: string;
}

/** Thrown for bytes that are not a valid WriteRequest; names the field and offset. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/** One TimeSeries of a request, as the decoder hands it over; valid only during the callback. */
export interface SeriesView {
  /**
   * The label pairs' raw protobuf bytes as a string: equal keys mean equal label lists, so a
   * receiver can cache its series lookup by it and skip decoding labels it has seen before.
   */
  key(): string;
  /** Decodes the label pairs into `names`/`values`; returns how many. */
  labels(names: string[], values: string[]): number;
  /** `n` samples in `ts` (ms) and `vs`; the arrays are reused for the next series. */
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly n: number;
  /** Native histogram samples, which Sextant does not store. */
  readonly histograms: number;
}

export interface SeriesVisitor {
  series(view: SeriesView): void;
  metadata?(m: RemoteMetadata): void;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

class Cursor {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    // Up to 64 bits into a double: exact to 2^53, which covers ms timestamps and lengths.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new WireError(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** A varint read as int64 (two's complement), as Sample.timestamp is; exact to ±2^53. */
  int64(): number {
    // Low 28 bits, then the rest as a second number: negative values are 10-byte varints whose
    // sum would lose the low bits in one double.
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else {
        hi += (b & 0x7f) * 2 ** shift;
        shift += 7;
      }
      if (b < 0x80) {
        // value = hi * 2^28 + lo (lo < 2^28), modulo 2^64 as a signed number.
        hi %= 2 ** 36;
        if (hi >= 2 ** 35) return (hi - 2 ** 36) * 2 ** 28 + lo;
        return hi * 2 ** 28 + lo;
      }
    }
    throw new WireError(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new WireError(`truncated double at offset ${this.pos}`);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Returns the end offset of a length-delimited field starting at the cursor. */
  lengthDelimited(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new WireError(`length ${len} at offset ${this.pos} runs past the end of its message`);
    return end;
  }

  string(): string {
    const end = this.lengthDelimited();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.pos = this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wireType} at offset ${this.pos}`);
    }
    if (this.pos > this.end) throw new WireError(`truncated field at offset ${this.pos}`);
  }
}

class View implements SeriesView {
  ts = new Float64Array(64);
  vs = new Float64Array(64);
  n = 0;
  histograms = 0;
  /** Start and end offsets of each Label field's bytes. */
  starts: number[] = [];
  ends: number[] = [];
  nLabels = 0;
  constructor(private readonly buf: Buffer) {}

  key(): string {
    if (this.nLabels === 0) return '';
    // Label fields are written first and back to back by every sender; join them otherwise.
    let contiguous = true;
    for (let i = 1; i < this.nLabels; i++) if (this.starts[i] !== this.ends[i - 1]) contiguous = false;
    if (contiguous) return this.buf.toString('latin1', this.starts[0]!, this.ends[this.nLabels - 1]!);
    let k = '';
    for (let i = 0; i < this.nLabels; i++) k += this.buf.toString('latin1', this.starts[i]!, this.ends[i]!) + '\xff';
    return k;
  }

  labels(names: string[], values: string[]): number {
    for (let i = 0; i < this.nLabels; i++) {
      const c = new Cursor(this.buf, this.starts[i]!, this.ends[i]!);
      c.varint(); // the field's tag
      c.lengthDelimited(); // and its length
      let name = '';
      let value = '';
      while (c.pos < c.end) {
        const t = c.varint();
        if (t === 10) name = c.string();
        else if (t === 18) value = c.string();
        else c.skip(t & 7);
      }
      names[i] = name;
      values[i] = value;
    }
    return this.nLabels;
  }

  push(t: number, v: number): void {
    if (this.n === this.ts.length) {
      const nt = new Float64Array(this.n * 2);
      nt.set(this.ts);
      this.ts = nt;
      const nv = new Float64Array(this.n * 2);
      nv.set(this.vs);
      this.vs = nv;
    }
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }
}

/** Decodes a WriteRequest, calling `visitor` per series and per metadata entry. Returns counts. */
export function decodeWriteRequest(buf: Buffer, visitor: SeriesVisitor): { series: number; samples: number } {
  const view = new View(buf);
  let seriesCount = 0;
  let sampleCount = 0;
  const c = new Cursor(buf, 0, buf.length);
  while (c.pos < c.end) {
    const tag = c.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_LEN) {
      // TimeSeries
      const end = c.lengthDelimited();
      view.n = 0;
      view.histograms = 0;
      view.nLabels = 0;
      while (c.pos < end) {
        const fieldStart = c.pos;
        const t2 = c.varint();
        const f2 = Math.floor(t2 / 8);
        const w2 = t2 & 7;
        if (f2 === 1 && w2 === WIRE_LEN) {
          const lend = c.lengthDelimited();
          if (lend > end) throw new WireError(`label overruns its time series at offset ${c.pos}`);
          view.starts[view.nLabels] = fieldStart;
          view.ends[view.nLabels] = lend;
          view.nLabels++;
          c.pos = lend;
        } else if (f2 === 2 && w2 === WIRE_LEN) {
          const send = c.lengthDelimited();
          let v = 0;
          let t = 0;
          while (c.pos < send) {
            const t3 = c.varint();
            if (t3 === 9) v = c.double();
            else if (t3 === 16) t = c.int64();
            else c.skip(t3 & 7);
          }
          if (c.pos !== send) throw new WireError(`sample overruns its length at offset ${c.pos}`);
          view.push(t, v);
        } else {
          if (f2 === 4 && w2 === WIRE_LEN) view.histograms++;
          c.skip(w2);
        }
      }
      if (c.pos !== end) throw new WireError(`time series overruns its length at offset ${c.pos}`);
      visitor.series(view);
      seriesCount++;
      sampleCount += view.n;
    } else if (field === 3 && wt === WIRE_LEN) {
      const end = c.lengthDelimited();
      const m: RemoteMetadata = { type: 'unknown', family: '', help: '', unit: '' };
      while (c.pos < end) {
        const t2 = c.varint();
        if (t2 === 8) m.type = METRIC_TYPE_NAMES[c.varint()] ?? 'unknown';
        else if (t2 === 18) m.family = c.string();
        else if (t2 === 34) m.help = c.string();
        else if (t2 === 42) m.unit = c.string();
        else c.skip(t2 & 7);
      }
      visitor.metadata?.(m);
    } else {
      c.skip(wt);
    }
  }
  return { series: seriesCount, samples: sampleCount };
}

const SCHEMA = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
`;

let writeRequestType: protobuf.Type | undefined;

/** The protobufjs type of prometheus.WriteRequest (encoding side). */
export function writeRequestSchema(): protobuf.Type {
  writeRequestType ??= protobuf.parse(SCHEMA, { keepCase: false }).root.lookupType('prometheus.WriteRequest');
  return writeRequestType;
}

export interface WriteSeries {
  labels: ReadonlyArray<{ name: string; value: string }>;
  samples: ReadonlyArray<{ value: number; timestamp: number }>;
}

/** Encodes a WriteRequest (unsnappied). */
export function encodeWriteRequest(series: readonly WriteSeries[], metadata: readonly RemoteMetadata[] = []): Uint8Array {
  const type = writeRequestSchema();
  return type
    .encode(
      type.fromObject({
        timeseries: series,
        metadata: metadata.map((m) => ({
          type: METRIC_TYPE_NAMES.indexOf(m.type),
          metricFamilyName: m.family,
          help: m.help,
          unit: m.unit,
        })),
      }),
    )
    .finish();
}
