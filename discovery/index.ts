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
} from './kubernetes/index.js';
