/**
 * The k8s-sd benchmark's API server, run as a child process so that its CPU and memory are not
 * counted as discovery's. It serves the test suite's fake API server with a generated cluster
 * and applies updates on request over IPC.
 *
 * Messages in:  {cmd:'init', pods, slices}  → {type:'ready', url}
 *               {cmd:'update', updates:[{kind:'pod'|'slice', i, rev}]}
 *               {cmd:'exit'}
 */

import { FakeApiServer } from '../test/discovery/kubernetes/fake-apiserver.js';
import { makeEndpointSlice, makePod, makeService } from '../test/discovery/kubernetes/fixtures.js';

/** Pods per service (and per slice). */
const PODS_PER_SLICE = 2;
const NAMESPACES = 20;

export interface ClusterShape {
  readonly pods: number;
  readonly slices: number;
}

/** Namespace, name and IP of pod `i`. */
export function podId(i: number): { ns: string; name: string; ip: string } {
  return { ns: `team-${i % NAMESPACES}`, name: `app-${Math.floor(i / PODS_PER_SLICE)}-${i % PODS_PER_SLICE}-x7k2p`, ip: `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` };
}

/** Namespace and name of slice `i` (and of its service). */
export function sliceId(i: number): { ns: string; name: string; service: string } {
  return { ns: `team-${(i * PODS_PER_SLICE) % NAMESPACES}`, name: `app-${i}-abcde`, service: `app-${i}` };
}

function pod(i: number, rev: number): object {
  const { ns, name, ip } = podId(i);
  const svc = Math.floor(i / PODS_PER_SLICE);
  return makePod({
    namespace: ns,
    name,
    ip,
    node: `node-${i % 100}`,
    labels: { app: `app-${svc}`, 'app.kubernetes.io/name': `app-${svc}`, 'pod-template-hash': '7d9f8c6b5', rev: String(rev) },
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'kubectl.kubernetes.io/restartedAt': '2025-06-01T10:00:00Z' },
    owner: { kind: 'ReplicaSet', name: `app-${svc}-7d9f8c6b5` },
    containers: [
      { name: 'app', image: `registry.example.com/app-${svc % 50}:1.4.2`, ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9102 }] },
      { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.22.3', ports: [{ name: 'http-envoy-prom', containerPort: 15090 }] },
    ],
  });
}

function slice(i: number, rev: number): object {
  const { ns, name, service } = sliceId(i);
  const endpoints = [];
  for (let k = 0; k < PODS_PER_SLICE; k++) {
    const p = podId(i * PODS_PER_SLICE + k);
    endpoints.push({ addresses: [p.ip], pod: p.name, nodeName: `node-${(i * PODS_PER_SLICE + k) % 100}`, zone: `eu-west-1${'abc'[k % 3]}` });
  }
  return makeEndpointSlice({ namespace: ns, name, service, labels: { rev: String(rev) }, endpoints, ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9102 }] });
}

/** Fills a fake API server with `shape`. */
export function populate(srv: FakeApiServer, shape: ClusterShape): void {
  for (let i = 0; i < shape.pods; i++) srv.create('pods', pod(i, 0));
  for (let i = 0; i < shape.slices; i++) {
    const { ns, service } = sliceId(i);
    srv.create('services', makeService({ namespace: ns, name: service, labels: { app: service }, annotations: { 'prometheus.io/scrape': 'true' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9102 }] }));
    srv.create('endpointslices', slice(i, 0));
  }
}

export interface Update {
  readonly kind: 'pod' | 'slice';
  readonly i: number;
  readonly rev: number;
}

interface Msg {
  cmd: 'init' | 'update' | 'exit';
  pods?: number;
  slices?: number;
  updates?: Update[];
}

async function main(): Promise<void> {
  const srv = new FakeApiServer({ bookmarkIntervalMs: 60_000 });
  process.on('message', (m: Msg) => {
    if (m.cmd === 'init') {
      populate(srv, { pods: m.pods ?? 0, slices: m.slices ?? 0 });
      void srv.start().then(() => process.send?.({ type: 'ready', url: srv.url }));
    } else if (m.cmd === 'update') {
      for (const u of m.updates ?? []) srv.update(u.kind === 'pod' ? 'pods' : 'endpointslices', u.kind === 'pod' ? pod(u.i, u.rev) : slice(u.i, u.rev));
    } else if (m.cmd === 'exit') {
      void srv.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) void main();
