/**
 * The options of one `kubernetes_sd_configs` entry, in camelCase, mirroring Prometheus's
 * `<kubernetes_sd_config>` (including its inline `<http_config>`). The config loader
 * (`src/config/`) parses prometheus.yml into exactly this shape and applies the defaults
 * documented on each field; {@link checkKubernetesSDConfig} holds the checks that need
 * Kubernetes knowledge (selector roles and syntax, mutually exclusive connection modes).
 *
 * Durations, where any appear, are milliseconds.
 */

import { checkFieldSelector, checkLabelSelector } from './selectors.js';

/** The kinds of object a kubernetes_sd_config can discover. */
export type KubernetesRole = 'node' | 'pod' | 'service' | 'endpoints' | 'endpointslice' | 'ingress';

/** Every valid role, in the order Prometheus documents them. */
export const KUBERNETES_ROLES: readonly KubernetesRole[] = Object.freeze([
  'node',
  'pod',
  'service',
  'endpoints',
  'endpointslice',
  'ingress',
]);

/** `selectors[]`: a label and/or field selector sent to the API server for objects of `role`. */
export interface KubernetesSelector {
  readonly role: KubernetesRole;
  /** A Kubernetes label selector, e.g. `app=web,tier!=cache`. Empty or absent = none. */
  readonly label?: string;
  /** A Kubernetes field selector, e.g. `spec.nodeName=n1`. Empty or absent = none. */
  readonly field?: string;
}

/** `namespaces`: which namespaces to watch. Absent (or empty names and no ownNamespace) = all. */
export interface KubernetesNamespaces {
  /** `names`; default `[]`. */
  readonly names: readonly string[];
  /** `own_namespace`: also watch the namespace Sextant runs in (in-cluster); default false. */
  readonly ownNamespace: boolean;
}

/** `attach_metadata`. */
export interface KubernetesAttachMetadata {
  /** `node`: add `__meta_kubernetes_node_*` of the pod's node (pod, endpoints, endpointslice). Default false. */
  readonly node: boolean;
  /** `namespace`: add `__meta_kubernetes_namespace_label|annotation_*` of the object's namespace. Default false. */
  readonly namespace: boolean;
}

/** `basic_auth`. `username`/`usernameFile` and `password`/`passwordFile` are mutually exclusive. */
export interface BasicAuthOptions {
  readonly username?: string;
  readonly usernameFile?: string;
  readonly password?: string;
  readonly passwordFile?: string;
}

/** `authorization`. `credentials` and `credentialsFile` are mutually exclusive. */
export interface AuthorizationOptions {
  /** `type`; default `Bearer`. */
  readonly type: string;
  readonly credentials?: string;
  /** Re-read on every request, so a rotated token is picked up. */
  readonly credentialsFile?: string;
}

/** `oauth2` (client-credentials grant, or password grant through `endpointParams`). */
export interface OAuth2Options {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly clientSecretFile?: string;
  readonly scopes: readonly string[];
  readonly tokenUrl: string;
  readonly endpointParams: Readonly<Record<string, string>>;
  readonly tlsConfig?: TlsOptions;
  readonly proxyUrl?: string;
  readonly noProxy?: string;
  readonly proxyFromEnvironment?: boolean;
  readonly proxyConnectHeader?: Readonly<Record<string, readonly string[]>>;
}

/** `tls_config`. `ca`/`caFile`, `cert`/`certFile` and `key`/`keyFile` are mutually exclusive pairs. */
export interface TlsOptions {
  /** PEM text. */
  readonly ca?: string;
  readonly caFile?: string;
  readonly cert?: string;
  readonly certFile?: string;
  readonly key?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  /** Default false. */
  readonly insecureSkipVerify: boolean;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
}

/** The TLS version names Prometheus accepts. */
export type TlsVersion = 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';

/** One `http_headers` entry. */
export interface HttpHeaderOptions {
  readonly values?: readonly string[];
  readonly secrets?: readonly string[];
  readonly files?: readonly string[];
}

/**
 * The inline `<http_config>` of a kubernetes_sd_config, as used for the API server connection.
 * Defaults: `followRedirects` true, `enableHttp2` true, `proxyFromEnvironment` false.
 */
export interface HttpClientOptions {
  readonly basicAuth?: BasicAuthOptions;
  readonly authorization?: AuthorizationOptions;
  /**
   * Legacy `bearer_token` / `bearer_token_file` (Prometheus folds them into `authorization`);
   * kept separate so the loader can report them as given. Mutually exclusive with the others.
   */
  readonly bearerToken?: string;
  readonly bearerTokenFile?: string;
  readonly oauth2?: OAuth2Options;
  readonly tlsConfig?: TlsOptions;
  readonly followRedirects: boolean;
  readonly enableHttp2: boolean;
  readonly proxyUrl?: string;
  readonly noProxy?: string;
  readonly proxyFromEnvironment: boolean;
  readonly proxyConnectHeader?: Readonly<Record<string, readonly string[]>>;
  readonly httpHeaders?: Readonly<Record<string, HttpHeaderOptions>>;
}

/**
 * One `kubernetes_sd_configs` entry.
 *
 * @example
 * ```ts
 * const cfg: KubernetesSDConfig = {
 *   role: 'pod',
 *   namespaces: { names: ['default'], ownNamespace: false },
 *   selectors: [{ role: 'pod', label: 'app=web' }],
 *   attachMetadata: { node: false, namespace: false },
 *   followRedirects: true, enableHttp2: true, proxyFromEnvironment: false,
 * };
 * ```
 */
export interface KubernetesSDConfig extends HttpClientOptions {
  readonly role: KubernetesRole;
  /** `api_server`: a URL (`https://host:6443`). Absent with no kubeconfigFile = in-cluster. */
  readonly apiServer?: string;
  /** `kubeconfig_file`; mutually exclusive with `apiServer`. Its current context is used. */
  readonly kubeconfigFile?: string;
  /** Absent = all namespaces. */
  readonly namespaces?: KubernetesNamespaces;
  /** Default `[]`. */
  readonly selectors: readonly KubernetesSelector[];
  /** Default `{ node: false, namespace: false }`. */
  readonly attachMetadata: KubernetesAttachMetadata;
}

/** Which selector roles each discovery role accepts (as Prometheus's `allowedSelectors`). */
const ALLOWED_SELECTOR_ROLES: Readonly<Record<KubernetesRole, readonly KubernetesRole[]>> = {
  node: ['node'],
  pod: ['pod', 'node'],
  service: ['service'],
  endpoints: ['pod', 'service', 'endpoints'],
  endpointslice: ['pod', 'service', 'endpointslice'],
  ingress: ['ingress'],
};

/** True when any HTTP client option differs from Prometheus's defaults. */
export function hasCustomHttpClient(c: HttpClientOptions): boolean {
  return (
    c.basicAuth !== undefined ||
    c.authorization !== undefined ||
    c.bearerToken !== undefined ||
    c.bearerTokenFile !== undefined ||
    c.oauth2 !== undefined ||
    (c.tlsConfig !== undefined &&
      (c.tlsConfig.insecureSkipVerify ||
        [c.tlsConfig.ca, c.tlsConfig.caFile, c.tlsConfig.cert, c.tlsConfig.certFile, c.tlsConfig.key,
          c.tlsConfig.keyFile, c.tlsConfig.serverName, c.tlsConfig.minVersion, c.tlsConfig.maxVersion]
          .some((v) => v !== undefined && v !== ''))) ||
    !c.followRedirects ||
    !c.enableHttp2 ||
    (c.proxyUrl !== undefined && c.proxyUrl !== '') ||
    (c.noProxy !== undefined && c.noProxy !== '') ||
    c.proxyFromEnvironment ||
    (c.proxyConnectHeader !== undefined && Object.keys(c.proxyConnectHeader).length > 0) ||
    (c.httpHeaders !== undefined && Object.keys(c.httpHeaders).length > 0)
  );
}

/**
 * The Kubernetes-specific checks of one kubernetes_sd_config, with Prometheus's messages.
 * Returns the first problem, or undefined when the config is valid. The config loader prefixes
 * the message with the file and line; generic http_config checks (e.g. `password` with
 * `password_file`) are the loader's.
 */
export function checkKubernetesSDConfig(c: KubernetesSDConfig): string | undefined {
  if (!KUBERNETES_ROLES.includes(c.role)) {
    return `unknown Kubernetes SD role "${String(c.role)}"`;
  }
  if (c.apiServer !== undefined && c.apiServer !== '') {
    let url: URL;
    try {
      url = new URL(c.apiServer);
    } catch {
      return `invalid api_server URL "${c.apiServer}"`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return `invalid api_server URL "${c.apiServer}": scheme must be http or https`;
    }
  }
  const hasApiServer = c.apiServer !== undefined && c.apiServer !== '';
  const hasKubeconfig = c.kubeconfigFile !== undefined && c.kubeconfigFile !== '';
  const custom = hasCustomHttpClient(c);
  if (hasApiServer && hasKubeconfig) {
    return "cannot use 'kubeconfig_file' and 'api_server' simultaneously";
  }
  if (hasKubeconfig && custom) {
    return "cannot use a custom HTTP client configuration together with 'kubeconfig_file'";
  }
  if (!hasApiServer && custom) {
    return "to use custom HTTP client configuration please provide the 'api_server' URL explicitly";
  }
  if (hasApiServer && c.namespaces?.ownNamespace) {
    return "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously";
  }
  if (hasKubeconfig && c.namespaces?.ownNamespace) {
    return "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously";
  }
  const seen = new Set<KubernetesRole>();
  for (const s of c.selectors) {
    if (!KUBERNETES_ROLES.includes(s.role)) {
      return `unknown Kubernetes SD role "${String(s.role)}" in selectors`;
    }
    if (seen.has(s.role)) return `duplicated selector role: ${s.role}`;
    seen.add(s.role);
    const allowed = ALLOWED_SELECTOR_ROLES[c.role];
    if (!allowed.includes(s.role)) {
      return `${c.role} role supports only ${allowed.join(', ')} selectors`;
    }
    const le = checkLabelSelector(s.label ?? '');
    if (le !== undefined) return `invalid label selector "${s.label}" for role ${s.role}: ${le}`;
    const fe = checkFieldSelector(s.field ?? '');
    if (fe !== undefined) return `invalid field selector "${s.field}" for role ${s.role}: ${fe}`;
  }
  return undefined;
}
