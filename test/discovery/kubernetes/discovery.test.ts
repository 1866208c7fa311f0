// Live discovery against the fake API server: every role, with objects added, modified and
// deleted while the discoverer runs; namespaces, selectors, attach_metadata, shared informers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KubernetesSD, type KubernetesSDConfig } from '../../../discovery/kubernetes/index.js';
import { FakeApiServer } from './fake-apiserver.js';
import { makeEndpoints, makeEndpointSlice, makeIngress, makeNamespace, makeNode, makePod, makeService } from './fixtures.js';
import { RecordingLogger, runDiscoverer, sdConfig, type Running } from './harness.js';

let srv: FakeApiServer;
let sd: KubernetesSD;
let log: RecordingLogger;
const running: Running[] = [];

beforeEach(async () => {
  srv = await new FakeApiServer().start();
  log = new RecordingLogger();
  sd = new KubernetesSD({ logger: log, coalesceMs: 5, timing: { lingerMs: 0, initialBackoffMs: 20, maxBackoffMs: 200 } });
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  sd.close();
  await srv.close();
});

function start(c: Partial<KubernetesSDConfig> & Pick<KubernetesSDConfig, 'role'>): Running {
  const r = runDiscoverer(sd, sdConfig({ apiServer: srv.url, ...c }));
  running.push(r);
  return r;
}

describe('pod role', () => {
  it('lists, then follows additions, modifications and deletions', async () => {
    srv.create('pods', makePod({ name: 'web-1', ip: '10.244.1.10', labels: { app: 'web' } }));
    srv.create('pods', makePod({ name: 'db-0', namespace: 'data', ip: '10.244.2.10', containers: [{ name: 'pg', image: 'postgres:16', ports: [{ name: 'pg', containerPort: 5432 }] }] }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/web-1') && c.has('pod/data/db-0'), 'initial list');
    expect(c.targets('pod/data/db-0').map((t) => [t.__address__, t.__meta_kubernetes_namespace, t.__meta_kubernetes_pod_container_port_name])).toEqual([['10.244.2.10:5432', 'data', 'pg']]);

    srv.create('pods', makePod({ name: 'web-2', ip: '10.244.1.11', labels: { app: 'web' } }));
    await c.until(() => c.has('pod/default/web-2'), 'added pod');

    srv.update('pods', makePod({ name: 'web-1', ip: '10.244.1.99', labels: { app: 'web', version: 'v2' }, ready: false }));
    await c.until(() => c.targets('pod/default/web-1')[0]?.__address__ === '10.244.1.99:8080', 'modified pod');
    const t = c.targets('pod/default/web-1')[0];
    expect(t.__meta_kubernetes_pod_label_version).toBe('v2');
    expect(t.__meta_kubernetes_pod_labelpresent_version).toBe('true');
    expect(t.__meta_kubernetes_pod_ready).toBe('false');

    srv.remove('pods', 'data', 'db-0');
    await c.until(() => c.groups.get('pod/data/db-0')?.targets.length === 0, 'deleted pod emptied');
    expect(c.groups.get('pod/data/db-0')).toEqual({ source: 'pod/data/db-0', targets: [], labels: {} });
    expect(sd.metrics.events.get('pod')).toEqual(new Map([['add', 3], ['update', 1], ['delete', 1]]));
  });

  it('a pod losing its IP (evicted) empties its group', async () => {
    srv.create('pods', makePod({ name: 'job-1', ip: '10.244.3.3' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/job-1'), 'pod');
    srv.update('pods', makePod({ name: 'job-1', ip: '', phase: 'Failed', ready: false }));
    await c.until(() => c.groups.get('pod/default/job-1')?.targets.length === 0, 'evicted pod emptied');
  });
});

describe('service role', () => {
  it('follows port changes and deletion', async () => {
    srv.create('services', makeService({ name: 'api', namespace: 'shop', ports: [{ name: 'http', port: 80 }] }));
    const { collector: c } = start({ role: 'service' });
    await c.until(() => c.has('svc/shop/api'), 'service');
    expect(c.targets('svc/shop/api')).toEqual([
      {
        __address__: 'api.shop.svc:80',
        __meta_kubernetes_namespace: 'shop',
        __meta_kubernetes_service_name: 'api',
        __meta_kubernetes_service_cluster_ip: '10.96.0.10',
        __meta_kubernetes_service_port_name: 'http',
        __meta_kubernetes_service_port_number: '80',
        __meta_kubernetes_service_port_protocol: 'TCP',
        __meta_kubernetes_service_type: 'ClusterIP',
      },
    ]);
    srv.update('services', makeService({ name: 'api', namespace: 'shop', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9100 }] }));
    await c.until(() => c.targets('svc/shop/api').length === 2, 'second port');
    srv.remove('services', 'shop', 'api');
    await c.until(() => c.groups.get('svc/shop/api')?.targets.length === 0, 'service deleted');
  });
});

describe('endpoints role', () => {
  it('joins pods and services and follows changes of all three', async () => {
    srv.create('pods', makePod({ name: 'web-1', ip: '10.244.1.10', labels: { app: 'web' }, containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] }));
    srv.create('services', makeService({ name: 'web', labels: { tier: 'frontend' } }));
    srv.create('endpoints', makeEndpoints({ name: 'web', subsets: [{ addresses: [{ ip: '10.244.1.10', nodeName: 'node-1', pod: 'web-1' }], ports: [{ name: 'http', port: 8080 }] }] }));
    const { collector: c } = start({ role: 'endpoints' });
    await c.until(() => c.has('endpoints/default/web'), 'endpoints');
    let t = c.targets('endpoints/default/web')[0];
    expect(t).toEqual(
      expect.objectContaining({
        __address__: '10.244.1.10:8080',
        __meta_kubernetes_endpoint_ready: 'true',
        __meta_kubernetes_service_label_tier: 'frontend',
        __meta_kubernetes_pod_name: 'web-1',
        __meta_kubernetes_pod_ready: 'true',
        __meta_kubernetes_pod_container_name: 'web',
      }),
    );

    // The service changes: the endpoints group is rebuilt with its new labels.
    srv.update('services', makeService({ name: 'web', labels: { tier: 'edge' } }));
    await c.until(() => c.targets('endpoints/default/web')[0]?.__meta_kubernetes_service_label_tier === 'edge', 'service label change');

    // The pod changes (not ready): the endpoints group follows.
    srv.update('pods', makePod({ name: 'web-1', ip: '10.244.1.10', labels: { app: 'web' }, ready: false, containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] }));
    await c.until(() => c.targets('endpoints/default/web')[0]?.__meta_kubernetes_pod_ready === 'false', 'pod readiness change');

    // The endpoint moves to not-ready addresses.
    srv.update('endpoints', makeEndpoints({ name: 'web', subsets: [{ notReadyAddresses: [{ ip: '10.244.1.10', pod: 'web-1' }], ports: [{ name: 'http', port: 8080 }] }] }));
    await c.until(() => c.targets('endpoints/default/web')[0]?.__meta_kubernetes_endpoint_ready === 'false', 'not ready address');
    t = c.targets('endpoints/default/web')[0];
    expect(t.__meta_kubernetes_endpoint_address_target_name).toBe('web-1');

    srv.remove('endpoints', 'default', 'web');
    await c.until(() => c.groups.get('endpoints/default/web')?.targets.length === 0, 'endpoints deleted');
  });
});

describe('endpoints over capacity', () => {
  it('warns once that a truncated Endpoints object should be discovered with role endpointslice', async () => {
    srv.create('endpoints', makeEndpoints({ name: 'big', labels: { 'endpoints.kubernetes.io/over-capacity': 'truncated' }, subsets: [{ addresses: [{ ip: '10.1.0.1' }], ports: [{ name: 'http', port: 80 }] }] }));
    const { collector: c } = start({ role: 'endpoints' });
    await c.until(() => c.has('endpoints/default/big'), 'big');
    srv.update('endpoints', makeEndpoints({ name: 'big', labels: { 'endpoints.kubernetes.io/over-capacity': 'truncated' }, subsets: [{ addresses: [{ ip: '10.1.0.2' }], ports: [{ name: 'http', port: 80 }] }] }));
    await c.until(() => c.targets('endpoints/default/big')[0]?.__address__ === '10.1.0.2:80', 'update');
    const warns = log.lines.filter((l) => l.level === 'warn' && l.msg.includes('truncated'));
    expect(warns).toHaveLength(1);
    expect(warns[0].fields.endpoints).toBe('default/big');
  });
});

describe('endpointslice role', () => {
  it('follows endpoint conditions, the service and the pods', async () => {
    srv.create('pods', makePod({ name: 'web-1', ip: '10.244.1.10' }));
    srv.create('services', makeService({ name: 'web', labels: { tier: 'frontend' } }));
    const slice = (ready: boolean, terminating: boolean) =>
      makeEndpointSlice({ name: 'web-abcde', service: 'web', endpoints: [{ addresses: ['10.244.1.10'], pod: 'web-1', nodeName: 'node-1', zone: 'z1', ready, serving: true, terminating }], ports: [{ name: 'http', port: 8080 }] });
    srv.create('endpointslices', slice(true, false));
    const { collector: c } = start({ role: 'endpointslice' });
    await c.until(() => c.has('endpointslice/default/web-abcde'), 'slice');
    expect(c.targets('endpointslice/default/web-abcde')[0]).toEqual(
      expect.objectContaining({
        __address__: '10.244.1.10:8080',
        __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true',
        __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'false',
        __meta_kubernetes_endpointslice_endpoint_zone: 'z1',
        __meta_kubernetes_service_name: 'web',
        __meta_kubernetes_service_label_tier: 'frontend',
        __meta_kubernetes_pod_name: 'web-1',
      }),
    );
    srv.update('endpointslices', slice(false, true));
    await c.until(() => c.targets('endpointslice/default/web-abcde')[0]?.__meta_kubernetes_endpointslice_endpoint_conditions_terminating === 'true', 'terminating');
    expect(c.targets('endpointslice/default/web-abcde')[0].__meta_kubernetes_endpointslice_endpoint_conditions_ready).toBe('false');

    srv.update('services', makeService({ name: 'web', labels: { tier: 'edge' } }));
    await c.until(() => c.targets('endpointslice/default/web-abcde')[0]?.__meta_kubernetes_service_label_tier === 'edge', 'service change');

    srv.update('pods', makePod({ name: 'web-1', ip: '10.244.1.10', labels: { release: 'canary' } }));
    await c.until(() => c.targets('endpointslice/default/web-abcde')[0]?.__meta_kubernetes_pod_label_release === 'canary', 'pod change');

    srv.remove('services', 'default', 'web');
    await c.until(() => c.targets('endpointslice/default/web-abcde')[0]?.__meta_kubernetes_service_name === undefined, 'service gone');

    srv.remove('endpointslices', 'default', 'web-abcde');
    await c.until(() => c.groups.get('endpointslice/default/web-abcde')?.targets.length === 0, 'slice deleted');
  });
});

describe('node role', () => {
  it('follows node address changes and deletion', async () => {
    srv.create('nodes', makeNode({ name: 'node-1' }));
    const { collector: c } = start({ role: 'node' });
    await c.until(() => c.has('node/node-1'), 'node');
    expect(c.targets('node/node-1')[0]).toEqual(expect.objectContaining({ __address__: '10.0.0.11:10250', instance: 'node-1', __meta_kubernetes_node_name: 'node-1' }));
    srv.update('nodes', makeNode({ name: 'node-1', addresses: [{ type: 'InternalIP', address: '10.0.0.99' }], kubeletPort: 10255 }));
    await c.until(() => c.targets('node/node-1')[0]?.__address__ === '10.0.0.99:10255', 'address change');
    srv.create('nodes', makeNode({ name: 'node-2' }));
    await c.until(() => c.has('node/node-2'), 'second node');
    srv.remove('nodes', '', 'node-1');
    await c.until(() => c.groups.get('node/node-1')?.targets.length === 0, 'node deleted');
  });
});

describe('ingress role', () => {
  it('follows rule and TLS changes and deletion', async () => {
    srv.create('ingresses', makeIngress({ name: 'shop', rules: [{ host: 'shop.example.com', paths: ['/'] }] }));
    const { collector: c } = start({ role: 'ingress' });
    await c.until(() => c.has('ingress/default/shop'), 'ingress');
    expect(c.targets('ingress/default/shop')[0].__meta_kubernetes_ingress_scheme).toBe('http');
    srv.update('ingresses', makeIngress({ name: 'shop', tlsHosts: ['shop.example.com'], rules: [{ host: 'shop.example.com', paths: ['/', '/api'] }] }));
    await c.until(() => c.targets('ingress/default/shop').length === 2, 'second path');
    expect(c.targets('ingress/default/shop').map((t) => [t.__meta_kubernetes_ingress_scheme, t.__meta_kubernetes_ingress_path])).toEqual([
      ['https', '/'],
      ['https', '/api'],
    ]);
    srv.remove('ingresses', 'default', 'shop');
    await c.until(() => c.groups.get('ingress/default/shop')?.targets.length === 0, 'ingress deleted');
  });
});

describe('namespaces and selectors', () => {
  it('watches only the named namespaces, one list+watch each', async () => {
    for (const ns of ['a', 'b', 'c']) srv.create('pods', makePod({ name: `p-${ns}`, namespace: ns }));
    const { collector: c } = start({ role: 'pod', namespaces: { names: ['a', 'b'], ownNamespace: false } });
    await c.until(() => c.has('pod/a/p-a') && c.has('pod/b/p-b'), 'pods of a and b');
    srv.create('pods', makePod({ name: 'p2-c', namespace: 'c' }));
    srv.create('pods', makePod({ name: 'p2-a', namespace: 'a' }));
    await c.until(() => c.has('pod/a/p2-a'), 'new pod in a');
    expect([...c.groups.keys()].filter((k) => k.startsWith('pod/c/'))).toEqual([]);
    expect(new Set(srv.requestsTo('/api/v1/').map((r) => r.path))).toEqual(new Set(['/api/v1/namespaces/a/pods', '/api/v1/namespaces/b/pods']));
  });

  it('passes label and field selectors to the API server and follows objects leaving the selection', async () => {
    srv.create('pods', makePod({ name: 'web-1', labels: { app: 'web' }, node: 'node-1' }));
    srv.create('pods', makePod({ name: 'web-2', labels: { app: 'web' }, node: 'node-2' }));
    srv.create('pods', makePod({ name: 'db-1', labels: { app: 'db' }, node: 'node-1' }));
    const { collector: c } = start({ role: 'pod', selectors: [{ role: 'pod', label: 'app=web', field: 'spec.nodeName=node-1' }] });
    await c.until(() => c.has('pod/default/web-1'), 'selected pod');
    expect(c.groups.has('pod/default/web-2')).toBe(false);
    expect(c.groups.has('pod/default/db-1')).toBe(false);
    const list = srv.requestsTo('/api/v1/pods').find((r) => r.query.get('watch') === null)!;
    expect(list.query.get('labelSelector')).toBe('app=web');
    expect(list.query.get('fieldSelector')).toBe('spec.nodeName=node-1');
    expect(list.query.get('limit')).toBe('500');
    // Relabelled out of the selection: the watch reports a deletion, the group empties.
    srv.update('pods', makePod({ name: 'web-1', labels: { app: 'retired' }, node: 'node-1' }));
    await c.until(() => c.groups.get('pod/default/web-1')?.targets.length === 0, 'pod left the selection');
  });

  it('lists in pages', async () => {
    for (let i = 0; i < 1203; i++) srv.create('pods', makePod({ name: `p-${String(i).padStart(4, '0')}`, ip: `10.244.${i >> 8}.${i & 255}` }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.groups.size === 1203, 'all 1203 pods');
    const lists = srv.requestsTo('/api/v1/pods').filter((r) => r.query.get('watch') === null);
    expect(lists.map((r) => r.query.has('continue'))).toEqual([false, true, true]);
  });
});

describe('attach_metadata', () => {
  it('node: pod groups carry node labels and follow node changes', async () => {
    srv.create('nodes', makeNode({ name: 'node-1', labels: { zone: 'a' }, annotations: {} }));
    srv.create('pods', makePod({ name: 'web-1', node: 'node-1' }));
    const { collector: c } = start({ role: 'pod', attachMetadata: { node: true, namespace: false } });
    await c.until(() => c.targets('pod/default/web-1')[0]?.__meta_kubernetes_node_label_zone === 'a', 'node labels');
    srv.update('nodes', makeNode({ name: 'node-1', labels: { zone: 'b' }, annotations: {} }));
    await c.until(() => c.targets('pod/default/web-1')[0]?.__meta_kubernetes_node_label_zone === 'b', 'node label change');
  });

  it('node: endpointslice targets carry the labels of their node', async () => {
    srv.create('nodes', makeNode({ name: 'node-7', labels: { pool: 'gpu' }, annotations: {} }));
    srv.create('endpointslices', makeEndpointSlice({ name: 'gpu-1', endpoints: [{ addresses: ['10.244.7.7'], nodeName: 'node-7' }], ports: [{ name: 'm', port: 9400 }] }));
    const { collector: c } = start({ role: 'endpointslice', attachMetadata: { node: true, namespace: false } });
    await c.until(() => c.targets('endpointslice/default/gpu-1')[0]?.__meta_kubernetes_node_label_pool === 'gpu', 'node labels on slice targets');
    srv.update('nodes', makeNode({ name: 'node-7', labels: { pool: 'cpu' }, annotations: {} }));
    await c.until(() => c.targets('endpointslice/default/gpu-1')[0]?.__meta_kubernetes_node_label_pool === 'cpu', 'node change');
  });

  it('namespace: groups carry namespace labels and annotations and follow their changes', async () => {
    srv.create('namespaces', makeNamespace('shop', { team: 'checkout' }, { 'contact.example.com/slack': '#checkout' }));
    srv.create('services', makeService({ name: 'api', namespace: 'shop' }));
    const { collector: c } = start({ role: 'service', attachMetadata: { node: false, namespace: true } });
    await c.until(() => c.targets('svc/shop/api')[0]?.__meta_kubernetes_namespace_label_team === 'checkout', 'namespace labels');
    expect(c.targets('svc/shop/api')[0].__meta_kubernetes_namespace_annotation_contact_example_com_slack).toBe('#checkout');
    srv.update('namespaces', makeNamespace('shop', { team: 'payments' }));
    await c.until(() => c.targets('svc/shop/api')[0]?.__meta_kubernetes_namespace_label_team === 'payments', 'namespace change');
    expect(c.targets('svc/shop/api')[0]).not.toHaveProperty('__meta_kubernetes_namespace_annotation_contact_example_com_slack');
  });
});

describe('sharing and coalescing', () => {
  it('scrape configs needing the same kind share one list and one watch', async () => {
    srv.create('pods', makePod({ name: 'web-1' }));
    srv.create('endpoints', makeEndpoints({ name: 'web', subsets: [{ addresses: [{ ip: '10.244.1.23', pod: 'web-1' }], ports: [{ name: 'http', port: 8080 }] }] }));
    const a = start({ role: 'pod' });
    const b = start({ role: 'pod' });
    const e = start({ role: 'endpoints' });
    await a.collector.until(() => a.collector.has('pod/default/web-1'), 'a');
    await b.collector.until(() => b.collector.has('pod/default/web-1'), 'b');
    await e.collector.until(() => e.collector.targets('endpoints/default/web')[0]?.__meta_kubernetes_pod_name === 'web-1', 'e');
    expect(srv.watchCount('pods')).toBe(1);
    expect(srv.requestsTo('/api/v1/pods').filter((r) => r.query.get('watch') === null)).toHaveLength(1);
    // A different selector is a different list+watch.
    const s = start({ role: 'pod', selectors: [{ role: 'pod', label: 'app' }] });
    await srv.waitForWatches('pods', 2);
    await s.stop();
  });

  it('a burst of changes goes out in few batches, each group built once per batch', async () => {
    const { collector: c } = start({ role: 'pod' });
    await srv.waitForWatches('pods', 1);
    for (let i = 0; i < 300; i++) srv.create('pods', makePod({ name: `burst-${i}`, ip: `10.244.9.${i % 250}` }));
    await c.until(() => c.groups.size === 300, '300 pods');
    expect(c.batches).toBeLessThan(30);
    expect(c.sentGroups).toBe(300);
  });

  it('stopping the last user of an informer closes its watch', async () => {
    const r = start({ role: 'node' });
    await srv.waitForWatches('nodes', 1);
    await r.stop();
    running.splice(running.indexOf(r), 1);
    await new Promise<void>((resolve) => {
      const check = (): void => (srv.watchCount('nodes') === 0 ? resolve() : void setTimeout(check, 10));
      check();
    });
    expect(sd.informers.size).toBe(0);
  });
});
