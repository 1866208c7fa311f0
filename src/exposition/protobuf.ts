/**
 * Pull parser for varint-delimited `io.prometheus.client.MetricFamily` messages
 * (`application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`).
 *
 * It reads the protobuf wire format directly from the body (no decoded message objects): per
 * family it emits `help`, `unit` (when set), `type`, then the series of each Metric, expanded
 * as Prometheus's ProtobufParser does:
 * - counter, gauge, untyped: one series each;
 * - summary: `<name>_count`, `<name>_sum`, then `<name>{quantile="…"}` per quantile;
 * - histogram and gauge histogram with classic buckets: `<name>_count`, `<name>_sum`, then
 *   `<name>_bucket{le="…"}` per bucket, plus `le="+Inf"` (value = count) when the last bucket
 *   is not +Inf.
 * Native-histogram-only metrics (no classic buckets, but a schema, spans or a zero bucket) are
 * skipped entirely: Sextant does not store native histograms, and Prometheus without native
 * histogram ingestion stores nothing for them either.
 *
 * The series key is synthesised from the bytes of the family name, the label pairs and the
 * expanded suffix, so it is stable across scrapes of an unchanged exposition.
 */

import { isUtf8 } from 'node:buffer';
import { Labels, LabelsBuilder, METRIC_NAME } from '../../storage/index.js';
import { formatOpenMetricsFloatCached as formatOpenMetricsFloat } from './floats.js';
import { MetricTypeEnum } from './proto.js';
import { ExpositionError, type EntryKind, type Exemplar, type MetricParser, type MetricType } from './types.js';

interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const TYPE_NAMES: readonly MetricType[] = ['counter', 'gauge', 'summary', 'unknown', 'histogram', 'gaugehistogram'];

/** Upper bound on quantiles / buckets per metric and labels per metric. */
const MAX_REPEATED = 1 << 16;

const enum Step {
  Help,
  Unit,
  Type,
  Series,
}

/** Suffix codes of expanded series. */
const SFX_NONE = 0;
const SFX_COUNT = 1;
const SFX_SUM = 2;
const SFX_BUCKET = 3;
const SUFFIX = ['', '_count', '_sum', '_bucket'];

const f64 = new Float64Array(1);
const u8 = new Uint8Array(f64.buffer);

export class ProtobufParser implements MetricParser {
  private readonly buf: FastBuffer;
  private readonly end: number;
  private pos = 0;
  private msgIndex = 0;

  // Current family.
  private famE = 0;
  private nameS = 0;
  private nameE = 0;
  private helpS = 0;
  private helpE = 0;
  private unitS = 0;
  private unitE = 0;
  private ftype = 3;
  private famName = '';
  private famCursor = 0;
  private step = Step.Help;

  // Current metric.
  private lab = new Int32Array(32);
  private nLab = 0;
  private labKey = '';
  private tsMs = 0;
  private hasTs = false;
  private scalar = 0;
  private count = 0;
  private countFloat = 0;
  private sum = 0;
  private created: number | undefined = undefined;
  private bounds = new Float64Array(16);
  private vals = new Float64Array(16);
  /** Per quantile/bucket: start of its exemplar message, or -1. */
  private exPos = new Int32Array(16);
  private exEndPos = new Int32Array(16);
  private nRep = 0;
  private exemplarS = -1;
  private exemplarE = -1;
  /** Position inside the expansion: -2 count, -1 sum, 0..nRep-1 quantiles/buckets, nRep synthetic +Inf. */
  private fieldPos = 0;
  private fieldEnd = 0;

  // Current series.
  private sfx = SFX_NONE;
  private value_ = 0;
  private extraName = '';
  private extraValue = '';

  constructor(body: Buffer) {
    this.buf = body as FastBuffer;
    this.end = body.length;
  }

  private fail(reason: string): never {
    throw new ExpositionError(this.msgIndex, reason);
  }

  // ---------------------------------------------------------------------------------------------
  // Wire format

  private p = 0;

  private varint(limit: number): number {
    const b = this.buf;
    let p = this.p;
    let x = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (p >= limit) this.fail('truncated varint');
      const c = b[p++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.p = p;
        return x;
      }
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A signed int64 varint (two's complement for negatives). */
  private varint64(limit: number): number {
    const b = this.buf;
    let p = this.p;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let k = 0; k < 10; k++) {
      if (p >= limit) this.fail('truncated varint');
      const c = b[p++]!;
      if (shift < 28) lo |= (c & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (c & 0x0f) << 28;
        hi |= (c & 0x7f) >> 4;
      } else hi |= (c & 0x7f) << (shift - 32);
      shift += 7;
      if (c < 0x80) {
        this.p = p;
        return (hi | 0) * 4294967296 + (lo >>> 0);
      }
    }
    this.fail('varint longer than 10 bytes');
  }

  private double(limit: number): number {
    const p = this.p;
    if (p + 8 > limit) this.fail('truncated double');
    const b = this.buf;
    for (let k = 0; k < 8; k++) u8[k] = b[p + k]!;
    this.p = p + 8;
    return f64[0]!;
  }

  /** Skips a field of the given wire type. */
  private skip(wt: number, limit: number): void {
    switch (wt) {
      case 0:
        this.varint(limit);
        return;
      case 1:
        this.p += 8;
        break;
      case 2: {
        const n = this.varint(limit);
        this.p += n;
        break;
      }
      case 5:
        this.p += 4;
        break;
      default:
        this.fail(`unsupported wire type ${wt}`);
    }
    if (this.p > limit) this.fail('truncated field');
  }

  /** Reads a length prefix at this.p; returns the end of the sub-message. */
  private sub(limit: number): number {
    const n = this.varint(limit);
    const e = this.p + n;
    if (e > limit) this.fail('truncated message');
    return e;
  }

  // ---------------------------------------------------------------------------------------------
  // Iteration

  next(): EntryKind | null {
    for (;;) {
      switch (this.step) {
        case Step.Help:
          if (!this.nextFamily()) return null;
          this.step = this.unitE > this.unitS ? Step.Unit : Step.Type;
          return 'help';
        case Step.Unit:
          this.step = Step.Type;
          return 'unit';
        case Step.Type:
          this.step = Step.Series;
          this.fieldPos = 0;
          this.fieldEnd = 0;
          return 'type';
        case Step.Series:
          if (this.nextSeries()) return 'series';
          this.step = Step.Help;
          continue;
      }
    }
  }

  /** Reads the next non-empty family header; false at the end of input. */
  private nextFamily(): boolean {
    const b = this.buf;
    for (;;) {
      if (this.pos >= this.end) return false;
      this.msgIndex++;
      this.p = this.pos;
      const e = this.sub(this.end);
      const s = this.p;
      this.famE = e;
      this.pos = e;
      this.nameS = this.nameE = this.helpS = this.helpE = this.unitS = this.unitE = 0;
      this.ftype = MetricTypeEnum.UNTYPED;
      let metrics = 0;
      while (this.p < e) {
        const tag = this.varint(e);
        const field = tag >>> 3;
        const wt = tag & 7;
        if (wt === 2 && (field === 1 || field === 2 || field === 5 || field === 4)) {
          const fe = this.sub(e);
          if (field === 1) (this.nameS = this.p), (this.nameE = fe);
          else if (field === 2) (this.helpS = this.p), (this.helpE = fe);
          else if (field === 5) (this.unitS = this.p), (this.unitE = fe);
          else metrics++;
          this.p = fe;
        } else if (field === 3 && wt === 0) {
          this.ftype = this.varint(e);
        } else {
          this.skip(wt, e);
        }
      }
      if (metrics === 0) continue; // Prometheus skips empty families.
      let high = false;
      for (let i = this.nameS; i < this.nameE; i++) if (b[i]! >= 0x80) high = true;
      if (this.nameE === this.nameS || (high && !isUtf8(b.subarray(this.nameS, this.nameE)))) {
        this.fail(`invalid metric name: ${JSON.stringify(b.toString('utf8', this.nameS, this.nameE))}`);
      }
      if (this.ftype < 0 || this.ftype > 5) this.fail(`unknown metric type ${this.ftype}`);
      this.famName = high ? b.utf8Slice(this.nameS, this.nameE) : b.latin1Slice(this.nameS, this.nameE);
      this.famCursor = s;
      return true;
    }
  }

  /** Advances to the next expanded series of the current family. */
  private nextSeries(): boolean {
    for (;;) {
      if (this.fieldPos < this.fieldEnd) {
        this.setSeries(this.fieldPos++);
        return true;
      }
      if (!this.nextMetric()) return false;
    }
  }

  /** Reads the next Metric of the family; false when the family is done. */
  private nextMetric(): boolean {
    const e = this.famE;
    const t = this.ftype;
    for (;;) {
      this.p = this.famCursor;
      let ms = -1;
      let me = -1;
      while (this.p < e) {
        const tag = this.varint(e);
        if (tag === ((4 << 3) | 2)) {
          me = this.sub(e);
          ms = this.p;
          this.p = me;
          break;
        }
        this.skip(tag & 7, e);
      }
      this.famCursor = this.p;
      if (ms < 0) return false;
      if (this.readMetric(ms, me, t)) return true;
    }
  }

  private readMetric(s: number, e: number, t: number): boolean {
    const b = this.buf;
    this.nLab = 0;
    this.labDecoded = false;
    this.hasTs = false;
    this.tsMs = 0;
    this.scalar = 0;
    this.count = 0;
    this.countFloat = 0;
    this.sum = 0;
    this.created = undefined;
    this.nRep = 0;
    this.exemplarS = -1;
    let subS = -1;
    let subE = -1;
    const want = t === MetricTypeEnum.COUNTER ? 3 : t === MetricTypeEnum.GAUGE ? 2 : t === MetricTypeEnum.SUMMARY ? 4 : t === MetricTypeEnum.UNTYPED ? 5 : 7;
    this.p = s;
    let key = '';
    while (this.p < e) {
      const tag = this.varint(e);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 2) {
        const le = this.sub(e);
        const ls = this.p;
        this.readLabelPair(ls, le);
        key += b.latin1Slice(ls, le) + '\xff';
        this.p = le;
      } else if (field === want && wt === 2) {
        subE = this.sub(e);
        subS = this.p;
        this.p = subE;
      } else if (field === 6 && wt === 0) {
        this.tsMs = this.varint64(e);
        this.hasTs = this.tsMs !== 0; // Prometheus: 0 means no timestamp
      } else {
        this.skip(wt, e);
      }
    }
    this.labKey = key;
    switch (t) {
      case MetricTypeEnum.COUNTER:
      case MetricTypeEnum.GAUGE:
      case MetricTypeEnum.UNTYPED:
        if (subS >= 0) this.readScalar(subS, subE, t === MetricTypeEnum.COUNTER);
        this.fieldPos = 0;
        this.fieldEnd = 1;
        return true;
      case MetricTypeEnum.SUMMARY:
        if (subS >= 0) this.readSummary(subS, subE);
        this.fieldPos = -2;
        this.fieldEnd = this.nRep;
        return true;
      default: {
        let native = false;
        if (subS >= 0) native = this.readHistogram(subS, subE);
        if (this.nRep === 0 && native) return false; // native-only: skipped
        const n = this.nRep;
        this.fieldPos = -2;
        this.fieldEnd = n > 0 && this.bounds[n - 1] === Infinity ? n : n + 1;
        return true;
      }
    }
  }

  private readLabelPair(s: number, e: number): void {
    const o = this.nLab * 4;
    if (o + 4 > this.lab.length) {
      if (this.nLab >= MAX_REPEATED) this.fail('too many labels');
      const g = new Int32Array(this.lab.length * 2);
      g.set(this.lab);
      this.lab = g;
    }
    let ns = s, ne = s, vs = s, ve = s;
    this.p = s;
    while (this.p < e) {
      const tag = this.varint(e);
      if ((tag & 7) === 2 && (tag >>> 3 === 1 || tag >>> 3 === 2)) {
        const fe = this.sub(e);
        if (tag >>> 3 === 1) (ns = this.p), (ne = fe);
        else (vs = this.p), (ve = fe);
        this.p = fe;
      } else this.skip(tag & 7, e);
    }
    this.lab[o] = ns;
    this.lab[o + 1] = ne;
    this.lab[o + 2] = vs;
    this.lab[o + 3] = ve;
    this.nLab++;
  }

  private readScalar(s: number, e: number, counter: boolean): void {
    this.p = s;
    while (this.p < e) {
      const tag = this.varint(e);
      const field = tag >>> 3;
      if (field === 1 && (tag & 7) === 1) this.scalar = this.double(e);
      else if (counter && field === 2 && (tag & 7) === 2) {
        const fe = this.sub(e);
        this.exemplarS = this.p;
        this.exemplarE = fe;
        this.p = fe;
      } else if (counter && field === 3 && (tag & 7) === 2) {
        const fe = this.sub(e);
        this.created = this.readTimestamp(this.p, fe);
        this.p = fe;
      } else this.skip(tag & 7, e);
    }
  }

  private readTimestamp(s: number, e: number): number {
    let sec = 0;
    let nanos = 0;
    this.p = s;
    while (this.p < e) {
      const tag = this.varint(e);
      if (tag === 8) sec = this.varint64(e);
      else if (tag === 16) nanos = this.varint64(e);
      else this.skip(tag & 7, e);
    }
    return sec * 1000 + Math.trunc(nanos / 1e6);
  }

  private pushRep(bound: number, value: number, ex: number, exEnd: number): void {
    const n = this.nRep;
    if (n === this.bounds.length) {
      if (n >= MAX_REPEATED) this.fail('too many quantiles or buckets');
      const nb = new Float64Array(n * 2);
      nb.set(this.bounds);
      this.bounds = nb;
      const nv = new Float64Array(n * 2);
      nv.set(this.vals);
      this.vals = nv;
      const ne = new Int32Array(n * 2);
      ne.set(this.exPos);
      this.exPos = ne;
      const nee = new Int32Array(n * 2);
      nee.set(this.exEndPos);
      this.exEndPos = nee;
    }
    this.bounds[n] = bound;
    this.vals[n] = value;
    this.exPos[n] = ex;
    this.exEndPos[n] = exEnd;
    this.nRep = n + 1;
  }

  private readSummary(s: number, e: number): void {
    this.p = s;
    while (this.p < e) {
      const tag = this.varint(e);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 0) this.count = this.varint(e);
      else if (field === 2 && wt === 1) this.sum = this.double(e);
      else if (field === 3 && wt === 2) {
        const qe = this.sub(e);
        let qv = 0;
        let vv = 0;
        while (this.p < qe) {
          const t2 = this.varint(qe);
          if (t2 === 9) qv = this.double(qe);
          else if (t2 === 17) vv = this.double(qe);
          else this.skip(t2 & 7, qe);
        }
        this.pushRep(qv, vv, -1, -1);
        this.p = qe;
      } else if (field === 4 && wt === 2) {
        const fe = this.sub(e);
        this.created = this.readTimestamp(this.p, fe);
        this.p = fe;
      } else this.skip(wt, e);
    }
  }

  /** Returns true when the histogram has native parts (schema, zero bucket, spans). */
  private readHistogram(s: number, e: number): boolean {
    let native = false;
    this.p = s;
    while (this.p < e) {
      const tag = this.varint(e);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 0) this.count = this.varint(e);
      else if (field === 4 && wt === 1) this.countFloat = this.double(e);
      else if (field === 2 && wt === 1) this.sum = this.double(e);
      else if (field === 3 && wt === 2) {
        const be = this.sub(e);
        let cc = 0;
        let ccf = 0;
        let ub = 0;
        let ex = -1;
        let exEnd = -1;
        while (this.p < be) {
          const t2 = this.varint(be);
          if (t2 === 8) cc = this.varint(be);
          else if (t2 === 33) ccf = this.double(be);
          else if (t2 === 17) ub = this.double(be);
          else if (t2 === 26) {
            exEnd = this.sub(be);
            ex = this.p;
            this.p = exEnd;
          } else this.skip(t2 & 7, be);
        }
        this.pushRep(ub, ccf !== 0 ? ccf : cc, ex, exEnd);
        this.p = be;
      } else if (field === 15 && wt === 2) {
        const fe = this.sub(e);
        this.created = this.readTimestamp(this.p, fe);
        this.p = fe;
      } else if ((field >= 5 && field <= 14) || field === 16) {
        // schema, zero threshold/count, spans, deltas, counts, exemplars: native parts.
        if (field !== 16) native = true;
        this.skip(wt, e);
      } else this.skip(wt, e);
    }
    return native;
  }

  private setSeries(pos: number): void {
    const t = this.ftype;
    this.extraName = '';
    this.extraValue = '';
    if (t === MetricTypeEnum.COUNTER || t === MetricTypeEnum.GAUGE || t === MetricTypeEnum.UNTYPED) {
      this.sfx = SFX_NONE;
      this.value_ = this.scalar;
      return;
    }
    const hist = t !== MetricTypeEnum.SUMMARY;
    const count = hist && this.countFloat !== 0 ? this.countFloat : this.count;
    if (pos === -2) {
      this.sfx = SFX_COUNT;
      this.value_ = count;
    } else if (pos === -1) {
      this.sfx = SFX_SUM;
      this.value_ = this.sum;
    } else if (!hist) {
      this.sfx = SFX_NONE;
      this.extraName = 'quantile';
      this.extraValue = formatOpenMetricsFloat(this.bounds[pos]!);
      this.value_ = this.vals[pos]!;
    } else {
      this.sfx = SFX_BUCKET;
      this.extraName = 'le';
      if (pos < this.nRep) {
        this.extraValue = formatOpenMetricsFloat(this.bounds[pos]!);
        this.value_ = this.vals[pos]!;
      } else {
        this.extraValue = '+Inf';
        this.value_ = count;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors

  seriesKey(): string {
    return this.famName + SUFFIX[this.sfx] + '\xff' + this.labKey + this.extraValue;
  }

  labels(into: LabelsBuilder): void {
    if (!this.labDecoded) this.decodeLabels();
    into.reset(Labels.EMPTY);
    into.set(METRIC_NAME, this.sfx === SFX_NONE ? this.famName : this.famName + SUFFIX[this.sfx]);
    const names = this.labNames;
    const values = this.labValues;
    const n = this.nLab;
    for (let k = 0; k < n; k++) into.set(names[k]!, values[k]!);
    if (this.extraName !== '') {
      for (let k = 0; k < n; k++) if (names[k] === this.extraName) this.fail(`label name ${JSON.stringify(this.extraName)} is not unique`);
      into.set(this.extraName, this.extraValue);
    }
  }

  /** Decodes and checks the current Metric's label pairs once for all the series it expands to. */
  private decodeLabels(): void {
    const lab = this.lab;
    const n = this.nLab;
    const names = this.labNames;
    const values = this.labValues;
    names.length = n;
    values.length = n;
    // Pairwise comparison for the usual few labels, a Set past 16 (bounded cost).
    const seen = n > 16 ? new Set<string>() : null;
    for (let k = 0; k < n; k++) {
      const o = k * 4;
      const name = this.str(lab[o]!, lab[o + 1]!, 'label name');
      if (name === '') this.fail('invalid label name: ""');
      let dup = name === METRIC_NAME;
      if (seen !== null) {
        dup ||= seen.has(name);
        seen.add(name);
      } else for (let j = 0; j < k && !dup; j++) dup = names[j] === name;
      if (dup) this.fail(`label name ${JSON.stringify(name)} is not unique`);
      names[k] = name;
      values[k] = this.str(lab[o + 2]!, lab[o + 3]!, 'label value');
    }
    this.labDecoded = true;
  }
  private labDecoded = false;
  private readonly labNames: string[] = [];
  private readonly labValues: string[] = [];

  /** Decodes buf[s..e): latin1 when ASCII, else checked UTF-8. */
  private str(s: number, e: number, what: string): string {
    const b = this.buf;
    for (let i = s; i < e; i++) {
      if (b[i]! >= 0x80) {
        if (!isUtf8(b.subarray(s, e))) this.fail(`invalid UTF-8 ${what}: ${JSON.stringify(b.toString('utf8', s, e))}`);
        return b.utf8Slice(s, e);
      }
    }
    return b.latin1Slice(s, e);
  }

  value(): number {
    return this.value_;
  }

  timestamp(): number | undefined {
    return this.hasTs ? this.tsMs : undefined;
  }

  createdTimestamp(): number | undefined {
    return this.created;
  }

  exemplar(): Exemplar | undefined {
    let s = -1;
    let e = -1;
    if (this.ftype === MetricTypeEnum.COUNTER && this.exemplarS >= 0) {
      s = this.exemplarS;
      e = this.exemplarE;
    } else if (this.sfx === SFX_BUCKET) {
      const pos = this.fieldPos - 1;
      if (pos >= 0 && pos < this.nRep && this.exPos[pos]! >= 0) {
        s = this.exPos[pos]!;
        e = this.exEndPos[pos]!;
      }
    }
    if (s < 0) return undefined;
    const b = this.buf;
    const lb = new LabelsBuilder();
    let value = 0;
    let ts: number | undefined;
    this.p = s;
    while (this.p < e) {
      const tag = this.varint(e);
      if (tag === 10) {
        const le = this.sub(e);
        let n = '';
        let v = '';
        while (this.p < le) {
          const t2 = this.varint(le);
          if (t2 === 10 || t2 === 18) {
            const fe = this.sub(le);
            if (t2 === 10) n = b.utf8Slice(this.p, fe);
            else v = b.utf8Slice(this.p, fe);
            this.p = fe;
          } else this.skip(t2 & 7, le);
        }
        lb.set(n, v);
        this.p = le;
      } else if (tag === 17) value = this.double(e);
      else if (tag === 26) {
        const fe = this.sub(e);
        ts = this.readTimestamp(this.p, fe);
        this.p = fe;
      } else this.skip(tag & 7, e);
    }
    const labels = lb.labels();
    return ts === undefined ? { labels, value } : { labels, value, timestamp: ts };
  }

  family(): string {
    return this.famName;
  }

  help(): string {
    return this.buf.utf8Slice(this.helpS, this.helpE);
  }

  type(): MetricType {
    return TYPE_NAMES[this.ftype]!;
  }

  unit(): string {
    return this.buf.utf8Slice(this.unitS, this.unitE);
  }
}
