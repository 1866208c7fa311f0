// The plain-http fast path against hand-written responses from a raw TCP server.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEXT, config, loopOf, setup, valueAt } from './harness.js';

let server: net.Server;
let port = 0;
/** Answers each request (by connection) with the next function's bytes. */
let respond: (req: string, sock: net.Socket, n: number) => void;
let connections = 0;
let requests = 0;
const sockets = new Set<net.Socket>();

beforeEach(async () => {
  connections = 0;
  requests = 0;
  server = net.createServer((sock) => {
    connections++;
    sockets.add(sock);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, i);
        buf = buf.slice(i + 4);
        respond(req, sock, requests++);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise((r) => server.close(r));
});

async function scraper() {
  const h = setup();
  const cfg = config(`
scrape_configs:
  - job_name: raw
    scrape_interval: 1h
    scrape_timeout: 2s
    static_configs: [{targets: ['127.0.0.1:${port}']}]
`);
  h.sm.applyConfig(cfg);
  h.sm.updateTargets(new Map([['raw', cfg.scrapeConfigs[0]!.staticConfigs as never]]));
  return { ...h, loop: loopOf(h.sm, 'raw') };
}

const head = (extra: string) => `HTTP/1.1 200 OK\r\nContent-Type: ${TEXT}\r\n${extra}\r\n`;

describe('plain-http scrape client', () => {
  it('reads Content-Length bodies over one kept-alive connection, sending Prometheus headers', async () => {
    let seen = '';
    respond = (req, sock, n) => {
      seen = req;
      const body = `m ${n}\n`;
      sock.write(head(`Content-Length: ${body.length}\r\n`) + body);
    };
    const { head: h, loop } = await scraper();
    for (let i = 0; i < 3; i++) await loop.scrapeAndReport(1_000_000 + i * 1000);
    expect(valueAt(h, 'm', 1_002_000)).toBe(2);
    expect(connections).toBe(1);
    expect(seen).toMatch(/^GET \/metrics HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\nUser-Agent: Sextant\/[^\r]+\r\nAccept: application\/openmetrics-text;version=1\.0\.0;escaping=allow-utf-8;q=0\.6,.*\r\nAccept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 2$/s);
  });

  it('decodes chunked bodies split at awkward places, and gzip', async () => {
    respond = (_req, sock) => {
      const body = gzipSync(Buffer.from('a 1\nb{x="y"} 2\n'));
      const h1 = body.subarray(0, 5), h2 = body.subarray(5);
      const parts = [
        head('Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n'),
        `${h1.length.toString(16)};ext=1\r\n`, h1, '\r', '\n',
        `${h2.length.toString(16)}\r\n`, h2, '\r\n0\r\n', 'X-Trailer: 1\r\n\r\n',
      ];
      let k = 0;
      const next = () => {
        if (k < parts.length) {
          sock.write(parts[k++]!);
          setTimeout(next, 2);
        }
      };
      next();
    };
    const { head: h, loop } = await scraper();
    await loop.scrapeAndReport(1_000_000);
    expect(loop.target.lastError).toBe('');
    expect(valueAt(h, 'b', 1_000_000)).toBe(2);
  });

  it('reads until close without Content-Length, and reconnects after Connection: close', async () => {
    respond = (_req, sock) => {
      sock.end(head('Connection: close\r\n') + 'c 7\n');
    };
    const { head: h, loop } = await scraper();
    await loop.scrapeAndReport(1_000_000);
    await loop.scrapeAndReport(1_001_000);
    expect(loop.target.lastError).toBe('');
    expect(valueAt(h, 'c', 1_001_000)).toBe(7);
    expect(connections).toBe(2);
  });

  it('retries once on a new connection when the server closed the idle one', async () => {
    respond = (_req, sock, n) => {
      const body = `d ${n}\n`;
      sock.write(head(`Content-Length: ${body.length}\r\n`) + body);
      // The server drops the connection after answering, without saying so.
      if (n === 0) setTimeout(() => sock.destroy(), 5);
    };
    const { head: h, loop } = await scraper();
    await loop.scrapeAndReport(1_000_000);
    await new Promise((r) => setTimeout(r, 50));
    await loop.scrapeAndReport(1_001_000);
    expect(loop.target.lastError).toBe('');
    expect(valueAt(h, 'd', 1_001_000)).toBe(1);
  });

  it.each([
    ['HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n', 'server returned HTTP status 503 Service Unavailable'],
    ['garbage\r\n\r\n', 'malformed HTTP response "garbage"'],
    [head('Transfer-Encoding: chunked\r\n') + 'zz\r\n', 'malformed chunked encoding'],
    [head('Content-Length: 100\r\n') + 'short', 'EOF'],
  ])('fails cleanly on %j', async (reply, err) => {
    respond = (_req, sock) => {
      sock.write(reply);
      if (err === 'EOF') setTimeout(() => sock.destroy(), 5);
    };
    const { head: h, loop } = await scraper();
    await loop.scrapeAndReport(1_000_000);
    expect(loop.target.lastError).toContain(err);
    expect(valueAt(h, 'up', 1_000_000)).toBe(0);
  });

  it('reports a refused connection with the URL', async () => {
    respond = () => undefined;
    const { loop } = await scraper();
    await new Promise((r) => server.close(r));
    server = net.createServer();
    server.listen(0, '127.0.0.1');
    await loop.scrapeAndReport(1_000_000);
    expect(loop.target.lastError).toMatch(new RegExp(`^Get "http://127\\.0\\.0\\.1:${port}/metrics": connect ECONNREFUSED`));
  });
});
