import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MetricFamilyType, PromTextParser, ProtobufParser } from '../../src/exposition/index.js';
import { byLabels, collect, FIXTURES, python, pythonMissing } from './helpers.js';

// python's prometheus_client reads each text fixture; the families it sees are re-encoded here as
// protobuf MetricFamily messages the way Go's client_golang writes them (counters keep `_total`,
// histograms without their +Inf bucket), so the protobuf parser's expansion can be compared with
// the text parser on the very same payload.
const PY_FAMILIES = `
import sys, json, math
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({'name': f.name, 'type': f.type, 'help': f.documentation,
                'samples': [[s.name, s.labels, 'NaN' if math.isnan(s.value) else repr(s.value)] for s in f.samples]})
print(json.dumps(out))
`;

type Sample = [string, Record<string, string>, string];
interface PyFamily {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const num = (v: string) => (v === 'NaN' ? NaN : Number(v.replace(/inf/i, 'Infinity')));
const pairs = (l: Record<string, string>, drop?: string) =>
  Object.entries(l)
    .filter(([k]) => k !== drop)
    .map(([name, value]) => ({ name, value }));

function toProto(fams: PyFamily[]): Buffer {
  const out: Uint8Array[] = [];
  for (const f of fams) {
    let msg: Record<string, unknown>;
    if (f.type === 'summary' || f.type === 'histogram') {
      const byKey = new Map<string, { label: { name: string; value: string }[]; q: [number, number][]; sum: number; count: number }>();
      const extra = f.type === 'summary' ? 'quantile' : 'le';
      for (const [name, labels, v] of f.samples) {
        const base = pairs(labels, extra);
        const key = JSON.stringify(base);
        let m = byKey.get(key);
        if (!m) byKey.set(key, (m = { label: base, q: [], sum: 0, count: 0 }));
        if (name.endsWith('_sum')) m.sum = num(v);
        else if (name.endsWith('_count')) m.count = num(v);
        else if (name.endsWith('_created')) continue;
        else m.q.push([num(labels[extra]!), num(v)]);
      }
      const metric = [...byKey.values()].map((m) =>
        f.type === 'summary'
          ? { label: m.label, summary: { sampleCount: m.count, sampleSum: m.sum, quantile: m.q.map(([quantile, value]) => ({ quantile, value })) } }
          : { label: m.label, histogram: { sampleCount: m.count, sampleSum: m.sum, bucket: m.q.filter(([b]) => b !== Infinity).map(([upperBound, cumulativeCount]) => ({ upperBound, cumulativeCount })) } },
      );
      msg = { name: f.name, help: f.help, type: f.type === 'summary' ? 2 : 4, metric };
    } else {
      const type = f.type === 'counter' ? 0 : f.type === 'gauge' ? 1 : 3;
      const field = type === 0 ? 'counter' : type === 1 ? 'gauge' : 'untyped';
      for (const [name, labels, v] of f.samples) {
        out.push(MetricFamilyType.encodeDelimited(MetricFamilyType.fromObject({ name, help: f.help, type, metric: [{ label: pairs(labels), [field]: { value: num(v) } }] })).finish());
      }
      continue;
    }
    out.push(MetricFamilyType.encodeDelimited(MetricFamilyType.fromObject(msg)).finish());
  }
  return Buffer.concat(out);
}

describe('the same payload as text and as protobuf', () => {
  const skip = pythonMissing();
  it.skipIf(skip !== '').each(['node_exporter-1.5.0.txt', 'prometheus-2.42.0.txt', 'alertmanager-0.25.0.txt', 'pushgateway-1.5.1.txt'])(
    '%s: same series and values',
    (file) => {
      const text = readFileSync(FIXTURES + file);
      const fams = JSON.parse(python(PY_FAMILIES, text.toString('utf8'))) as PyFamily[];
      const fromText = byLabels(collect(new PromTextParser(text)));
      const fromProto = byLabels(collect(new ProtobufParser(toProto(fams))));
      expect([...fromProto.keys()].sort()).toEqual([...fromText.keys()].sort());
      for (const [k, v] of fromText) expect(fromProto.get(k), k).toBe(v);
    },
  );
});
