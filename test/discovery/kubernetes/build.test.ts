// Object → target group rules for every role, with the exact label sets the Prometheus 3.5
// docs (and its discovery code) give.
import { describe, expect, it } from 'vitest';

import {
  buildEndpoints,
  buildEndpointSlice,
  buildIngress,
  buildNode,
  buildPod,
  buildService,
  sanitizeLabelName,
  type BuildContext,
  type Endpoints,
  type EndpointSlice,
  type Ingress,
  type Namespace,
  type Node,
  type Pod,
  type Service,
} from '../../../discovery/kubernetes/index.js';
import { makeEndpoints, makeEndpointSlice, makeIngress, makeNamespace, makeNode, makePod, makeService } from './fixtures.js';

interface World {
  pods?: object[];
  services?: object[];
  nodes?: object[] | undefined;
  namespaces?: object[] | undefined;
}

function ctx(w: World = {}): BuildContext & { problems: string[] } {
  const problems: string[] = [];
  const key = (o: { metadata: { namespace?: string; name: string } }): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const pods = new Map((w.pods ?? []).map((p) => [key(p as Pod), p as Pod]));
  const svcs = new Map((w.services ?? []).map((s) => [key(s as Service), s as Service]));
  const nodes = w.nodes ? new Map(w.nodes.map((n) => [(n as Node).metadata.name, n as Node])) : undefined;
  const nss = w.namespaces ? new Map(w.namespaces.map((n) => [(n as Namespace).metadata.name, n as Namespace])) : undefined;
  return {
    problems,
    pod: (ns, name) => pods.get(`${ns}/${name}`),
    service: (ns, name) => svcs.get(`${ns}/${name}`),
    node: nodes ? (name) => nodes.get(name) : undefined,
    namespace: nss ? (name) => nss.get(name) : undefined,
    invalid: (kind, object, problem) => problems.push(`${kind} ${object}: ${problem}`),
  };
}

const POD_GROUP_LABELS = {
  __meta_kubernetes_namespace: 'default',
  __meta_kubernetes_pod_name: 'web-7d9f8-abcde',
  __meta_kubernetes_pod_ip: '10.244.1.23',
  __meta_kubernetes_pod_ready: 'true',
  __meta_kubernetes_pod_phase: 'Running',
  __meta_kubernetes_pod_node_name: 'node-1',
  __meta_kubernetes_pod_host_ip: '10.0.0.11',
  __meta_kubernetes_pod_uid: 'uid-web',
  __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
  __meta_kubernetes_pod_controller_name: 'web-7d9f8',
  __meta_kubernetes_pod_label_app_kubernetes_io_name: 'web',
  __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
  __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
  __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
};

function webPod(extra: Partial<Parameters<typeof makePod>[0]> = {}): Pod {
  const p = makePod({
    name: 'web-7d9f8-abcde',
    labels: { 'app.kubernetes.io/name': 'web' },
    annotations: { 'prometheus.io/scrape': 'true' },
    owner: { kind: 'ReplicaSet', name: 'web-7d9f8' },
    containers: [
      { name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] },
      { name: 'sidecar', image: 'envoy:1.31' },
    ],
    ...extra,
  });
  (p.metadata as { uid?: string }).uid = 'uid-web';
  return p as unknown as Pod;
}

describe('label name sanitising', () => {
  it.each([
    ['app.kubernetes.io/name', 'app_kubernetes_io_name'],
    ['prometheus.io/scrape', 'prometheus_io_scrape'],
    ['topology.kubernetes.io/zone', 'topology_kubernetes_io_zone'],
    ['already_fine_09', 'already_fine_09'],
    ['with-dash', 'with_dash'],
    ['ünïcode', '_n_code'],
    ['emoji😀x', 'emoji_x'],
  ])('%s → %s', (input, want) => {
    expect(sanitizeLabelName(input)).toBe(want);
  });
});

describe('pod role', () => {
  it('one target per container port, a port-less container at the pod IP', () => {
    const c = ctx();
    const g = buildPod(webPod(), c);
    expect(g.source).toBe('pod/default/web-7d9f8-abcde');
    expect(g.labels).toEqual(POD_GROUP_LABELS);
    expect(g.targets).toEqual([
      {
        __address__: '10.244.1.23:8080',
        __meta_kubernetes_pod_container_name: 'web',
        __meta_kubernetes_pod_container_id: 'containerd://0001' + 'cd'.repeat(30),
        __meta_kubernetes_pod_container_image: 'nginx:1.27',
        __meta_kubernetes_pod_container_init: 'false',
        __meta_kubernetes_pod_container_port_name: 'http',
        __meta_kubernetes_pod_container_port_number: '8080',
        __meta_kubernetes_pod_container_port_protocol: 'TCP',
      },
      {
        __address__: '10.244.1.23:53',
        __meta_kubernetes_pod_container_name: 'web',
        __meta_kubernetes_pod_container_id: 'containerd://0001' + 'cd'.repeat(30),
        __meta_kubernetes_pod_container_image: 'nginx:1.27',
        __meta_kubernetes_pod_container_init: 'false',
        __meta_kubernetes_pod_container_port_name: 'dns',
        __meta_kubernetes_pod_container_port_number: '53',
        __meta_kubernetes_pod_container_port_protocol: 'UDP',
      },
      {
        __address__: '10.244.1.23',
        __meta_kubernetes_pod_container_name: 'sidecar',
        __meta_kubernetes_pod_container_id: 'containerd://0002' + 'cd'.repeat(30),
        __meta_kubernetes_pod_container_image: 'envoy:1.31',
        __meta_kubernetes_pod_container_init: 'false',
      },
    ]);
    expect(c.problems).toEqual([]);
  });

  it('flags init containers and takes their IDs from initContainerStatuses', () => {
    const g = buildPod(webPod({ containers: [{ name: 'web', image: 'nginx:1.27' }], initContainers: [{ name: 'migrate', image: 'migrate:3', ports: [{ name: 'metrics', containerPort: 9102 }] }] }), ctx());
    expect(g.targets).toEqual([
      expect.objectContaining({ __address__: '10.244.1.23', __meta_kubernetes_pod_container_name: 'web', __meta_kubernetes_pod_container_init: 'false' }),
      {
        __address__: '10.244.1.23:9102',
        __meta_kubernetes_pod_container_name: 'migrate',
        __meta_kubernetes_pod_container_id: 'containerd://init0' + 'ef'.repeat(29),
        __meta_kubernetes_pod_container_image: 'migrate:3',
        __meta_kubernetes_pod_container_init: 'true',
        __meta_kubernetes_pod_container_port_name: 'metrics',
        __meta_kubernetes_pod_container_port_number: '9102',
        __meta_kubernetes_pod_container_port_protocol: 'TCP',
      },
    ]);
  });

  it('a pod without an IP has no targets (pending or evicted)', () => {
    const g = buildPod(webPod({ ip: '', phase: 'Pending', ready: false }), ctx());
    expect(g).toEqual({ source: 'pod/default/web-7d9f8-abcde', targets: [], labels: {} });
  });

  it('pod_ready is unknown without a Ready condition; no controller labels without a controller ref', () => {
    const p = makePod({ name: 'bare', ip: '10.244.9.9' }) as unknown as { status: { conditions: unknown[] } };
    p.status.conditions = [];
    const g = buildPod(p as unknown as Pod, ctx());
    expect(g.labels.__meta_kubernetes_pod_ready).toBe('unknown');
    expect(g.labels).not.toHaveProperty('__meta_kubernetes_pod_controller_kind');
    expect(g.labels).not.toHaveProperty('__meta_kubernetes_pod_controller_name');
  });

  it('IPv6 pod IPs are bracketed in __address__', () => {
    const g = buildPod(webPod({ ip: 'fd00:10:244::17' }), ctx());
    expect(g.targets[0].__address__).toBe('[fd00:10:244::17]:8080');
    expect(g.targets[2].__address__).toBe('fd00:10:244::17');
  });

  it('attach_metadata node and namespace add the node and namespace labels', () => {
    const node = makeNode({ name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'eu-west-1a' }, annotations: { team: 'infra' } });
    const ns = makeNamespace('default', { env: 'prod' }, { 'owner.example.com/team': 'web' });
    const g = buildPod(webPod(), ctx({ nodes: [node], namespaces: [ns] }));
    expect(g.labels).toEqual({
      ...POD_GROUP_LABELS,
      __meta_kubernetes_node_name: 'node-1',
      __meta_kubernetes_node_label_topology_kubernetes_io_zone: 'eu-west-1a',
      __meta_kubernetes_node_labelpresent_topology_kubernetes_io_zone: 'true',
      __meta_kubernetes_node_annotation_team: 'infra',
      __meta_kubernetes_node_annotationpresent_team: 'true',
      __meta_kubernetes_namespace_label_kubernetes_io_metadata_name: 'default',
      __meta_kubernetes_namespace_labelpresent_kubernetes_io_metadata_name: 'true',
      __meta_kubernetes_namespace_label_env: 'prod',
      __meta_kubernetes_namespace_labelpresent_env: 'true',
      __meta_kubernetes_namespace_annotation_owner_example_com_team: 'web',
      __meta_kubernetes_namespace_annotationpresent_owner_example_com_team: 'true',
    });
  });

  it('malformed: a port without a number is skipped and reported, the rest kept', () => {
    const p = webPod();
    (p.spec!.containers![0].ports as { containerPort?: unknown }[])[0].containerPort = undefined;
    const c = ctx();
    const g = buildPod(p, c);
    expect(g.targets.map((t) => t.__address__)).toEqual(['10.244.1.23:53', '10.244.1.23']);
    expect(c.problems).toEqual(['pod default/web-7d9f8-abcde: container web port "http" has no valid containerPort (undefined)']);
  });

  it('malformed: a non-IP pod IP empties the group and is reported', () => {
    const c = ctx();
    const g = buildPod(webPod({ ip: 'not-an-ip' }), c);
    expect(g.targets).toEqual([]);
    expect(c.problems).toEqual(['pod default/web-7d9f8-abcde: status.podIP "not-an-ip" is not an IP address']);
  });
});

describe('service role', () => {
  it.each([
    {
      type: 'ClusterIP',
      extra: { __meta_kubernetes_service_cluster_ip: '10.96.12.7' },
    },
    {
      type: 'LoadBalancer',
      extra: { __meta_kubernetes_service_cluster_ip: '10.96.12.7', __meta_kubernetes_service_loadbalancer_ip: '198.51.100.20' },
    },
    {
      type: 'NodePort',
      extra: { __meta_kubernetes_service_cluster_ip: '10.96.12.7' },
    },
  ])('$type: one target per port at the service DNS name', ({ type, extra }) => {
    const svc = makeService({
      name: 'api',
      namespace: 'shop',
      type,
      clusterIP: '10.96.12.7',
      loadBalancerIP: type === 'LoadBalancer' ? '198.51.100.20' : undefined,
      labels: { 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'prometheus.io/probe': 'true' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 9090 }],
    });
    const g = buildService(svc as unknown as Service, ctx());
    expect(g.source).toBe('svc/shop/api');
    expect(g.labels).toEqual({
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_service_name: 'api',
      __meta_kubernetes_service_label_app_kubernetes_io_part_of: 'shop',
      __meta_kubernetes_service_labelpresent_app_kubernetes_io_part_of: 'true',
      __meta_kubernetes_service_annotation_prometheus_io_probe: 'true',
      __meta_kubernetes_service_annotationpresent_prometheus_io_probe: 'true',
    });
    expect(g.targets).toEqual([
      { __address__: 'api.shop.svc:80', __meta_kubernetes_service_port_name: 'http', __meta_kubernetes_service_port_number: '80', __meta_kubernetes_service_port_protocol: 'TCP', __meta_kubernetes_service_type: type, ...extra },
      { __address__: 'api.shop.svc:9090', __meta_kubernetes_service_port_name: 'grpc', __meta_kubernetes_service_port_number: '9090', __meta_kubernetes_service_port_protocol: 'TCP', __meta_kubernetes_service_type: type, ...extra },
    ]);
  });

  it('ExternalName: external name instead of cluster IP (and no targets without ports)', () => {
    const svc = makeService({ name: 'db', type: 'ExternalName', externalName: 'db.example.com' }) as unknown as { spec: Record<string, unknown> };
    expect(buildService(svc as unknown as Service, ctx()).targets).toEqual([]);
    svc.spec.ports = [{ name: 'pg', port: 5432, protocol: 'TCP' }];
    expect(buildService(svc as unknown as Service, ctx()).targets).toEqual([
      {
        __address__: 'db.default.svc:5432',
        __meta_kubernetes_service_port_name: 'pg',
        __meta_kubernetes_service_port_number: '5432',
        __meta_kubernetes_service_port_protocol: 'TCP',
        __meta_kubernetes_service_type: 'ExternalName',
        __meta_kubernetes_service_external_name: 'db.example.com',
      },
    ]);
  });
});

describe('endpoints role', () => {
  const pod = webPod({ ip: '10.244.1.23' });
  const eps = makeEndpoints({
    name: 'web',
    annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2025-06-01T10:00:05Z' },
    subsets: [
      {
        addresses: [{ ip: '10.244.1.23', nodeName: 'node-1', pod: 'web-7d9f8-abcde' }, { ip: '10.0.0.50', hostname: 'legacy-1' }],
        notReadyAddresses: [{ ip: '10.244.2.99', nodeName: 'node-2' }],
        ports: [{ name: 'http', port: 8080 }],
      },
    ],
  });
  const svc = makeService({ name: 'web', labels: { tier: 'frontend' } });

  it('joins pods and the service; extra container ports of the pod become targets too', () => {
    const g = buildEndpoints(eps as unknown as Endpoints, ctx({ pods: [pod], services: [svc] }));
    expect(g.source).toBe('endpoints/default/web');
    expect(g.labels).toEqual({
      __meta_kubernetes_namespace: 'default',
      __meta_kubernetes_endpoints_name: 'web',
      __meta_kubernetes_endpoints_annotation_endpoints_kubernetes_io_last_change_trigger_time: '2025-06-01T10:00:05Z',
      __meta_kubernetes_endpoints_annotationpresent_endpoints_kubernetes_io_last_change_trigger_time: 'true',
      __meta_kubernetes_service_name: 'web',
      __meta_kubernetes_service_label_tier: 'frontend',
      __meta_kubernetes_service_labelpresent_tier: 'true',
    });
    const podLabels = {
      __meta_kubernetes_pod_name: 'web-7d9f8-abcde',
      __meta_kubernetes_pod_ip: '10.244.1.23',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_node_name: 'node-1',
      __meta_kubernetes_pod_host_ip: '10.0.0.11',
      __meta_kubernetes_pod_uid: 'uid-web',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_controller_name: 'web-7d9f8',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'web',
      __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
    };
    expect(g.targets).toEqual([
      {
        __address__: '10.244.1.23:8080',
        __meta_kubernetes_endpoint_port_name: 'http',
        __meta_kubernetes_endpoint_port_protocol: 'TCP',
        __meta_kubernetes_endpoint_ready: 'true',
        __meta_kubernetes_endpoint_node_name: 'node-1',
        __meta_kubernetes_endpoint_address_target_kind: 'Pod',
        __meta_kubernetes_endpoint_address_target_name: 'web-7d9f8-abcde',
        ...podLabels,
        __meta_kubernetes_pod_container_name: 'web',
        __meta_kubernetes_pod_container_image: 'nginx:1.27',
        __meta_kubernetes_pod_container_port_name: 'http',
        __meta_kubernetes_pod_container_port_number: '8080',
        __meta_kubernetes_pod_container_port_protocol: 'TCP',
        __meta_kubernetes_pod_container_init: 'false',
      },
      {
        __address__: '10.0.0.50:8080',
        __meta_kubernetes_endpoint_port_name: 'http',
        __meta_kubernetes_endpoint_port_protocol: 'TCP',
        __meta_kubernetes_endpoint_ready: 'true',
        __meta_kubernetes_endpoint_hostname: 'legacy-1',
      },
      {
        __address__: '10.244.2.99:8080',
        __meta_kubernetes_endpoint_port_name: 'http',
        __meta_kubernetes_endpoint_port_protocol: 'TCP',
        __meta_kubernetes_endpoint_ready: 'false',
        __meta_kubernetes_endpoint_node_name: 'node-2',
      },
      {
        __address__: '10.244.1.23:53',
        ...podLabels,
        __meta_kubernetes_pod_container_name: 'web',
        __meta_kubernetes_pod_container_image: 'nginx:1.27',
        __meta_kubernetes_pod_container_port_name: 'dns',
        __meta_kubernetes_pod_container_port_number: '53',
        __meta_kubernetes_pod_container_port_protocol: 'UDP',
        __meta_kubernetes_pod_container_init: 'false',
      },
    ]);
  });

  it('attach_metadata node: node labels from nodeName or a Node target ref', () => {
    const e = makeEndpoints({
      name: 'kubelet',
      namespace: 'kube-system',
      subsets: [{ addresses: [{ ip: '10.0.0.11', pod: 'node-1', targetKind: 'Node' }, { ip: '10.0.0.12', nodeName: 'node-2' }], ports: [{ name: 'https-metrics', port: 10250 }] }],
    });
    const n1 = makeNode({ name: 'node-1', labels: { zone: 'a' }, annotations: {} });
    const n2 = makeNode({ name: 'node-2', labels: { zone: 'b' }, annotations: {} });
    const g = buildEndpoints(e as unknown as Endpoints, ctx({ nodes: [n1, n2] }));
    expect(g.targets.map((t) => [t.__address__, t.__meta_kubernetes_node_name, t.__meta_kubernetes_node_label_zone])).toEqual([
      ['10.0.0.11:10250', 'node-1', 'a'],
      ['10.0.0.12:10250', 'node-2', 'b'],
    ]);
  });

  it('sidecar (init) containers: matched ports and extra ports carry container_init=true', () => {
    const p = webPod({ containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }] }], initContainers: [{ name: 'proxy', image: 'envoy:1', ports: [{ name: 'admin', containerPort: 9901 }, { name: 'stats', containerPort: 15090 }] }] });
    const e = makeEndpoints({ name: 'web', subsets: [{ addresses: [{ ip: '10.244.1.23', pod: 'web-7d9f8-abcde' }], ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9901 }] }] });
    const g = buildEndpoints(e as unknown as Endpoints, ctx({ pods: [p] }));
    expect(g.targets.map((t) => [t.__address__, t.__meta_kubernetes_pod_container_name, t.__meta_kubernetes_pod_container_init, t.__meta_kubernetes_endpoint_port_name])).toEqual([
      ['10.244.1.23:8080', 'app', 'false', 'http'],
      ['10.244.1.23:9901', 'proxy', 'true', 'admin'],
      ['10.244.1.23:15090', 'proxy', 'true', undefined],
    ]);
  });

  it('malformed: non-IP addresses and ports without numbers are skipped and reported', () => {
    const e = makeEndpoints({ name: 'bad', subsets: [{ addresses: [{ ip: 'web.example.com' }, { ip: '10.1.1.1' }], ports: [{ name: 'http', port: 80 }] }] }) as unknown as { subsets: { ports: unknown[] }[] };
    e.subsets[0].ports.push({ name: 'nonum', protocol: 'TCP' });
    const c = ctx();
    const g = buildEndpoints(e as unknown as Endpoints, c);
    expect(g.targets.map((t) => t.__address__)).toEqual(['10.1.1.1:80']);
    expect(c.problems).toEqual(['endpoints default/bad: address "web.example.com" is not an IP address', 'endpoints default/bad: port "nonum" has no valid port number (undefined)']);
  });
});

describe('endpointslice role', () => {
  const pod = webPod();
  const svc = makeService({ name: 'web', labels: { tier: 'frontend' } });
  const slice = makeEndpointSlice({
    name: 'web-x7k2p',
    service: 'web',
    endpoints: [
      { addresses: ['10.244.1.23'], nodeName: 'node-1', zone: 'eu-west-1a', pod: 'web-7d9f8-abcde' },
      { addresses: ['10.244.2.40'], ready: false, serving: true, terminating: true, nodeName: 'node-2', hostname: 'web-old' },
    ],
    ports: [{ name: 'http', port: 8080, appProtocol: 'http' }],
  });

  it('conditions, zone, node name, port, app protocol; joined with the pod and the service', () => {
    const g = buildEndpointSlice(slice as unknown as EndpointSlice, ctx({ pods: [pod], services: [svc] }));
    expect(g.source).toBe('endpointslice/default/web-x7k2p');
    expect(g.labels).toEqual({
      __meta_kubernetes_namespace: 'default',
      __meta_kubernetes_endpointslice_address_type: 'IPv4',
      __meta_kubernetes_endpointslice_name: 'web-x7k2p',
      __meta_kubernetes_endpointslice_label_kubernetes_io_service_name: 'web',
      __meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name: 'true',
      __meta_kubernetes_endpointslice_label_endpointslice_kubernetes_io_managed_by: 'endpointslice-controller.k8s.io',
      __meta_kubernetes_endpointslice_labelpresent_endpointslice_kubernetes_io_managed_by: 'true',
      __meta_kubernetes_service_name: 'web',
      __meta_kubernetes_service_label_tier: 'frontend',
      __meta_kubernetes_service_labelpresent_tier: 'true',
    });
    expect(g.targets[0]).toEqual(
      expect.objectContaining({
        __address__: '10.244.1.23:8080',
        __meta_kubernetes_endpointslice_port: '8080',
        __meta_kubernetes_endpointslice_port_name: 'http',
        __meta_kubernetes_endpointslice_port_protocol: 'TCP',
        __meta_kubernetes_endpointslice_port_app_protocol: 'http',
        __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true',
        __meta_kubernetes_endpointslice_endpoint_conditions_serving: 'true',
        __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'false',
        __meta_kubernetes_endpointslice_endpoint_node_name: 'node-1',
        __meta_kubernetes_endpointslice_endpoint_zone: 'eu-west-1a',
        __meta_kubernetes_endpointslice_address_target_kind: 'Pod',
        __meta_kubernetes_endpointslice_address_target_name: 'web-7d9f8-abcde',
        __meta_kubernetes_pod_name: 'web-7d9f8-abcde',
        __meta_kubernetes_pod_container_name: 'web',
        __meta_kubernetes_pod_container_port_number: '8080',
        __meta_kubernetes_pod_container_init: 'false',
      }),
    );
    expect(g.targets[1]).toEqual({
      __address__: '10.244.2.40:8080',
      __meta_kubernetes_endpointslice_port: '8080',
      __meta_kubernetes_endpointslice_port_name: 'http',
      __meta_kubernetes_endpointslice_port_protocol: 'TCP',
      __meta_kubernetes_endpointslice_port_app_protocol: 'http',
      __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'false',
      __meta_kubernetes_endpointslice_endpoint_conditions_serving: 'true',
      __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'true',
      __meta_kubernetes_endpointslice_endpoint_node_name: 'node-2',
      __meta_kubernetes_endpointslice_endpoint_hostname: 'web-old',
    });
    // The pod's other container port (53/UDP) is discovered too.
    expect(g.targets[2]).toEqual(expect.objectContaining({ __address__: '10.244.1.23:53', __meta_kubernetes_pod_container_port_protocol: 'UDP' }));
    expect(g.targets).toHaveLength(3);
  });

  it('a port without a number gives targets at the bare address; topology labels are sanitised', () => {
    const s = makeEndpointSlice({ name: 'headless', endpoints: [{ addresses: ['10.244.3.3'] }], ports: [{ name: 'any' }] }) as unknown as { endpoints: Record<string, unknown>[] };
    s.endpoints[0].deprecatedTopology = { 'kubernetes.io/hostname': 'node-3' };
    const g = buildEndpointSlice(s as unknown as EndpointSlice, ctx());
    expect(g.targets).toEqual([
      {
        __address__: '10.244.3.3',
        __meta_kubernetes_endpointslice_port_name: 'any',
        __meta_kubernetes_endpointslice_port_protocol: 'TCP',
        __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true',
        __meta_kubernetes_endpointslice_endpoint_conditions_serving: 'true',
        __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'false',
        __meta_kubernetes_endpointslice_endpoint_topology_kubernetes_io_hostname: 'node-3',
        __meta_kubernetes_endpointslice_endpoint_topology_present_kubernetes_io_hostname: 'true',
      },
    ]);
  });

  it('FQDN slices keep hostnames; malformed IPv4 addresses are skipped and reported', () => {
    const f = makeEndpointSlice({ name: 'ext', addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com'] }], ports: [{ name: 'pg', port: 5432 }] });
    expect(buildEndpointSlice(f as unknown as EndpointSlice, ctx()).targets[0].__address__).toBe('db.example.com:5432');
    const bad = makeEndpointSlice({ name: 'bad', endpoints: [{ addresses: ['db.example.com', '10.2.2.2'] }], ports: [{ name: 'pg', port: 5432 }] });
    const c = ctx();
    expect(buildEndpointSlice(bad as unknown as EndpointSlice, c).targets.map((t) => t.__address__)).toEqual(['10.2.2.2:5432']);
    expect(c.problems).toEqual(['endpointslice default/bad: address "db.example.com" is not a valid IPv4']);
  });
});

describe('node role', () => {
  it('address by priority (InternalIP first), kubelet port, instance = node name, one label per address type', () => {
    const n = makeNode({ name: 'ip-10-0-0-11', labels: { 'node-role.kubernetes.io/worker': '' }, annotations: { 'csi.volume.kubernetes.io/nodeid': '{}' }, providerID: 'aws:///eu-west-1a/i-0abc' });
    const g = buildNode(n as unknown as Node, ctx());
    expect(g).toEqual({
      source: 'node/ip-10-0-0-11',
      labels: {
        __meta_kubernetes_node_name: 'ip-10-0-0-11',
        __meta_kubernetes_node_provider_id: 'aws:///eu-west-1a/i-0abc',
        __meta_kubernetes_node_label_node_role_kubernetes_io_worker: '',
        __meta_kubernetes_node_labelpresent_node_role_kubernetes_io_worker: 'true',
        __meta_kubernetes_node_annotation_csi_volume_kubernetes_io_nodeid: '{}',
        __meta_kubernetes_node_annotationpresent_csi_volume_kubernetes_io_nodeid: 'true',
      },
      targets: [
        {
          __address__: '10.0.0.11:10250',
          instance: 'ip-10-0-0-11',
          __meta_kubernetes_node_address_InternalIP: '10.0.0.11',
          __meta_kubernetes_node_address_ExternalIP: '203.0.113.11',
          __meta_kubernetes_node_address_Hostname: 'ip-10-0-0-11',
          __meta_kubernetes_node_address_InternalDNS: 'ip-10-0-0-11.eu-west-1.compute.internal',
        },
      ],
    });
  });

  it.each([
    { addrs: [{ type: 'Hostname', address: 'n1' }, { type: 'ExternalIP', address: '203.0.113.5' }], want: '203.0.113.5:10250' },
    { addrs: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalDNS', address: 'n1.internal' }], want: 'n1.internal:10250' },
    { addrs: [{ type: 'Hostname', address: 'n1' }, { type: 'ExternalDNS', address: 'n1.example.com' }], want: 'n1.example.com:10250' },
    { addrs: [{ type: 'Hostname', address: 'n1' }], want: 'n1:10250' },
    { addrs: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'InternalIP', address: '10.0.0.2' }], want: '10.0.0.1:10250' },
  ])('priority picks $want', ({ addrs, want }) => {
    const g = buildNode(makeNode({ name: 'n1', addresses: addrs }) as unknown as Node, ctx());
    expect(g.targets[0].__address__).toBe(want);
  });

  it('a node without any address has no targets and is reported', () => {
    const c = ctx();
    expect(buildNode(makeNode({ name: 'n0', addresses: [] }) as unknown as Node, c).targets).toEqual([]);
    expect(c.problems).toEqual(['node n0: no usable address in status.addresses']);
  });
});

describe('ingress role', () => {
  it('one target per path per rule; https for TLS hosts (wildcards cover one label); class name', () => {
    const ing = makeIngress({
      name: 'shop',
      className: 'nginx',
      labels: { app: 'shop' },
      tlsHosts: ['shop.example.com', '*.api.example.com'],
      rules: [
        { host: 'shop.example.com', paths: ['/', '/cart'] },
        { host: 'v1.api.example.com', paths: [''] },
        { host: 'deep.v1.api.example.com', paths: ['/x'] },
        { host: 'nobackend.example.com', paths: [] },
        { host: 'nohttp.example.com', paths: null },
      ],
    });
    const g = buildIngress(ing as unknown as Ingress, ctx());
    expect(g.source).toBe('ingress/default/shop');
    expect(g.labels).toEqual({
      __meta_kubernetes_namespace: 'default',
      __meta_kubernetes_ingress_name: 'shop',
      __meta_kubernetes_ingress_label_app: 'shop',
      __meta_kubernetes_ingress_labelpresent_app: 'true',
      __meta_kubernetes_ingress_class_name: 'nginx',
    });
    const t = (host: string, path: string, scheme: string) => ({
      __address__: host,
      __meta_kubernetes_ingress_host: host,
      __meta_kubernetes_ingress_path: path,
      __meta_kubernetes_ingress_scheme: scheme,
    });
    expect(g.targets).toEqual([
      t('shop.example.com', '/', 'https'),
      t('shop.example.com', '/cart', 'https'),
      t('v1.api.example.com', '/', 'https'),
      t('deep.v1.api.example.com', '/x', 'http'),
      t('nohttp.example.com', '/', 'http'),
    ]);
  });
});
