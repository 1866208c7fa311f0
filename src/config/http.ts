/** `<http_config>`, `<tls_config>` and `<oauth2>`: parsing and common/config's Validate checks. */
import { isAbsolute, join } from 'node:path';
import type {
  AuthorizationOptions,
  BasicAuthOptions,
  HttpClientOptions,
  HttpHeaderOptions,
  OAuth2Options,
  TlsOptions,
  TlsVersion,
} from '../../discovery/index.js';
import { MapReader } from './yaml.js';

export const HTTP_CLIENT_KEYS = [
  'basic_auth',
  'authorization',
  'bearer_token',
  'bearer_token_file',
  'oauth2',
  'tls_config',
  'follow_redirects',
  'enable_http2',
  'proxy_url',
  'no_proxy',
  'proxy_from_environment',
  'proxy_connect_header',
  'http_headers',
] as const;

const TLS_KEYS = ['ca', 'ca_file', 'cert', 'cert_file', 'key', 'key_file', 'server_name', 'insecure_skip_verify', 'min_version', 'max_version'] as const;
const OAUTH2_KEYS = ['client_id', 'client_secret', 'client_secret_file', 'scopes', 'token_url', 'endpoint_params', 'tls_config', 'proxy_url', 'no_proxy', 'proxy_from_environment', 'proxy_connect_header'] as const;
const TLS_VERSIONS: readonly TlsVersion[] = ['TLS10', 'TLS11', 'TLS12', 'TLS13'];

/** Headers the scrape / SD HTTP client sets itself (common/config reservedHeaders). */
const RESERVED_HEADERS = new Set([
  'Authorization', 'Host', 'Content-Encoding', 'Content-Length', 'Content-Type', 'User-Agent', 'Connection',
  'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Authorization', 'Www-Authenticate', 'Accept-Encoding',
  'X-Prometheus-Remote-Write-Version', 'X-Prometheus-Remote-Read-Version', 'X-Prometheus-Scrape-Timeout-Seconds',
  'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256',
]);

/** Go's http.CanonicalHeaderKey for ASCII names. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
}

/** A path from the config resolved against the config file's directory (Prometheus's SetDirectory). */
export function resolvePath(dir: string, p: string | undefined): string | undefined {
  if (p === undefined || p === '' || isAbsolute(p) || dir === '') return p;
  return join(dir, p);
}

function count(...xs: (string | undefined)[]): number {
  return xs.filter((x) => x !== undefined && x !== '').length;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === '' ? undefined : s;
}

export function parseTls(m: MapReader, dir: string): TlsOptions {
  const ca = nonEmpty(m.str('ca'));
  const caFile = nonEmpty(m.str('ca_file'));
  const cert = nonEmpty(m.str('cert'));
  const certFile = nonEmpty(m.str('cert_file'));
  const key = nonEmpty(m.secret('key'));
  const keyFile = nonEmpty(m.str('key_file'));
  const version = (k: string): TlsVersion | undefined => {
    const v = nonEmpty(m.str(k));
    if (v === undefined) return undefined;
    if (!TLS_VERSIONS.includes(v as TlsVersion)) throw m.fail(k, `unknown TLS version: ${v}`);
    return v as TlsVersion;
  };
  const minVersion = version('min_version');
  const maxVersion = version('max_version');
  if (ca && caFile) throw m.fail(undefined, 'at most one of ca and ca_file must be configured');
  if (cert && certFile) throw m.fail(undefined, 'at most one of cert and cert_file must be configured');
  if (key && keyFile) throw m.fail(undefined, 'at most one of key and key_file must be configured');
  const usingCert = cert !== undefined || certFile !== undefined;
  const usingKey = key !== undefined || keyFile !== undefined;
  if (usingCert && !usingKey) throw m.fail(undefined, 'exactly one of key or key_file must be configured when a client certificate is configured');
  if (usingKey && !usingCert) throw m.fail(undefined, 'exactly one of cert or cert_file must be configured when a client key is configured');
  const t: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = { insecureSkipVerify: m.bool('insecure_skip_verify', false) };
  if (ca !== undefined) t.ca = ca;
  if (caFile !== undefined) t.caFile = resolvePath(dir, caFile);
  if (cert !== undefined) t.cert = cert;
  if (certFile !== undefined) t.certFile = resolvePath(dir, certFile);
  if (key !== undefined) t.key = key;
  if (keyFile !== undefined) t.keyFile = resolvePath(dir, keyFile);
  const sn = nonEmpty(m.str('server_name'));
  if (sn !== undefined) t.serverName = sn;
  if (minVersion !== undefined) t.minVersion = minVersion;
  if (maxVersion !== undefined) t.maxVersion = maxVersion;
  return Object.freeze(t);
}

interface ProxyFields {
  proxyUrl?: string;
  noProxy?: string;
  proxyFromEnvironment: boolean;
  proxyConnectHeader?: Readonly<Record<string, readonly string[]>>;
}

function parseProxy(m: MapReader): ProxyFields {
  const proxyUrl = nonEmpty(m.str('proxy_url'));
  if (proxyUrl !== undefined) {
    try {
      new URL(proxyUrl);
    } catch {
      throw m.fail('proxy_url', `parse "${proxyUrl}": invalid URL`);
    }
  }
  const noProxy = nonEmpty(m.str('no_proxy'));
  const proxyFromEnvironment = m.bool('proxy_from_environment', false);
  const pch = m.strListMap('proxy_connect_header');
  const hasPch = pch !== undefined && Object.keys(pch).length > 0;
  if (hasPch && !proxyFromEnvironment && proxyUrl === undefined) {
    throw m.fail('proxy_connect_header', 'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured');
  }
  if (proxyFromEnvironment && proxyUrl !== undefined) {
    throw m.fail('proxy_url', 'if proxy_from_environment is configured, proxy_url must not be configured');
  }
  if (proxyFromEnvironment && noProxy !== undefined) {
    throw m.fail('no_proxy', 'if proxy_from_environment is configured, no_proxy must not be configured');
  }
  if (proxyUrl === undefined && noProxy !== undefined) {
    throw m.fail('no_proxy', 'if no_proxy is configured, proxy_url must also be configured');
  }
  const out: ProxyFields = { proxyFromEnvironment };
  if (proxyUrl !== undefined) out.proxyUrl = proxyUrl;
  if (noProxy !== undefined) out.noProxy = noProxy;
  if (hasPch) out.proxyConnectHeader = Object.freeze(pch);
  return out;
}

function parseOAuth2(m: MapReader, dir: string): OAuth2Options {
  const clientId = m.str('client_id') ?? '';
  const clientSecret = nonEmpty(m.secret('client_secret'));
  const clientSecretFile = nonEmpty(m.str('client_secret_file'));
  const tokenUrl = m.str('token_url') ?? '';
  if (clientId === '') throw m.fail(undefined, 'oauth2 client_id must be configured');
  if (tokenUrl === '') throw m.fail(undefined, 'oauth2 token_url must be configured');
  if (clientSecret && clientSecretFile) throw m.fail(undefined, 'at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured');
  const o: { -readonly [K in keyof OAuth2Options]: OAuth2Options[K] } = {
    clientId,
    scopes: Object.freeze(m.strList('scopes') ?? []),
    tokenUrl,
    endpointParams: Object.freeze({ ...(m.strMap('endpoint_params')?.value ?? {}) }),
    ...parseProxy(m),
  };
  if (clientSecret !== undefined) o.clientSecret = clientSecret;
  if (clientSecretFile !== undefined) o.clientSecretFile = resolvePath(dir, clientSecretFile);
  if (m.has('tls_config')) o.tlsConfig = parseTls(m.sub('tls_config', 'tls_config', TLS_KEYS), dir);
  return Object.freeze(o);
}

function parseHeaders(m: MapReader, dir: string): Readonly<Record<string, HttpHeaderOptions>> | undefined {
  if (!m.has('http_headers')) return undefined;
  const hm = m.sub('http_headers', 'http_headers', null);
  const out: Record<string, HttpHeaderOptions> = {};
  for (const name of hm.keys()) {
    const canon = canonicalHeaderKey(name);
    if (RESERVED_HEADERS.has(canon)) throw hm.fail(name, `setting header "${canon}" is not allowed`);
    const h = hm.sub(name, 'Header', ['values', 'secrets', 'files']);
    const e: { -readonly [K in keyof HttpHeaderOptions]: HttpHeaderOptions[K] } = {};
    const values = h.strList('values');
    const secrets = h.strList('secrets');
    const files = h.strList('files');
    if (values) e.values = values;
    if (secrets) e.secrets = secrets;
    if (files) e.files = files.map((f) => resolvePath(dir, f)!);
    out[name] = Object.freeze(e);
  }
  return Object.freeze(out);
}

/**
 * Parses the inline `<http_config>` keys of `m` and applies HTTPClientConfig.Validate:
 * `bearer_token(_file)` become `authorization` (type Bearer), exclusive options are rejected,
 * file paths are resolved against `dir`.
 */
export function parseHttpClient(m: MapReader, dir: string): HttpClientOptions {
  const bearerToken = nonEmpty(m.secret('bearer_token'));
  const bearerTokenFile = nonEmpty(m.str('bearer_token_file'));
  let basicAuth: BasicAuthOptions | undefined;
  if (m.has('basic_auth')) {
    const b = m.sub('basic_auth', 'basic_auth', ['username', 'username_file', 'password', 'password_file']);
    const username = nonEmpty(b.str('username'));
    const usernameFile = nonEmpty(b.str('username_file'));
    const password = nonEmpty(b.secret('password'));
    const passwordFile = nonEmpty(b.str('password_file'));
    if (count(username, usernameFile) > 1) throw b.fail(undefined, 'at most one of basic_auth username, username_file & username_ref must be configured');
    if (count(password, passwordFile) > 1) throw b.fail(undefined, 'at most one of basic_auth password, password_file & password_ref must be configured');
    const ba: { -readonly [K in keyof BasicAuthOptions]: BasicAuthOptions[K] } = {};
    if (username !== undefined) ba.username = username;
    if (usernameFile !== undefined) ba.usernameFile = resolvePath(dir, usernameFile);
    if (password !== undefined) ba.password = password;
    if (passwordFile !== undefined) ba.passwordFile = resolvePath(dir, passwordFile);
    basicAuth = Object.freeze(ba);
  }
  const oauth2 = m.has('oauth2') ? parseOAuth2(m.sub('oauth2', 'oauth2', OAUTH2_KEYS), dir) : undefined;
  if (bearerToken && bearerTokenFile) throw m.fail('bearer_token', 'at most one of bearer_token & bearer_token_file must be configured');
  if ((basicAuth || oauth2) && (bearerToken || bearerTokenFile)) {
    throw m.fail(bearerToken ? 'bearer_token' : 'bearer_token_file', 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured');
  }
  let authorization: AuthorizationOptions | undefined;
  if (m.has('authorization')) {
    const a = m.sub('authorization', 'authorization', ['type', 'credentials', 'credentials_file']);
    if (bearerToken || bearerTokenFile) throw a.fail(undefined, 'authorization is not compatible with bearer_token & bearer_token_file');
    const credentials = nonEmpty(a.secret('credentials'));
    const credentialsFile = nonEmpty(a.str('credentials_file'));
    if (credentials && credentialsFile) throw a.fail(undefined, 'at most one of authorization credentials & credentials_file must be configured');
    const type = (a.str('type') ?? '').trim() || 'Bearer';
    if (type.toLowerCase() === 'basic') throw a.fail('type', 'authorization type cannot be set to "basic", use "basic_auth" instead');
    if (basicAuth || oauth2) throw a.fail(undefined, 'at most one of basic_auth, oauth2 & authorization must be configured');
    const au: { -readonly [K in keyof AuthorizationOptions]: AuthorizationOptions[K] } = { type };
    if (credentials !== undefined) au.credentials = credentials;
    if (credentialsFile !== undefined) au.credentialsFile = resolvePath(dir, credentialsFile);
    authorization = Object.freeze(au);
  } else if (bearerToken !== undefined) {
    authorization = Object.freeze({ type: 'Bearer', credentials: bearerToken });
  } else if (bearerTokenFile !== undefined) {
    authorization = Object.freeze({ type: 'Bearer', credentialsFile: resolvePath(dir, bearerTokenFile)! });
  }
  if (oauth2 && basicAuth) throw m.fail('oauth2', 'at most one of basic_auth, oauth2 & authorization must be configured');
  const h: { -readonly [K in keyof HttpClientOptions]: HttpClientOptions[K] } = {
    followRedirects: m.bool('follow_redirects', true),
    enableHttp2: m.bool('enable_http2', true),
    ...parseProxy(m),
  };
  if (basicAuth) h.basicAuth = basicAuth;
  if (authorization) h.authorization = authorization;
  if (oauth2) h.oauth2 = oauth2;
  if (m.has('tls_config')) h.tlsConfig = parseTls(m.sub('tls_config', 'tls_config', TLS_KEYS), dir);
  const headers = parseHeaders(m, dir);
  if (headers) h.httpHeaders = headers;
  return Object.freeze(h);
}

/** Prometheus's default HTTP client options. */
export const DEFAULT_HTTP_CLIENT: HttpClientOptions = Object.freeze({
  followRedirects: true,
  enableHttp2: true,
  proxyFromEnvironment: false,
});
