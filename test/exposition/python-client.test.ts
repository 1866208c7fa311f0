import { describe, expect, it } from 'vitest';
import { OpenMetricsParser, PromTextParser } from '../../src/exposition/index.js';
import { byLabels, collect, python, pythonMissing } from './helpers.js';

// A registry with every metric kind python's prometheus_client has, exposed in both formats from
// one process (so the _created values agree).
const PROGRAM = `
import sys, json
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, Info, Enum, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as om_latest
r = CollectorRegistry()
c = Counter('requests', 'Requests served.', ['method', 'code'], registry=r)
c.labels('get', '200').inc(3)
c.labels('post', '500').inc(1, exemplar={'trace_id': 'abc123'})
g = Gauge('temperature_celsius', 'Temperature "quoted" \\\\ backslash\\nnewline.', ['room'], registry=r, unit='celsius')
g.labels('kitchen\\n"hot"').set(21.5)
g.labels('cellar').set(float('-inf'))
h = Histogram('latency_seconds', 'Latency.', registry=r, buckets=[0.005, 0.1, 1, 10])
h.observe(0.05)
h.observe(2, exemplar={'trace_id': 'def'})
s = Summary('size_bytes', 'Sizes.', registry=r)
s.observe(100)
Info('build', 'Build info.', registry=r).info({'version': '1.2.3', 'revision': 'abc'})
Enum('state', 'State.', states=['starting', 'running', 'stopped'], registry=r).state('running')
print(json.dumps({'om': om_latest(r).decode(), 'text': generate_latest(r).decode()}))
`;

const skip = pythonMissing();
describe.skipIf(skip !== '')('payloads written by python prometheus_client', () => {
  const out = skip === '' ? (JSON.parse(python(PROGRAM)) as { om: string; text: string }) : { om: '', text: '' };

  it('OpenMetrics and text expositions of one registry yield the same series and values', () => {
    const om = collect(new OpenMetricsParser(Buffer.from(out.om)));
    const text = collect(new PromTextParser(Buffer.from(out.text)));
    const a = byLabels(om);
    const b = byLabels(text);
    expect(a.size).toBe(21);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of b) expect(a.get(k), k).toBe(v);
    expect(a.get('{__name__="temperature_celsius", room="kitchen\\n\\"hot\\""}')).toBe(21.5);
    expect(a.get('{__name__="temperature_celsius", room="cellar"}')).toBe(-Infinity);
    expect(a.get('{__name__="latency_seconds_bucket", le="10.0"}')).toBe(2);
    expect(a.get('{__name__="state", state="running"}')).toBe(1);
    expect(a.get('{__name__="build_info", revision="abc", version="1.2.3"}')).toBe(1);
    // Metadata: HELP escaping differs between the formats, the text is the same.
    expect(om.help.get('temperature_celsius')).toBe('Temperature "quoted" \\ backslash\nnewline.');
    expect(text.help.get('temperature_celsius')).toBe('Temperature "quoted" \\ backslash\nnewline.');
    expect(om.unit.get('temperature_celsius')).toBe('celsius');
    expect(om.type).toEqual(
      new Map([['requests', 'counter'], ['temperature_celsius', 'gauge'], ['latency_seconds', 'histogram'], ['size_bytes', 'summary'], ['build', 'info'], ['state', 'stateset']]),
    );
  });

  it('exemplars on a counter and a bucket', () => {
    const p = new OpenMetricsParser(Buffer.from(out.om));
    const got: string[] = [];
    for (let k = p.next(); k !== null; k = p.next()) {
      if (k !== 'series') continue;
      const e = p.exemplar();
      if (e) got.push(`${p.seriesKey()} ${e.labels.toString()} ${e.value} ${e.timestamp !== undefined}`);
    }
    expect(got).toEqual(['requests_total{code="500",method="post"} {trace_id="abc123"} 1 true', 'latency_seconds_bucket{le="10.0"} {trace_id="def"} 2 true']);
  });

  it('with skipCreatedSeries the _created values become created timestamps', () => {
    const c = collect(new OpenMetricsParser(Buffer.from(out.om), { skipCreatedSeries: true }));
    expect(c.series.some((r) => r.labels.includes('_created'))).toBe(false);
    const created = byLabels(collect(new OpenMetricsParser(Buffer.from(out.om))));
    for (const r of c.series) {
      if (!/requests_total|latency_seconds|size_bytes/.test(r.labels)) {
        expect(r.ct, r.labels).toBeUndefined();
        continue;
      }
      const name = /__name__="([^"]+)"/.exec(r.labels)![1]!;
      const fam = name.replace(/_(total|bucket|count|sum)$/, '');
      const createdKey = r.labels.replace(`__name__="${name}"`, `__name__="${fam}_created"`).replace(/, le="[^"]*"/, '');
      expect(r.ct, r.labels).toBe(Math.trunc(created.get(createdKey)! * 1000));
    }
  });
});
