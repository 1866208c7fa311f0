/**
 * promql-parse: PromQL parser speed.
 *
 *  1. typical dashboard queries (20 shapes: rate sums, histogram_quantile, joins, subqueries,
 *     regex matchers) parsed repeatedly: µs per query and MB/s of query text;
 *  2. every `eval` expression of the upstream promqltest scripts (~1,400 queries) parsed once
 *     per round: µs per query;
 *  3. formatExpr and prettify of the dashboard queries: µs per query;
 *  4. one 900-term sum (a generated query): ms.
 *
 * `npm run bench -- promql-parse [--rounds N]`
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { formatExpr, parse, prettify } from '../promql/parser/index.js';
import { note, report } from './report.js';

const BENCH = 'promql-parse';

const DASHBOARD = [
  'sum by (job) (rate(http_requests_total{job="api-server"}[5m]))',
  'histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))',
  'topk(10, sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[1m])))',
  'avg_over_time(node_load1{instance=~"node-[0-9]+:9100"}[10m])',
  'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m])) * on (namespace, pod) group_left (node) kube_pod_info',
  'max_over_time(rate(http_requests_total[5m])[1h:1m])',
  'label_replace(up{job="node"}, "host", "$1", "instance", "(.*):.*")',
  'count by (version) (kube_node_info)',
  'absent(up{job="alertmanager"} == 1)',
  '1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)',
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05',
  'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}[6h], 4 * 3600) < 0',
  'increase(process_cpu_seconds_total[1h] offset 1d)',
  'rate(http_requests_total[5m] @ end())',
  'quantile_over_time(0.9, http_request_duration_seconds{quantile="0.5"}[30m])',
  'sum without (instance, pod) (irate(apiserver_request_total{verb=~"LIST|GET"}[2m]))',
  'clamp_min(deriv(node_disk_io_time_seconds_total[10m]), 0)',
  'sort_desc(sum by (route) (rate(requests_total[5m])))',
  'time() - process_start_time_seconds{job=~".+"}',
  'up == 0 unless on (instance) maintenance_mode == 1',
];

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
}

function conformanceQueries(): string[] {
  const dir = new URL('../../../shared/conformance/promql/', import.meta.url).pathname;
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.test'))) {
    for (const l of readFileSync(dir + f, 'utf8').split('\n')) {
      const m = /^eval\S*\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(l);
      if (!m) continue;
      try {
        parse(m[1]!);
        out.push(m[1]!);
      } catch {
        // expected failures are not part of the speed figure
      }
    }
  }
  return out;
}

function time(fn: () => void, rounds: number): number {
  for (let i = 0; i < Math.min(50, rounds); i++) fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return (performance.now() - t0) / rounds;
}

export async function run(args: string[]): Promise<void> {
  const rounds = arg(args, 'rounds', 2000);
  const bytes = DASHBOARD.reduce((s, q) => s + q.length, 0);

  const perRound = time(() => {
    for (const q of DASHBOARD) parse(q);
  }, rounds);
  report({ bench: BENCH, name: 'dashboard_parse', value: +((perRound * 1000) / DASHBOARD.length).toFixed(2), unit: 'µs/query' });
  report({ bench: BENCH, name: 'dashboard_parse_throughput', value: +(bytes / (perRound / 1000) / 1e6).toFixed(1), unit: 'MB/s' });

  const conf = conformanceQueries();
  if (conf.length > 0) {
    const t = time(() => {
      for (const q of conf) parse(q);
    }, Math.max(10, Math.floor(rounds / 50)));
    report({ bench: BENCH, name: 'conformance_parse', value: +((t * 1000) / conf.length).toFixed(2), unit: 'µs/query', queries: conf.length });
  } else {
    note('conformance scripts not found; skipping conformance_parse');
  }

  const exprs = DASHBOARD.map((q) => parse(q));
  const tf = time(() => {
    for (const e of exprs) formatExpr(e);
  }, rounds);
  report({ bench: BENCH, name: 'dashboard_format', value: +((tf * 1000) / exprs.length).toFixed(2), unit: 'µs/query' });
  const tp = time(() => {
    for (const e of exprs) prettify(e);
  }, Math.floor(rounds / 4));
  report({ bench: BENCH, name: 'dashboard_prettify', value: +((tp * 1000) / exprs.length).toFixed(2), unit: 'µs/query' });

  const big = Array.from({ length: 900 }, (_, i) => `m${i}`).join(' + ');
  const t0 = performance.now();
  try {
    parse(big);
  } catch (err) {
    note(`900-term sum: ${(err as Error).message}`);
  }
  report({ bench: BENCH, name: 'sum_900_terms', value: +(performance.now() - t0).toFixed(1), unit: 'ms' });
}
