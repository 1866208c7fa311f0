// End to end, from Kubernetes objects to scraped series: objects on the fake API server
// (list + watch), a prometheus.yml parsed by the real config loader, the real DiscoveryManager
// and ScrapeManager, HTTP(S) metric endpoints on 127.0.0.x / ::1 standing in for pods, kubelets
// and exporters, and the samples read back from a Head. Covered: the prometheus.io/* annotation
// recipe; cadvisor pods kept by namespace and app label; Istio's envoy __address__ port rewrite;
// live pod add / modify / delete with staleness markers; endpoints and endpointslice targets
// joined with pods and services; service and ingress probes; node role over HTTPS;
// attach_metadata; IPv6; API errors and malformed objects; an API server outage with a 410
// relist; config reloads; endpoints selectors; the shipped examples/kubernetes prometheus.yml
// in-cluster; and the built server process.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { Matcher } from '../../../storage/index.js';
import { SEXTANT_MAIN, getJson, startSextant, type Peer } from '../../interop/peers.js';
import { PodServer, Stack, pollAsync, startOnSamePort, waitFor, type PodServerOptions, type Series } from './e2e-harness.js';
import { FakeApiServer } from './fake-apiserver.js';
import { makeCerts } from './certs.js';
import { makeEndpoints, makeEndpointSlice, makeIngress, makeNamespace, makeNode, makePod, makeService } from './fixtures.js';

const FIXTURES = new URL('../../../../shared/fixtures/exposition/', import.meta.url).pathname;
const ALERTMANAGER = readFileSync(FIXTURES + 'alertmanager-0.25.0.txt', 'utf8');
const PUSHGATEWAY = readFileSync(FIXTURES + 'pushgateway-1.5.1.txt', 'utf8');

/** The series every scrape adds besides the target's own. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

/** Number of sample lines of a text exposition. */
function sampleLines(text: string): number {
  let n = 0;
  for (const l of text.split('\n')) if (l !== '' && !l.startsWith('#')) n++;
  return n;
}

// Certificates come from the openssl CLI; without it there is no HTTPS kubelet or API server to
// stand in, and the tests that need one are skipped.
const certs = makeCerts();
const tlsIt = certs ? it : it.skip;
afterAll(() => {
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function apiServer(): Promise<FakeApiServer> {
  const api = await new FakeApiServer().start();
  cleanups.push(() => api.close());
  return api;
}

function stack(api: FakeApiServer): Stack {
  const s = new Stack(api);
  cleanups.push(() => s.stop());
  return s;
}

async function pod(host: string, bodies: Record<string, string>, opts: PodServerOptions = {}): Promise<PodServer> {
  const s = new PodServer(host, bodies, opts);
  cleanups.push(() => s.stop());
  return s.start();
}

function pods(...servers: PodServer[]): PodServer[] {
  for (const s of servers) cleanups.push(() => s.stop());
  return servers;
}

/** The one series named `name` among `ss`. */
function one(ss: Series[], name: string): Series {
  const found = ss.filter((s) => s.labels['__name__'] === name);
  if (found.length !== 1) throw new Error(`${found.length} series named ${name} among ${ss.length}`);
  return found[0]!;
}

/** The last value of the one series named `name`. */
function last(ss: Series[], name: string): number {
  const s = one(ss, name).samples;
  return s[s.length - 1]![1];
}

/** The prometheus.io annotation recipe (Prometheus's example prometheus-kubernetes.yml). */
const ANNOTATION_RELABEL = `
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: true
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\\d+)?;(\\d+)
        replacement: $1:$2
        target_label: __address__
      - action: labelmap
        regex: __meta_kubernetes_pod_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        action: replace
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        action: replace
        target_label: pod
`;

function annotationConfig(api: FakeApiServer, namespace?: string, interval = '500ms'): string {
  return `
global:
  scrape_interval: ${interval}
  scrape_timeout: ${interval}
scrape_configs:
  - job_name: kubernetes-pods
    kubernetes_sd_configs:
      - role: pod
        api_server: ${api.url}
${namespace ? `        namespaces:\n          names: [${namespace}]\n` : ''}${ANNOTATION_RELABEL}`;
}

describe('the prometheus.io annotation recipe', () => {
  it('scrapes annotated pods at their annotated port and path, with pod labels, namespace and pod name; skips the others', async () => {
    const api = await apiServer();
    const am = await pod('127.0.0.2', { '/metrics': ALERTMANAGER });
    const pgw = await pod('127.0.0.3', { '/custom/metrics': PUSHGATEWAY, '/metrics': '# wrong path\n' });
    const web = await pod('127.0.0.4', { '/metrics': 'web_requests_total 1\n' });

    // A StatefulSet pod declaring two ports (neither the annotated one): both targets collapse
    // into one after the port rewrite.
    api.create(
      'pods',
      makePod({
        namespace: 'monitoring',
        name: 'alertmanager-0',
        ip: am.host,
        owner: { kind: 'StatefulSet', name: 'alertmanager' },
        labels: {
          app: 'alertmanager',
          'app.kubernetes.io/name': 'alertmanager',
          'controller-revision-hash': 'alertmanager-6d5f7c9b8',
          'statefulset.kubernetes.io/pod-name': 'alertmanager-0',
        },
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(am.port) },
        containers: [
          {
            name: 'alertmanager',
            image: 'quay.io/prometheus/alertmanager:v0.25.0',
            ports: [
              { name: 'web', containerPort: 9093 },
              { name: 'mesh-tcp', containerPort: 9094 },
            ],
          },
        ],
      }),
    );
    // A Deployment pod with a custom metrics path.
    api.create(
      'pods',
      makePod({
        namespace: 'monitoring',
        name: 'pushgateway-7c9d8f6b5-x2mzq',
        ip: pgw.host,
        owner: { kind: 'ReplicaSet', name: 'pushgateway-7c9d8f6b5' },
        labels: { app: 'pushgateway', 'pod-template-hash': '7c9d8f6b5' },
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/custom/metrics', 'prometheus.io/port': String(pgw.port) },
        containers: [{ name: 'pushgateway', image: 'prom/pushgateway:v1.5.1', ports: [{ name: 'http', containerPort: 9091 }] }],
      }),
    );
    // Not annotated, and annotated with scrape "false": never scraped, though reachable.
    api.create(
      'pods',
      makePod({ namespace: 'shop', name: 'web-5d8f7-abcde', ip: web.host, labels: { app: 'web' }, containers: [{ name: 'web', image: 'web:1', ports: [{ name: 'http', containerPort: web.port }] }] }),
    );
    api.create(
      'pods',
      makePod({
        namespace: 'shop',
        name: 'web-5d8f7-fghij',
        ip: web.host,
        labels: { app: 'web' },
        annotations: { 'prometheus.io/scrape': 'false', 'prometheus.io/port': String(web.port) },
        containers: [{ name: 'web', image: 'web:1', ports: [{ name: 'http', containerPort: web.port }] }],
      }),
    );

    const s = stack(api);
    s.apply(annotationConfig(api));
    await waitFor(
      () => s.okScrapes(am.address) >= 1 && s.okScrapes(pgw.address) >= 1,
      'both annotated pods scraped',
      () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.health, t.lastError]))}`,
    );

    expect(s.targets('kubernetes-pods')).toEqual([am.address, pgw.address].sort());
    const urls = s.sm.activeTargets('kubernetes-pods').map((t) => t.scrapeUrl).sort();
    expect(urls).toEqual([`http://${am.address}/metrics`, `http://${pgw.address}/custom/metrics`].sort());
    // 2 + 1 + 1 + 1 container ports discovered; 2 dropped by the keep, 2 merged into one target.
    expect(s.sm.droppedTargetCounts()).toEqual({ 'kubernetes-pods': 2 });
    expect(s.sm.droppedTargets('kubernetes-pods').map((d) => d.discoveredLabels['__meta_kubernetes_pod_name']).sort()).toEqual(['web-5d8f7-abcde', 'web-5d8f7-fghij']);

    // Series carry the mapped pod labels (sanitised names), namespace and pod.
    const amSeries = s.instance(am.address);
    expect(one(amSeries, 'alertmanager_build_info').labels).toEqual({
      __name__: 'alertmanager_build_info',
      branch: 'debian/sid',
      goarch: 'amd64',
      goos: 'linux',
      goversion: 'go1.19.8',
      revision: '0.25.0-1+b4',
      version: '0.25.0',
      instance: am.address,
      job: 'kubernetes-pods',
      namespace: 'monitoring',
      pod: 'alertmanager-0',
      app: 'alertmanager',
      app_kubernetes_io_name: 'alertmanager',
      controller_revision_hash: 'alertmanager-6d5f7c9b8',
      statefulset_kubernetes_io_pod_name: 'alertmanager-0',
    });
    // Every sample line of the payload became one series of this target.
    expect(amSeries.filter((x) => !SYNTHETIC.has(x.labels['__name__']!)).length).toBe(sampleLines(ALERTMANAGER));
    expect(last(amSeries, 'scrape_samples_scraped')).toBe(sampleLines(ALERTMANAGER));

    const pgwSeries = s.instance(pgw.address);
    expect(one(pgwSeries, 'up').labels).toEqual({
      __name__: 'up',
      instance: pgw.address,
      job: 'kubernetes-pods',
      namespace: 'monitoring',
      pod: 'pushgateway-7c9d8f6b5-x2mzq',
      app: 'pushgateway',
      pod_template_hash: '7c9d8f6b5',
    });
    expect(one(pgwSeries, 'pushgateway_build_info').labels['version']).toBe('1.5.1');
    expect(pgwSeries.filter((x) => !SYNTHETIC.has(x.labels['__name__']!)).length).toBe(sampleLines(PUSHGATEWAY));
    expect(pgw.hits('/metrics')).toBe(0);
    expect(pgw.hits('/custom/metrics')).toBeGreaterThanOrEqual(1);

    // The unannotated pods: no requests, no series, nothing from their namespace.
    expect(web.requests).toEqual([]);
    expect(s.instance(web.address)).toEqual([]);
    expect(s.series(new Matcher('=', 'namespace', 'shop'))).toEqual([]);
  });
});

/** cAdvisor's exposition, shaped as a real one (machine-level and per-container series, with timestamps). */
const cadvisor = (ts: number): string => `# HELP cadvisor_version_info A metric with a constant '1' value labeled by kernel version, OS version, docker version, cadvisor version & cadvisor revision.
# TYPE cadvisor_version_info gauge
cadvisor_version_info{cadvisorRevision="8949c822",cadvisorVersion="v0.47.2",dockerVersion="",kernelVersion="6.1.0-13-amd64",osVersion="Alpine Linux v3.18"} 1
# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="",cpu="total",id="/",image="",name="",namespace="",pod=""} 81234.56 ${ts}
container_cpu_usage_seconds_total{container="web",cpu="total",id="/kubepods/burstable/pod8f1c/0f3a",image="registry.example.com/web:1.4.2",name="0f3a",namespace="shop",pod="web-5d8f7-abcde"} 1523.25 ${ts}
# HELP container_memory_working_set_bytes Current working set in bytes.
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="",id="/",image="",name="",namespace="",pod=""} 6.442450944e+09 ${ts}
container_memory_working_set_bytes{container="web",id="/kubepods/burstable/pod8f1c/0f3a",image="registry.example.com/web:1.4.2",name="0f3a",namespace="shop",pod="web-5d8f7-abcde"} 1.34217728e+08 ${ts}
# HELP machine_cpu_cores Number of logical CPU cores.
# TYPE machine_cpu_cores gauge
machine_cpu_cores{boot_id="5b8c",machine_id="0a1b",system_uuid="ec2a"} 4
`;

describe('keeping cadvisor pods by namespace and app label', () => {
  it('scrapes only pods in the cadvisor namespace with app=cadvisor; target labels win over the exposed ones (exported_)', async () => {
    const api = await apiServer();
    const ts = Date.now() - 10_000;
    const CADVISOR = cadvisor(ts);
    const nodes = [await pod('127.0.0.6', { '/metrics': CADVISOR }), await pod('127.0.0.7', { '/metrics': CADVISOR })];
    const wrongNamespace = await pod('127.0.0.8', { '/metrics': CADVISOR });
    const wrongApp = await pod('127.0.0.9', { '/metrics': 'node_load1 0.5\n' });
    const cadvisorPod = (name: string, node: string, srv: PodServer, namespace = 'cadvisor', app = 'cadvisor') =>
      makePod({
        namespace,
        name,
        ip: srv.host,
        node,
        owner: { kind: 'DaemonSet', name: app },
        labels: { app, 'controller-revision-hash': '7f9c6d8b4', 'pod-template-generation': '3' },
        containers: [{ name: app, image: 'gcr.io/cadvisor/cadvisor:v0.47.2', ports: [{ name: 'http', containerPort: srv.port }] }],
      });
    api.create('pods', cadvisorPod('cadvisor-4xk2p', 'node-a', nodes[0]!));
    api.create('pods', cadvisorPod('cadvisor-9qz7m', 'node-b', nodes[1]!));
    api.create('pods', cadvisorPod('cadvisor-dev-1', 'node-a', wrongNamespace, 'default'));
    api.create('pods', cadvisorPod('node-exporter-5t6h', 'node-a', wrongApp, 'cadvisor', 'node-exporter'));

    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: cadvisor
    kubernetes_sd_configs:
      - role: pod
        api_server: ${api.url}
    relabel_configs:
      - source_labels: [__meta_kubernetes_namespace]
        action: keep
        regex: cadvisor
      - source_labels: [__meta_kubernetes_pod_label_app]
        action: keep
        regex: cadvisor
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_node_name]
        target_label: node
`);
    await waitFor(
      () => nodes.every((n) => s.okScrapes(n.address) >= 1),
      'both cadvisor pods scraped',
      () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.health, t.lastError]))}`,
    );
    expect(s.targets('cadvisor')).toEqual(nodes.map((n) => n.address).sort());
    expect(s.sm.droppedTargetCounts()).toEqual({ cadvisor: 2 });
    expect(wrongNamespace.requests).toEqual([]);
    expect(wrongApp.requests).toEqual([]);

    const a = s.instance(nodes[0]!.address);
    const target = { instance: nodes[0]!.address, job: 'cadvisor', namespace: 'cadvisor', pod: 'cadvisor-4xk2p', node: 'node-a' };
    const cpu = a.filter((x) => x.labels['__name__'] === 'container_cpu_usage_seconds_total').map((x) => x.labels);
    // Empty exposed labels are absent, so the root cgroup takes the target's namespace and pod
    // as they are; the container's own namespace and pod become exported_namespace / exported_pod.
    expect(cpu).toContainEqual({ __name__: 'container_cpu_usage_seconds_total', cpu: 'total', id: '/', ...target });
    expect(cpu).toContainEqual({
      __name__: 'container_cpu_usage_seconds_total',
      container: 'web',
      cpu: 'total',
      id: '/kubepods/burstable/pod8f1c/0f3a',
      image: 'registry.example.com/web:1.4.2',
      name: '0f3a',
      exported_namespace: 'shop',
      exported_pod: 'web-5d8f7-abcde',
      ...target,
    });
    expect(cpu).toHaveLength(2);
    // The exposed timestamps are honoured (honor_timestamps defaults to true).
    expect(one(a, 'machine_cpu_cores').samples[0]).toEqual([expect.any(Number), 4]);
    expect(a.find((x) => x.labels['container'] === 'web' && x.labels['__name__'] === 'container_memory_working_set_bytes')!.samples[0]).toEqual([ts, 134217728]);
    expect(one(s.instance(nodes[1]!.address), 'up').labels).toEqual({ __name__: 'up', instance: nodes[1]!.address, job: 'cadvisor', namespace: 'cadvisor', pod: 'cadvisor-9qz7m', node: 'node-b' });
    expect(s.series(new Matcher('=', 'namespace', 'default'))).toEqual([]);
  });
});

/** Envoy's /stats/prometheus, abridged. */
const ENVOY = `# TYPE envoy_cluster_upstream_rq_total counter
envoy_cluster_upstream_rq_total{cluster_name="outbound|9080||ratings.shop.svc.cluster.local"} 1042
envoy_cluster_upstream_rq_total{cluster_name="inbound|9080||"} 977
# TYPE envoy_server_live gauge
envoy_server_live{} 1
# TYPE envoy_server_uptime gauge
envoy_server_uptime{} 86400
`;

describe("Istio's envoy sidecar __address__ port rewrite", () => {
  it('rewrites the port of sidecar pods annotated with prometheus.io/port to 15090 (with or without a declared port), leaves the others', async () => {
    const api = await apiServer();
    // Sidecars listen on the same port (15090 when free) on their pod's address.
    const envoys = pods(new PodServer('127.0.0.10', { '/stats/prometheus': ENVOY }), new PodServer('127.0.0.11', { '/stats/prometheus': ENVOY }), new PodServer('127.0.0.12', { '/stats/prometheus': ENVOY }));
    const envoyPort = await startOnSamePort(envoys, 15090);
    // A sidecar pod without the prometheus.io/port annotation is scraped where it says.
    const plain = await pod('127.0.0.13', { '/stats/prometheus': ENVOY });
    const sidecarAnnotations = (port: boolean): Record<string, string> => ({
      'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data"]}',
      'kubectl.kubernetes.io/default-container': 'reviews',
      ...(port ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '15020', 'prometheus.io/path': '/stats/prometheus' } : {}),
    });
    const app = { name: 'reviews', image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.18.0', ports: [{ containerPort: 9080 }] };
    const proxy = (ports?: { name?: string; containerPort: number }[]) => ({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.20.3', ...(ports ? { ports } : {}) });
    const labels = { app: 'reviews', version: 'v1', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': 'reviews' };
    // istio-proxy without declared ports: one target at the bare pod IP.
    api.create('pods', makePod({ namespace: 'shop', name: 'reviews-v1-7f99-aaaaa', ip: envoys[0]!.host, labels, annotations: sidecarAnnotations(true), containers: [app, proxy()] }));
    // istio-proxy declaring another port: replaced by the sidecar's.
    api.create('pods', makePod({ namespace: 'shop', name: 'reviews-v1-7f99-bbbbb', ip: envoys[1]!.host, labels, annotations: sidecarAnnotations(true), containers: [app, proxy([{ name: 'status-port', containerPort: 15021 }])] }));
    // No sidecar: dropped.
    api.create('pods', makePod({ namespace: 'shop', name: 'legacy-0', ip: envoys[2]!.host, labels: { app: 'legacy' }, annotations: { 'prometheus.io/port': '15020' }, containers: [proxy([{ containerPort: envoyPort }])] }));
    // A sidecar but no port annotation: the regex does not match, the declared port stays.
    api.create('pods', makePod({ namespace: 'shop', name: 'reviews-v1-7f99-ccccc', ip: plain.host, labels, annotations: sidecarAnnotations(false), containers: [app, proxy([{ name: 'http-envoy-prom', containerPort: plain.port }])] }));

    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: envoy-stats
    metrics_path: /stats/prometheus
    kubernetes_sd_configs:
      - role: pod
        api_server: ${api.url}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotationpresent_sidecar_istio_io_status, __meta_kubernetes_pod_container_name]
        action: keep
        regex: true;istio-proxy
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\\d+)?;(\\d+)
        replacement: $1:${envoyPort}
        target_label: __address__
      - action: labeldrop
        regex: __meta_kubernetes_pod_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        action: replace
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        action: replace
        target_label: pod_name
`);
    const want = [envoys[0]!.address, envoys[1]!.address, plain.address];
    await waitFor(
      () => want.every((a) => s.okScrapes(a) >= 1),
      'the three sidecars scraped',
      () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.health, t.lastError]))}`,
    );
    expect(s.targets('envoy-stats')).toEqual([...want].sort());
    // What discovery said before the rewrite: a bare IP, and the declared status port.
    const discovered = Object.fromEntries(s.sm.activeTargets('envoy-stats').map((t) => [t.labels['pod_name'], t.discoveredLabels['__address__']]));
    expect(discovered).toEqual({ 'reviews-v1-7f99-aaaaa': '127.0.0.10', 'reviews-v1-7f99-bbbbb': '127.0.0.11:15021', 'reviews-v1-7f99-ccccc': plain.address });
    expect(envoys[2]!.requests).toEqual([]);

    for (const [addr, name] of [
      [envoys[0]!.address, 'reviews-v1-7f99-aaaaa'],
      [envoys[1]!.address, 'reviews-v1-7f99-bbbbb'],
      [plain.address, 'reviews-v1-7f99-ccccc'],
    ] as const) {
      const ss = s.instance(addr);
      expect(one(ss, 'envoy_server_live').labels).toEqual({ __name__: 'envoy_server_live', instance: addr, job: 'envoy-stats', namespace: 'shop', pod_name: name });
      expect(ss.filter((x) => x.labels['__name__'] === 'envoy_cluster_upstream_rq_total').map((x) => x.labels['cluster_name']).sort()).toEqual(['inbound|9080||', 'outbound|9080||ratings.shop.svc.cluster.local']);
      expect(last(ss, 'up')).toBe(1);
    }
    // Nothing was scraped on an application port.
    expect(s.sm.activeTargets('envoy-stats').every((t) => t.scrapeUrl.endsWith('/stats/prometheus'))).toBe(true);
  });
});

describe('live pod changes', () => {
  it('an added pod is scraped, a re-annotated pod moves to its new port and path, a deleted pod stops and its series go stale', async () => {
    const api = await apiServer();
    const api0 = await pod('127.0.0.14', { '/metrics': 'http_requests_total{code="200"} 7\nhttp_requests_total{code="500"} 1\n' });
    const worker = pods(new PodServer('127.0.0.15', { '/metrics': 'jobs_processed_total 3\nqueue_depth 12\n' }), new PodServer('127.0.0.15', { '/alt/metrics': 'jobs_processed_total 4\nworker_busy 1\n' }));
    for (const w of worker) await w.start();
    const [w1, w2] = worker as [PodServer, PodServer];
    const livePod = (name: string, srv: PodServer, annotations: Record<string, string>, app: string) =>
      makePod({ namespace: 'live', name, ip: srv.host, labels: { app }, annotations: { 'prometheus.io/scrape': 'true', ...annotations }, containers: [{ name: app, image: `${app}:1`, ports: [{ name: 'http', containerPort: 8080 }] }] });
    api.create('pods', livePod('api-0', api0, { 'prometheus.io/port': String(api0.port) }, 'api'));

    const s = stack(api);
    // 1s: a scrape of api-0 failing on a loaded machine would itself write stale markers.
    s.apply(annotationConfig(api, 'live', '1s'));
    await waitFor(() => s.okScrapes(api0.address) >= 1, 'api-0 scraped');
    expect(s.targets('kubernetes-pods')).toEqual([api0.address]);

    // Added mid-run.
    api.create('pods', livePod('worker-0', w1, { 'prometheus.io/port': String(w1.port) }, 'worker'));
    await waitFor(() => s.okScrapes(w1.address) >= 1, 'added pod scraped', () => `targets ${s.targets('kubernetes-pods').join(', ')}`);
    expect(s.targets('kubernetes-pods')).toEqual([api0.address, w1.address].sort());
    expect(one(s.instance(w1.address), 'queue_depth').labels).toEqual({ __name__: 'queue_depth', instance: w1.address, job: 'kubernetes-pods', namespace: 'live', pod: 'worker-0', app: 'worker' });

    // An annotation no rule reads: same target, same loop, fresh discovered labels.
    const loopW1 = [...s.sm.pool('kubernetes-pods')!.loops.values()].find((l) => l.target.url.includes(w1.address))!;
    api.update('pods', livePod('worker-0', w1, { 'prometheus.io/port': String(w1.port), 'deploy.example.com/revision': '2' }, 'worker'));
    await waitFor(
      () => s.sm.activeTargets('kubernetes-pods').some((t) => t.discoveredLabels['__meta_kubernetes_pod_annotation_deploy_example_com_revision'] === '2'),
      'discovered labels refreshed',
    );
    expect([...s.sm.pool('kubernetes-pods')!.loops.values()]).toContain(loopW1);
    expect(loopW1.isStopped).toBe(false);

    // Re-annotated: another port and path. The old target stops (its series go stale), the new one is scraped.
    api.update('pods', livePod('worker-0', w1, { 'prometheus.io/port': String(w2.port), 'prometheus.io/path': '/alt/metrics' }, 'worker'));
    await waitFor(() => s.okScrapes(w2.address) >= 1, 're-annotated pod scraped at its new port', () => `targets ${s.targets('kubernetes-pods').join(', ')}`);
    expect(s.targets('kubernetes-pods')).toEqual([api0.address, w2.address].sort());
    expect(s.sm.activeTargets('kubernetes-pods').find((t) => t.labels['pod'] === 'worker-0')!.scrapeUrl).toBe(`http://${w2.address}/alt/metrics`);
    expect(w2.hits('/alt/metrics')).toBeGreaterThanOrEqual(1);
    await waitFor(() => s.allStale(w1.address), 'stale markers for the old port', () => JSON.stringify(s.instance(w1.address).map((x) => [x.labels['__name__'], x.samples.slice(-2)])));
    expect(
      s
        .instance(w1.address)
        .map((x) => x.labels['__name__'])
        .sort(),
    ).toEqual(['jobs_processed_total', 'queue_depth', ...SYNTHETIC].sort());
    expect(one(s.instance(w2.address), 'worker_busy').labels['pod']).toBe('worker-0');

    // Deleted: the group empties, the target stops, every series of it gets a stale marker.
    const hitsBefore = (): number => w2.requests.length;
    api.remove('pods', 'live', 'worker-0');
    await waitFor(() => s.targets('kubernetes-pods').length === 1, 'deleted pod no longer a target');
    expect(s.targets('kubernetes-pods')).toEqual([api0.address]);
    const groups = s.dm.targets().get('kubernetes-pods')!;
    expect(groups.map((g) => g.source)).toEqual(['pod/live/api-0']);
    await waitFor(() => s.allStale(w2.address), 'stale markers for the deleted pod', () => JSON.stringify(s.instance(w2.address).map((x) => [x.labels['__name__'], x.samples.slice(-2)])));
    const series = s.instance(w2.address);
    expect(series.map((x) => x.labels['__name__']).sort()).toEqual(['jobs_processed_total', 'worker_busy', ...SYNTHETIC].sort());
    // No scrape after the markers: api-0 is scraped twice more, the deleted pod's server not once.
    const hits = hitsBefore();
    const okApi = s.okScrapes(api0.address);
    await waitFor(() => s.okScrapes(api0.address) >= okApi + 2, 'two more scrapes of api-0');
    expect(w2.requests.length).toBe(hits);
    expect(s.allStale(w2.address)).toBe(true);
    // The pod that stayed was never marked stale.
    for (const x of s.instance(api0.address)) expect(x.samples.every(([, v]) => !Number.isNaN(v))).toBe(true);
  });
});

describe('endpoints and endpointslice roles joined with pods and services', () => {
  it('scraped series carry service labels, pod name, node and container from the joined objects; a pod added behind the service is scraped; deleting the service stales everything', async () => {
    const api = await apiServer();
    const body = (n: number): Record<string, string> => ({ '/metrics': `# TYPE http_requests_total counter\nhttp_requests_total{handler="/api"} ${n}\n` });
    const web = pods(new PodServer('127.0.0.16', body(1)), new PodServer('127.0.0.17', body(2)), new PodServer('127.0.0.18', body(3)));
    // Pods behind one Endpoints port share it.
    const port = await startOnSamePort(web);
    const db = await pod('127.0.0.19', { '/metrics': 'pg_up 1\n' });

    const webPod = (name: string, srv: PodServer, node: string) =>
      makePod({
        namespace: 'shop',
        name,
        ip: srv.host,
        node,
        owner: { kind: 'ReplicaSet', name: 'web-5d8f7' },
        labels: { app: 'web', 'pod-template-hash': '5d8f7' },
        containers: [{ name: 'web', image: 'registry.example.com/web:1.4.2', ports: [{ name: 'metrics', containerPort: port }] }],
      });
    api.create('pods', webPod('web-5d8f7-aaaaa', web[0]!, 'node-a'));
    api.create('pods', webPod('web-5d8f7-bbbbb', web[1]!, 'node-b'));
    api.create('pods', makePod({ namespace: 'shop', name: 'db-0', ip: db.host, node: 'node-a', labels: { app: 'db' }, containers: [{ name: 'postgres', image: 'postgres:16', ports: [{ name: 'metrics', containerPort: db.port }] }] }));
    api.create(
      'services',
      makeService({
        namespace: 'shop',
        name: 'web',
        labels: { app: 'web', tier: 'frontend' },
        annotations: { 'prometheus.io/scrape': 'true' },
        ports: [{ name: 'metrics', port: 9100, targetPort: 'metrics' }],
        selector: { app: 'web' },
      }),
    );
    // Not annotated: its endpoints are discovered and dropped.
    api.create('services', makeService({ namespace: 'shop', name: 'db', labels: { app: 'db' }, ports: [{ name: 'metrics', port: 9187, targetPort: db.port }], selector: { app: 'db' } }));
    const webEndpoints = (members: [PodServer, string, string][]) =>
      makeEndpoints({ namespace: 'shop', name: 'web', labels: { app: 'web', tier: 'frontend' }, subsets: [{ addresses: members.map(([s, p, n]) => ({ ip: s.host, pod: p, nodeName: n })), ports: [{ name: 'metrics', port }] }] });
    const webSlice = (members: [PodServer, string, string, string][]) =>
      makeEndpointSlice({
        namespace: 'shop',
        name: 'web-x7k2p',
        service: 'web',
        labels: { app: 'web', tier: 'frontend' },
        endpoints: members.map(([s, p, n, z]) => ({ addresses: [s.host], pod: p, nodeName: n, zone: z })),
        ports: [{ name: 'metrics', port }],
      });
    api.create('endpoints', webEndpoints([[web[0]!, 'web-5d8f7-aaaaa', 'node-a'], [web[1]!, 'web-5d8f7-bbbbb', 'node-b']]));
    api.create('endpointslices', webSlice([[web[0]!, 'web-5d8f7-aaaaa', 'node-a', 'eu-west-1a'], [web[1]!, 'web-5d8f7-bbbbb', 'node-b', 'eu-west-1b']]));
    api.create('endpoints', makeEndpoints({ namespace: 'shop', name: 'db', subsets: [{ addresses: [{ ip: db.host, pod: 'db-0', nodeName: 'node-a' }], ports: [{ name: 'metrics', port: db.port }] }] }));
    api.create('endpointslices', makeEndpointSlice({ namespace: 'shop', name: 'db-q8r4t', service: 'db', endpoints: [{ addresses: [db.host], pod: 'db-0', nodeName: 'node-a' }], ports: [{ name: 'metrics', port: db.port }] }));

    const common = `
      - source_labels: [__meta_kubernetes_service_annotation_prometheus_io_scrape]
        action: keep
        regex: true
      - action: labelmap
        regex: __meta_kubernetes_service_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_service_name]
        target_label: service
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_node_name]
        target_label: node
      - source_labels: [__meta_kubernetes_pod_container_name]
        target_label: container`;
    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: kubernetes-service-endpoints
    kubernetes_sd_configs:
      - role: endpoints
        api_server: ${api.url}
    relabel_configs:${common}
  - job_name: kubernetes-endpointslices
    kubernetes_sd_configs:
      - role: endpointslice
        api_server: ${api.url}
    relabel_configs:${common}
      - source_labels: [__meta_kubernetes_endpointslice_endpoint_zone]
        target_label: zone
`);
    const jobs = ['kubernetes-service-endpoints', 'kubernetes-endpointslices'];
    const scraped = (srv: PodServer): boolean => jobs.every((j) => s.okScrapes(srv.address, j) >= 1);
    await waitFor(
      () => scraped(web[0]!) && scraped(web[1]!),
      'both web pods scraped by both jobs',
      () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapePool, t.scrapeUrl, t.health, t.lastError]))}`,
    );
    for (const j of jobs) expect(s.targets(j)).toEqual([web[0]!.address, web[1]!.address]);
    expect(s.sm.droppedTargetCounts()).toEqual({ 'kubernetes-endpointslices': 1, 'kubernetes-service-endpoints': 1 });
    expect(db.requests).toEqual([]);

    const labelsOf = (srv: PodServer, job: string) => one(s.instance(srv.address, job), 'http_requests_total').labels;
    const base = { __name__: 'http_requests_total', handler: '/api', namespace: 'shop', service: 'web', container: 'web', app: 'web', tier: 'frontend' };
    expect(labelsOf(web[0]!, jobs[0]!)).toEqual({ ...base, instance: web[0]!.address, job: jobs[0], pod: 'web-5d8f7-aaaaa', node: 'node-a' });
    expect(labelsOf(web[1]!, jobs[0]!)).toEqual({ ...base, instance: web[1]!.address, job: jobs[0], pod: 'web-5d8f7-bbbbb', node: 'node-b' });
    expect(labelsOf(web[0]!, jobs[1]!)).toEqual({ ...base, instance: web[0]!.address, job: jobs[1], pod: 'web-5d8f7-aaaaa', node: 'node-a', zone: 'eu-west-1a' });
    expect(labelsOf(web[1]!, jobs[1]!)).toEqual({ ...base, instance: web[1]!.address, job: jobs[1], pod: 'web-5d8f7-bbbbb', node: 'node-b', zone: 'eu-west-1b' });
    expect(last(s.instance(web[1]!.address, jobs[1]), 'http_requests_total')).toBe(2);
    // The discovered labels show the join itself.
    const discovered = s.sm.activeTargets(jobs[1]).find((t) => t.labels['pod'] === 'web-5d8f7-aaaaa')!.discoveredLabels;
    expect(discovered).toMatchObject({
      __meta_kubernetes_endpointslice_name: 'web-x7k2p',
      __meta_kubernetes_endpointslice_port_name: 'metrics',
      __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true',
      __meta_kubernetes_pod_container_port_name: 'metrics',
      __meta_kubernetes_pod_label_app: 'web',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
    });

    // Scaled up: the new pod first, then the endpoints controller adds it to both objects.
    const loopsBefore = jobs.map((j) => [...s.sm.pool(j)!.loops.values()]);
    api.create('pods', webPod('web-5d8f7-ccccc', web[2]!, 'node-c'));
    api.update('endpoints', webEndpoints([[web[0]!, 'web-5d8f7-aaaaa', 'node-a'], [web[1]!, 'web-5d8f7-bbbbb', 'node-b'], [web[2]!, 'web-5d8f7-ccccc', 'node-c']]));
    api.update('endpointslices', webSlice([[web[0]!, 'web-5d8f7-aaaaa', 'node-a', 'eu-west-1a'], [web[1]!, 'web-5d8f7-bbbbb', 'node-b', 'eu-west-1b'], [web[2]!, 'web-5d8f7-ccccc', 'node-c', 'eu-west-1c']]));
    await waitFor(() => scraped(web[2]!), 'the added pod scraped by both jobs', () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapePool, t.scrapeUrl]))}`);
    expect(labelsOf(web[2]!, jobs[0]!)).toEqual({ ...base, instance: web[2]!.address, job: jobs[0], pod: 'web-5d8f7-ccccc', node: 'node-c' });
    expect(labelsOf(web[2]!, jobs[1]!)).toEqual({ ...base, instance: web[2]!.address, job: jobs[1], pod: 'web-5d8f7-ccccc', node: 'node-c', zone: 'eu-west-1c' });
    // The existing targets kept their loops (and caches) through the endpoints update.
    for (const [i, j] of jobs.entries()) {
      expect(s.targets(j)).toEqual(web.map((w) => w.address));
      const now = [...s.sm.pool(j)!.loops.values()];
      for (const l of loopsBefore[i]!) expect(now).toContain(l);
    }

    // The service goes away with its Endpoints and EndpointSlice: every target stops and every
    // series of both jobs ends with a stale marker.
    api.remove('endpointslices', 'shop', 'web-x7k2p');
    api.remove('endpoints', 'shop', 'web');
    api.remove('services', 'shop', 'web');
    await waitFor(() => jobs.every((j) => s.targets(j).length === 0), 'no targets left', () => JSON.stringify(jobs.map((j) => s.targets(j))));
    await waitFor(
      () => web.every((w) => s.allStale(w.address)),
      'stale markers for every web series',
      () => JSON.stringify(web.flatMap((w) => s.instance(w.address).map((x) => [x.labels['job'], x.labels['__name__'], x.samples.slice(-1)]))),
    );
    expect(s.series(new Matcher('=', 'service', 'web')).length).toBe(2 * 3 * 6);
  });
});

describe('service and ingress roles probed through a blackbox exporter', () => {
  it('sends each annotated service address and ingress URL as the probe target; instance and service/ingress labels on the probe series', async () => {
    const api = await apiServer();
    const blackbox = await pod('127.0.0.28', { '/probe': '# TYPE probe_success gauge\nprobe_success 1\n# TYPE probe_http_status_code gauge\nprobe_http_status_code 200\n' });
    api.create('services', makeService({ namespace: 'shop', name: 'web', labels: { app: 'web' }, annotations: { 'prometheus.io/probe': 'true' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }));
    api.create('services', makeService({ namespace: 'shop', name: 'db', labels: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] }));
    api.create(
      'ingresses',
      makeIngress({ namespace: 'shop', name: 'storefront', labels: { app: 'web' }, annotations: { 'prometheus.io/probe': 'true' }, className: 'nginx', tlsHosts: ['shop.example.com'], rules: [{ host: 'shop.example.com', paths: ['/', '/api'] }, { host: 'status.example.com', paths: ['/healthz'] }] }),
    );
    api.create('ingresses', makeIngress({ namespace: 'shop', name: 'internal', rules: [{ host: 'internal.example.com' }] }));

    const relabelTail = (kind: string) => `
      - target_label: __address__
        replacement: ${blackbox.address}
      - source_labels: [__param_target]
        target_label: instance
      - action: labelmap
        regex: __meta_kubernetes_${kind}_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_${kind}_name]
        target_label: ${kind}`;
    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: kubernetes-services
    metrics_path: /probe
    params:
      module: [http_2xx]
    kubernetes_sd_configs:
      - role: service
        api_server: ${api.url}
    relabel_configs:
      - source_labels: [__meta_kubernetes_service_annotation_prometheus_io_probe]
        action: keep
        regex: true
      - source_labels: [__address__]
        target_label: __param_target${relabelTail('service')}
  - job_name: kubernetes-ingresses
    metrics_path: /probe
    params:
      module: [http_2xx]
    kubernetes_sd_configs:
      - role: ingress
        api_server: ${api.url}
    relabel_configs:
      - source_labels: [__meta_kubernetes_ingress_annotation_prometheus_io_probe]
        action: keep
        regex: true
      - source_labels: [__meta_kubernetes_ingress_scheme, __address__, __meta_kubernetes_ingress_path]
        regex: (.+);(.+);(.+)
        replacement: \${1}://\${2}\${3}
        target_label: __param_target${relabelTail('ingress')}
`);
    const probes = ['web.shop.svc:80', 'https://shop.example.com/', 'https://shop.example.com/api', 'http://status.example.com/healthz'];
    await waitFor(
      () => probes.every((p) => s.okScrapes(p) >= 1),
      'every probe target scraped',
      () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.health, t.lastError]))}`,
    );
    expect(s.targets('kubernetes-services')).toEqual(['web.shop.svc:80']);
    expect(s.targets('kubernetes-ingresses')).toEqual(probes.slice(1).sort());
    const asked = new Set(blackbox.urls);
    for (const p of probes) expect(asked).toContain(`/probe?module=http_2xx&target=${encodeURIComponent(p)}`);
    expect([...asked].some((u) => u.includes('db.shop') || u.includes('internal.example.com'))).toBe(false);

    expect(one(s.instance('web.shop.svc:80'), 'probe_success').labels).toEqual({ __name__: 'probe_success', instance: 'web.shop.svc:80', job: 'kubernetes-services', namespace: 'shop', service: 'web', app: 'web' });
    expect(one(s.instance('https://shop.example.com/api'), 'probe_http_status_code').labels).toEqual({
      __name__: 'probe_http_status_code',
      instance: 'https://shop.example.com/api',
      job: 'kubernetes-ingresses',
      namespace: 'shop',
      ingress: 'storefront',
      app: 'web',
    });
    expect(last(s.instance('http://status.example.com/healthz'), 'probe_success')).toBe(1);
  });
});

describe('node role: kubelets over HTTPS with a service-account token', () => {

  tlsIt('scrapes each node at its InternalIP and kubelet port (metrics and cadvisor paths), instance = node name, node labels mapped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sextant-k8s-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'sa-token-1\n');
    const kubelet = (host: string): Promise<PodServer> =>
      pod(host, { '/metrics': 'kubelet_running_pods 12\n', '/metrics/cadvisor': 'machine_cpu_cores 4\n' }, { tls: { cert: certs!.serverCert, key: certs!.serverKey }, bearerToken: 'sa-token-1' });
    const kubelets = [await kubelet('127.0.0.26'), await kubelet('127.0.0.27')];
    const api = await apiServer();
    const node = (name: string, k: PodServer, zone: string) =>
      makeNode({
        name,
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': 'm5.large', 'topology.kubernetes.io/zone': zone },
        addresses: [
          { type: 'Hostname', address: name },
          { type: 'ExternalIP', address: '203.0.113.9' },
          { type: 'InternalIP', address: k.host },
        ],
        kubeletPort: k.port,
      });
    api.create('nodes', node('node-a', kubelets[0]!, 'eu-west-1a'));
    api.create('nodes', node('node-b', kubelets[1]!, 'eu-west-1b'));

    const job = (name: string, metricsPath: string) => `
  - job_name: ${name}
    scheme: https
    metrics_path: ${metricsPath}
    tls_config:
      ca_file: ${certs!.caFile}
      server_name: localhost
    authorization:
      credentials_file: ${tokenFile}
    kubernetes_sd_configs:
      - role: node
        api_server: ${api.url}
    relabel_configs:
      - action: labelmap
        regex: __meta_kubernetes_node_label_(.+)`;
    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:${job('kubernetes-nodes', '/metrics')}${job('kubernetes-cadvisor', '/metrics/cadvisor')}
`);
    const jobs = ['kubernetes-nodes', 'kubernetes-cadvisor'];
    await waitFor(
      () => ['node-a', 'node-b'].every((n) => jobs.every((j) => s.okScrapes(n, j) >= 1)),
      'both kubelets scraped by both jobs',
      () => `targets ${JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.health, t.lastError]))}`,
    );
    for (const j of jobs) expect(s.targets(j)).toEqual(['node-a', 'node-b']);
    expect(s.sm.activeTargets('kubernetes-cadvisor').map((t) => t.scrapeUrl).sort()).toEqual(kubelets.map((k) => `https://${k.address}/metrics/cadvisor`));
    // One node watch shared by both jobs.
    expect(api.watchCount('nodes')).toBe(1);
    for (const k of kubelets) expect(new Set(k.authorizations)).toEqual(new Set(['Bearer sa-token-1']));

    const nodeLabels = { kubernetes_io_hostname: 'node-a', kubernetes_io_os: 'linux', node_kubernetes_io_instance_type: 'm5.large', topology_kubernetes_io_zone: 'eu-west-1a' };
    expect(one(s.instance('node-a', 'kubernetes-nodes'), 'kubelet_running_pods').labels).toEqual({ __name__: 'kubelet_running_pods', instance: 'node-a', job: 'kubernetes-nodes', ...nodeLabels });
    expect(one(s.instance('node-a', 'kubernetes-cadvisor'), 'machine_cpu_cores').labels).toEqual({ __name__: 'machine_cpu_cores', instance: 'node-a', job: 'kubernetes-cadvisor', ...nodeLabels });
    expect(last(s.instance('node-b', 'kubernetes-nodes'), 'kubelet_running_pods')).toBe(12);
  });
});

describe('attach_metadata: node and namespace labels on pod targets', () => {
  it('adds the zone of the pod\'s node and the team of its namespace; relabelling a node or namespace moves the series to new labels and the old ones go stale', async () => {
    const api = await apiServer();
    const app = await pod('127.0.0.29', { '/metrics': 'payments_total 3\n' });
    api.create('nodes', makeNode({ name: 'node-z', labels: { 'kubernetes.io/hostname': 'node-z', 'topology.kubernetes.io/zone': 'eu-west-1a' } }));
    api.create('namespaces', makeNamespace('payments', { team: 'billing' }));
    api.create('pods', makePod({ namespace: 'payments', name: 'payments-0', ip: app.host, node: 'node-z', labels: { app: 'payments' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(app.port) } }));
    const s = stack(api);
    s.apply(
      annotationConfig(api, undefined, '1s')
        .replace('        api_server:', '        attach_metadata: {node: true, namespace: true}\n        api_server:')
        .concat(`      - source_labels: [__meta_kubernetes_node_label_topology_kubernetes_io_zone]
        target_label: zone
      - source_labels: [__meta_kubernetes_namespace_label_team]
        target_label: team
`),
    );
    const payments = () => s.series(new Matcher('=', '__name__', 'payments_total'));
    await waitFor(() => s.okScrapes(app.address) >= 1, 'the pod scraped');
    expect(payments().map((x) => x.labels)).toEqual([
      { __name__: 'payments_total', instance: app.address, job: 'kubernetes-pods', namespace: 'payments', pod: 'payments-0', app: 'payments', zone: 'eu-west-1a', team: 'billing' },
    ]);

    // The node moves zone (relabelled): the pod's target follows without a pod event.
    api.update('nodes', makeNode({ name: 'node-z', labels: { 'kubernetes.io/hostname': 'node-z', 'topology.kubernetes.io/zone': 'eu-west-1b' } }));
    const withLabel = (name: string, value: string) => payments().find((x) => x.labels[name] === value);
    await waitFor(() => (withLabel('zone', 'eu-west-1b')?.samples.length ?? 0) >= 1, 'series with the new zone');
    // The namespace changes team.
    api.update('namespaces', makeNamespace('payments', { team: 'payments-core' }));
    await waitFor(() => (withLabel('team', 'payments-core')?.samples.length ?? 0) >= 1, 'series with the new team');
    const key = (x: Series): string => `${x.labels['zone']}/${x.labels['team']}`;
    const stale = (x: Series): boolean => Number.isNaN(x.samples[x.samples.length - 1]![1]);
    expect(payments().map(key).sort()).toEqual(['eu-west-1a/billing', 'eu-west-1b/billing', 'eu-west-1b/payments-core']);
    await waitFor(
      () => payments().filter(stale).map(key).sort().join() === 'eu-west-1a/billing,eu-west-1b/billing',
      'the two earlier label sets stale',
      () => JSON.stringify(payments().map((x) => [key(x), x.samples.slice(-1)])),
    );
    expect(stale(withLabel('team', 'payments-core')!)).toBe(false);
    expect(s.sm.activeTargets('kubernetes-pods').map((t) => [t.labels['zone'], t.labels['team']])).toEqual([['eu-west-1b', 'payments-core']]);
  });
});

describe('IPv6 pods', () => {
  it('joins an IPv6 pod or endpoint address with its port in brackets and scrapes it', async () => {
    const api = await apiServer();
    const app = await pod('::1', { '/metrics': 'v6_requests_total 9\n' });
    api.create('pods', makePod({ namespace: 'v6', name: 'v6-0', ip: '::1', labels: { app: 'v6' }, containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'metrics', containerPort: app.port }] }] }));
    api.create('services', makeService({ namespace: 'v6', name: 'v6', ports: [{ name: 'metrics', port: app.port }], selector: { app: 'v6' } }));
    api.create('endpointslices', makeEndpointSlice({ namespace: 'v6', name: 'v6-ipv6-abcde', service: 'v6', addressType: 'IPv6', endpoints: [{ addresses: ['::1'], pod: 'v6-0' }], ports: [{ name: 'metrics', port: app.port }] }));
    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: pods
    kubernetes_sd_configs: [{role: pod, api_server: '${api.url}'}]
    relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_label_app], regex: v6, action: keep}
  - job_name: slices
    kubernetes_sd_configs: [{role: endpointslice, api_server: '${api.url}'}]
    relabel_configs:
      - {source_labels: [__meta_kubernetes_endpointslice_address_type], regex: IPv6, action: keep}
      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
`);
    const addr = `[::1]:${app.port}`;
    await waitFor(() => s.okScrapes(addr, 'pods') >= 1 && s.okScrapes(addr, 'slices') >= 1, 'the IPv6 pod scraped by both jobs', () => JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.lastError])));
    expect(s.sm.activeTargets().map((t) => t.scrapeUrl)).toEqual([`http://${addr}/metrics`, `http://${addr}/metrics`]);
    expect(one(s.instance(addr, 'slices'), 'v6_requests_total').labels).toEqual({ __name__: 'v6_requests_total', instance: addr, job: 'slices', pod: 'v6-0' });
    expect(last(s.instance(addr, 'pods'), 'v6_requests_total')).toBe(9);
  });
});

describe('API errors and malformed objects', () => {
  it('a forbidden role and a malformed pod are logged and counted while the other jobs and pods are scraped; the role recovers when allowed', async () => {
    const api = await apiServer();
    const good = await pod('127.0.0.30', { '/metrics': 'ok_total 1\n' });
    const probe = await pod('127.0.0.31', { '/probe': 'probe_success 1\n' });
    api.create('pods', makePod({ namespace: 'apps', name: 'good-0', ip: good.host, labels: { app: 'good' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(good.port) } }));
    // Sent verbatim in every pod list: no IP, a port without a number.
    api.injectListItem('pods', {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'broken', namespace: 'apps', annotations: { 'prometheus.io/scrape': 'true' } },
      spec: { containers: [{ name: 'x', ports: [{ containerPort: 'abc' }] }] },
      status: { podIP: 'not-an-ip' },
    });
    api.create('ingresses', makeIngress({ namespace: 'apps', name: 'site', rules: [{ host: 'site.example.com', paths: ['/'] }] }));
    api.fail('ingresses', 403);

    const s = stack(api);
    s.apply(
      annotationConfig(api).concat(`  - job_name: ingresses
    metrics_path: /probe
    kubernetes_sd_configs:
      - role: ingress
        api_server: ${api.url}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - target_label: __address__
        replacement: ${probe.address}
      - source_labels: [__param_target]
        target_label: instance
`),
    );
    await waitFor(() => s.okScrapes(good.address) >= 1, 'the good pod scraped despite the broken one and the forbidden ingresses');
    await waitFor(() => s.sd.metrics.failures >= 2 && s.log.errors('forbidden').length > 0, 'the 403 logged and counted', () => JSON.stringify(s.log.lines.slice(-5)));
    expect(s.targets('kubernetes-pods')).toEqual([good.address]);
    expect(s.targets('ingresses')).toEqual([]);
    expect(s.sd.metrics.malformed.get('pod')).toBe(1);
    expect(s.log.errors('apps/broken').map((l) => l.fields['problem'])).toEqual(['status.podIP "not-an-ip" is not an IP address']);
    expect(s.sd.metrics.requests.get('403')).toBeGreaterThanOrEqual(2);
    expect(probe.requests).toEqual([]);

    // Permission granted: the ingress informer's retries get through.
    api.clearFailures();
    await waitFor(() => s.okScrapes('site.example.com') >= 1, 'the ingress probed after the 403s stop', () => JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapeUrl, t.lastError])));
    expect(probe.urls).toContain('/probe?target=site.example.com');
    expect(last(s.instance(good.address), 'up')).toBe(1);
  });
});

describe('endpoints role selectors', () => {
  it('a service selector narrows only the services joined in (other Endpoints stay targets, without service labels); an endpoints selector narrows the targets', async () => {
    const api = await apiServer();
    const legacy = await pod('127.0.0.43', { '/metrics': 'legacy_up 1\n' });
    const other = await pod('127.0.0.44', { '/metrics': 'other_up 1\n' });
    const label = { 'monitoring.example.com/legacy-endpoints': 'true' };
    // The endpoints controller copies a service's labels onto its Endpoints.
    api.create('services', makeService({ namespace: 'shop', name: 'legacy', labels: label, ports: [{ name: 'metrics', port: legacy.port }] }));
    api.create('endpoints', makeEndpoints({ namespace: 'shop', name: 'legacy', labels: label, subsets: [{ addresses: [{ ip: legacy.host }], ports: [{ name: 'metrics', port: legacy.port }] }] }));
    api.create('services', makeService({ namespace: 'shop', name: 'other', ports: [{ name: 'metrics', port: other.port }] }));
    api.create('endpoints', makeEndpoints({ namespace: 'shop', name: 'other', subsets: [{ addresses: [{ ip: other.host }], ports: [{ name: 'metrics', port: other.port }] }] }));
    const job = (name: string, role: string) => `
  - job_name: ${name}
    kubernetes_sd_configs:
      - role: endpoints
        api_server: ${api.url}
        selectors:
          - role: ${role}
            label: monitoring.example.com/legacy-endpoints=true
    relabel_configs:
      - source_labels: [__meta_kubernetes_endpoint_port_name]
        regex: metrics
        action: keep
      - source_labels: [__meta_kubernetes_service_name]
        target_label: service`;
    const s = stack(api);
    s.apply(`
global:
  scrape_interval: 500ms
scrape_configs:${job('by-service', 'service')}${job('by-endpoints', 'endpoints')}
`);
    await waitFor(
      () => s.okScrapes(legacy.address, 'by-service') >= 1 && s.okScrapes(other.address, 'by-service') >= 1 && s.okScrapes(legacy.address, 'by-endpoints') >= 1,
      'the three targets scraped',
      () => JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapePool, t.scrapeUrl])),
    );
    expect(s.targets('by-service')).toEqual([legacy.address, other.address]);
    expect(one(s.instance(legacy.address, 'by-service'), 'up').labels['service']).toBe('legacy');
    expect(one(s.instance(other.address, 'by-service'), 'up').labels['service']).toBeUndefined();
    expect(s.targets('by-endpoints')).toEqual([legacy.address]);
    expect(one(s.instance(legacy.address, 'by-endpoints'), 'up').labels['service']).toBe('legacy');
  });
});

describe('kubeconfig_file through the config loader', () => {
  tlsIt('a kubeconfig path relative to prometheus.yml is resolved against its directory; the pods it reaches are scraped', async () => {
    const c = certs!;
    const api = await new FakeApiServer({ tls: { cert: c.serverCert, key: c.serverKey }, authorization: ['Bearer kc-token'] }).start();
    cleanups.push(() => api.close());
    const app = await pod('127.0.0.45', { '/metrics': 'kc_up 1\n' });
    api.create('pods', makePod({ namespace: 'kc', name: 'kc-0', ip: app.host, labels: { app: 'kc' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(app.port) } }));
    const dir = mkdtempSync(path.join(tmpdir(), 'sextant-k8s-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'kube'));
    writeFileSync(
      path.join(dir, 'kube', 'config'),
      `apiVersion: v1
kind: Config
current-context: e2e
contexts:
- name: e2e
  context: {cluster: e2e, user: sextant}
clusters:
- name: e2e
  cluster:
    server: ${api.url}
    certificate-authority-data: ${Buffer.from(c.ca).toString('base64')}
users:
- name: sextant
  user: {token: kc-token}
`,
    );
    const s = stack(api);
    const yml = annotationConfig(api).replace(`api_server: ${api.url}`, 'kubeconfig_file: kube/config');
    expect(yml).toContain('kubeconfig_file: kube/config');
    const cfg = s.apply(yml, path.join(dir, 'prometheus.yml'));
    expect(cfg.scrapeConfigs[0]!.kubernetesSdConfigs[0]!.kubeconfigFile).toBe(path.join(dir, 'kube', 'config'));
    await waitFor(() => s.okScrapes(app.address) >= 1, 'the pod reached through the kubeconfig scraped', () => JSON.stringify(s.log.lines.filter((l) => l.level === 'error')));
    expect(one(s.instance(app.address), 'kc_up').labels).toEqual({ __name__: 'kc_up', instance: app.address, job: 'kubernetes-pods', namespace: 'kc', pod: 'kc-0', app: 'kc' });
    expect(api.requests.every((r) => r.headers.authorization === 'Bearer kc-token')).toBe(true);
  });
});

describe('the shipped examples/kubernetes prometheus.yml, in-cluster', () => {
  tlsIt('every job of the ConfigMap finds and scrapes its targets in a small cluster, through the API server over TLS with the service-account token', async () => {
    const c = certs!;
    // The service-account files a pod gets, in a temp dir standing for /var/run/secrets/kubernetes.io/serviceaccount.
    const root = mkdtempSync(path.join(tmpdir(), 'sextant-k8s-e2e-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const sa = path.join(root, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(path.join(sa, 'token'), 'sa-token');
    writeFileSync(path.join(sa, 'ca.crt'), c.ca);
    writeFileSync(path.join(sa, 'namespace'), 'monitoring');
    const tls = { cert: c.serverCert, key: c.serverKey };

    const api = await new FakeApiServer({ tls, authorization: ['Bearer sa-token'] }).start();
    cleanups.push(() => api.close());
    const self = await pod('127.0.0.32', { '/metrics': readFileSync(FIXTURES + 'prometheus-2.42.0.txt', 'utf8') });
    const apiMetrics = await pod('127.0.0.1', { '/metrics': 'apiserver_request_total{code="200",verb="LIST"} 42\n' }, { tls, bearerToken: 'sa-token' });
    const cadvisorText = cadvisor(Date.now() - 5000);
    const kubelet = await pod('127.0.0.34', { '/metrics': 'kubelet_running_pods 7\n', '/metrics/cadvisor': cadvisorText }, { tls, bearerToken: 'sa-token' });
    const webReady = await pod('127.0.0.35', { '/metrics': 'web_up 1\n' });
    const webNotReady = await pod('127.0.0.36', { '/metrics': 'web_up 1\n' });
    const worker = await pod('127.0.0.37', { '/metrics': 'worker_jobs_total 2\n' });
    const finished = await pod('127.0.0.38', { '/metrics': 'job_done 1\n' });
    const blackbox = await pod('127.0.0.39', { '/probe': 'probe_success 1\n' });
    const legacy = await pod('127.0.0.40', { '/metrics': 'legacy_up 1\n' });

    api.create('namespaces', makeNamespace('monitoring'));
    api.create('pods', makePod({ namespace: 'monitoring', name: 'sextant-0', ip: self.host, node: 'node-1', labels: { 'app.kubernetes.io/name': 'sextant' }, containers: [{ name: 'sextant', image: 'sextant:0.1.0', ports: [{ name: 'web', containerPort: self.port }] }] }));
    // Not selected by the sextant job's label selector.
    api.create('pods', makePod({ namespace: 'monitoring', name: 'grafana-0', ip: '127.0.0.41', node: 'node-1', labels: { 'app.kubernetes.io/name': 'grafana' }, containers: [{ name: 'grafana', image: 'grafana:10', ports: [{ name: 'web', containerPort: 3000 }] }] }));
    api.create('services', makeService({ namespace: 'default', name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' }, ports: [{ name: 'https', port: 443, targetPort: apiMetrics.port }], selector: {} }));
    api.create('endpointslices', makeEndpointSlice({ namespace: 'default', name: 'kubernetes', service: 'kubernetes', endpoints: [{ addresses: [apiMetrics.host] }], ports: [{ name: 'https', port: apiMetrics.port }] }));
    api.create(
      'nodes',
      makeNode({
        name: 'node-1',
        labels: { 'kubernetes.io/hostname': 'node-1', 'topology.kubernetes.io/zone': 'eu-west-1a' },
        addresses: [{ type: 'InternalIP', address: kubelet.host }, { type: 'Hostname', address: 'node-1' }],
        kubeletPort: kubelet.port,
      }),
    );
    api.create('services', makeService({ namespace: 'shop', name: 'web', labels: { app: 'web' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/probe': 'true', 'prometheus.io/port': String(webReady.port) }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }));
    for (const [name, srv] of [['web-0', webReady], ['web-1', webNotReady]] as const) {
      api.create('pods', makePod({ namespace: 'shop', name, ip: srv.host, node: 'node-1', labels: { app: 'web' }, ready: name === 'web-0' }));
    }
    api.create(
      'endpointslices',
      makeEndpointSlice({
        namespace: 'shop',
        name: 'web-8d7x2',
        service: 'web',
        endpoints: [
          { addresses: [webReady.host], pod: 'web-0', nodeName: 'node-1' },
          { addresses: [webNotReady.host], pod: 'web-1', nodeName: 'node-1', ready: false },
        ],
        ports: [{ name: 'http', port: 8080 }],
      }),
    );
    const annotated = { 'prometheus.io/scrape': 'true' };
    api.create('pods', makePod({ namespace: 'shop', name: 'worker-0', ip: worker.host, node: 'node-1', labels: { app: 'worker' }, annotations: { ...annotated, 'prometheus.io/port': String(worker.port) } }));
    api.create('pods', makePod({ namespace: 'shop', name: 'report-28391', ip: finished.host, node: 'node-1', phase: 'Succeeded', ready: false, labels: { app: 'report' }, annotations: { ...annotated, 'prometheus.io/port': String(finished.port) } }));
    api.create('ingresses', makeIngress({ namespace: 'shop', name: 'storefront', annotations: { 'prometheus.io/probe': 'true' }, tlsHosts: ['shop.example.com'], rules: [{ host: 'shop.example.com', paths: ['/'] }] }));
    api.create('services', makeService({ namespace: 'shop', name: 'legacy', labels: { 'monitoring.example.com/legacy-endpoints': 'true' }, ports: [{ name: 'metrics', port: legacy.port }] }));
    api.create('pods', makePod({ namespace: 'shop', name: 'legacy-0', ip: legacy.host, node: 'node-1', labels: { app: 'legacy' }, containers: [{ name: 'legacy', image: 'legacy:1', ports: [{ name: 'metrics', containerPort: legacy.port }] }] }));
    api.create('endpoints', makeEndpoints({ namespace: 'shop', name: 'legacy', labels: { 'monitoring.example.com/legacy-endpoints': 'true' }, subsets: [{ addresses: [{ ip: legacy.host, pod: 'legacy-0' }], ports: [{ name: 'metrics', port: legacy.port }] }] }));

    // The ConfigMap's prometheus.yml, with only what a test must change: the service-account
    // directory, the blackbox exporter's address, and shorter intervals.
    const cm = parseYaml(readFileSync(new URL('../../../examples/kubernetes/configmap.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
    const yml = cm.data['prometheus.yml']!
      .replaceAll('/var/run/secrets/kubernetes.io/serviceaccount/', sa + '/')
      .replaceAll('blackbox-exporter.monitoring.svc:9115', blackbox.address)
      .replace('scrape_interval: 30s', 'scrape_interval: 1s')
      .replace('scrape_timeout: 10s', 'scrape_timeout: 1s');
    const s = new Stack(api, { inCluster: { serviceAccountDir: sa, host: '127.0.0.1', port: new URL(api.url).port } });
    cleanups.push(() => s.stop());
    const cfg = s.apply(yml, path.join(root, 'prometheus.yml'));
    expect(cfg.scrapeConfigs.map((j) => j.jobName)).toEqual([
      'sextant',
      'kubernetes-apiservers',
      'kubernetes-nodes',
      'kubernetes-cadvisor',
      'kubernetes-service-endpoints',
      'kubernetes-pods',
      'kubernetes-services',
      'kubernetes-ingresses',
      'kubernetes-endpoints-metrics-port',
    ]);

    const expected: Record<string, string[]> = {
      sextant: [self.address],
      'kubernetes-apiservers': [apiMetrics.address],
      'kubernetes-nodes': ['node-1'],
      'kubernetes-cadvisor': ['node-1'],
      'kubernetes-service-endpoints': [webReady.address],
      'kubernetes-pods': [worker.address],
      'kubernetes-services': ['web.shop.svc:80'],
      'kubernetes-ingresses': ['https://shop.example.com/'],
      'kubernetes-endpoints-metrics-port': [legacy.address],
    };
    await waitFor(
      () => Object.entries(expected).every(([job, instances]) => instances.every((i) => s.okScrapes(i, job) >= 1)),
      'every job of the example scraped',
      () => JSON.stringify(s.sm.activeTargets().map((t) => [t.scrapePool, t.scrapeUrl, t.health, t.lastError])),
    );
    for (const [job, instances] of Object.entries(expected)) expect(s.targets(job), job).toEqual(instances);
    // In-cluster: the token went to the API server over TLS, and the own namespace was watched.
    expect(api.requests.every((r) => r.headers.authorization === 'Bearer sa-token')).toBe(true);
    expect(api.requestsTo('/api/v1/namespaces/monitoring/pods').map((r) => r.query.get('labelSelector'))).toContain('app.kubernetes.io/name=sextant');
    expect(webNotReady.requests).toEqual([]);
    expect(finished.requests).toEqual([]);

    const up = (job: string, instance: string) => one(s.instance(instance, job), 'up').labels;
    expect(up('sextant', self.address)).toEqual({ __name__: 'up', instance: self.address, job: 'sextant', pod: 'sextant-0' });
    expect(one(s.instance(self.address), 'prometheus_build_info').labels['version']).toBe('2.42.0+ds');
    expect(up('kubernetes-nodes', 'node-1')).toEqual({ __name__: 'up', instance: 'node-1', job: 'kubernetes-nodes', kubernetes_io_hostname: 'node-1', topology_kubernetes_io_zone: 'eu-west-1a' });
    // metric_relabel_configs keep only the charted cAdvisor series.
    const cad = s.instance('node-1', 'kubernetes-cadvisor').map((x) => x.labels['__name__']!);
    expect([...new Set(cad)].sort()).toEqual(['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', ...SYNTHETIC].sort());
    expect(last(s.instance('node-1', 'kubernetes-cadvisor'), 'scrape_samples_scraped')).toBe(sampleLines(cadvisorText));
    expect(last(s.instance('node-1', 'kubernetes-cadvisor'), 'scrape_samples_post_metric_relabeling')).toBe(4);
    expect(up('kubernetes-service-endpoints', webReady.address)).toEqual({ __name__: 'up', instance: webReady.address, job: 'kubernetes-service-endpoints', namespace: 'shop', service: 'web', pod: 'web-0', zone: 'eu-west-1a', app: 'web' });
    expect(up('kubernetes-pods', worker.address)).toEqual({ __name__: 'up', instance: worker.address, job: 'kubernetes-pods', namespace: 'shop', pod: 'worker-0', node: 'node-1', app: 'worker' });
    expect(up('kubernetes-ingresses', 'https://shop.example.com/')).toEqual({ __name__: 'up', instance: 'https://shop.example.com/', job: 'kubernetes-ingresses', namespace: 'shop', ingress: 'storefront' });
    expect(up('kubernetes-endpoints-metrics-port', legacy.address)).toEqual({ __name__: 'up', instance: legacy.address, job: 'kubernetes-endpoints-metrics-port', namespace: 'shop', pod: 'legacy-0' });
    expect(apiMetrics.authorizations.every((a) => a === 'Bearer sa-token')).toBe(true);
  });
});

describe('API server outages', () => {
  it('scraping goes on through an outage and a 410 relist; a pod deleted meanwhile goes stale, the others keep their loops and never get a marker', async () => {
    const api = await apiServer();
    const a = await pod('127.0.0.20', { '/metrics': 'app_info{version="1"} 1\n' });
    const b = await pod('127.0.0.21', { '/metrics': 'app_info{version="1"} 1\n' });
    const c = await pod('127.0.0.22', { '/metrics': 'app_info{version="2"} 1\n' });
    const annotated = (name: string, srv: PodServer) =>
      makePod({ namespace: 'ha', name, ip: srv.host, labels: { app: 'ha' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(srv.port) } });
    api.create('pods', annotated('ha-a', a));
    api.create('pods', annotated('ha-b', b));

    const s = stack(api);
    s.apply(annotationConfig(api, undefined, '1s'));
    await waitFor(() => s.okScrapes(a.address) >= 1 && s.okScrapes(b.address) >= 1, 'both pods scraped');
    await api.waitForWatches('pods', 1);
    const loopA = [...s.sm.pool('kubernetes-pods')!.loops.values()].find((l) => l.target.url.includes(a.address))!;
    const listsOf = (): number => api.requestsTo('/api/v1/pods').filter((r) => r.query.get('watch') === null).length;
    expect(listsOf()).toBe(1);

    // The API server goes away; a pod is deleted meanwhile and the history that would let the
    // watch resume is compacted away, so the reconnect gets 410 Gone and relists.
    await api.goDown();
    const okA = s.okScrapes(a.address);
    await waitFor(() => s.okScrapes(a.address) >= okA + 1, 'a scrape during the outage');
    api.remove('pods', 'ha', 'ha-b');
    api.compact();
    await api.comeBack();
    await waitFor(() => listsOf() >= 2, 'the relist after 410 Gone');
    await waitFor(() => s.targets('kubernetes-pods').length === 1, 'the pod deleted during the outage stops', () => s.targets('kubernetes-pods').join(', '));
    expect(s.targets('kubernetes-pods')).toEqual([a.address]);
    await waitFor(() => s.allStale(b.address), 'stale markers for the deleted pod');

    // Watching again: a new pod is picked up.
    api.create('pods', annotated('ha-c', c));
    await waitFor(() => s.okScrapes(c.address) >= 1, 'pod added after the relist scraped');
    expect(s.targets('kubernetes-pods')).toEqual([a.address, c.address].sort());

    // The surviving pod kept its loop all along, and none of its samples is a stale marker.
    expect([...s.sm.pool('kubernetes-pods')!.loops.values()]).toContain(loopA);
    const seriesA = s.instance(a.address);
    expect(seriesA.map((x) => x.labels['__name__']).sort()).toEqual(['app_info', ...SYNTHETIC].sort());
    for (const x of seriesA) expect(x.samples.filter(([, v]) => Number.isNaN(v))).toEqual([]);
    expect(one(seriesA, 'up').samples.every(([, v]) => v === 1)).toBe(true);
  });
});

describe('config reload', () => {
  it('widening and narrowing namespaces: targets in both configs continue without stale markers, a removed namespace goes stale', async () => {
    const api = await apiServer();
    const a = await pod('127.0.0.23', { '/metrics': 'team_info{team="a"} 1\n' });
    const b = await pod('127.0.0.24', { '/metrics': 'team_info{team="b"} 1\n' });
    for (const [ns, srv] of [['team-a', a], ['team-b', b]] as const) {
      api.create('pods', makePod({ namespace: ns, name: 'svc-0', ip: srv.host, labels: { app: 'svc' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(srv.port) } }));
    }
    const cfg = (names: string[]): string => annotationConfig(api, names.join(', '), '1s');
    const s = stack(api);
    s.apply(cfg(['team-a']));
    await waitFor(() => s.okScrapes(a.address) >= 1, 'team-a scraped');
    expect(s.targets('kubernetes-pods')).toEqual([a.address]);
    expect(b.requests).toEqual([]);

    // Reload with both namespaces (a new provider; team-a's target comes back from it).
    s.apply(cfg(['team-a', 'team-b']));
    await waitFor(() => s.okScrapes(b.address) >= 1, 'team-b scraped after the reload');
    const okA = s.okScrapes(a.address);
    await waitFor(() => s.okScrapes(a.address) >= okA + 2, 'team-a scraped twice more');
    expect(s.targets('kubernetes-pods')).toEqual([a.address, b.address]);
    await api.waitForWatches('pods', 2);
    expect(api.requestsTo('/api/v1/namespaces/team-b/pods').length).toBeGreaterThanOrEqual(2);

    // Reload with team-b only: team-a's target stops and goes stale; team-b's continues.
    s.apply(cfg(['team-b']));
    await waitFor(() => s.targets('kubernetes-pods').length === 1 && s.allStale(a.address), 'team-a stale after narrowing');
    expect(s.targets('kubernetes-pods')).toEqual([b.address]);
    const okB = s.okScrapes(b.address);
    await waitFor(() => s.okScrapes(b.address) >= okB + 2, 'team-b scraped twice more');

    // Only the markers of the narrowing: before it, team-a's series had no NaN; team-b's has none.
    for (const x of s.instance(a.address)) {
      const nan = x.samples.filter(([, v]) => Number.isNaN(v));
      expect(nan, x.labels['__name__']).toHaveLength(1);
      expect(x.samples[x.samples.length - 1]![1]).toBeNaN();
    }
    for (const x of s.instance(b.address)) expect(x.samples.filter(([, v]) => Number.isNaN(v)), x.labels['__name__']).toEqual([]);
  });
});

describe('the server process', () => {
  // The built server (`node dist/src/main.js`); without a build there is nothing to start.
  const serverIt = existsSync(SEXTANT_MAIN) ? it : it.skip;

  serverIt('loads kubernetes_sd_configs from its config file, scrapes the annotated pod, answers queries with its labels, and forgets it once deleted', async () => {
    const api = await apiServer();
    const app = await pod('127.0.0.25', { '/metrics': '# TYPE orders_total counter\norders_total{status="ok"} 5\n' });
    api.create('pods', makePod({ namespace: 'shop', name: 'orders-0', ip: app.host, labels: { app: 'orders' }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(app.port) } }));
    const peer: Peer = await startSextant(annotationConfig(api, undefined, '1s'));
    cleanups.push(() => peer.stop());
    type Result = { metric: Record<string, string>; value: [number, string] }[];
    const query = async (q: string): Promise<Result> => (await getJson<{ data: { result: Result } }>(peer.url, `/api/v1/query?query=${encodeURIComponent(q)}`)).data.result;

    // The discovery manager of the server sends at most every 5 s (Prometheus's updatert).
    const result = await pollAsync(async () => {
      const r = await query('orders_total');
      return r.length > 0 ? r : undefined;
    }, 'orders_total from the discovered pod', () => peer.output().slice(-2000));
    expect(result).toEqual([
      { metric: { __name__: 'orders_total', status: 'ok', instance: app.address, job: 'kubernetes-pods', namespace: 'shop', pod: 'orders-0', app: 'orders' }, value: [expect.any(Number), '5'] },
    ]);
    const targets = await getJson<{ data: { activeTargets: { discoveredLabels: Record<string, string>; labels: Record<string, string>; health: string }[] } }>(peer.url, '/api/v1/targets');
    expect(targets.data.activeTargets).toHaveLength(1);
    expect(targets.data.activeTargets[0]!.discoveredLabels).toMatchObject({ __address__: '127.0.0.25:8080', __meta_kubernetes_pod_name: 'orders-0', __meta_kubernetes_pod_annotation_prometheus_io_port: String(app.port) });

    const selfMetrics = await (await fetch(`${peer.url}/metrics`)).text();
    expect(selfMetrics).toContain('prometheus_sd_discovered_targets{config="kubernetes-pods",name="scrape"} 1');
    // Kubernetes SD's own counters, with Prometheus's names.
    expect(selfMetrics).toMatch(/^prometheus_sd_kubernetes_events_total\{/m);
    expect(selfMetrics).toMatch(/^# TYPE prometheus_sd_kubernetes_failures_total counter$/m);

    // Deleted: once the stale markers are in, the series is gone from instant queries.
    api.remove('pods', 'shop', 'orders-0');
    await pollAsync(async () => ((await query('orders_total')).length === 0 && (await query('up{pod="orders-0"}')).length === 0 ? true : undefined), "the deleted pod's series to go stale", () => peer.output().slice(-2000));
    const after = await getJson<{ data: { activeTargets: unknown[] } }>(peer.url, '/api/v1/targets');
    expect(after.data.activeTargets).toEqual([]);
  }, 120_000); // the server's discovery manager sends at most every 5 s: two waits of up to ~7 s, plus startup on a loaded machine
});
