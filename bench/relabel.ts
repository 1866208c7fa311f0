/**
 * Relabeling throughput: the `kubernetes-pods` relabel chain of examples/kubernetes (keep on
 * the scrape annotation, drop finished pods, scheme/path/port annotations, labelmap of pod
 * labels, namespace/pod/node) over realistic pod target label sets (~45 labels each), plus
 * the metric_relabel_configs case where nothing changes (the per-series hot path).
 *
 *   npm run bench -- relabel [--pods 2000] [--seconds 1]
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../src/config/index.js';
import { compileRelabelConfigs, relabel, type CompiledRelabel } from '../src/relabel/index.js';
import { Labels } from '../storage/index.js';
import { note, report } from './report.js';

const BENCH = 'relabel';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

/** Discovered labels of one pod container port, as Kubernetes SD produces them. */
function podTarget(i: number, annotated: boolean): Labels {
  const ns = `team-${i % 20}`;
  const name = `api-${i.toString(36)}-7d9f8c6b5-${(i * 7919).toString(36).slice(0, 5)}`;
  const o: Record<string, string> = {
    __address__: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`,
    __scheme__: 'http',
    __metrics_path__: '/metrics',
    __scrape_interval__: '30s',
    __scrape_timeout__: '10s',
    job: 'kubernetes-pods',
    __meta_kubernetes_namespace: ns,
    __meta_kubernetes_pod_name: name,
    __meta_kubernetes_pod_ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
    __meta_kubernetes_pod_uid: `5f0c${i.toString(16).padStart(8, '0')}-1c2d-4e5f-8a9b-0c1d2e3f4a5b`,
    __meta_kubernetes_pod_node_name: `node-${i % 50}`,
    __meta_kubernetes_pod_host_ip: `192.168.1.${i % 50}`,
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
    __meta_kubernetes_pod_controller_name: `api-${i.toString(36)}-7d9f8c6b5`,
    __meta_kubernetes_pod_container_name: 'api',
    __meta_kubernetes_pod_container_id: `containerd://${'ab'.repeat(32)}`,
    __meta_kubernetes_pod_container_image: 'registry.example.com/api:1.42.0',
    __meta_kubernetes_pod_container_init: 'false',
    __meta_kubernetes_pod_container_port_name: 'http',
    __meta_kubernetes_pod_container_port_number: '8080',
    __meta_kubernetes_pod_container_port_protocol: 'TCP',
    __meta_kubernetes_pod_label_app: 'api',
    __meta_kubernetes_pod_labelpresent_app: 'true',
    __meta_kubernetes_pod_label_app_kubernetes_io_name: 'api',
    __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
    __meta_kubernetes_pod_label_app_kubernetes_io_instance: `api-${i % 7}`,
    __meta_kubernetes_pod_labelpresent_app_kubernetes_io_instance: 'true',
    __meta_kubernetes_pod_label_app_kubernetes_io_version: '1.42.0',
    __meta_kubernetes_pod_labelpresent_app_kubernetes_io_version: 'true',
    __meta_kubernetes_pod_label_pod_template_hash: '7d9f8c6b5',
    __meta_kubernetes_pod_labelpresent_pod_template_hash: 'true',
    __meta_kubernetes_pod_label_team: `team-${i % 20}`,
    __meta_kubernetes_pod_labelpresent_team: 'true',
    __meta_kubernetes_pod_annotation_kubectl_kubernetes_io_restartedAt: '2026-11-01T10:00:00Z',
    __meta_kubernetes_pod_annotationpresent_kubectl_kubernetes_io_restartedAt: 'true',
  };
  if (annotated) {
    Object.assign(o, {
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9102',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_port: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom/metrics',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_path: 'true',
    });
  }
  return Labels.from(o);
}

function measure(name: string, inputs: readonly Labels[], compiled: CompiledRelabel, seconds: number, extra: Record<string, unknown>): void {
  // Warm up (JIT, interning), then run whole passes until the time is up.
  for (const l of inputs) relabel(l, compiled);
  // Per CPU second of this process (the build machine is shared, wall time is noisy).
  let ops = 0;
  let kept = 0;
  const c0 = process.cpuUsage();
  let secs = 0;
  for (let pass = 0; pass < 1_000_000 && secs < seconds; pass++) {
    for (const l of inputs) if (relabel(l, compiled) !== null) kept++;
    ops += inputs.length;
    const c = process.cpuUsage(c0);
    secs = (c.user + c.system) / 1e6;
  }
  const perSec = ops / secs;
  report({ bench: BENCH, name, value: Math.round(perSec), unit: 'ops/cpu-s', ns_per_op: Math.round(1e9 / perSec), kept_ratio: Number((kept / ops).toFixed(3)), ...extra });
}

export async function run(args: string[]): Promise<void> {
  const pods = arg(args, 'pods', 2000);
  const seconds = arg(args, 'seconds', 1);
  const cm = parseYaml(readFileSync(new URL('../../examples/kubernetes/configmap.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
  const cfg = parseConfig(cm.data['prometheus.yml']!, 'configmap.yaml');
  const podJob = cfg.scrapeConfigs.find((s) => s.jobName === 'kubernetes-pods')!;
  const chain = compileRelabelConfigs(podJob.relabelConfigs);
  note(`relabel: ${pods} pod targets, ${podJob.relabelConfigs.length}-step kubernetes-pods chain, ${seconds}s per case`);

  const annotated = Array.from({ length: pods }, (_, i) => podTarget(i, true));
  const plain = Array.from({ length: pods }, (_, i) => podTarget(i, false));
  measure('k8s_pod_chain_kept', annotated, chain, seconds, { steps: podJob.relabelConfigs.length, labels_in: annotated[0]!.size });
  measure('k8s_pod_chain_dropped_first_step', plain, chain, seconds, { steps: podJob.relabelConfigs.length });

  const labelmapOnly = compileRelabelConfigs(podJob.relabelConfigs.filter((r) => r.action === 'labelmap'));
  measure('labelmap_pod_labels', annotated, labelmapOnly, seconds, {});

  // metric_relabel_configs on scraped series: a drop rule that does not match (nothing changes).
  const metricCfg = parseConfig(
    `scrape_configs:\n  - job_name: m\n    metric_relabel_configs:\n      - {source_labels: [cluster_name], regex: 'staging-.*|dev', action: drop}\n      - {source_labels: [__name__], regex: 'go_gc_.*', action: drop}\n`,
    'm.yml',
  ).scrapeConfigs[0]!;
  const series = Array.from({ length: pods }, (_, i) =>
    Labels.fromPairs('__name__', `node_cpu_seconds_total`, 'cpu', String(i % 64), 'mode', ['idle', 'user', 'system'][i % 3]!, 'cluster_name', 'prod-eu'),
  );
  measure('metric_relabel_unchanged', series, compileRelabelConfigs(metricCfg.metricRelabelConfigs), seconds, { steps: 2 });
}
