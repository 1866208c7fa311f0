/**
 * Sextant's own metrics, exposed on `/metrics` in the Prometheus text format. Names follow
 * Prometheus's where an equivalent exists so existing dashboards and alerts work unchanged.
 *
 * Deliberately small: counters, gauges and histograms with fixed label names, plus collect
 * callbacks for values that are cheaper to read on scrape (head series, process stats).
 */

import { escapeHelp, escapeLabelValue, formatGoFloat } from '../exposition/index.js';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Appends the family's sample lines (without HELP/TYPE) to `out`. */
  write(out: string[]): void;
}



function labelString(names: readonly string[], values: readonly string[], extra?: string): string {
  if (names.length === 0 && !extra) return '';
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`);
  if (extra) parts.push(extra);
  return `{${parts.join(',')}}`;
}

abstract class Vec<C> implements Family {
  private readonly children = new Map<string, { values: string[]; child: C }>();
  abstract readonly type: MetricType;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(): C;
  protected abstract writeChild(out: string[], labels: string[], child: C): void;

  /** The child for these label values (in `labelNames` order), created on first use. */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join('\xff');
    let e = this.children.get(key);
    if (!e) {
      e = { values, child: this.create() };
      this.children.set(key, e);
    }
    return e.child;
  }

  /** Removes the child with these label values (e.g. a scrape pool that went away). */
  remove(...values: string[]): void {
    this.children.delete(values.join('\xff'));
  }

  reset(): void {
    this.children.clear();
  }

  write(out: string[]): void {
    for (const { values, child } of this.children.values()) this.writeChild(out, values, child);
  }
}

export class Counter {
  value = 0;
  inc(by = 1): void {
    if (by < 0) throw new Error('counter cannot decrease');
    this.value += by;
  }
}

export class Gauge {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
}

export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) if (v <= b[i]!) this.counts[i]!++;
  }
}

export class CounterVec extends Vec<Counter> {
  readonly type = 'counter' as const;
  protected create(): Counter {
    return new Counter();
  }
  protected writeChild(out: string[], labels: string[], c: Counter): void {
    out.push(`${this.name}${labelString(this.labelNames, labels)} ${formatGoFloat(c.value)}`);
  }
}

export class GaugeVec extends Vec<Gauge> {
  readonly type = 'gauge' as const;
  protected create(): Gauge {
    return new Gauge();
  }
  protected writeChild(out: string[], labels: string[], g: Gauge): void {
    out.push(`${this.name}${labelString(this.labelNames, labels)} ${formatGoFloat(g.value)}`);
  }
}

export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class HistogramVec extends Vec<Histogram> {
  readonly type = 'histogram' as const;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {
    super(name, help, labelNames);
  }
  protected create(): Histogram {
    return new Histogram(this.buckets);
  }
  protected writeChild(out: string[], labels: string[], h: Histogram): void {
    for (let i = 0; i < this.buckets.length; i++) {
      const le = `le="${formatGoFloat(this.buckets[i]!)}"`;
      out.push(`${this.name}_bucket${labelString(this.labelNames, labels, le)} ${h.counts[i]}`);
    }
    out.push(`${this.name}_bucket${labelString(this.labelNames, labels, 'le="+Inf"')} ${h.count}`);
    out.push(`${this.name}_sum${labelString(this.labelNames, labels)} ${formatGoFloat(h.sum)}`);
    out.push(`${this.name}_count${labelString(this.labelNames, labels)} ${h.count}`);
  }
}

/** A family whose samples are computed when `/metrics` is scraped. */
class CollectedFamily implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly collect: () => number | ReadonlyArray<{ labels: Record<string, string>; value: number }>,
  ) {}
  write(out: string[]): void {
    const r = this.collect();
    if (typeof r === 'number') {
      out.push(`${this.name} ${formatGoFloat(r)}`);
      return;
    }
    for (const { labels, value } of r) {
      const names = Object.keys(labels);
      out.push(`${this.name}${labelString(names, names.map((n) => labels[n]!))} ${formatGoFloat(value)}`);
    }
  }
}

/** One child of a collected summary: its labels, quantile → value pairs, sum and count. */
export interface SummarySnapshot {
  labels: Record<string, string>;
  quantiles: ReadonlyArray<readonly [number, number]>;
  sum: number;
  count: number;
}

/** A summary read at exposition time: quantile series, then `_sum` and `_count`, one TYPE line. */
class CollectedSummary implements Family {
  readonly type = 'summary' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => readonly SummarySnapshot[],
  ) {}
  write(out: string[]): void {
    for (const c of this.collect()) {
      const names = Object.keys(c.labels);
      const values = names.map((n) => c.labels[n]!);
      for (const [q, v] of c.quantiles) {
        out.push(`${this.name}${labelString([...names, 'quantile'], [...values, formatGoFloat(q)])} ${formatGoFloat(v)}`);
      }
      out.push(`${this.name}_sum${labelString(names, values)} ${formatGoFloat(c.sum)}`);
      out.push(`${this.name}_count${labelString(names, values)} ${formatGoFloat(c.count)}`);
    }
  }
}

export class Registry {
  private readonly families = new Map<string, Family>();

  private add<F extends Family>(f: F): F {
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.set(f.name, f);
    return f;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): CounterVec {
    return this.add(new CounterVec(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): GaugeVec {
    return this.add(new GaugeVec(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): HistogramVec {
    return this.add(new HistogramVec(name, help, labelNames, buckets));
  }

  /** A metric read from `collect` at exposition time: a single value or labelled values. */
  collected(
    name: string,
    help: string,
    type: MetricType,
    collect: () => number | ReadonlyArray<{ labels: Record<string, string>; value: number }>,
  ): void {
    this.add(new CollectedFamily(name, help, type, collect));
  }

  /** A summary whose quantiles, sum and count are read from `collect` at exposition time. */
  summary(name: string, help: string, collect: () => readonly SummarySnapshot[]): void {
    this.add(new CollectedSummary(name, help, collect));
  }

  /** Drops a family (used when a subsystem is torn down). */
  unregister(name: string): void {
    this.families.delete(name);
  }

  /** The text exposition format 0.0.4, families sorted by name. */
  expose(): string {
    const out: string[] = [];
    const names = [...this.families.keys()].sort();
    for (const n of names) {
      const f = this.families.get(n)!;
      const lines: string[] = [];
      f.write(lines);
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...lines);
    }
    return out.join('\n') + '\n';
  }
}
