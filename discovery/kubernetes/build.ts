/**
 * Pure functions from Kubernetes objects to target groups, one per role, with exactly the
 * `__meta_kubernetes_*` labels Prometheus 3.5 produces (see the `<kubernetes_sd_config>`
 * section of the configuration docs). No I/O: the caller passes lookups for the joined
 * objects (pods, services, nodes, namespaces) and a sink for field-level problems.
 */

import { isIP } from 'node:net';

import type { LabelSet, TargetGroup } from '../types.js';
import type {
  Container,
  EndpointPort,
  Endpoints,
  EndpointSlice,
  Ingress,
  KubeObject,
  Namespace,
  Node,
  ObjectMeta,
  ObjectReference,
  Pod,
  Service,
  SliceEndpoint,
  SlicePort,
} from './objects.js';

const PREFIX = '__meta_kubernetes_';
const NAMESPACE_LABEL = '__meta_kubernetes_namespace';
const ADDRESS = '__address__';

/** Lookups and sinks a builder needs; all lookups see the informers' current caches. */
export interface BuildContext {
  pod(namespace: string, name: string): Pod | undefined;
  service(namespace: string, name: string): Service | undefined;
  /** Defined when attach_metadata.node is on. */
  readonly node?: (name: string) => Node | undefined;
  /** Defined when attach_metadata.namespace is on. */
  readonly namespace?: (name: string) => Namespace | undefined;
  /** A malformed field: logged and counted by the caller; the builder skips that part. */
  invalid(kind: string, object: string, problem: string): void;
}

const INVALID_CHAR = /[^a-zA-Z0-9_]/gu;

/** Prometheus's strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizeLabelName(name: string): string {
  return name.replace(INVALID_CHAR, '_');
}

/** net.JoinHostPort: brackets around IPv6 literals. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function isPortNumber(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `<role>_name`, `<role>_label_*`, `<role>_labelpresent_*`, `<role>_annotation_*`, `<role>_annotationpresent_*`. */
export function addObjectMetaLabels(ls: LabelSet, meta: ObjectMeta, role: string): void {
  const p = PREFIX + role;
  ls[p + '_name'] = meta.name;
  addMapLabels(ls, p, meta.labels, meta.annotations);
}

function addMapLabels(
  ls: LabelSet,
  p: string,
  labels: Readonly<Record<string, string>> | undefined,
  annotations: Readonly<Record<string, string>> | undefined,
): void {
  if (labels) {
    for (const k in labels) {
      const ln = sanitizeLabelName(k);
      ls[p + '_label_' + ln] = labels[k];
      ls[p + '_labelpresent_' + ln] = 'true';
    }
  }
  if (annotations) {
    for (const k in annotations) {
      const ln = sanitizeLabelName(k);
      ls[p + '_annotation_' + ln] = annotations[k];
      ls[p + '_annotationpresent_' + ln] = 'true';
    }
  }
}

function addNamespaceLabels(ls: LabelSet, ctx: BuildContext, namespace: string): void {
  if (!ctx.namespace) return;
  const ns = ctx.namespace(namespace);
  if (ns) addMapLabels(ls, PREFIX + 'namespace', ns.metadata.labels, ns.metadata.annotations);
}

function addNodeLabels(ls: LabelSet, ctx: BuildContext, nodeName: string | undefined): void {
  if (!ctx.node || nodeName === undefined) return;
  const node = ctx.node(nodeName);
  if (node) addObjectMetaLabels(ls, node.metadata, 'node');
}

function emptyGroup(source: string): TargetGroup {
  return { source, targets: [], labels: {} };
}

// ---------------------------------------------------------------------------------------
// pod

/** `pod/<namespace>/<name>`. */
export function podSource(namespace: string, name: string): string {
  return `pod/${namespace}/${name}`;
}

function podReady(pod: Pod): string {
  for (const c of pod.status?.conditions ?? []) {
    if (c?.type === 'Ready') return str(c.status).toLowerCase();
  }
  return 'unknown';
}

/** The pod-level labels shared by the pod role and pod-backed endpoint targets. */
export function podLabels(pod: Pod): LabelSet {
  const ls: LabelSet = {
    [PREFIX + 'pod_ip']: str(pod.status?.podIP),
    [PREFIX + 'pod_ready']: podReady(pod),
    [PREFIX + 'pod_phase']: str(pod.status?.phase),
    [PREFIX + 'pod_node_name']: str(pod.spec?.nodeName),
    [PREFIX + 'pod_host_ip']: str(pod.status?.hostIP),
    [PREFIX + 'pod_uid']: str(pod.metadata.uid),
  };
  addObjectMetaLabels(ls, pod.metadata, 'pod');
  const owner = pod.metadata.ownerReferences?.find((r) => r?.controller === true);
  if (owner) {
    if (owner.kind) ls[PREFIX + 'pod_controller_kind'] = owner.kind;
    if (owner.name) ls[PREFIX + 'pod_controller_name'] = owner.name;
  }
  return ls;
}

function containerID(pod: Pod, name: string, init: boolean): string {
  const statuses = init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  for (const s of statuses ?? []) if (s?.name === name) return str(s.containerID);
  return '';
}

/** Regular containers first, then init containers, each with its init flag. */
function allContainers(pod: Pod): { c: Container; init: boolean }[] {
  const out: { c: Container; init: boolean }[] = [];
  for (const c of pod.spec?.containers ?? []) if (c) out.push({ c, init: false });
  for (const c of pod.spec?.initContainers ?? []) if (c) out.push({ c, init: true });
  return out;
}

function podKeyOf(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** One target per declared container port; a container without ports yields one target at the pod IP. */
export function buildPod(pod: Pod, ctx: BuildContext): TargetGroup {
  const ns = pod.metadata.namespace ?? '';
  const source = podSource(ns, pod.metadata.name);
  const ip = str(pod.status?.podIP);
  // A pod without an IP is starting or evicted: no targets yet.
  if (ip === '') return emptyGroup(source);
  if (isIP(ip) === 0) {
    ctx.invalid('pod', podKeyOf(pod), `status.podIP ${JSON.stringify(ip)} is not an IP address`);
    return emptyGroup(source);
  }
  const labels = podLabels(pod);
  labels[NAMESPACE_LABEL] = ns;
  addNodeLabels(labels, ctx, pod.spec?.nodeName);
  addNamespaceLabels(labels, ctx, ns);

  const targets: LabelSet[] = [];
  for (const { c, init } of allContainers(pod)) {
    const base: LabelSet = {
      [PREFIX + 'pod_container_name']: str(c.name),
      [PREFIX + 'pod_container_id']: containerID(pod, c.name, init),
      [PREFIX + 'pod_container_image']: str(c.image),
      [PREFIX + 'pod_container_init']: init ? 'true' : 'false',
    };
    const ports = Array.isArray(c.ports) ? c.ports : [];
    if (ports.length === 0) {
      targets.push({ [ADDRESS]: ip, ...base });
      continue;
    }
    for (const p of ports) {
      if (!isPortNumber(p?.containerPort)) {
        ctx.invalid('pod', podKeyOf(pod), `container ${str(c.name)} port ${JSON.stringify(p?.name ?? '')} has no valid containerPort (${JSON.stringify(p?.containerPort)})`);
        continue;
      }
      targets.push({
        [ADDRESS]: joinHostPort(ip, p.containerPort),
        ...base,
        [PREFIX + 'pod_container_port_number']: String(p.containerPort),
        [PREFIX + 'pod_container_port_name']: str(p.name),
        [PREFIX + 'pod_container_port_protocol']: str(p.protocol),
      });
    }
  }
  return { source, targets, labels };
}

// ---------------------------------------------------------------------------------------
// service

/** `svc/<namespace>/<name>`. */
export function serviceSource(namespace: string, name: string): string {
  return `svc/${namespace}/${name}`;
}

/** The service-level labels shared by the service role and endpoints/endpointslice groups. */
export function serviceLabels(svc: Service): LabelSet {
  const ls: LabelSet = { [NAMESPACE_LABEL]: svc.metadata.namespace ?? '' };
  addObjectMetaLabels(ls, svc.metadata, 'service');
  return ls;
}

/** One target per service port at `<name>.<namespace>.svc:<port>`. */
export function buildService(svc: Service, ctx: BuildContext): TargetGroup {
  const ns = svc.metadata.namespace ?? '';
  const labels = serviceLabels(svc);
  addNamespaceLabels(labels, ctx, ns);
  const type = str(svc.spec?.type);
  const targets: LabelSet[] = [];
  for (const p of svc.spec?.ports ?? []) {
    if (!isPortNumber(p?.port)) {
      ctx.invalid('service', `${ns}/${svc.metadata.name}`, `port ${JSON.stringify(p?.name ?? '')} has no valid port number (${JSON.stringify(p?.port)})`);
      continue;
    }
    const t: LabelSet = {
      [ADDRESS]: joinHostPort(`${svc.metadata.name}.${ns}.svc`, p.port),
      [PREFIX + 'service_port_name']: str(p.name),
      [PREFIX + 'service_port_number']: String(p.port),
      [PREFIX + 'service_port_protocol']: str(p.protocol),
      [PREFIX + 'service_type']: type,
    };
    if (type === 'ExternalName') t[PREFIX + 'service_external_name'] = str(svc.spec?.externalName);
    else t[PREFIX + 'service_cluster_ip'] = str(svc.spec?.clusterIP);
    if (type === 'LoadBalancer') t[PREFIX + 'service_loadbalancer_ip'] = str(svc.spec?.loadBalancerIP);
    targets.push(t);
  }
  return { source: serviceSource(ns, svc.metadata.name), targets, labels };
}

// ---------------------------------------------------------------------------------------
// endpoints and endpointslice: shared pod join

interface SeenPod {
  pod: Pod;
  /** The pod's labels, computed once per group. */
  labels: LabelSet;
  /** Endpoint ports already turned into targets for this pod. */
  ports: Set<number>;
}

function resolvePod(ref: ObjectReference | undefined, ctx: BuildContext): Pod | undefined {
  if (!ref || ref.kind !== 'Pod' || !ref.name) return undefined;
  return ctx.pod(str(ref.namespace), ref.name);
}

/**
 * Container labels for the container port equal to `port` (the last match wins, as in
 * Prometheus, whose inner `break` leaves the container loop running).
 */
function addMatchingContainerLabels(t: LabelSet, pod: Pod, port: number, protocol: string | undefined): void {
  for (const { c, init } of allContainers(pod)) {
    for (const cp of c.ports ?? []) {
      if (cp?.containerPort !== port) continue;
      t[PREFIX + 'pod_container_name'] = str(c.name);
      t[PREFIX + 'pod_container_image'] = str(c.image);
      t[PREFIX + 'pod_container_port_name'] = str(cp.name);
      t[PREFIX + 'pod_container_port_number'] = String(port);
      t[PREFIX + 'pod_container_port_protocol'] = protocol ?? str(cp.protocol);
      t[PREFIX + 'pod_container_init'] = init ? 'true' : 'false';
      break;
    }
  }
}

/** Targets for the container ports of joined pods that no endpoint port covered. */
function addUnseenPodPorts(targets: LabelSet[], seen: Map<string, SeenPod>, ctx: BuildContext, kind: string): void {
  for (const { pod, ports, labels: pl } of seen.values()) {
    const ip = str(pod.status?.podIP);
    if (ip === '' || isIP(ip) === 0) continue;
    for (const { c, init } of allContainers(pod)) {
      for (const cp of c.ports ?? []) {
        if (!isPortNumber(cp?.containerPort)) {
          ctx.invalid(kind, podKeyOf(pod), `container ${str(c.name)} port ${JSON.stringify(cp?.name ?? '')} has no valid containerPort (${JSON.stringify(cp?.containerPort)})`);
          continue;
        }
        if (ports.has(cp.containerPort)) continue;
        targets.push({
          [ADDRESS]: joinHostPort(ip, cp.containerPort),
          [PREFIX + 'pod_container_name']: str(c.name),
          [PREFIX + 'pod_container_image']: str(c.image),
          [PREFIX + 'pod_container_port_name']: str(cp.name),
          [PREFIX + 'pod_container_port_number']: String(cp.containerPort),
          [PREFIX + 'pod_container_port_protocol']: str(cp.protocol),
          [PREFIX + 'pod_container_init']: init ? 'true' : 'false',
          ...pl,
        });
      }
    }
  }
}

/** Records that `pod` backs an endpoint on `port`; returns the pod's labels. */
function notePod(seen: Map<string, SeenPod>, pod: Pod, port: number | undefined): LabelSet {
  const k = podKeyOf(pod);
  let s = seen.get(k);
  if (!s) {
    s = { pod, labels: podLabels(pod), ports: new Set() };
    seen.set(k, s);
  }
  if (port !== undefined) s.ports.add(port);
  return s.labels;
}

// ---------------------------------------------------------------------------------------
// endpoints

/** `endpoints/<namespace>/<name>`. */
export function endpointsSource(namespace: string, name: string): string {
  return `endpoints/${namespace}/${name}`;
}

/** One target per address and port (ready and not-ready), joined with pods and the service. */
export function buildEndpoints(eps: Endpoints, ctx: BuildContext): TargetGroup {
  const ns = eps.metadata.namespace ?? '';
  const name = eps.metadata.name;
  const key = `${ns}/${name}`;
  let labels: LabelSet = { [NAMESPACE_LABEL]: ns };
  const svc = ctx.service(ns, name);
  if (svc) labels = { ...labels, ...serviceLabels(svc) };
  addObjectMetaLabels(labels, eps.metadata, 'endpoints');
  addNamespaceLabels(labels, ctx, ns);

  const targets: LabelSet[] = [];
  const seen = new Map<string, SeenPod>();
  const add = (addr: { ip?: unknown; hostname?: string; nodeName?: string; targetRef?: ObjectReference }, port: EndpointPort, ready: string): void => {
    const ip = str(addr?.ip);
    if (isIP(ip) === 0) {
      ctx.invalid('endpoints', key, `address ${JSON.stringify(addr?.ip)} is not an IP address`);
      return;
    }
    const t: LabelSet = {
      [ADDRESS]: joinHostPort(ip, port.port),
      [PREFIX + 'endpoint_port_name']: str(port.name),
      [PREFIX + 'endpoint_port_protocol']: str(port.protocol),
      [PREFIX + 'endpoint_ready']: ready,
    };
    const ref = addr.targetRef;
    if (ref) {
      t[PREFIX + 'endpoint_address_target_kind'] = str(ref.kind);
      t[PREFIX + 'endpoint_address_target_name'] = str(ref.name);
    }
    if (typeof addr.nodeName === 'string') t[PREFIX + 'endpoint_node_name'] = addr.nodeName;
    if (addr.hostname) t[PREFIX + 'endpoint_hostname'] = addr.hostname;
    if (ctx.node) {
      if (typeof addr.nodeName === 'string') addNodeLabels(t, ctx, addr.nodeName);
      else if (ref?.kind === 'Node') addNodeLabels(t, ctx, str(ref.name));
    }
    const pod = resolvePod(ref, ctx);
    if (pod) {
      Object.assign(t, notePod(seen, pod, port.port));
      addMatchingContainerLabels(t, pod, port.port, str(port.protocol));
    }
    targets.push(t);
  };

  for (const ss of eps.subsets ?? []) {
    if (!ss) continue;
    for (const port of ss.ports ?? []) {
      if (!isPortNumber(port?.port)) {
        ctx.invalid('endpoints', key, `port ${JSON.stringify(port?.name ?? '')} has no valid port number (${JSON.stringify(port?.port)})`);
        continue;
      }
      for (const a of ss.addresses ?? []) add(a, port, 'true');
      // The same address can also be listed as not ready; Prometheus emits both.
      for (const a of ss.notReadyAddresses ?? []) add(a, port, 'false');
    }
  }
  addUnseenPodPorts(targets, seen, ctx, 'endpoints');
  return { source: endpointsSource(ns, name), targets, labels };
}

/** The pods (`namespace/name`) and nodes an Endpoints object refers to, for re-building on their change. */
export function endpointsRefs(eps: Endpoints): { pods: string[]; nodes: string[] } {
  const pods: string[] = [];
  const nodes: string[] = [];
  for (const ss of eps.subsets ?? []) {
    for (const list of [ss?.addresses, ss?.notReadyAddresses]) {
      for (const a of list ?? []) {
        if (!a) continue;
        if (a.targetRef?.kind === 'Pod' && a.targetRef.name) pods.push(`${str(a.targetRef.namespace)}/${a.targetRef.name}`);
        if (typeof a.nodeName === 'string') nodes.push(a.nodeName);
        else if (a.targetRef?.kind === 'Node' && a.targetRef.name) nodes.push(a.targetRef.name);
      }
    }
  }
  return { pods, nodes };
}

// ---------------------------------------------------------------------------------------
// endpointslice

/** `endpointslice/<namespace>/<name>`. */
export function endpointSliceSource(namespace: string, name: string): string {
  return `endpointslice/${namespace}/${name}`;
}

/** The Service an EndpointSlice belongs to, from its `kubernetes.io/service-name` label. */
export function sliceServiceName(eps: EndpointSlice): string | undefined {
  return eps.metadata.labels?.['kubernetes.io/service-name'];
}

/** One target per endpoint address and port, with conditions, joined with pods and the service. */
export function buildEndpointSlice(eps: EndpointSlice, ctx: BuildContext): TargetGroup {
  const ns = eps.metadata.namespace ?? '';
  const key = `${ns}/${eps.metadata.name}`;
  const addressType = str(eps.addressType);
  let labels: LabelSet = {
    [NAMESPACE_LABEL]: ns,
    [PREFIX + 'endpointslice_address_type']: addressType,
  };
  addObjectMetaLabels(labels, eps.metadata, 'endpointslice');
  const svcName = sliceServiceName(eps);
  if (svcName !== undefined) {
    const svc = ctx.service(ns, svcName);
    if (svc) labels = { ...labels, ...serviceLabels(svc) };
  }
  addNamespaceLabels(labels, ctx, ns);

  const targets: LabelSet[] = [];
  const seen = new Map<string, SeenPod>();
  const checkIP = addressType === 'IPv4' || addressType === 'IPv6';
  const add = (addr: string, ep: SliceEndpoint, port: SlicePort): void => {
    const hasPort = port.port !== undefined && port.port !== null;
    const t: LabelSet = { [ADDRESS]: hasPort ? joinHostPort(addr, port.port as number) : addr };
    if (typeof port.name === 'string') t[PREFIX + 'endpointslice_port_name'] = port.name;
    if (typeof port.protocol === 'string') t[PREFIX + 'endpointslice_port_protocol'] = port.protocol;
    if (hasPort) t[PREFIX + 'endpointslice_port'] = String(port.port);
    if (typeof port.appProtocol === 'string') t[PREFIX + 'endpointslice_port_app_protocol'] = port.appProtocol;
    const cond = ep.conditions;
    if (typeof cond?.ready === 'boolean') t[PREFIX + 'endpointslice_endpoint_conditions_ready'] = String(cond.ready);
    if (typeof cond?.serving === 'boolean') t[PREFIX + 'endpointslice_endpoint_conditions_serving'] = String(cond.serving);
    if (typeof cond?.terminating === 'boolean') t[PREFIX + 'endpointslice_endpoint_conditions_terminating'] = String(cond.terminating);
    if (typeof ep.hostname === 'string') t[PREFIX + 'endpointslice_endpoint_hostname'] = ep.hostname;
    const ref = ep.targetRef;
    if (ref) {
      t[PREFIX + 'endpointslice_address_target_kind'] = str(ref.kind);
      t[PREFIX + 'endpointslice_address_target_name'] = str(ref.name);
    }
    if (typeof ep.nodeName === 'string') t[PREFIX + 'endpointslice_endpoint_node_name'] = ep.nodeName;
    if (typeof ep.zone === 'string') t[PREFIX + 'endpointslice_endpoint_zone'] = ep.zone;
    const topo = ep.deprecatedTopology;
    if (topo && typeof topo === 'object') {
      for (const k in topo) {
        const ln = sanitizeLabelName(k);
        t[PREFIX + 'endpointslice_endpoint_topology_' + ln] = str(topo[k]);
        t[PREFIX + 'endpointslice_endpoint_topology_present_' + ln] = 'true';
      }
    }
    if (ctx.node) {
      if (ref?.kind === 'Node') addNodeLabels(t, ctx, str(ref.name));
      else addNodeLabels(t, ctx, ep.nodeName);
    }
    const pod = resolvePod(ref, ctx);
    if (pod) {
      Object.assign(t, notePod(seen, pod, hasPort ? (port.port as number) : undefined));
      if (hasPort) addMatchingContainerLabels(t, pod, port.port as number, undefined);
    }
    targets.push(t);
  };

  const ports: SlicePort[] = [];
  for (const p of eps.ports ?? []) {
    if (!p) continue;
    if (p.port !== undefined && p.port !== null && !isPortNumber(p.port)) {
      ctx.invalid('endpointslice', key, `port ${JSON.stringify(p.name ?? '')} has an invalid port number (${JSON.stringify(p.port)})`);
      continue;
    }
    ports.push(p);
  }
  for (const ep of eps.endpoints ?? []) {
    if (!ep) continue;
    if (!Array.isArray(ep.addresses)) {
      ctx.invalid('endpointslice', key, 'an endpoint has no addresses list');
      continue;
    }
    for (const port of ports) {
      for (const addr of ep.addresses) {
        if (typeof addr !== 'string' || addr === '' || (checkIP && isIP(addr) === 0)) {
          ctx.invalid('endpointslice', key, `address ${JSON.stringify(addr)} is not a valid ${addressType || 'address'}`);
          continue;
        }
        add(addr, ep, port);
      }
    }
  }
  addUnseenPodPorts(targets, seen, ctx, 'endpointslice');
  return { source: endpointSliceSource(ns, eps.metadata.name), targets, labels };
}

/** The pods (`namespace/name`) and nodes an EndpointSlice refers to. */
export function endpointSliceRefs(eps: EndpointSlice): { pods: string[]; nodes: string[] } {
  const pods: string[] = [];
  const nodes: string[] = [];
  for (const ep of eps.endpoints ?? []) {
    if (!ep) continue;
    const ref = ep.targetRef;
    if (ref?.kind === 'Pod' && ref.name) pods.push(`${str(ref.namespace)}/${ref.name}`);
    if (ref?.kind === 'Node' && ref.name) nodes.push(ref.name);
    else if (typeof ep.nodeName === 'string') nodes.push(ep.nodeName);
  }
  return { pods, nodes };
}

// ---------------------------------------------------------------------------------------
// node

/** `node/<name>`. */
export function nodeSource(name: string): string {
  return `node/${name}`;
}

/** Address priority, as Prometheus (from k8s.io/kubernetes/pkg/util/node). */
const NODE_ADDRESS_PRIORITY = ['InternalIP', 'InternalDNS', 'ExternalIP', 'ExternalDNS', 'LegacyHostIP', 'Hostname'];

/** One target per node at its preferred address and the kubelet port; `instance` = node name. */
export function buildNode(node: Node, ctx: BuildContext): TargetGroup {
  const name = node.metadata.name;
  const source = nodeSource(name);
  const labels: LabelSet = { [PREFIX + 'node_provider_id']: str(node.spec?.providerID) };
  addObjectMetaLabels(labels, node.metadata, 'node');

  const byType = new Map<string, string>();
  for (const a of node.status?.addresses ?? []) {
    if (!a || typeof a.type !== 'string' || typeof a.address !== 'string') {
      ctx.invalid('node', name, `status.addresses has an entry without type or address`);
      continue;
    }
    if (a.type.endsWith('IP') && isIP(a.address) === 0) {
      ctx.invalid('node', name, `${a.type} address ${JSON.stringify(a.address)} is not an IP address`);
      continue;
    }
    if (!byType.has(a.type)) byType.set(a.type, a.address);
  }
  let addr: string | undefined;
  for (const t of NODE_ADDRESS_PRIORITY) {
    addr = byType.get(t);
    if (addr !== undefined) break;
  }
  if (addr === undefined) {
    // Prometheus keeps the previous group here; an empty one stops scraping an unreachable node.
    ctx.invalid('node', name, 'no usable address in status.addresses');
    return emptyGroup(source);
  }
  const rawPort = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const port = typeof rawPort === 'number' && Number.isInteger(rawPort) ? rawPort : 0;
  const t: LabelSet = { [ADDRESS]: joinHostPort(addr, port), instance: name };
  for (const [type, a] of byType) t[sanitizeLabelName(PREFIX + 'node_address_' + type)] = a;
  return { source, targets: [t], labels };
}

// ---------------------------------------------------------------------------------------
// ingress

/** `ingress/<namespace>/<name>`. */
export function ingressSource(namespace: string, name: string): string {
  return `ingress/${namespace}/${name}`;
}

/** TLS host matching, with a leading `*.` standing for exactly one DNS label. */
function tlsCovers(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  if (!host.endsWith(suffix)) return false;
  const first = host.slice(0, host.length - suffix.length);
  return first.length > 0 && !first.includes('.');
}

/** One target per path of each rule, at the rule's host, with scheme https when TLS covers the host. */
export function buildIngress(ing: Ingress, ctx: BuildContext): TargetGroup {
  const ns = ing.metadata.namespace ?? '';
  const labels: LabelSet = { [NAMESPACE_LABEL]: ns };
  addObjectMetaLabels(labels, ing.metadata, 'ingress');
  if (typeof ing.spec?.ingressClassName === 'string') labels[PREFIX + 'ingress_class_name'] = ing.spec.ingressClassName;
  addNamespaceLabels(labels, ctx, ns);

  const tlsHosts: string[] = [];
  for (const tls of ing.spec?.tls ?? []) for (const h of tls?.hosts ?? []) if (typeof h === 'string') tlsHosts.push(h);
  const targets: LabelSet[] = [];
  for (const rule of ing.spec?.rules ?? []) {
    if (!rule) continue;
    const host = str(rule.host);
    const scheme = tlsHosts.some((p) => tlsCovers(p, host)) ? 'https' : 'http';
    const paths = rule.http ? (rule.http.paths ?? []).map((p) => (p && typeof p.path === 'string' && p.path !== '' ? p.path : '/')) : ['/'];
    for (const path of paths) {
      targets.push({
        [ADDRESS]: host,
        [PREFIX + 'ingress_scheme']: scheme,
        [PREFIX + 'ingress_host']: host,
        [PREFIX + 'ingress_path']: path,
      });
    }
  }
  return { source: ingressSource(ns, ing.metadata.name), targets, labels };
}

/** The group of a deleted object (or one without targets): it removes the source's targets. */
export function deletedGroup(source: string): TargetGroup {
  return emptyGroup(source);
}

/** For callers that only have the object: its namespace, or ''. */
export function namespaceOf(o: KubeObject): string {
  return o.metadata.namespace ?? '';
}
