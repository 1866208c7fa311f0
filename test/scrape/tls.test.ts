import https from 'node:https';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../discovery/kubernetes/certs.js';
import { TEXT, config, loopOf, setup, valueAt } from './harness.js';

const certs: TestCerts | undefined = makeCerts();

describe.skipIf(certs === undefined)(`scraping over TLS${certs ? '' : ' (skipped: openssl not installed)'}`, () => {
  let server: https.Server;
  let port = 0;
  const clientCns: string[] = [];

  beforeAll(async () => {
    server = https.createServer({ cert: certs!.serverCert, key: certs!.serverKey, ca: certs!.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      clientCns.push(String(peer?.subject?.CN ?? ''));
      res.writeHead(200, { 'Content-Type': TEXT });
      res.end('secure 1\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(certs!.dir, { recursive: true, force: true });
  });

  const scrape = async (tls: string) => {
    const yaml = `
scrape_configs:
  - job_name: node
    scrape_interval: 1h
    scheme: https
    tls_config:
${tls}
    static_configs:
      - targets: ['127.0.0.1:${port}']
`;
    const h = setup();
    const cfg = config(yaml);
    h.sm.applyConfig(cfg);
    h.sm.updateTargets(new Map([['node', cfg.scrapeConfigs[0]!.staticConfigs as never]]));
    const loop = loopOf(h.sm, 'node');
    await loop.scrapeAndReport(1_000_000);
    return { ...h, loop };
  };

  it('verifies the server against ca_file and presents a client certificate', async () => {
    const r = await scrape(`      ca_file: ${certs!.caFile}\n      cert_file: ${certs!.clientCertFile}\n      key_file: ${certs!.clientKeyFile}`);
    expect(r.loop.target.lastError).toBe('');
    expect(valueAt(r.head, 'secure', 1_000_000)).toBe(1);
    expect(clientCns.at(-1)).toBe('system:serviceaccount:monitoring:sextant');
    expect(r.loop.target.url).toBe(`https://127.0.0.1:${port}/metrics`);
  });

  it('fails on an unknown CA unless insecure_skip_verify', async () => {
    let r = await scrape('      insecure_skip_verify: false');
    expect(r.loop.target.health).toBe('down');
    expect(r.loop.target.lastError).toMatch(/certificate/);
    r = await scrape('      insecure_skip_verify: true');
    expect(r.loop.target.health).toBe('up');
  });
});
