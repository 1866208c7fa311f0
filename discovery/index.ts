// The discovery subsystem's public surface.
export type { Discoverer, TargetGroup, LabelSet, DiscoveryLogger } from './types.js';
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
  KubernetesSD,
  KubernetesSDMetrics,
  type KubernetesSDOptions,
  type InClusterOptions,
  type InformerTiming,
  type CollectedFamily,
} from './kubernetes/index.js';
export { StaticDiscoverer } from './static.js';
export { FileDiscoverer, FileSDMetrics, FileSDError, parseTargetGroupFile, type FileSDOptions, type FileDiscovererOptions } from './file/index.js';
export { DiscoveryManager, DiscoveryMetrics, type DiscovererConfig, type DiscoveryManagerOptions } from './manager.js';
