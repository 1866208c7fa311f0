/**
 * Child process of bench/scrape.ts: N HTTP targets on 127.0.0.1 serving real node_exporter
 * scrapes from the recorded dataset (target i answers its k-th request with scrape
 * (k + 37·i) mod K, so values evolve as on a real machine). Kept out of the measured process.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export const DATASET = '/work/shared/fixtures/datasets/node-exporter-1.5.0-1s-45m.scrapes.gz';

/** The first `max` scrape bodies of the dataset. */
export function loadScrapes(max: number, path = DATASET): Buffer[] {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  const out: Buffer[] = [];
  let start = -1;
  let i = text.indexOf('# SCRAPE ');
  while (i >= 0 && out.length < max) {
    const bodyStart = text.indexOf('\n', i) + 1;
    const next = text.indexOf('# SCRAPE ', bodyStart);
    out.push(Buffer.from(text.slice(bodyStart, next < 0 ? text.length : next)));
    i = next;
    start = bodyStart;
  }
  void start;
  return out;
}

async function main(): Promise<void> {
  const [nArg, kArg] = process.argv.slice(2);
  const n = Number(nArg ?? 10);
  const bodies = loadScrapes(Number(kArg ?? 300));
  const gz = bodies.map((b) => gzipSync(b, { level: 1 }));
  const ports: number[] = [];
  const servers: http.Server[] = [];
  for (let i = 0; i < n; i++) {
    let k = 37 * i;
    const srv = http.createServer((req, res) => {
      const j = k++ % bodies.length;
      const useGz = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, {
        'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
        ...(useGz ? { 'Content-Encoding': 'gzip' } : {}),
      });
      res.end(useGz ? gz[j] : bodies[j]);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    ports.push((srv.address() as AddressInfo).port);
    servers.push(srv);
  }
  process.send?.({ type: 'ready', ports, series: bodies[0]!.toString().split('\n').filter((l) => l && !l.startsWith('#')).length });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) void main();
