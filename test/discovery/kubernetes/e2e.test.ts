// End to end, from Kubernetes objects to scraped series: objects on the fake API server
// (list + watch), a prometheus.yml parsed by the real config loader, the real DiscoveryManager
// and ScrapeManager, HTTP metric endpoints on 127.0.0.x loopback addresses standing in for the
// pods, and the samples read back from a Head. The recipes are the ones users copy: the
// prometheus.io/* annotation recipe, keeping cadvisor pods by namespace and app label, Istio's
// envoy __address__ port rewrite, live pod changes with staleness, and endpoints /
// endpointslice targets joined with their pods and services.
import { readFileSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { Matcher } from '../../../storage/index.js';
import { PodServer, Stack, startOnSamePort, waitFor, type Series } from './e2e-harness.js';
import { FakeApiServer } from './fake-apiserver.js';
import { makeEndpoints, makeEndpointSlice, makePod, makeService } from './fixtures.js';

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

async function pod(host: string, bodies: Record<string, string>, port = 0): Promise<PodServer> {
  const s = new PodServer(host, bodies);
  cleanups.push(() => s.stop());
  return s.start(port);
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

function annotationConfig(api: FakeApiServer, namespace?: string): string {
  return `
global:
  scrape_interval: 500ms
  scrape_timeout: 500ms
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
