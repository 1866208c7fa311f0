/**
 * Realistic Kubernetes objects, shaped like what an API server returns for workloads created by
 * Deployments, StatefulSets and DaemonSets (owner references, conditions, container statuses,
 * defaulted protocols, EndpointSlices managed by the endpointslice controller, ...).
 * Used by the discovery tests and the k8s-sd benchmark (no vitest imports).
 */

export interface PodSpecOptions {
  namespace?: string;
  name: string;
  ip?: string;
  hostIP?: string;
  node?: string;
  phase?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: { kind: string; name: string };
  containers?: { name: string; image: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
  initContainers?: { name: string; image: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
}

/** managedFields as server-side apply records them: a large part of every real object. */
function managedFields(manager: string, fields: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { manager, operation: 'Update', apiVersion: 'v1', time: '2025-06-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: fields },
  ];
}

function podManagedFields(containers: { name: string; ports?: { containerPort: number }[] }[]): Record<string, unknown>[] {
  const spec: Record<string, unknown> = { 'f:dnsPolicy': {}, 'f:enableServiceLinks': {}, 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {} };
  for (const c of containers) {
    const ports: Record<string, unknown> = { '.': {} };
    for (const p of c.ports ?? []) ports[`k:{"containerPort":${p.containerPort},"protocol":"TCP"}`] = { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} };
    spec[`k:{"name":"${c.name}"}`] = { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:ports': ports, 'f:resources': { '.': {}, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } }, 'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {} };
  }
  return [
    ...managedFields('kube-controller-manager', { 'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} }, 'f:ownerReferences': { '.': {} } }, 'f:spec': spec }),
    {
      manager: 'kubelet',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2025-06-01T10:00:05Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"ContainersReady"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} }, 'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} } }, 'f:containerStatuses': {}, 'f:hostIP': {}, 'f:phase': {}, 'f:podIP': {}, 'f:podIPs': { '.': {} }, 'f:startTime': {} } },
      subresource: 'status',
    },
  ];
}

/** A running pod as the API server returns it. */
export function makePod(o: PodSpecOptions): Record<string, unknown> & { metadata: { name: string; namespace: string } } {
  const ns = o.namespace ?? 'default';
  const containers = o.containers ?? [{ name: 'app', image: 'registry.example.com/app:1.4.2', ports: [{ name: 'http', containerPort: 8080 }] }];
  const init = o.initContainers ?? [];
  const ready = o.ready ?? true;
  const withProto = (ps: { name?: string; containerPort: number; protocol?: string }[] | undefined) =>
    ps?.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' }));
  return {
    metadata: {
      name: o.name,
      namespace: ns,
      generateName: o.owner ? `${o.owner.name}-` : undefined,
      managedFields: podManagedFields(containers),
      labels: o.labels ?? {},
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.owner
        ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: `owner-${o.owner.name}`, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: {
      nodeName: o.node ?? 'node-1',
      restartPolicy: 'Always',
      serviceAccountName: 'default',
      containers: containers.map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.ports ? { ports: withProto(c.ports) } : {}),
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
        volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
      })),
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      ...(init.length
        ? {
            initContainers: init.map((c) => ({ name: c.name, image: c.image, ...(c.ports ? { ports: withProto(c.ports) } : {}) })),
          }
        : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      hostIP: o.hostIP ?? '10.0.0.11',
      ...(o.ip !== '' ? { podIP: o.ip ?? '10.244.1.23', podIPs: [{ ip: o.ip ?? '10.244.1.23' }] } : {}),
      startTime: '2025-06-01T10:00:00Z',
      qosClass: 'Burstable',
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: '2025-06-01T10:00:01Z' },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2025-06-01T10:00:05Z' },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: '2025-06-01T10:00:05Z' },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-06-01T10:00:00Z' },
      ],
      containerStatuses: containers.map((c, i) => ({
        name: c.name,
        image: c.image,
        imageID: `${c.image}@sha256:${'ab'.repeat(32)}`,
        containerID: `containerd://${(i + 1).toString(16).padStart(4, '0')}${'cd'.repeat(30)}`,
        ready,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: '2025-06-01T10:00:04Z' } },
      })),
      ...(init.length
        ? {
            initContainerStatuses: init.map((c, i) => ({
              name: c.name,
              image: c.image,
              containerID: `containerd://init${i}${'ef'.repeat(29)}`,
              ready: true,
              restartCount: 0,
              state: { terminated: { exitCode: 0, reason: 'Completed' } },
            })),
          }
        : {}),
    },
  } as Record<string, unknown> & { metadata: { name: string; namespace: string } };
}

export function makeService(o: {
  namespace?: string;
  name: string;
  type?: string;
  clusterIP?: string;
  externalName?: string;
  loadBalancerIP?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
  selector?: Record<string, string>;
}): Record<string, unknown> & { metadata: { name: string; namespace: string } } {
  const type = o.type ?? 'ClusterIP';
  return {
    metadata: { name: o.name, namespace: o.namespace ?? 'default', labels: o.labels ?? {}, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      type,
      ...(type === 'ExternalName' ? { externalName: o.externalName ?? 'db.example.com' } : { clusterIP: o.clusterIP ?? '10.96.0.10', clusterIPs: [o.clusterIP ?? '10.96.0.10'] }),
      ...(o.loadBalancerIP ? { loadBalancerIP: o.loadBalancerIP } : {}),
      ...(type === 'ExternalName'
        ? {}
        : {
            ports: (o.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }]).map((p) => ({
              ...(p.name !== undefined ? { name: p.name } : {}),
              port: p.port,
              targetPort: p.targetPort ?? p.port,
              protocol: p.protocol ?? 'TCP',
            })),
            selector: o.selector ?? { app: o.name },
            sessionAffinity: 'None',
          }),
    },
    status: { loadBalancer: {} },
  } as Record<string, unknown> & { metadata: { name: string; namespace: string } };
}

export function makeNode(o: {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  addresses?: { type: string; address: string }[];
  kubeletPort?: number;
  providerID?: string;
}): Record<string, unknown> & { metadata: { name: string } } {
  return {
    metadata: {
      name: o.name,
      labels: o.labels ?? { 'kubernetes.io/hostname': o.name, 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': 'm5.large' },
      annotations: o.annotations ?? { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { providerID: o.providerID ?? `aws:///eu-west-1a/i-0${o.name.replace(/\W/g, '')}`, podCIDR: '10.244.1.0/24' },
    status: {
      addresses: o.addresses ?? [
        { type: 'InternalIP', address: '10.0.0.11' },
        { type: 'ExternalIP', address: '203.0.113.11' },
        { type: 'Hostname', address: o.name },
        { type: 'InternalDNS', address: `${o.name}.eu-west-1.compute.internal` },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort ?? 10250 } },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      nodeInfo: { kubeletVersion: 'v1.31.2', containerRuntimeVersion: 'containerd://1.7.22', osImage: 'Amazon Linux 2023' },
    },
  } as Record<string, unknown> & { metadata: { name: string } };
}

export function makeNamespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Record<string, unknown> & { metadata: { name: string } } {
  return {
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  } as Record<string, unknown> & { metadata: { name: string } };
}

export interface EndpointAddr {
  ip: string;
  nodeName?: string;
  hostname?: string;
  pod?: string;
  targetKind?: string;
}

function addr(a: EndpointAddr, ns: string): Record<string, unknown> {
  return {
    ip: a.ip,
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    ...(a.pod ? { targetRef: { kind: a.targetKind ?? 'Pod', namespace: ns, name: a.pod, uid: `uid-${a.pod}` } } : {}),
  };
}

export function makeEndpoints(o: {
  namespace?: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  subsets: { addresses?: EndpointAddr[]; notReadyAddresses?: EndpointAddr[]; ports: { name?: string; port: number; protocol?: string }[] }[];
}): Record<string, unknown> & { metadata: { name: string; namespace: string } } {
  const ns = o.namespace ?? 'default';
  return {
    metadata: { name: o.name, namespace: ns, labels: o.labels ?? {}, ...(o.annotations ? { annotations: o.annotations } : {}) },
    subsets: o.subsets.map((s) => ({
      ...(s.addresses ? { addresses: s.addresses.map((a) => addr(a, ns)) } : {}),
      ...(s.notReadyAddresses ? { notReadyAddresses: s.notReadyAddresses.map((a) => addr(a, ns)) } : {}),
      ports: s.ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
    })),
  } as Record<string, unknown> & { metadata: { name: string; namespace: string } };
}

export interface SliceEndpointOptions {
  addresses: string[];
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  nodeName?: string;
  zone?: string;
  hostname?: string;
  pod?: string;
  targetKind?: string;
}

export function makeEndpointSlice(o: {
  namespace?: string;
  name: string;
  service?: string;
  addressType?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  endpoints: SliceEndpointOptions[];
  ports: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}): Record<string, unknown> & { metadata: { name: string; namespace: string } } {
  const ns = o.namespace ?? 'default';
  const labels: Record<string, string> = { ...(o.labels ?? {}) };
  if (o.service) {
    labels['kubernetes.io/service-name'] = o.service;
    labels['endpointslice.kubernetes.io/managed-by'] = 'endpointslice-controller.k8s.io';
  }
  return {
    metadata: {
      name: o.name,
      namespace: ns,
      labels,
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.service ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: o.service, uid: `uid-svc-${o.service}`, controller: true }] } : {}),
      managedFields: managedFields('endpointslice-controller.k8s.io', { 'f:addressType': {}, 'f:endpoints': {}, 'f:metadata': { 'f:labels': { '.': {}, 'f:endpointslice.kubernetes.io/managed-by': {}, 'f:kubernetes.io/service-name': {} }, 'f:ownerReferences': {} }, 'f:ports': {} }),
      generateName: o.service ? `${o.service}-` : undefined,
    },
    addressType: o.addressType ?? 'IPv4',
    endpoints: o.endpoints.map((e) => ({
      addresses: e.addresses,
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : { ready: true }),
        ...(e.serving !== undefined ? { serving: e.serving } : { serving: true }),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : { terminating: false }),
      },
      ...(e.hostname ? { hostname: e.hostname } : {}),
      ...(e.pod ? { targetRef: { kind: e.targetKind ?? 'Pod', namespace: ns, name: e.pod, uid: `uid-${e.pod}` } } : {}),
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
    })),
    ports: o.ports.map((p) => ({
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.port !== undefined ? { port: p.port } : {}),
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    })),
  } as Record<string, unknown> & { metadata: { name: string; namespace: string } };
}

export function makeIngress(o: {
  namespace?: string;
  name: string;
  className?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tlsHosts?: string[];
  rules: { host?: string; paths?: string[] | null }[];
}): Record<string, unknown> & { metadata: { name: string; namespace: string } } {
  return {
    metadata: { name: o.name, namespace: o.namespace ?? 'default', labels: o.labels ?? {}, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      ...(o.tlsHosts ? { tls: [{ hosts: o.tlsHosts, secretName: `${o.name}-tls` }] } : {}),
      rules: o.rules.map((r) => ({
        ...(r.host !== undefined ? { host: r.host } : {}),
        ...(r.paths === null
          ? {}
          : {
              http: {
                paths: (r.paths ?? ['/']).map((p) => ({
                  ...(p !== '' ? { path: p } : {}),
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                })),
              },
            }),
      })),
    },
    status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } },
  } as Record<string, unknown> & { metadata: { name: string; namespace: string } };
}
