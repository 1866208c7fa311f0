import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExpositionError, OpenMetricsParser, PromTextParser, ProtobufParser, type MetricParser } from '../../src/exposition/index.js';
import { LabelsBuilder } from '../../storage/index.js';
import { collect, FIXTURES, TESTDATA } from './helpers.js';

/** Parses to the end; returns 'ok', or the ExpositionError's reason; anything else is rethrown. */
function outcome(p: MetricParser): string {
  const lb = new LabelsBuilder();
  try {
    for (let k = p.next(); k !== null; k = p.next()) if (k === 'series') p.labels(lb);
    return 'ok';
  } catch (e) {
    if (e instanceof ExpositionError) return e.reason;
    throw e;
  }
}

describe('truncated bodies', () => {
  const text = readFileSync(FIXTURES + 'node_exporter-1.5.0.txt');
  const omBody = readFileSync(TESTDATA + 'node_exporter-1.5.0.om.txt');
  const pb = readFileSync(FIXTURES + 'node_exporter-1.5.0.pb');

  it('OpenMetrics: every cut before the end is an error (no # EOF), never a crash', () => {
    const reasons = new Set<string>();
    for (let n = 0; n < omBody.length - 6; n += 97) {
      const r = outcome(new OpenMetricsParser(omBody.subarray(0, n)));
      expect(r, `cut at ${n}`).not.toBe('ok');
      reasons.add(r.split(',')[0]!.split(' while')[0]!);
    }
    expect(reasons.has('data does not end with # EOF')).toBe(true);
  });

  it('text: every cut either parses (a line boundary or a shorter value) or fails with ExpositionError', () => {
    let ok = 0;
    let failed = 0;
    for (let n = 0; n < text.length; n += 89) {
      if (outcome(new PromTextParser(text.subarray(0, n))) === 'ok') ok++;
      else failed++;
    }
    expect(ok).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
  });

  it('protobuf: cuts inside a message fail naming the message, cuts at message boundaries parse', () => {
    let failed = 0;
    for (let n = 1; n < pb.length; n += 29) {
      const r = outcome(new ProtobufParser(pb.subarray(0, n)));
      if (r !== 'ok') {
        failed++;
        expect(r).toMatch(/truncated|varint|wire type|invalid|unknown metric type|not unique/);
      }
    }
    expect(failed).toBeGreaterThan(0);
  });

  it('garbage bytes never crash the parsers', () => {
    let x = 7;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.alloc(64 + (i % 200));
      for (let j = 0; j < b.length; j++) b[j] = rnd();
      outcome(new PromTextParser(b));
      outcome(new OpenMetricsParser(b));
      outcome(new ProtobufParser(b));
    }
  });
});

describe('odd but valid text', () => {
  it('comments between histogram lines, duplicate HELP (both reported; the last one wins in metadata)', () => {
    const c = collect(
      new PromTextParser(
        Buffer.from('# HELP h first\n# HELP h second\n# TYPE h histogram\nh_bucket{le="1"} 1\n# a comment\n  # indented comment\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 3\n'),
      ),
    );
    expect(c.help.get('h')).toBe('second');
    expect(c.series.map((r) => r.labels)).toEqual(['{__name__="h_bucket", le="1.0"}', '{__name__="h_bucket", le="+Inf"}', '{__name__="h_count"}', '{__name__="h_sum"}']);
  });

  it('a TYPE line for another family stops le normalisation', () => {
    const c = collect(new PromTextParser(Buffer.from('# TYPE h histogram\n# TYPE g gauge\nh_bucket{le="1"} 1\n')));
    expect(c.series[0]!.labels).toBe('{__name__="h_bucket", le="1"}');
  });
});
