import { describe, expect, it } from 'vitest';
import { Registry, registerProcessMetrics } from '../../src/metrics/index.js';

describe('Registry', () => {
  it('exposes counters, gauges and histograms in the text format, sorted by name', () => {
    const r = new Registry();
    const c = r.counter('b_total', 'Counts.\nTwo lines.', ['code']);
    c.labels('200').inc(2);
    c.labels('5"00').inc();
    r.gauge('a_gauge', 'Gauge.').labels().set(-1.5);
    const h = r.histogram('c_seconds', 'Latency.', [], [0.1, 1]);
    h.labels().observe(0.05);
    h.labels().observe(0.5);
    h.labels().observe(5);
    expect(r.expose()).toBe(
      [
        '# HELP a_gauge Gauge.',
        '# TYPE a_gauge gauge',
        'a_gauge -1.5',
        '# HELP b_total Counts.\\nTwo lines.',
        '# TYPE b_total counter',
        'b_total{code="200"} 2',
        'b_total{code="5\\"00"} 1',
        '# HELP c_seconds Latency.',
        '# TYPE c_seconds histogram',
        'c_seconds_bucket{le="0.1"} 1',
        'c_seconds_bucket{le="1"} 2',
        'c_seconds_bucket{le="+Inf"} 3',
        'c_seconds_sum 5.55',
        'c_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('rejects double registration and wrong label arity', () => {
    const r = new Registry();
    const c = r.counter('x_total', 'x', ['a']);
    expect(() => r.counter('x_total', 'x')).toThrow('registered twice');
    expect(() => c.labels()).toThrow('expected 1 label values');
    expect(() => c.labels('v').inc(-1)).toThrow('cannot decrease');
  });

  it('reads process metrics from /proc', () => {
    const r = new Registry();
    registerProcessMetrics(r);
    const text = r.expose();
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    const start = Number(/^process_start_time_seconds (\S+)$/m.exec(text)?.[1]);
    expect(Math.abs(start - (Date.now() / 1000 - process.uptime()))).toBeLessThan(5);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
  });
});

describe('collected summaries', () => {
  it('are one summary family: quantile series, then _sum and _count', () => {
    const r = new Registry();
    r.summary('x_seconds', 'Intervals.', () => [{ labels: { interval: '15s' }, quantiles: [[0.5, 15.01], [0.99, 15.2]], sum: 150.1, count: 10 }]);
    expect(r.expose()).toBe(
      [
        '# HELP x_seconds Intervals.',
        '# TYPE x_seconds summary',
        'x_seconds{interval="15s",quantile="0.5"} 15.01',
        'x_seconds{interval="15s",quantile="0.99"} 15.2',
        'x_seconds_sum{interval="15s"} 150.1',
        'x_seconds_count{interval="15s"} 10',
        '',
      ].join('\n'),
    );
  });
});
