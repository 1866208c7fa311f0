/**
 * A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made with the
 * openssl CLI (Debian ships it). Returns undefined when openssl is missing, so TLS tests can skip
 * with a reason.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export function makeCerts(): TestCerts | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'sextant-k8s-tls-'));
  const f = (n: string): string => path.join(dir, n);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  try {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=sextant-test-ca');
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=kube-apiserver');
    ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext'));
    writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=system:serviceaccount:monitoring:sextant');
    ssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.crt'), '-days', '2', '-extfile', f('client.ext'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const r = (n: string): string => readFileSync(f(n), 'utf8');
  return {
    dir,
    caFile: f('ca.crt'),
    ca: r('ca.crt'),
    serverCert: r('server.crt'),
    serverKey: r('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    clientCert: r('client.crt'),
    clientKey: r('client.key'),
  };
}
