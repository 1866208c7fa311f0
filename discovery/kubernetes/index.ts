// Kubernetes service discovery: the public surface.
export {
  KUBERNETES_ROLES,
  checkKubernetesSDConfig,
  hasCustomHttpClient,
  type KubernetesRole,
  type KubernetesSDConfig,
  type KubernetesSelector,
  type KubernetesNamespaces,
  type KubernetesAttachMetadata,
  type HttpClientOptions,
  type BasicAuthOptions,
  type AuthorizationOptions,
  type OAuth2Options,
  type TlsOptions,
  type TlsVersion,
  type HttpHeaderOptions,
} from './config.js';
export {
  parseLabelSelector,
  matchLabelSelector,
  parseFieldSelector,
  SelectorError,
  type LabelRequirement,
  type FieldRequirement,
} from './selectors.js';
export { KubernetesSD, KubernetesDiscoverer, type KubernetesSDOptions } from './discoverer.js';
export { KubernetesSDMetrics, type CollectedFamily, type KubernetesEvent } from './metrics.js';
export { DEFAULT_TIMING, type InformerTiming } from './informer.js';
export { SERVICE_ACCOUNT_DIR, KubernetesConfigError, KubernetesApiError, type InClusterOptions } from './transport.js';
export {
  buildPod,
  buildService,
  buildEndpoints,
  buildEndpointSlice,
  buildNode,
  buildIngress,
  sanitizeLabelName,
  type BuildContext,
} from './build.js';
export type {
  KubeObject,
  ObjectMeta,
  Pod,
  Service,
  Endpoints,
  EndpointSlice,
  Node,
  Ingress,
  Namespace,
  ResourceKind,
} from './objects.js';
