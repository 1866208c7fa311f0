import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LabelsBuilder } from '../../storage/index.js';
import type { MetricParser } from '../../src/exposition/index.js';

export const FIXTURES = new URL('../../../shared/fixtures/exposition/', import.meta.url).pathname;
export const TESTDATA = new URL('./testdata/', import.meta.url).pathname;

export interface Row {
  key: string;
  labels: string;
  value: number;
  ts: number | undefined;
  ct: number | undefined;
}

export interface Collected {
  series: Row[];
  help: Map<string, string>;
  type: Map<string, string>;
  unit: Map<string, string>;
}

/** Walks a parser to the end (bounded by the body: every next() consumes input). */
export function collect(p: MetricParser): Collected {
  const lb = new LabelsBuilder();
  const out: Collected = { series: [], help: new Map(), type: new Map(), unit: new Map() };
  for (let k = p.next(); k !== null; k = p.next()) {
    if (k === 'series') {
      p.labels(lb);
      out.series.push({ key: p.seriesKey(), labels: lb.labels().toString(), value: p.value(), ts: p.timestamp(), ct: p.createdTimestamp() });
    } else if (k === 'help') out.help.set(p.family(), p.help());
    else if (k === 'type') out.type.set(p.family(), p.type());
    else if (k === 'unit') out.unit.set(p.family(), p.unit());
  }
  return out;
}

/** A Map from label string to value. */
export function byLabels(c: Collected): Map<string, number> {
  return new Map(c.series.map((r) => [r.labels, r.value]));
}

export const PYTHON = '/usr/bin/python3';
/** Why python's prometheus_client cannot be used, or '' when it can. */
export function pythonMissing(): string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import prometheus_client'], { encoding: 'utf8' });
  return r.status === 0 ? '' : 'python3 prometheus_client not installed (Debian: python3-prometheus-client)';
}

/** Runs a python snippet with prometheus_client; returns stdout. */
export function python(code: string, input?: string): string {
  const r = spawnSync(PYTHON, ['-c', code], { input, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}
