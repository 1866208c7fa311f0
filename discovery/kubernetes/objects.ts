/**
 * The subset of Kubernetes API objects (as the API server sends them, JSON) that discovery
 * reads, and the checks that reject malformed ones before they reach the label builders.
 *
 * Objects are kept as the parsed JSON: no class instances, no copies. Every field that the
 * API may omit is optional here, so the builders handle absence explicitly.
 */

export interface OwnerReference {
  readonly kind?: string;
  readonly name?: string;
  readonly controller?: boolean;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
}

/** Anything with metadata: what the informer stores. */
export interface KubeObject {
  readonly metadata: ObjectMeta;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly ports?: readonly ContainerPort[];
}

export interface ContainerStatus {
  readonly name: string;
  readonly containerID?: string;
}

export interface Pod extends KubeObject {
  readonly spec?: {
    readonly nodeName?: string;
    readonly containers?: readonly Container[];
    readonly initContainers?: readonly Container[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly hostIP?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
    readonly containerStatuses?: readonly ContainerStatus[];
    readonly initContainerStatuses?: readonly ContainerStatus[];
  };
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
}

export interface Service extends KubeObject {
  readonly spec?: {
    readonly type?: string;
    readonly clusterIP?: string;
    readonly externalName?: string;
    readonly loadBalancerIP?: string;
    readonly ports?: readonly ServicePort[];
  };
}

export interface ObjectReference {
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

export interface EndpointAddress {
  readonly ip: string;
  readonly hostname?: string;
  readonly nodeName?: string;
  readonly targetRef?: ObjectReference;
}

export interface EndpointPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
}

export interface Endpoints extends KubeObject {
  readonly subsets?: readonly {
    readonly addresses?: readonly EndpointAddress[];
    readonly notReadyAddresses?: readonly EndpointAddress[];
    readonly ports?: readonly EndpointPort[];
  }[];
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
  readonly hostname?: string;
  readonly targetRef?: ObjectReference;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly deprecatedTopology?: Readonly<Record<string, string>>;
}

export interface SlicePort {
  readonly name?: string;
  readonly port?: number;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  readonly addressType?: string;
  readonly endpoints?: readonly SliceEndpoint[];
  readonly ports?: readonly SlicePort[];
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface Node extends KubeObject {
  readonly spec?: { readonly providerID?: string };
  readonly status?: {
    readonly addresses?: readonly NodeAddress[];
    readonly daemonEndpoints?: { readonly kubeletEndpoint?: { readonly Port?: number } };
  };
}

export interface IngressPath {
  readonly path?: string;
}

export interface IngressRule {
  readonly host?: string;
  readonly http?: { readonly paths?: readonly IngressPath[] };
}

export interface Ingress extends KubeObject {
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly tls?: readonly { readonly hosts?: readonly string[] }[];
    readonly rules?: readonly IngressRule[];
  };
}

export type Namespace = KubeObject;

/** The resource kinds discovery lists and watches. */
export type ResourceKind = 'nodes' | 'pods' | 'services' | 'endpoints' | 'endpointslices' | 'ingresses' | 'namespaces';

/** API group/version path and whether the resource lives in namespaces. */
export const RESOURCES: Readonly<Record<ResourceKind, { readonly prefix: string; readonly namespaced: boolean; readonly kind: string }>> = {
  nodes: { prefix: '/api/v1', namespaced: false, kind: 'Node' },
  pods: { prefix: '/api/v1', namespaced: true, kind: 'Pod' },
  services: { prefix: '/api/v1', namespaced: true, kind: 'Service' },
  endpoints: { prefix: '/api/v1', namespaced: true, kind: 'Endpoints' },
  endpointslices: { prefix: '/apis/discovery.k8s.io/v1', namespaced: true, kind: 'EndpointSlice' },
  ingresses: { prefix: '/apis/networking.k8s.io/v1', namespaced: true, kind: 'Ingress' },
  namespaces: { prefix: '/api/v1', namespaced: false, kind: 'Namespace' },
};

/** The list/watch path of a resource, cluster-wide when `namespace` is ''. */
export function resourcePath(kind: ResourceKind, namespace: string): string {
  const r = RESOURCES[kind];
  if (!r.namespaced || namespace === '') return `${r.prefix}/${kind}`;
  return `${r.prefix}/namespaces/${encodeURIComponent(namespace)}/${kind}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isRecord(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

/**
 * Checks the parts every object needs (metadata.name, string maps for labels and
 * annotations, namespace for namespaced kinds). Returns what is wrong, or undefined.
 * Field-level problems (a port without a number, a non-IP address) are reported by the
 * builders, which skip just the bad part.
 */
export function checkObject(kind: ResourceKind, o: unknown): string | undefined {
  if (!isRecord(o)) return 'not a JSON object';
  const m = o.metadata;
  if (!isRecord(m)) return 'missing metadata';
  if (typeof m.name !== 'string' || m.name === '') return 'missing metadata.name';
  if (RESOURCES[kind].namespaced && (typeof m.namespace !== 'string' || m.namespace === '')) {
    return `missing metadata.namespace (${m.name})`;
  }
  if (!isStringMap(m.labels)) return `metadata.labels of ${m.name} is not a map of strings`;
  if (!isStringMap(m.annotations)) return `metadata.annotations of ${m.name} is not a map of strings`;
  if (m.ownerReferences !== undefined && !Array.isArray(m.ownerReferences)) {
    return `metadata.ownerReferences of ${m.name} is not a list`;
  }
  for (const [field, want] of SHAPES[kind]) {
    const v = dig(o, field);
    if (v === undefined || v === null) continue;
    if (want === 'array' ? !Array.isArray(v) : !isRecord(v)) return `${field} of ${m.name} is not ${want === 'array' ? 'a list' : 'an object'}`;
  }
  return undefined;
}

/** Structural fields whose wrong type would break the builders. */
const SHAPES: Readonly<Record<ResourceKind, readonly (readonly [string, 'array' | 'object'])[]>> = {
  pods: [
    ['spec', 'object'],
    ['status', 'object'],
    ['spec.containers', 'array'],
    ['spec.initContainers', 'array'],
    ['status.conditions', 'array'],
    ['status.containerStatuses', 'array'],
    ['status.initContainerStatuses', 'array'],
  ],
  services: [
    ['spec', 'object'],
    ['spec.ports', 'array'],
  ],
  endpoints: [['subsets', 'array']],
  endpointslices: [
    ['endpoints', 'array'],
    ['ports', 'array'],
  ],
  nodes: [
    ['spec', 'object'],
    ['status', 'object'],
    ['status.addresses', 'array'],
  ],
  ingresses: [
    ['spec', 'object'],
    ['spec.rules', 'array'],
    ['spec.tls', 'array'],
  ],
  namespaces: [],
};

function dig(o: Record<string, unknown>, path: string): unknown {
  let cur: unknown = o;
  for (const p of path.split('.')) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** `namespace/name` (or `name` for cluster-scoped objects), the informer cache key. */
export function objectKey(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/**
 * Which fields discovery reads, per kind: `true` keeps a value as it is, an object keeps the
 * listed fields of an object, a one-element array keeps those fields of every list element.
 * Everything else (managedFields, volumes, env, statuses discovery ignores, ...) is dropped
 * before an object enters the informer cache: on a real cluster that is most of each object.
 */
type Shape = true | { readonly [field: string]: Shape } | readonly [Shape];

const META: Shape = {
  name: true,
  namespace: true,
  uid: true,
  resourceVersion: true,
  labels: true,
  annotations: true,
  ownerReferences: [{ kind: true, name: true, controller: true }],
};
const CONTAINERS: Shape = [{ name: true, image: true, ports: [{ name: true, containerPort: true, protocol: true }] }];
const STATUSES: Shape = [{ name: true, containerID: true }];
const ADDRESS: Shape = [{ ip: true, hostname: true, nodeName: true, targetRef: { kind: true, name: true, namespace: true } }];

const KEEP: Readonly<Record<ResourceKind, Shape>> = {
  pods: {
    metadata: META,
    spec: { nodeName: true, containers: CONTAINERS, initContainers: CONTAINERS },
    status: { phase: true, podIP: true, hostIP: true, conditions: [{ type: true, status: true }], containerStatuses: STATUSES, initContainerStatuses: STATUSES },
  },
  services: {
    metadata: META,
    spec: { type: true, clusterIP: true, externalName: true, loadBalancerIP: true, ports: [{ name: true, port: true, protocol: true }] },
  },
  endpoints: {
    metadata: META,
    subsets: [{ addresses: ADDRESS, notReadyAddresses: ADDRESS, ports: [{ name: true, port: true, protocol: true }] }],
  },
  endpointslices: {
    metadata: META,
    addressType: true,
    endpoints: [
      {
        addresses: true,
        conditions: { ready: true, serving: true, terminating: true },
        hostname: true,
        targetRef: { kind: true, name: true, namespace: true },
        nodeName: true,
        zone: true,
        deprecatedTopology: true,
      },
    ],
    ports: [{ name: true, port: true, protocol: true, appProtocol: true }],
  },
  nodes: {
    metadata: META,
    spec: { providerID: true },
    status: { addresses: [{ type: true, address: true }], daemonEndpoints: { kubeletEndpoint: { Port: true } } },
  },
  ingresses: {
    metadata: META,
    spec: { ingressClassName: true, tls: [{ hosts: true }], rules: [{ host: true, http: { paths: [{ path: true }] } }] },
  },
  namespaces: { metadata: META },
};

function pick(v: unknown, shape: Shape): unknown {
  if (shape === true || v === null || typeof v !== 'object') return v;
  if (Array.isArray(shape)) {
    // A list where the API has a list; anything else is left for the builders to report.
    if (!Array.isArray(v)) return v;
    const el = shape[0];
    return v.map((x) => pick(x, el));
  }
  if (Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  const o = v as Record<string, unknown>;
  for (const k in shape) {
    const x = o[k];
    if (x !== undefined) out[k] = pick(x, (shape as { readonly [f: string]: Shape })[k]);
  }
  return out;
}

/** The part of a (checked) object discovery needs; the rest is not kept in memory. */
export function trimObject(kind: ResourceKind, o: KubeObject): KubeObject {
  return pick(o, KEEP[kind]) as KubeObject;
}
