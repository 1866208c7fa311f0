/**
 * The real Prometheus (Debian's 2.42) scrapes a table of payloads from a local server; for each
 * one, Prometheus accepting it (up=1) must coincide with our parser accepting it, and the series
 * and values it stored must be the ones our parser reads (plus job/instance). Payloads avoid
 * what 2.42 and 3.5 do differently: quoted UTF-8 names, le/quantile normalisation, and blanks
 * before a bare metric name (both keep them in the name; 2.42 then rejects it as invalid, 3.5
 * with UTF-8 names stores it, and so do we). Protobuf payloads hold no native histograms
 * (2.42 with native histograms on stores those instead of classic series; Sextant skips them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpositionError, MetricFamilyType, OpenMetricsParser, PromTextParser, ProtobufParser } from '../../src/exposition/index.js';
import { Labels, LabelsBuilder } from '../../storage/index.js';

const PROMETHEUS = '/usr/bin/prometheus';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const PB = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

function pb(...families: Record<string, unknown>[]): Buffer {
  return Buffer.concat(families.map((f) => MetricFamilyType.encodeDelimited(MetricFamilyType.fromObject(f)).finish()));
}

const CASES: { name: string; ct: string; body: string | Buffer }[] = [
  { name: 'pb_node_exporter', ct: PB, body: readFileSync(new URL('../../../shared/fixtures/exposition/node_exporter-1.5.0.pb', import.meta.url)) },
  {
    name: 'pb_kinds',
    ct: PB,
    body: pb(
      { name: 'h', help: 'x', type: 4, metric: [{ label: [{ name: 'a', value: 'b' }], histogram: { sampleCount: 4, sampleSum: 2.5, bucket: [{ upperBound: 0.1, cumulativeCount: 1 }, { upperBound: 1, cumulativeCount: 3 }, { upperBound: 1e6, cumulativeCount: 3 }] } }] },
      { name: 'hi', type: 4, metric: [{ histogram: { sampleCount: 2, sampleSum: 1, bucket: [{ upperBound: 5, cumulativeCount: 1 }, { upperBound: Infinity, cumulativeCount: 2 }] } }] },
      { name: 's', type: 2, metric: [{ summary: { sampleCount: 2, sampleSum: 3, quantile: [{ quantile: 0.5, value: 1 }, { quantile: 1, value: 2 }, { quantile: 0.999, value: 2 }] } }, { label: [{ name: 'x', value: 'y' }], summary: { sampleCount: 0, sampleSum: 0 } }] },
      { name: 'c_total', type: 0, metric: [{ counter: { value: 5, createdTimestamp: { seconds: 1700000000 } } }] },
      { name: 'g', type: 1, metric: [{ label: [{ name: 'e', value: '' }, { name: 'u', value: 'ü "q"\n' }], gauge: { value: -1.5 } }] },
      { name: 'u', type: 3, metric: [{ untyped: { value: NaN } }] },
      { name: 'empty', type: 1, metric: [] },
    ),
  },
  { name: 'pb_gaugehistogram', ct: PB, body: pb({ name: 'gh', type: 5, metric: [{ histogram: { sampleCount: 1, sampleSum: 1, bucket: [{ upperBound: 5, cumulativeCount: 1 }] } }] }) },
  { name: 'pb_dup_label', ct: PB, body: pb({ name: 'g', type: 1, metric: [{ label: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }], gauge: { value: 1 } }] }) },
  { name: 'pb_truncated', ct: PB, body: pb({ name: 'g', type: 1, metric: [{ gauge: { value: 1 } }] }).subarray(0, 8) },
  { name: 'escapes', ct: TEXT, body: 'a{b="x\\\\y\\"z\\nw"} 1\n' },
  { name: 'unknown_escape', ct: TEXT, body: 'a{b="\\t"} 1\n' },
  { name: 'blanks', ct: TEXT, body: 'a  { b = "c" , } \t 2  \n\n  \t\n' },
  { name: 'blanks_in_braces', ct: TEXT, body: 'a{ b="c"}\t2\nb{b = "c" , } 2 \n' },
  { name: 'missing_comma', ct: TEXT, body: 'a{b="c"d="e"} 1\n' },
  { name: 'specials', ct: TEXT, body: 'a NaN\nb +Inf\nc -Inf\nd 1e3\ne .5\nf Inf\ng nan\nh 5.\ni 0042\n' },
  { name: 'comments', ct: TEXT, body: '# hello\n#\n#x\n# HELP x y \\\\ z\n# TYPE x gauge\nx 1\n' },
  { name: 'empty_value', ct: TEXT, body: 'a{b="",c="d"} 1\n' },
  { name: 'newline_in_value', ct: TEXT, body: 'a{b="x\ny"} 1\nc 2\n' },
  { name: 'negative_ts', ct: TEXT, body: 'a 1 -5\n' },
  { name: 'signed_ts', ct: TEXT, body: 'a 1 +5\n' },
  { name: 'old_ts', ct: TEXT, body: 'a 1 5\n' },
  { name: 'no_newline_at_end', ct: TEXT, body: 'a 1' },
  { name: 'bad_label_value', ct: TEXT, body: 'a{b=c} 1\n' },
  { name: 'hex', ct: TEXT, body: 'a 0x10\n' },
  { name: 'hexp', ct: TEXT, body: 'a 0x1p3\n' },
  { name: 'underscore', ct: TEXT, body: 'a 1_000\n' },
  { name: 'dup_label', ct: TEXT, body: 'a{b="1",b="2"} 1\n' },
  { name: 'junk_after_ts', ct: TEXT, body: 'a 1 2 3\n' },
  { name: 'info_type_in_text', ct: TEXT, body: '# TYPE a info\na 1\n' },
  { name: 'no_value', ct: TEXT, body: 'a\n' },
  { name: 'om_ok', ct: OM, body: '# TYPE foo counter\n# HELP foo x\nfoo_total 17.0 # {t="1"} 1\nfoo_created 1520430000.123\n# TYPE g_seconds gauge\n# UNIT g_seconds seconds\ng_seconds{a="b"} 1\n# EOF\n' },
  { name: 'om_missing_eof', ct: OM, body: 'a 1\n' },
  { name: 'om_unit_mismatch', ct: OM, body: '# TYPE foo counter\n# UNIT foo seconds\n# EOF\n' },
  { name: 'om_blank_line', ct: OM, body: 'a 1\n\n# EOF\n' },
  { name: 'om_after_eof', ct: OM, body: 'a 1\n# EOF\nb 1\n' },
  { name: 'om_untyped', ct: OM, body: '# TYPE a untyped\na 1\n# EOF\n' },
  { name: 'om_counter_without_total', ct: OM, body: '# TYPE a counter\na 1\n# EOF' },
  { name: 'om_trailing_comma', ct: OM, body: 'a{b="c",} 1\n# EOF\n' },
  { name: 'om_newline_in_value', ct: OM, body: 'a{b="x\ny"} 1\n# EOF\n' },
  { name: 'om_exemplar_on_gauge', ct: OM, body: '# TYPE g gauge\ng 1 # {a="b"} 2 3\n# EOF\n' },
  { name: 'om_exemplar_on_counter_without_total', ct: OM, body: '# TYPE c counter\nc 1 # {a="b"} 1\n# EOF\n' },
  { name: 'om_exemplar_on_created', ct: OM, body: '# TYPE c counter\nc_total 1\nc_created 1 # {a="b"} 1\n# EOF\n' },
  { name: 'om_exemplar_on_count', ct: OM, body: '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1 # {a="b"} 1\nh_sum 1\n# EOF\n' },
  { name: 'om_exemplar_on_gaugehistogram_bucket', ct: OM, body: '# TYPE h gaugehistogram\nh_bucket{le="+Inf"} 1 # {a="b"} 1\nh_gcount 1\nh_gsum 1\n# EOF\n' },
  { name: 'om_exemplar_on_untyped_total', ct: OM, body: 'x_total 1 # {a="b"} 1\n# EOF\n' },
  { name: 'om_exemplar_trailing_comma', ct: OM, body: '# TYPE c counter\nc_total 1 # {a="b",} 1\n# EOF\n' },
  { name: 'om_help_without_text', ct: OM, body: '# HELP a\n# TYPE a gauge\na 1\n# EOF\n' },
  { name: 'om_help_empty_text', ct: OM, body: '# HELP a \n# UNIT a \n# TYPE a gauge\na 1\n# EOF\n' },
  { name: 'om_comment', ct: OM, body: '# random\na 1\n# EOF\n' },
  { name: 'om_tab', ct: OM, body: 'a\t1\n# EOF\n' },
  { name: 'om_double_space', ct: OM, body: 'a  1\n# EOF\n' },
  { name: 'om_int_timestamp', ct: OM, body: 'a 1 5\n# EOF\n' },
  { name: 'om_stateset_info', ct: OM, body: '# TYPE s stateset\ns{s="a"} 1\n# TYPE i info\ni_info{v="1"} 1\n# EOF\n' },
  { name: 'double_comma', ct: TEXT, body: 'a{b="c",,d="e"} 1\n' },
  { name: 'float_corners', ct: TEXT, body: 'a -0\nb 1e-400\nc +.5\nd -.5e-3\ne 1.e2\nf infinity\ng -INFINITY\nh INF\ni NAN\nj nAn\nk 4.9e-324\nl 1.7976931348623157e308\n' },
  { name: 'float_overflow', ct: TEXT, body: 'a 1.8e308\n' },
  { name: 'float_signed_nan', ct: TEXT, body: 'a +NaN\n' },
  { name: 'float_exp_without_digits', ct: TEXT, body: 'a 1e+\n' },
  { name: 'no_space_before_value', ct: TEXT, body: 'a{b="c"}1\nb{}2\n' },
  { name: 'crlf', ct: TEXT, body: 'a 1\r\n' },
  { name: 'nul_in_value', ct: TEXT, body: 'a{b="x\u0000y"} 1\n' },
  { name: 'empty_body', ct: TEXT, body: '' },
  { name: 'only_comments', ct: TEXT, body: '# HELP a b\n# TYPE a gauge\n' },
  { name: 'ts_leading_zeros', ct: TEXT, body: 'a 1 0005\n' },
  { name: 'ts_overflow', ct: TEXT, body: 'a 1 99999999999999999999\n' },
  { name: 'dup_type', ct: TEXT, body: '# TYPE a counter\n# TYPE a gauge\na 1\n' },
  { name: 'float_ts', ct: TEXT, body: 'a 1 1e3\n' },
];

/**
 * Where 2.42 and 3.5 differ, we follow 3.5: 2.42 must reject these and we accept them.
 * OpenMetrics trailing commas in label sets: 3.x's label parser allows them ("free trailing
 * commas"), 2.42's does not.
 */
const NEWER_IN_3X = new Set(['om_trailing_comma', 'om_exemplar_trailing_comma']);
/**
 * Accepted by both, stored differently by 2.42: its protobuf parser gives classic gauge
 * histogram series no suffix (`gh{le="5.0"}`, and `gh` for both count and sum); 3.x names them
 * `gh_bucket`, `gh_count`, `gh_sum` as for histograms, and so do we.
 */
const SERIES_DIFFER_IN_2_42 = new Set(['pb_gaugehistogram']);

/** Our reading: the series and values, or the error. */
function ours(c: (typeof CASES)[number], job: string, instance: string): Map<string, number> | Error {
  const body = typeof c.body === 'string' ? Buffer.from(c.body) : c.body;
  const p = c.ct === OM ? new OpenMetricsParser(body) : c.ct === PB ? new ProtobufParser(body) : new PromTextParser(body);
  const lb = new LabelsBuilder();
  const out = new Map<string, number>();
  try {
    for (let k = p.next(); k !== null; k = p.next()) {
      if (k !== 'series') continue;
      p.labels(lb);
      lb.set('job', job).set('instance', instance);
      out.set(lb.labels().toString(), p.value());
    }
  } catch (e) {
    if (e instanceof ExpositionError) return e;
    throw e;
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const skip = existsSync(PROMETHEUS) ? '' : `${PROMETHEUS} not installed (Debian package prometheus)`;

describe.skipIf(skip !== '')('Prometheus 2.42 scrapes the same payloads', () => {
  let server: Server;
  let prom: ChildProcess;
  let dir: string;
  let promPort = 0;
  let target = '';
  let log = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const c = CASES.find((x) => req.url === `/${x.name}`);
      if (!c) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': c.ct }).end(c.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'sextant-expo-interop-'));
    const jobs = CASES.map((c) => `  - job_name: ${c.name}\n    metrics_path: /${c.name}\n    static_configs: [{ targets: ['${target}'] }]\n`).join('');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${jobs}`);
    promPort = await freePort();
    // native-histograms makes 2.42 ask for protobuf (it parses by the response's Content-Type).
    prom = spawn(PROMETHEUS, ['--enable-feature=native-histograms', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    prom.stderr!.on('data', (d: Buffer) => {
      if (log.length < 1 << 16) log += d.toString();
    });
    // Wait (bounded) until every job has an `up` sample.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const ups = await query('up').catch(() => []);
      if (ups.length === CASES.length) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not scrape every job in time:\n${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // One more interval so samples of a first scrape are visible everywhere.
    await new Promise((r) => setTimeout(r, 1200));
  }, 60_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = (await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return j.data.result;
  }

  async function lastError(job: string): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`);
    const j = (await r.json()) as { data: { activeTargets: { labels: Record<string, string>; lastError: string }[] } };
    return j.data.activeTargets.find((t) => t.labels['job'] === job)?.lastError ?? '?';
  }

  it.each(['comments', 'om_ok', 'om_help_empty_text', 'pb_node_exporter', 'dup_type'])('%s: HELP, TYPE and UNIT metadata as Prometheus keeps it', async (name) => {
    const c = CASES.find((x) => x.name === name)!;
    const body = typeof c.body === 'string' ? Buffer.from(c.body) : c.body;
    const p = c.ct === OM ? new OpenMetricsParser(body) : c.ct === PB ? new ProtobufParser(body) : new PromTextParser(body);
    const want = new Map<string, { type: string; help: string; unit: string }>();
    const entry = (f: string) => want.get(f) ?? (want.set(f, { type: 'unknown', help: '', unit: '' }), want.get(f)!);
    for (let k = p.next(); k !== null; k = p.next()) {
      if (k === 'help') entry(p.family()).help = p.help();
      else if (k === 'type') entry(p.family()).type = p.type();
      else if (k === 'unit') entry(p.family()).unit = p.unit();
    }
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/targets/metadata?match_target=${encodeURIComponent(`{job="${name}"}`)}`);
    const j = (await r.json()) as { data: { metric: string; type: string; help: string; unit: string }[] };
    const got = new Map(j.data.map((m) => [m.metric, { type: m.type, help: m.help, unit: m.unit }]));
    for (const [f, m] of want) expect(got.get(f), f).toEqual(m);
  });

  it.each(CASES.map((c) => ({ name: c.name, c })))('$name', async ({ c }) => {
    const want = ours(c, c.name, target);
    const up = await query(`up{job="${c.name}"}`);
    expect(up).toHaveLength(1);
    const promUp = up[0]!.value[1];
    if (want instanceof Error) {
      expect(promUp, `we rejected (${want.message}) but Prometheus took it`).toBe('0');
      return;
    }
    if (NEWER_IN_3X.has(c.name)) {
      expect(promUp, '2.42 rejects this, 3.5 and we accept it').toBe('0');
      return;
    }
    if (promUp !== '1') expect.fail(`we accepted but Prometheus did not: ${await lastError(c.name)}`);
    if (SERIES_DIFFER_IN_2_42.has(c.name)) return;
    // Everything Prometheus stored for the job at the latest scrape, minus its own synthetic series.
    const got = new Map<string, number>();
    for (const s of await query(`{job="${c.name}"}`)) {
      if (s.metric['__name__'] === 'up' || s.metric['__name__']!.startsWith('scrape_')) continue;
      const v = s.value[1];
      got.set(Labels.from(s.metric).toString(), v === 'NaN' ? NaN : v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
    }
    if (c.name === 'old_ts' || c.name === 'om_int_timestamp' || c.name === 'ts_leading_zeros') {
      // The sample is far outside the TSDB's time bounds, so it is not stored; the scrape is fine.
      expect(got.size).toBe(0);
      return;
    }
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(got.get(k), k).toBe(v);
  });
});
