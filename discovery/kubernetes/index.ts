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
