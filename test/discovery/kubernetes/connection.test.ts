// Connecting to the API server: kubeconfig_file, in-cluster (token rotation, own namespace),
// and api_server with Prometheus's HTTP client settings (TLS, auth, proxy, headers, OAuth 2.0,
// redirects).
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { KubernetesSD, type KubernetesSDConfig, type KubernetesSDOptions } from '../../../discovery/kubernetes/index.js';
import { makeCerts, type TestCerts } from './certs.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver.js';
import { makePod } from './fixtures.js';
import { eventually, RecordingLogger, runDiscoverer, sdConfig, type Running } from './harness.js';

const certs: TestCerts | undefined = makeCerts();
const tlsIt = certs ? it : it.skip; // without openssl no certificates can be made: TLS cases are skipped

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Temp dirs (the certificates' and each test's), removed after the file. */
const tempDirs: string[] = certs ? [certs.dir] : [];
afterAll(() => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function server(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const s = await new FakeApiServer(opts).start();
  cleanups.push(() => s.close());
  s.create('pods', makePod({ name: 'web-1' }));
  return s;
}

function discovery(opts: KubernetesSDOptions = {}): { sd: KubernetesSD; log: RecordingLogger } {
  const log = new RecordingLogger();
  const sd = new KubernetesSD({ logger: log, coalesceMs: 5, timing: { lingerMs: 0, initialBackoffMs: 20, maxBackoffMs: 200 }, ...opts });
  cleanups.push(() => sd.close());
  return { sd, log };
}

function run(sd: KubernetesSD, c: Partial<KubernetesSDConfig> & Pick<KubernetesSDConfig, 'role'>): Running {
  const r = runDiscoverer(sd, sdConfig(c));
  cleanups.push(() => r.stop());
  return r;
}

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sextant-k8s-'));
  tempDirs.push(d);
  return d;
}

/** Replaces a file atomically (new inode), as the kubelet does with projected tokens. */
function replaceFile(file: string, content: string): void {
  writeFileSync(file + '.new', content);
  renameSync(file + '.new', file);
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

describe('kubeconfig_file', () => {
  tlsIt('uses the current context: server, CA data and token', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey }, authorization: ['Bearer kc-token'] });
    const dir = tmp();
    const kc = path.join(dir, 'config');
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: dev
  context: {cluster: nowhere, user: nobody}
- name: prod
  context: {cluster: prod, user: sextant}
clusters:
- name: nowhere
  cluster: {server: "https://192.0.2.1:6443"}
- name: prod
  cluster:
    server: ${srv.url}
    certificate-authority-data: ${b64(certs!.ca)}
users:
- name: nobody
  user: {token: nope}
- name: sextant
  user: {token: kc-token}
`,
    );
    const { sd } = discovery();
    const { collector: c } = run(sd, { role: 'pod', kubeconfigFile: kc });
    await c.until(() => c.has('pod/default/web-1'), 'pod via kubeconfig');
    expect(srv.requests[0].headers.authorization).toBe('Bearer kc-token');
  });

  tlsIt('client certificates given as paths relative to the kubeconfig', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey, ca: certs!.ca, requestCert: true } });
    const dir = tmp();
    writeFileSync(path.join(dir, 'client.crt'), certs!.clientCert);
    writeFileSync(path.join(dir, 'client.key'), certs!.clientKey);
    writeFileSync(path.join(dir, 'ca.crt'), certs!.ca);
    const kc = path.join(dir, 'kubeconfig.yaml');
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "${srv.url}", certificate-authority: ca.crt}}]
users: [{name: u, user: {client-certificate: client.crt, client-key: client.key}}]
`,
    );
    const { sd } = discovery();
    const { collector: c } = run(sd, { role: 'pod', kubeconfigFile: kc });
    await c.until(() => c.has('pod/default/web-1'), 'pod via client certificate');
    expect(srv.requests[0].clientCN).toBe('system:serviceaccount:monitoring:sextant');
  });

  it('an unreadable kubeconfig is logged and counted, and retried until it can be read', async () => {
    const srv = await server();
    const dir = tmp();
    const kc = path.join(dir, 'missing-config');
    const { sd, log } = discovery();
    const { collector: c } = run(sd, { role: 'pod', kubeconfigFile: kc });
    await eventually(() => log.errors('cannot read kubeconfig_file').length >= 2, 'two attempts logged');
    expect(log.errors('cannot read kubeconfig_file')[0].fields.err).toContain(`cannot read kubeconfig_file ${kc}: ENOENT`);
    expect(sd.metrics.failures).toBeGreaterThanOrEqual(2);
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "${srv.url}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {}}]
`,
    );
    await c.until(() => c.has('pod/default/web-1'), 'pod once the kubeconfig exists');
  });

  it.each([
    ['not yaml', ': : :\n  - [', 'invalid kubeconfig_file'],
    ['no current context', 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n', 'names no cluster'],
  ])('a kubeconfig with %s is a clear error', async (_name, text, msg) => {
    const dir = tmp();
    const kc = path.join(dir, 'config');
    writeFileSync(kc, text);
    const { sd, log } = discovery();
    run(sd, { role: 'pod', kubeconfigFile: kc });
    await eventually(() => log.errors(msg).length > 0, msg);
    expect(log.errors(msg)[0].fields.err).toContain(kc);
  });
});

describe('in-cluster', () => {
  function serviceAccount(token: string, ns = 'monitoring'): string {
    const dir = tmp();
    writeFileSync(path.join(dir, 'token'), token + '\n');
    writeFileSync(path.join(dir, 'ca.crt'), certs?.ca ?? '');
    writeFileSync(path.join(dir, 'namespace'), ns);
    return dir;
  }

  tlsIt('uses the service-account token and CA, and re-reads the token when it rotates', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey }, authorization: ['Bearer tok-1'] });
    const dir = serviceAccount('tok-1');
    const { sd } = discovery({ inCluster: { serviceAccountDir: dir, host: '127.0.0.1', port: new URL(srv.url).port } });
    const { collector: c } = run(sd, { role: 'pod' });
    await c.until(() => c.has('pod/default/web-1'), 'pod in-cluster');
    expect(srv.requests[0].headers.authorization).toBe('Bearer tok-1');
    expect(srv.requests[0].headers['user-agent']).toBe('Sextant');

    replaceFile(path.join(dir, 'token'), 'tok-2');
    srv.authorization = ['Bearer tok-2'];
    srv.dropWatches();
    srv.create('pods', makePod({ name: 'web-2' }));
    await c.until(() => c.has('pod/default/web-2'), 'pod after token rotation');
    expect(srv.requests[srv.requests.length - 1].headers.authorization).toBe('Bearer tok-2');
  });

  tlsIt('own_namespace reads the namespace file and watches it next to the named ones', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey } });
    srv.create('pods', makePod({ name: 'prom-0', namespace: 'monitoring' }));
    srv.create('pods', makePod({ name: 'other', namespace: 'kube-system' }));
    const dir = serviceAccount('t', 'monitoring');
    const { sd } = discovery({ inCluster: { serviceAccountDir: dir, host: '127.0.0.1', port: new URL(srv.url).port } });
    const { collector: c } = run(sd, { role: 'pod', namespaces: { names: ['default'], ownNamespace: true } });
    await c.until(() => c.has('pod/monitoring/prom-0') && c.has('pod/default/web-1'), 'own and named namespace');
    expect(new Set(srv.requests.map((r) => r.path))).toEqual(new Set(['/api/v1/namespaces/default/pods', '/api/v1/namespaces/monitoring/pods']));
  });

  it('without KUBERNETES_SERVICE_HOST/PORT it says what is missing', async () => {
    const dir = serviceAccount('t');
    const { sd, log } = discovery({ inCluster: { serviceAccountDir: dir, host: '', port: '' } });
    run(sd, { role: 'pod' });
    await eventually(() => log.errors('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined').length > 0, 'in-cluster error');
    expect(sd.metrics.failures).toBeGreaterThan(0);
  });

  tlsIt('a missing token file is reported with its path', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey } });
    const dir = tmp();
    writeFileSync(path.join(dir, 'ca.crt'), certs!.ca);
    const { sd, log } = discovery({ inCluster: { serviceAccountDir: dir, host: '127.0.0.1', port: new URL(srv.url).port } });
    run(sd, { role: 'pod' });
    await eventually(() => log.errors(`cannot read token ${path.join(dir, 'token')}`).length > 0, 'token error');
  });
});

describe('api_server with http_config', () => {
  tlsIt('tls_config ca_file and basic_auth with password_file', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey }, authorization: ['Basic ' + b64('prom:s3cret')] });
    const dir = tmp();
    writeFileSync(path.join(dir, 'pw'), 's3cret\n');
    const { sd } = discovery();
    const { collector: c } = run(sd, { role: 'pod', apiServer: srv.url, tlsConfig: { caFile: certs!.caFile, insecureSkipVerify: false }, basicAuth: { username: 'prom', passwordFile: path.join(dir, 'pw') } });
    await c.until(() => c.has('pod/default/web-1'), 'pod with basic auth');
  });

  tlsIt('authorization credentials_file is re-read, so a rotated credential is used on reconnect', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey }, authorization: ['Bearer one'] });
    const dir = tmp();
    const f = path.join(dir, 'token');
    writeFileSync(f, 'one');
    const { sd } = discovery();
    const { collector: c } = run(sd, { role: 'pod', apiServer: srv.url, tlsConfig: { ca: certs!.ca, insecureSkipVerify: false }, authorization: { type: 'Bearer', credentialsFile: f } });
    await c.until(() => c.has('pod/default/web-1'), 'first credential');
    replaceFile(f, 'two');
    srv.authorization = ['Bearer two'];
    srv.dropWatches();
    srv.create('pods', makePod({ name: 'web-2' }));
    await c.until(() => c.has('pod/default/web-2'), 'second credential');
  });

  tlsIt('tls_config client certificate and server_name', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey, ca: certs!.ca, requestCert: true } });
    const { sd } = discovery();
    const { collector: c } = run(sd, {
      role: 'pod',
      apiServer: srv.url.replace('127.0.0.1', 'localhost'),
      tlsConfig: { caFile: certs!.caFile, certFile: certs!.clientCertFile, keyFile: certs!.clientKeyFile, serverName: 'kubernetes.default.svc', insecureSkipVerify: false },
    });
    await c.until(() => c.has('pod/default/web-1'), 'pod with client cert');
    expect(srv.requests[0].clientCN).toBe('system:serviceaccount:monitoring:sextant');
  });

  tlsIt('an untrusted server certificate fails with a logged TLS error; insecure_skip_verify accepts it', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey } });
    const { sd, log } = discovery();
    run(sd, { role: 'pod', apiServer: srv.url });
    await eventually(() => log.errors('certificate').length > 0, 'TLS verification error');
    const { collector: c } = run(sd, { role: 'pod', apiServer: srv.url, tlsConfig: { insecureSkipVerify: true } });
    await c.until(() => c.has('pod/default/web-1'), 'pod with insecure_skip_verify');
  });

  it('bearer_token, http_headers and the User-Agent are sent', async () => {
    const srv = await server({ authorization: ['Bearer legacy'] });
    const { sd } = discovery({ userAgent: 'Sextant/0.1.0' });
    const { collector: c } = run(sd, { role: 'pod', apiServer: srv.url, bearerToken: 'legacy', httpHeaders: { 'X-Scope-OrgID': { values: ['tenant-1'] } } });
    await c.until(() => c.has('pod/default/web-1'), 'pod');
    expect(srv.requests[0].headers['x-scope-orgid']).toBe('tenant-1');
    expect(srv.requests[0].headers['user-agent']).toBe('Sextant/0.1.0');
  });

  it('oauth2 client credentials: fetches a token and sends it', async () => {
    const seen: string[] = [];
    const tokenSrv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.headers.authorization} ${body}`);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'oauth-abc', token_type: 'Bearer', expires_in: 3600 }));
      });
    });
    tokenSrv.listen(0, '127.0.0.1');
    await once(tokenSrv, 'listening');
    cleanups.push(() => new Promise<void>((r) => tokenSrv.close(() => r())));
    const srv = await server({ authorization: ['Bearer oauth-abc'] });
    const { sd } = discovery();
    const { collector: c } = run(sd, {
      role: 'pod',
      apiServer: srv.url,
      oauth2: { clientId: 'sextant', clientSecret: 'shh', scopes: ['read', 'watch'], tokenUrl: `http://127.0.0.1:${(tokenSrv.address() as AddressInfo).port}/token`, endpointParams: { audience: 'k8s' } },
    });
    await c.until(() => c.has('pod/default/web-1'), 'pod with oauth2');
    expect(seen[0]).toBe(`Basic ${b64('sextant:shh')} grant_type=client_credentials&scope=read+watch&audience=k8s`);
    expect(seen).toHaveLength(1); // the token is cached for list and watch
  });

  tlsIt('proxy_url: https through a CONNECT tunnel with proxy_connect_header; no_proxy bypasses it', async () => {
    const srv = await server({ tls: { cert: certs!.serverCert, key: certs!.serverKey } });
    const connects: { target: string; header: string | undefined }[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
      connects.push({ target: req.url ?? '', header: req.headers['x-proxy-tenant'] as string | undefined });
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    cleanups.push(() => {
      proxy.closeAllConnections();
      return new Promise<void>((r) => proxy.close(() => r()));
    });
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const { sd } = discovery();
    const { collector: c } = run(sd, { role: 'pod', apiServer: srv.url, tlsConfig: { ca: certs!.ca, insecureSkipVerify: false }, proxyUrl, proxyConnectHeader: { 'X-Proxy-Tenant': ['t1'] } });
    await c.until(() => c.has('pod/default/web-1'), 'pod through the proxy');
    expect(connects[0]).toEqual({ target: `127.0.0.1:${new URL(srv.url).port}`, header: 't1' });

    const before = connects.length;
    const other = discovery();
    const r = run(other.sd, { role: 'node', apiServer: srv.url, tlsConfig: { ca: certs!.ca, insecureSkipVerify: false }, proxyUrl, noProxy: '127.0.0.0/8' });
    await srv.waitForWatches('nodes', 1);
    expect(connects.length).toBe(before);
    await r.stop();
  });

  it('proxy_url: plain http is forwarded with the absolute URL', async () => {
    const srv = await server();
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      const u = new URL(req.url ?? '');
      const up = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    cleanups.push(() => {
      proxy.closeAllConnections();
      return new Promise<void>((r) => proxy.close(() => r()));
    });
    const { sd } = discovery();
    const { collector: c } = run(sd, { role: 'pod', apiServer: srv.url, proxyUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    await c.until(() => c.has('pod/default/web-1'), 'pod through the forward proxy');
    expect(seen[0]).toBe(`${srv.url}/api/v1/pods?limit=500`);
  });

  it('follows redirects by default and reports them when follow_redirects is false', async () => {
    const srv = await server();
    const redirector = http.createServer((req, res) => {
      res.writeHead(307, { Location: srv.url + req.url });
      res.end();
    });
    redirector.listen(0, '127.0.0.1');
    await once(redirector, 'listening');
    cleanups.push(() => {
      redirector.closeAllConnections();
      return new Promise<void>((r) => redirector.close(() => r()));
    });
    const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    const { sd, log } = discovery();
    const { collector: c } = run(sd, { role: 'pod', apiServer: url });
    await c.until(() => c.has('pod/default/web-1'), 'pod through a redirect');
    run(sd, { role: 'node', apiServer: url, followRedirects: false });
    await eventually(() => log.errors('HTTP 307').length > 0, 'redirect not followed');
  });
});

