// Reconnects, resourceVersion handling, 410 relists, API errors and malformed objects.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KubernetesSD, type KubernetesSDConfig } from '../../../discovery/kubernetes/index.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver.js';
import { makeIngress, makePod, makeService } from './fixtures.js';
import { eventually, RecordingLogger, runDiscoverer, sdConfig, type Running } from './harness.js';

let srv: FakeApiServer;
let sd: KubernetesSD;
let log: RecordingLogger;
const running: Running[] = [];

async function setup(opts: FakeApiServerOptions = {}): Promise<void> {
  srv = await new FakeApiServer(opts).start();
  log = new RecordingLogger();
  sd = new KubernetesSD({ logger: log, coalesceMs: 5, timing: { lingerMs: 0, initialBackoffMs: 20, maxBackoffMs: 200 } });
}

beforeEach(async () => {
  await setup();
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  sd.close();
  await srv.close();
});

function start(c: Partial<KubernetesSDConfig> & Pick<KubernetesSDConfig, 'role'>): Running {
  const r = runDiscoverer(sd, sdConfig({ apiServer: srv.url, ...c }));
  running.push(r);
  return r;
}

const lists = (path: string) => srv.requestsTo(path).filter((r) => r.query.get('watch') === null);
const watches = (path: string) => srv.requestsTo(path).filter((r) => r.query.get('watch') === 'true');

describe('watch reconnects', () => {
  it('resumes from the last resourceVersion after the server drops the watch, without relisting', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    await srv.waitForWatches('pods', 1);
    srv.create('pods', makePod({ name: 'b' }));
    await c.until(() => c.has('pod/default/b'), 'b');
    const rvAfterB = srv.resourceVersion;

    srv.dropWatches();
    // Changes while no watch is open are replayed from history on resume.
    srv.create('pods', makePod({ name: 'c' }));
    srv.remove('pods', 'default', 'a');
    await c.until(() => c.has('pod/default/c') && c.groups.get('pod/default/a')?.targets.length === 0, 'changes made while disconnected');

    expect(lists('/api/v1/pods')).toHaveLength(1);
    const w = watches('/api/v1/pods');
    expect(w.length).toBeGreaterThanOrEqual(2);
    expect(w[1].query.get('resourceVersion')).toBe(rvAfterB);
    expect(w[1].query.get('allowWatchBookmarks')).toBe('true');
    expect(Number(w[1].query.get('timeoutSeconds'))).toBeGreaterThan(0);
  });

  it('bookmarks advance the resourceVersion a resumed watch starts from', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    srv.create('services', makeService({ name: 'unrelated' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    await srv.waitForWatches('pods', 1);
    srv.create('services', makeService({ name: 'other' })); // moves the global resourceVersion only
    const rv = srv.resourceVersion;
    srv.sendBookmarks();
    srv.create('pods', makePod({ name: 'b' })); // after the bookmark in the same stream
    await c.until(() => c.has('pod/default/b'), 'b');
    srv.dropWatches();
    await srv.waitForWatches('pods', 1);
    const w = watches('/api/v1/pods');
    expect(Number(w[w.length - 1].query.get('resourceVersion'))).toBeGreaterThan(Number(rv));
  });

  it('relists on 410 Gone (ERROR event) and empties groups of objects deleted meanwhile', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    srv.create('pods', makePod({ name: 'b' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a') && c.has('pod/default/b'), 'a and b');
    await srv.waitForWatches('pods', 1);
    srv.dropWatches();
    srv.remove('pods', 'default', 'a');
    srv.create('pods', makePod({ name: 'c' }));
    srv.compact(); // the history the watch would resume from is gone
    await c.until(() => c.has('pod/default/c') && c.groups.get('pod/default/a')?.targets.length === 0, 'state after relist');
    expect(c.has('pod/default/b')).toBe(true);
    expect(lists('/api/v1/pods')).toHaveLength(2);
    expect(sd.metrics.relists).toBeGreaterThanOrEqual(1);
    expect(log.lines.some((l) => l.msg.includes('410 Gone'))).toBe(true);
  });

  it('relists on 410 Gone sent as an HTTP status', async () => {
    await srv.close();
    sd.close();
    await setup({ goneAsHttpStatus: true });
    srv.create('pods', makePod({ name: 'a' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    await srv.waitForWatches('pods', 1);
    srv.dropWatches();
    srv.remove('pods', 'default', 'a');
    srv.compact();
    await c.until(() => c.groups.get('pod/default/a')?.targets.length === 0, 'a gone after relist');
    expect(lists('/api/v1/pods')).toHaveLength(2);
  });

  it('keeps working through failing requests and resumes', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    srv.fail('pods', 500, 3); // the next three requests fail
    srv.dropWatches();
    await eventually(() => sd.metrics.failures >= 3, 'three failures counted');
    srv.create('pods', makePod({ name: 'b' }));
    await c.until(() => c.has('pod/default/b'), 'b after recovery');
    expect(log.errors('HTTP 500').length).toBeGreaterThanOrEqual(1);
  });

  it('survives the API server going down (connection refused) and resumes when it is back', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    await srv.waitForWatches('pods', 1);
    await srv.goDown();
    await eventually(() => log.errors('ECONNREFUSED').length >= 2, 'connection refused, retried');
    expect(sd.metrics.requests.get('<error>')).toBeGreaterThanOrEqual(2);
    srv.create('pods', makePod({ name: 'b' }));
    await srv.comeBack();
    await c.until(() => c.has('pod/default/b'), 'b after the server is back');
    expect(lists('/api/v1/pods')).toHaveLength(1);
  });
});

describe('backoff', () => {
  it('waits exponentially longer between attempts while the API server keeps failing', async () => {
    srv.fail('pods', 500);
    start({ role: 'pod' });
    await eventually(() => lists('/api/v1/pods').length >= 6, 'six attempts', 30_000);
    const at = lists('/api/v1/pods').map((r) => r.at);
    // initialBackoffMs 20, doubling, ±20% jitter, capped at 200: lower bounds only (a timer never fires early).
    const floor = [16, 32, 64, 128, 160];
    for (let i = 0; i < floor.length; i++) expect(at[i + 1] - at[i]).toBeGreaterThanOrEqual(floor[i]);
  });

  it('a watch the server closes at once, again and again, does not become a hot loop', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    // Every watch from now on ends immediately with no events (as a misbehaving proxy would).
    for (let i = 0; i < 6; i++) {
      await srv.waitForWatches('pods', 1);
      srv.dropWatches();
    }
    const w = watches('/api/v1/pods').map((r) => r.at);
    const gaps = w.slice(2).map((t, i) => t - w[i + 1]);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(64);
  });
});

describe('API errors', () => {
  it.each([
    { status: 403, text: 'forbidden' },
    { status: 404, text: 'does not serve this resource' },
    { status: 500, text: 'HTTP 500' },
  ])('$status on one role is logged and counted; the other roles keep working, and it recovers', async ({ status, text }) => {
    srv.fail('ingresses', status);
    srv.create('ingresses', makeIngress({ name: 'shop', rules: [{ host: 'shop.example.com' }] }));
    srv.create('services', makeService({ name: 'api' }));
    const ing = start({ role: 'ingress' });
    const svc = start({ role: 'service' });
    await svc.collector.until(() => svc.collector.has('svc/default/api'), 'services despite failing ingresses');
    await eventually(() => log.errors(text).length > 0 && sd.metrics.failures > 0, `an error mentioning "${text}"`);
    const e = log.errors(text)[0];
    expect(e.msg).toBe('kubernetes discovery: list/watch failed');
    expect(e.fields.status).toBe(status);
    expect(e.fields.path).toBe('/apis/networking.k8s.io/v1/ingresses');
    expect(ing.collector.batches).toBe(0);
    expect(sd.metrics.requests.get(String(status))).toBeGreaterThan(0);

    srv.clearFailures();
    await ing.collector.until(() => ing.collector.has('ingress/default/shop'), 'ingress after the error clears');
  });

  it('401 names the credentials', async () => {
    srv.authorization = ['Bearer right'];
    start({ role: 'pod', authorization: { type: 'Bearer', credentials: 'wrong' } });
    await eventually(() => log.errors('HTTP 401').length > 0, '401 error');
    expect(String(log.errors('HTTP 401')[0].fields.err)).toContain('unauthorized: check the credentials');
    expect(sd.metrics.failures).toBeGreaterThan(0);
  });

  it('an error event inside the watch stream is logged and the watch restarted', async () => {
    srv.create('pods', makePod({ name: 'a' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/a'), 'a');
    await srv.waitForWatches('pods', 1);
    srv.injectWatchLine('pods', JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, message: 'etcd leader changed' } }));
    await eventually(() => log.errors('etcd leader changed').length > 0, 'error event logged');
    srv.create('pods', makePod({ name: 'b' }));
    await c.until(() => c.has('pod/default/b'), 'b after the restart');
    expect(lists('/api/v1/pods')).toHaveLength(1);
  });
});

describe('malformed objects', () => {
  it('bad list items and watch events are skipped, logged and counted; the rest is discovered', async () => {
    srv.injectListItem('pods', { kind: 'Pod', spec: {} });
    srv.injectListItem('pods', { metadata: { name: 'no-namespace' } });
    srv.injectListItem('pods', { metadata: { name: 'bad-labels', namespace: 'default', labels: { a: 1 } } });
    srv.injectListItem('pods', { metadata: { name: 'bad-containers', namespace: 'default' }, spec: { containers: 'web' } });
    srv.create('pods', makePod({ name: 'good' }));
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/good'), 'good pod');
    expect(sd.metrics.malformed.get('pods')).toBe(4);
    expect(log.errors('skipping malformed object').map((l) => l.fields.problem)).toEqual([
      'missing metadata',
      'missing metadata.namespace (no-namespace)',
      'metadata.labels of bad-labels is not a map of strings',
      'spec.containers of bad-containers is not a list',
    ]);

    await srv.waitForWatches('pods', 1);
    srv.injectWatchLine('pods', '{"type":"ADDED","object":');
    srv.injectWatchLine('pods', JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { namespace: 'default' } } }));
    srv.injectWatchLine('pods', JSON.stringify({ type: 'SOMETHING', object: {} }));
    srv.create('pods', makePod({ name: 'after' }));
    await c.until(() => c.has('pod/default/after'), 'pod after the bad events');
    expect(sd.metrics.malformed.get('pods')).toBe(7);
    expect(lists('/api/v1/pods')).toHaveLength(1); // bad events do not cost a relist
  });

  it('bad fields (port without number, non-IP address) skip just that part', async () => {
    const p = makePod({ name: 'web', containers: [{ name: 'c', image: 'i', ports: [{ name: 'ok', containerPort: 80 }, { name: 'bad', containerPort: 0 }] }] });
    srv.create('pods', p);
    const { collector: c } = start({ role: 'pod' });
    await c.until(() => c.has('pod/default/web'), 'web');
    expect(c.targets('pod/default/web').map((t) => t.__address__)).toEqual(['10.244.1.23:80']);
    expect(sd.metrics.malformed.get('pod')).toBe(1);
    expect(log.errors('skipping malformed part of object')[0].fields).toEqual(
      expect.objectContaining({ kind: 'pod', object: 'default/web', problem: 'container c port "bad" has no valid containerPort (0)' }),
    );
  });

  it('a response that is not JSON is a failed list: logged, counted, retried', async () => {
    let hits = 0;
    const bad = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>502 Bad Gateway</html>');
    });
    bad.listen(0, '127.0.0.1');
    await once(bad, 'listening');
    try {
      running.push(runDiscoverer(sd, sdConfig({ role: 'pod', apiServer: `http://127.0.0.1:${(bad.address() as AddressInfo).port}` })));
      await eventually(() => hits >= 2 && log.errors('response is not JSON').length >= 2, 'two failed attempts');
      expect(sd.metrics.failures).toBeGreaterThanOrEqual(2);
    } finally {
      for (const r of running.splice(0)) await r.stop();
      bad.closeAllConnections();
      bad.close();
    }
  });
});
