/**
 * The connection to the Kubernetes API server: one of
 *  - `api_server` with Prometheus's HTTP client settings (basic auth, authorization, bearer
 *    token, OAuth 2.0, TLS, proxy, redirects, extra headers);
 *  - `kubeconfig_file`, loaded and authenticated by @kubernetes/client-node's KubeConfig
 *    (client certificates, tokens, exec and auth-provider plugins, proxy-url);
 *  - in-cluster: the service-account token, CA and namespace under
 *    /var/run/secrets/kubernetes.io/serviceaccount (overridable) and the
 *    KUBERNETES_SERVICE_HOST/PORT environment. The token file is re-read whenever it changes,
 *    so projected tokens that the kubelet rotates keep working.
 *
 * Every request is an HTTP/1.1 GET returning the raw response stream; JSON decoding happens in
 * the informer. `enable_http2` is accepted and ignored (watches are long-lived streams, where
 * HTTP/2 gains nothing; Prometheus itself disables HTTP/2 for Kubernetes SD).
 */

import { createHash } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import tls, { type SecureVersion } from 'node:tls';

import type { HttpClientOptions, KubernetesSDConfig, OAuth2Options, TlsOptions, TlsVersion } from './config.js';

/** The standard service-account directory. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where in-cluster mode finds its credentials; every field overridable (tests, sidecars). */
export interface InClusterOptions {
  /** Directory with `token`, `ca.crt` and `namespace`. Default {@link SERVICE_ACCOUNT_DIR}. */
  readonly serviceAccountDir?: string;
  /** Default `process.env.KUBERNETES_SERVICE_HOST`. */
  readonly host?: string;
  /** Default `process.env.KUBERNETES_SERVICE_PORT`. */
  readonly port?: string;
}

/** A connection problem before any request was made (unreadable kubeconfig, no in-cluster env). */
export class KubernetesConfigError extends Error {}

/** An error answer from the API server, with its HTTP status and the Status message if any. */
export class KubernetesApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** A GET against the API server. */
export interface ApiTransport {
  /** Identity of the connection: equal keys may share informers. */
  readonly key: string;
  /** The API server URL, for messages. */
  readonly server: string;
  /** How the connection was configured, for messages: `api_server`, `kubeconfig_file` or `in-cluster`. */
  readonly mode: 'api_server' | 'kubeconfig_file' | 'in-cluster';
  /** The pod's own namespace (in-cluster only), or undefined. Throws when it cannot be read. */
  ownNamespace(): string | undefined;
  /**
   * GETs `pathAndQuery` (relative to the server URL), following redirects when configured.
   * Resolves with the response whatever its status; rejects on connection errors.
   * `idleTimeoutMs` aborts a request whose socket stays silent that long.
   */
  get(pathAndQuery: string, signal: AbortSignal, idleTimeoutMs: number): Promise<IncomingMessage>;
  /** Closes idle sockets. */
  close(): void;
}

const TLS_VERSIONS: Record<TlsVersion, SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/** Reads a secret file for a request; Prometheus trims surrounding whitespace. */
async function readSecret(file: string, what: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (e) {
    throw new KubernetesConfigError(`cannot read ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function readPem(inline: string | undefined, file: string | undefined, what: string): string | Buffer | undefined {
  if (inline !== undefined && inline !== '') return inline;
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file);
  } catch (e) {
    throw new KubernetesConfigError(`cannot read ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** TLS settings for https.Agent from a `tls_config`. */
function tlsAgentOptions(t: TlsOptions | undefined): https.AgentOptions {
  if (!t) return {};
  const o: https.AgentOptions = {};
  const ca = readPem(t.ca, t.caFile, 'tls_config.ca_file');
  if (ca !== undefined) o.ca = ca;
  const cert = readPem(t.cert, t.certFile, 'tls_config.cert_file');
  if (cert !== undefined) o.cert = cert;
  const key = readPem(t.key, t.keyFile, 'tls_config.key_file');
  if (key !== undefined) o.key = key;
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw new KubernetesConfigError('tls_config: client cert and key must be given together');
  }
  if (t.serverName) o.servername = t.serverName;
  if (t.insecureSkipVerify) o.rejectUnauthorized = false;
  if (t.minVersion) o.minVersion = TLS_VERSIONS[t.minVersion];
  if (t.maxVersion) o.maxVersion = TLS_VERSIONS[t.maxVersion];
  return o;
}

// ---------------------------------------------------------------------------------------
// proxy

interface ProxyChoice {
  readonly url: URL;
  readonly connectHeaders: Record<string, string>;
}

/** `no_proxy` / `NO_PROXY` matching: `*`, domains (with or without leading dot), IPs, CIDRs, optional ports. */
class NoProxy {
  private readonly all: boolean = false;
  private readonly domains: { host: string; port: string }[] = [];
  private readonly ips = new BlockList();
  private readonly exactIps: { ip: string; port: string }[] = [];

  constructor(spec: string) {
    for (let entry of spec.split(',')) {
      entry = entry.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        this.all = true;
        continue;
      }
      const slash = entry.indexOf('/');
      if (slash > 0) {
        const ip = entry.slice(0, slash);
        const bits = Number(entry.slice(slash + 1));
        const fam = isIP(ip);
        if (fam !== 0 && Number.isInteger(bits)) this.ips.addSubnet(ip, bits, fam === 4 ? 'ipv4' : 'ipv6');
        continue;
      }
      let host = entry;
      let port = '';
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m && !entry.includes(']') && isIP(entry) !== 6) {
        host = m[1];
        port = m[2];
      }
      host = host.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0) this.exactIps.push({ ip: host, port });
      else this.domains.push({ host: host.replace(/^\*?\./, ''), port });
    }
  }

  excludes(u: URL): boolean {
    if (this.all) return true;
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    const fam = isIP(host);
    if (fam !== 0) {
      if (this.ips.check(host, fam === 4 ? 'ipv4' : 'ipv6')) return true;
      return this.exactIps.some((e) => e.ip === host && (e.port === '' || e.port === port));
    }
    return this.domains.some((d) => (host === d.host || host.endsWith('.' + d.host)) && (d.port === '' || d.port === port));
  }
}

function proxyChooser(o: Pick<HttpClientOptions, 'proxyUrl' | 'noProxy' | 'proxyFromEnvironment' | 'proxyConnectHeader'>): (target: URL) => ProxyChoice | undefined {
  const connectHeaders: Record<string, string> = {};
  for (const [k, vs] of Object.entries(o.proxyConnectHeader ?? {})) connectHeaders[k] = vs.join(', ');
  if (o.proxyUrl) {
    const url = new URL(o.proxyUrl);
    const np = new NoProxy(o.noProxy ?? '');
    return (target) => (np.excludes(target) ? undefined : { url, connectHeaders });
  }
  if (o.proxyFromEnvironment) {
    const env = process.env;
    const np = new NoProxy(env.NO_PROXY ?? env.no_proxy ?? '');
    return (target) => {
      const raw = target.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
      if (!raw || np.excludes(target)) return undefined;
      return { url: new URL(raw.includes('://') ? raw : `http://${raw}`), connectHeaders };
    };
  }
  return () => undefined;
}

function proxyAuthorization(u: URL): string | undefined {
  if (!u.username) return undefined;
  return 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/** An https.Agent that reaches its targets through an HTTP CONNECT tunnel. */
class TunnelAgent extends https.Agent {
  constructor(
    opts: https.AgentOptions,
    private readonly proxy: ProxyChoice,
  ) {
    super(opts);
  }

  // Node calls createConnection with a callback and waits for it when nothing is returned.
  override createConnection(reqOpts: http.ClientRequestArgs, callback?: ConnectCallback): undefined {
    const options = reqOpts as tls.ConnectionOptions & { host?: string; port?: number };
    const cb: ConnectCallback = callback ?? (() => undefined);
    const fail = (e: Error): void => cb(e, undefined as unknown as Duplex);
    const p = this.proxy.url;
    const target = `${options.host}:${options.port}`;
    const headers: Record<string, string> = { Host: target, ...this.proxy.connectHeaders };
    const auth = proxyAuthorization(p);
    if (auth) headers['Proxy-Authorization'] = auth;
    const req = (p.protocol === 'https:' ? https : http).request({
      host: p.hostname.replace(/^\[|\]$/g, ''),
      port: p.port || (p.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(new Error(`proxy ${p.host} refused CONNECT to ${target}: HTTP ${res.statusCode}`));
        return;
      }
      const secure = tls.connect({ ...options, socket, servername: options.servername ?? (isIP(String(options.host)) ? undefined : options.host) });
      let done = false;
      secure.once('secureConnect', () => {
        if (!done) {
          done = true;
          cb(null, secure);
        }
      });
      secure.once('error', (e) => {
        if (!done) {
          done = true;
          fail(e);
        }
      });
    });
    req.once('error', (e) => fail(new Error(`proxy ${p.host}: ${e.message}`, { cause: e })));
    req.end();
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// request core

/** What a transport adds to one request. */
interface Prepared {
  readonly agent: http.Agent;
  readonly headers: Record<string, string>;
  /** For plain-http targets behind a proxy: send the absolute URL to this proxy. */
  readonly httpProxy?: ProxyChoice;
}

const MAX_REDIRECTS = 10;

function requestOnce(url: URL, prep: Prepared, signal: AbortSignal, idleTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const headers = { ...prep.headers };
    let options: http.RequestOptions;
    if (!secure && prep.httpProxy) {
      const p = prep.httpProxy.url;
      const auth = proxyAuthorization(p);
      if (auth) headers['Proxy-Authorization'] = auth;
      headers.Host = url.host;
      options = { host: p.hostname.replace(/^\[|\]$/g, ''), port: p.port || 80, path: url.href, method: 'GET', headers, agent: prep.agent, signal };
    } else {
      options = {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        path: url.pathname + url.search,
        method: 'GET',
        headers,
        agent: prep.agent,
        signal,
      };
    }
    const req = (secure ? https : http).request(options, (res) => {
      // From here the caller owns the response; the idle timeout keeps guarding the stream.
      resolve(res);
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data from ${url.host} for ${idleTimeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

async function requestFollowing(
  base: URL,
  pathAndQuery: string,
  prepare: (u: URL) => Promise<Prepared>,
  follow: boolean,
  signal: AbortSignal,
  idleTimeoutMs: number,
): Promise<IncomingMessage> {
  let url = new URL(base.href.replace(/\/+$/, '') + pathAndQuery);
  for (let i = 0; ; i++) {
    const prep = await prepare(url);
    const res = await requestOnce(url, prep, signal, idleTimeoutMs);
    const loc = res.headers.location;
    if (!follow || res.statusCode === undefined || res.statusCode < 300 || res.statusCode > 399 || res.statusCode === 304 || !loc) return res;
    res.resume();
    if (i >= MAX_REDIRECTS) throw new KubernetesApiError(res.statusCode, `stopped after ${MAX_REDIRECTS} redirects`);
    const next = new URL(loc, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new KubernetesApiError(res.statusCode, `redirect to unsupported URL ${next.href}`);
    }
    url = next;
  }
}

// ---------------------------------------------------------------------------------------
// api_server

class OAuth2Token {
  private token: string | undefined;
  private expires = 0;
  private pending: Promise<string> | undefined;
  private readonly agentOpts: https.AgentOptions;
  private readonly proxy: (u: URL) => ProxyChoice | undefined;

  constructor(private readonly o: OAuth2Options) {
    this.agentOpts = tlsAgentOptions(o.tlsConfig);
    this.proxy = proxyChooser({ ...o, proxyFromEnvironment: o.proxyFromEnvironment ?? false });
  }

  get(): Promise<string> {
    if (this.token !== undefined && Date.now() < this.expires) return Promise.resolve(this.token);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<string> {
    const secret = this.o.clientSecretFile ? await readSecret(this.o.clientSecretFile, 'oauth2.client_secret_file') : (this.o.clientSecret ?? '');
    const form = new URLSearchParams();
    form.set('grant_type', 'client_credentials');
    if (this.o.scopes.length > 0) form.set('scope', this.o.scopes.join(' '));
    for (const [k, v] of Object.entries(this.o.endpointParams)) form.set(k, v);
    const body = form.toString();
    const url = new URL(this.o.tokenUrl);
    const secure = url.protocol === 'https:';
    const proxy = this.proxy(url);
    const agent = secure ? (proxy ? new TunnelAgent(this.agentOpts, proxy) : new https.Agent(this.agentOpts)) : new http.Agent();
    try {
      const text = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const headers: Record<string, string> = {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': String(Buffer.byteLength(body)),
          Authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(this.o.clientId)}:${encodeURIComponent(secret)}`).toString('base64'),
          Accept: 'application/json',
        };
        const viaProxy = !secure && proxy;
        const req = (secure ? https : http).request(
          {
            host: viaProxy ? proxy.url.hostname : url.hostname.replace(/^\[|\]$/g, ''),
            port: viaProxy ? proxy.url.port || 80 : url.port || (secure ? 443 : 80),
            path: viaProxy ? url.href : url.pathname + url.search,
            method: 'POST',
            headers,
            agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > 1 << 20) res.destroy(new Error('oauth2 token response larger than 1 MiB'));
              else chunks.push(c);
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.setTimeout(30_000, () => req.destroy(new Error('oauth2 token request timed out')));
        req.on('error', reject);
        req.end(body);
      });
      if (text.status !== 200) throw new KubernetesConfigError(`oauth2 token endpoint ${url.host} answered HTTP ${text.status}`);
      let j: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
      try {
        j = JSON.parse(text.text) as typeof j;
      } catch {
        throw new KubernetesConfigError(`oauth2 token endpoint ${url.host} sent invalid JSON`);
      }
      if (typeof j.access_token !== 'string' || j.access_token === '') throw new KubernetesConfigError(`oauth2 token endpoint ${url.host} sent no access_token`);
      this.token = j.access_token;
      const ttl = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 3600;
      // Renew a little early, as golang.org/x/oauth2 does.
      this.expires = Date.now() + Math.max(0, ttl - 10) * 1000;
      return this.token;
    } finally {
      agent.destroy();
    }
  }
}

function apiServerTransport(cfg: KubernetesSDConfig, userAgent: string): ApiTransport {
  const base = new URL(cfg.apiServer as string);
  const agentOpts: https.AgentOptions = { keepAlive: true, ...tlsAgentOptions(cfg.tlsConfig) };
  const chooseProxy = proxyChooser(cfg);
  const direct = base.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent({ keepAlive: true });
  const tunnels = new Map<string, TunnelAgent>();
  const oauth = cfg.oauth2 ? new OAuth2Token(cfg.oauth2) : undefined;

  const authorization = async (): Promise<string | undefined> => {
    const b = cfg.basicAuth;
    if (b) {
      const user = b.usernameFile ? await readSecret(b.usernameFile, 'basic_auth.username_file') : (b.username ?? '');
      const pass = b.passwordFile ? await readSecret(b.passwordFile, 'basic_auth.password_file') : (b.password ?? '');
      return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
    }
    const a = cfg.authorization;
    if (a) {
      const cred = a.credentialsFile ? await readSecret(a.credentialsFile, 'authorization.credentials_file') : (a.credentials ?? '');
      return `${a.type || 'Bearer'} ${cred}`;
    }
    if (cfg.bearerTokenFile) return `Bearer ${await readSecret(cfg.bearerTokenFile, 'bearer_token_file')}`;
    if (cfg.bearerToken) return `Bearer ${cfg.bearerToken}`;
    if (oauth) return `Bearer ${await oauth.get()}`;
    return undefined;
  };

  const extraHeaders = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const [name, h] of Object.entries(cfg.httpHeaders ?? {})) {
      const vals = [...(h.values ?? []), ...(h.secrets ?? [])];
      for (const f of h.files ?? []) vals.push(await readSecret(f, `http_headers ${name} file`));
      if (vals.length > 0) out[name] = vals.join(', ');
    }
    return out;
  };

  const prepare = async (u: URL): Promise<Prepared> => {
    const headers: Record<string, string> = { ...(await extraHeaders()), Accept: 'application/json', 'User-Agent': userAgent };
    // Credentials go only to the configured server, not to a redirect target elsewhere.
    if (u.host === base.host) {
      const auth = await authorization();
      if (auth) headers.Authorization = auth;
    }
    const proxy = chooseProxy(u);
    if (u.protocol === 'https:') {
      if (!proxy) return { agent: u.host === base.host ? direct : new https.Agent(agentOpts), headers };
      const k = `${proxy.url.href} ${u.host}`;
      let t = tunnels.get(k);
      if (!t) {
        t = new TunnelAgent(agentOpts, proxy);
        tunnels.set(k, t);
      }
      return { agent: t, headers };
    }
    return { agent: base.protocol === 'http:' ? direct : new http.Agent(), headers, httpProxy: proxy };
  };

  return {
    key: 'api_server ' + createHash('sha256').update(JSON.stringify(connectionIdentity(cfg))).digest('hex'),
    server: base.href,
    mode: 'api_server',
    ownNamespace: () => undefined,
    get: (pq, signal, idle) => requestFollowing(base, pq, prepare, cfg.followRedirects, signal, idle),
    close: () => {
      direct.destroy();
      for (const t of tunnels.values()) t.destroy();
    },
  };
}

/** The fields that make two api_server connections the same one. */
function connectionIdentity(c: KubernetesSDConfig): unknown {
  return [
    c.apiServer,
    c.basicAuth,
    c.authorization,
    c.bearerToken,
    c.bearerTokenFile,
    c.oauth2,
    c.tlsConfig,
    c.followRedirects,
    c.proxyUrl,
    c.noProxy,
    c.proxyFromEnvironment,
    c.proxyConnectHeader,
    c.httpHeaders,
  ];
}

// ---------------------------------------------------------------------------------------
// in-cluster

function inClusterTransport(o: InClusterOptions, userAgent: string): ApiTransport {
  const dir = o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = o.host ?? process.env.KUBERNETES_SERVICE_HOST;
  const port = o.port ?? process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubernetesConfigError(
      'unable to load in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined (or set api_server or kubeconfig_file)',
    );
  }
  const tokenFile = path.join(dir, 'token');
  const caFile = path.join(dir, 'ca.crt');
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (e) {
    throw new KubernetesConfigError(`in-cluster configuration: cannot read CA ${caFile}: ${(e as Error).message}`, { cause: e });
  }
  const base = new URL(`https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`);
  const agent = new https.Agent({ keepAlive: true, ca });
  let token = '';
  let tokenStat: Stats | undefined;

  // The kubelet rotates projected tokens by replacing the file; stat is cheap next to a request.
  const currentToken = async (): Promise<string> => {
    let st: Stats;
    try {
      st = statSync(tokenFile);
    } catch (e) {
      throw new KubernetesConfigError(`in-cluster configuration: cannot read token ${tokenFile}: ${(e as Error).message}`, { cause: e });
    }
    if (!tokenStat || st.mtimeMs !== tokenStat.mtimeMs || st.ino !== tokenStat.ino || st.size !== tokenStat.size) {
      token = await readSecret(tokenFile, 'in-cluster token');
      tokenStat = st;
    }
    return token;
  };

  const prepare = async (u: URL): Promise<Prepared> => {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': userAgent };
    if (u.host === base.host) {
      const t = await currentToken();
      if (t) headers.Authorization = `Bearer ${t}`;
    }
    return { agent: u.host === base.host ? agent : new https.Agent({ ca }), headers };
  };

  return {
    key: `in-cluster ${dir} ${base.host}`,
    server: base.href,
    mode: 'in-cluster',
    ownNamespace: () => {
      const f = path.join(dir, 'namespace');
      let ns: string;
      try {
        ns = readFileSync(f, 'utf8').trim();
      } catch (e) {
        throw new KubernetesConfigError(`could not determine the pod's namespace: ${(e as Error).message}`, { cause: e });
      }
      if (ns === '') throw new KubernetesConfigError(`could not read own namespace name (empty file ${f})`);
      return ns;
    },
    get: (pq, signal, idle) => requestFollowing(base, pq, prepare, true, signal, idle),
    close: () => agent.destroy(),
  };
}

// ---------------------------------------------------------------------------------------
// kubeconfig_file

type KubeConfigModule = typeof import('@kubernetes/client-node/dist/config.js');

async function kubeconfigTransport(file: string, userAgent: string): Promise<ApiTransport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new KubernetesConfigError(`cannot read kubeconfig_file ${file}: ${(e as Error).message}`, { cause: e });
  }
  // Loaded on demand: the module pulls in the whole generated API client.
  const { KubeConfig } = (await import('@kubernetes/client-node/dist/config.js')) as KubeConfigModule;
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
    kc.makePathsAbsolute(path.dirname(path.resolve(file)));
  } catch (e) {
    throw new KubernetesConfigError(`invalid kubeconfig_file ${file}: ${(e as Error).message}`, { cause: e });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubernetesConfigError(`kubeconfig_file ${file}: current-context ${JSON.stringify(kc.getCurrentContext() ?? '')} names no cluster`);
  let base: URL;
  try {
    base = new URL(cluster.server);
  } catch {
    throw new KubernetesConfigError(`kubeconfig_file ${file}: cluster ${cluster.name} has an invalid server URL ${JSON.stringify(cluster.server)}`);
  }
  let agent: http.Agent | undefined;

  const prepare = async (u: URL): Promise<Prepared> => {
    // KubeConfig applies client certificates, CA, tokens and auth plugins (exec, oidc, ...).
    const opts: https.RequestOptions & { headers: Record<string, string> } = { headers: {} };
    try {
      await kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new KubernetesConfigError(`kubeconfig_file ${file}: ${(e as Error).message}`, { cause: e });
    }
    agent ??= opts.agent instanceof http.Agent ? opts.agent : undefined;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': userAgent };
    if (u.host === base.host) {
      for (const [k, v] of Object.entries(opts.headers)) if (typeof v === 'string') headers[k] = v;
      if (typeof opts.auth === 'string') headers.Authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
    }
    return { agent: agent ?? (u.protocol === 'https:' ? https.globalAgent : http.globalAgent), headers };
  };

  return {
    key: 'kubeconfig ' + path.resolve(file) + ' ' + createHash('sha256').update(text).digest('hex'),
    server: base.href,
    mode: 'kubeconfig_file',
    ownNamespace: () => undefined,
    get: (pq, signal, idle) => requestFollowing(base, pq, prepare, true, signal, idle),
    close: () => agent?.destroy(),
  };
}

/**
 * Opens the connection a kubernetes_sd_config describes. Rejects with KubernetesConfigError
 * when the kubeconfig or the in-cluster files cannot be used.
 */
export async function openTransport(cfg: KubernetesSDConfig, inCluster: InClusterOptions, userAgent: string): Promise<ApiTransport> {
  if (cfg.kubeconfigFile) return kubeconfigTransport(cfg.kubeconfigFile, userAgent);
  if (cfg.apiServer) {
    try {
      return apiServerTransport(cfg, userAgent);
    } catch (e) {
      if (e instanceof KubernetesConfigError) throw e;
      throw new KubernetesConfigError(`api_server ${cfg.apiServer}: ${(e as Error).message}`, { cause: e });
    }
  }
  return inClusterTransport(inCluster, userAgent);
}
