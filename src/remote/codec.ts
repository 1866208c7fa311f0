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

export interface SeriesVisitor {
  /**
   * One TimeSeries: its label pairs as written (`names[i]`, `values[i]` for i < nLabels), and
   * `n` samples in `ts` (ms) / `vs`. The arrays are reused for the next series.
   * `histograms` counts native histogram samples, which Sextant does not store.
   */
  series(names: string[], values: string[], nLabels: number, ts: Float64Array, vs: Float64Array, n: number, histograms: number): void;
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

/** Decodes a WriteRequest, calling `visitor` per series and per metadata entry. Returns counts. */
export function decodeWriteRequest(buf: Buffer, visitor: SeriesVisitor): { series: number; samples: number } {
  const names: string[] = [];
  const values: string[] = [];
  let ts = new Float64Array(64);
  let vs = new Float64Array(64);
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
      let nLabels = 0;
      let n = 0;
      let histograms = 0;
      while (c.pos < end) {
        const t2 = c.varint();
        const f2 = Math.floor(t2 / 8);
        const w2 = t2 & 7;
        if (f2 === 1 && w2 === WIRE_LEN) {
          const lend = c.lengthDelimited();
          let name = '';
          let value = '';
          const sub = new Cursor(buf, c.pos, lend);
          while (sub.pos < lend) {
            const t3 = sub.varint();
            if (t3 === 10) name = sub.string();
            else if (t3 === 18) value = sub.string();
            else sub.skip(t3 & 7);
          }
          names[nLabels] = name;
          values[nLabels] = value;
          nLabels++;
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
          if (n === ts.length) {
            const nt = new Float64Array(n * 2);
            nt.set(ts);
            ts = nt;
            const nv = new Float64Array(n * 2);
            nv.set(vs);
            vs = nv;
          }
          ts[n] = t;
          vs[n] = v;
          n++;
        } else {
          if (f2 === 4 && w2 === WIRE_LEN) histograms++;
          c.skip(w2);
        }
      }
      if (c.pos !== end) throw new WireError(`time series overruns its length at offset ${c.pos}`);
      visitor.series(names, values, nLabels, ts, vs, n, histograms);
      seriesCount++;
      sampleCount += n;
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
