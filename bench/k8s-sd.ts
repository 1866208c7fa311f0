/**
 * k8s-sd: Kubernetes discovery against the fake API server (in a child process, so only
 * discovery's own CPU and memory are measured here).
 *
 *  1. initial list: 10,000 pods and 5,000 endpointslices (with their 5,000 services), watched by
 *     a `pod` and an `endpointslice` discoverer; time until every group is sent, CPU, memory;
 *  2. a burst of 1,000 updates (half pods, half slices, in 10 waves 20 ms apart): latency from
 *     each update to the batch that reflects it (p50/p99), batches and groups sent (coalescing),
 *     CPU;
 *  3. 100 single updates one at a time: latency p50/p99 without load.
 *
 * `npm run bench -- k8s-sd [--pods N] [--slices N] [--updates N] [--coalesce-ms N]`
 */

import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

import { KubernetesSD, type TargetGroup } from '../discovery/index.js';
import { sdConfig } from '../test/discovery/kubernetes/harness.js';
import { podId, sliceId, type Update } from './_k8sapiserver.js';
import { note, report } from './report.js';

const BENCH = 'k8s-sd';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function gcFn(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Stands in for the discovery manager: counts what it receives without keeping the target
 * label sets, so the memory figure is discovery's own.
 */
class Receiver {
  readonly sources = new Set<string>();
  targets = 0;
  batches = 0;
  sentGroups = 0;
  onBatch: ((groups: TargetGroup[]) => void) | undefined;
  private waiter: { pred: () => boolean; resolve: () => void } | undefined;

  readonly send = (groups: TargetGroup[]): void => {
    this.batches++;
    this.sentGroups += groups.length;
    for (const g of groups) {
      if (g.targets.length > 0) this.sources.add(g.source);
      else this.sources.delete(g.source);
      this.targets += g.targets.length;
    }
    this.onBatch?.(groups);
    if (this.waiter?.pred()) this.waiter.resolve();
  };

  until(pred: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`k8s-sd: timed out waiting for ${what}`)), timeoutMs);
      this.waiter = {
        pred,
        resolve: () => {
          clearTimeout(t);
          this.waiter = undefined;
          resolve();
        },
      };
    });
  }
}

export async function run(args: string[]): Promise<void> {
  const pods = arg(args, 'pods', 10_000);
  const slices = arg(args, 'slices', 5_000);
  const updates = arg(args, 'updates', 1_000);
  const coalesceMs = arg(args, 'coalesce-ms', 50);
  const gc = gcFn();

  const child = fork(new URL('./_k8sapiserver.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { type: string; url: string }) => m.type === 'ready' && resolve(m.url));
    child.send({ cmd: 'init', pods, slices });
  });
  note(`k8s-sd: fake API server with ${pods} pods, ${slices} endpointslices and services at ${url}`);

  gc();
  const mem0 = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sd = new KubernetesSD({ coalesceMs });
  const podC = new Receiver();
  const sliceC = new Receiver();
  const ac = new AbortController();
  const runs = [
    sd.newDiscoverer(sdConfig({ role: 'pod', apiServer: url }), { name: 'pods' }).run(ac.signal, podC.send),
    sd.newDiscoverer(sdConfig({ role: 'endpointslice', apiServer: url }), { name: 'slices' }).run(ac.signal, sliceC.send),
  ];
  let podsAt = 0;
  let slicesAt = 0;
  await Promise.all([
    podC.until(() => podC.sources.size >= pods, `${pods} pod groups`, 600_000).then(() => (podsAt = performance.now() - t0)),
    sliceC.until(() => sliceC.sources.size >= slices, `${slices} slice groups`, 600_000).then(() => (slicesAt = performance.now() - t0)),
  ]);
  const cpuInit = process.cpuUsage(cpu0);
  gc();
  const mem1 = process.memoryUsage();
  const podTargets = podC.targets;
  const sliceTargets = sliceC.targets;
  note(`k8s-sd: initial sync done: ${podTargets} pod targets, ${sliceTargets} endpointslice targets`);
  report({ bench: BENCH, name: 'initial_sync_pods', value: round(podsAt), unit: 'ms', objects: pods, targets: podTargets });
  report({ bench: BENCH, name: 'initial_sync_endpointslices', value: round(slicesAt), unit: 'ms', objects: slices, targets: sliceTargets });
  report({ bench: BENCH, name: 'initial_sync_cpu', value: round((cpuInit.user + cpuInit.system) / 1000), unit: 'ms' });
  report({ bench: BENCH, name: 'heap_after_sync', value: round((mem1.heapUsed - mem0.heapUsed) / 2 ** 20), unit: 'MiB', note: 'retained JS heap of discovery after GC (informer caches, indexes)' });
  report({ bench: BENCH, name: 'rss_after_sync', value: round((mem1.rss - mem0.rss) / 2 ** 20), unit: 'MiB', note: 'includes loading @kubernetes/client-node' });

  // Latency bookkeeping: source → [expected label value, time the update was sent].
  const expected = new Map<string, { label: string; value: string; at: number }>();
  const latencies: number[] = [];
  const watch = (groups: TargetGroup[]): void => {
    const now = performance.now();
    for (const g of groups) {
      const e = expected.get(g.source);
      if (e && g.labels[e.label] === e.value) {
        latencies.push(now - e.at);
        expected.delete(g.source);
      }
    }
  };
  podC.onBatch = watch;
  sliceC.onBatch = watch;

  let rev = 1;
  const makeUpdate = (k: number): Update => {
    const kind = k % 2 === 0 ? 'pod' : 'slice';
    const i = kind === 'pod' ? (k * 7919) % pods : (k * 104_729) % slices;
    return { kind, i, rev: rev++ };
  };
  const expect = (u: Update, at: number): void => {
    if (u.kind === 'pod') {
      const p = podId(u.i);
      expected.set(`pod/${p.ns}/${p.name}`, { label: '__meta_kubernetes_pod_label_rev', value: String(u.rev), at });
    } else {
      const s = sliceId(u.i);
      expected.set(`endpointslice/${s.ns}/${s.name}`, { label: '__meta_kubernetes_endpointslice_label_rev', value: String(u.rev), at });
    }
  };
  const allReflected = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 120_000;
      const check = (): void => {
        if (expected.size === 0) resolve();
        else if (Date.now() > deadline) reject(new Error(`k8s-sd: ${expected.size} updates never reflected`));
        else setTimeout(check, 5);
      };
      check();
    });

  // Burst: `updates` updates in 10 waves, 20 ms apart.
  const batches0 = podC.batches + sliceC.batches;
  const groups0 = podC.sentGroups + sliceC.sentGroups;
  const cpu1 = process.cpuUsage();
  const waves = 10;
  const perWave = Math.ceil(updates / waves);
  let k = 0;
  for (let w = 0; w < waves; w++) {
    const batch: Update[] = [];
    for (let j = 0; j < perWave && k < updates; j++, k++) batch.push(makeUpdate(k));
    const at = performance.now();
    for (const u of batch) expect(u, at);
    child.send({ cmd: 'update', updates: batch });
    await new Promise((r) => setTimeout(r, 20));
  }
  await allReflected();
  const cpuBurst = process.cpuUsage(cpu1);
  const burstLat = latencies.splice(0);
  report({ bench: BENCH, name: 'update_latency_p50', value: round(quantile(burstLat, 0.5)), unit: 'ms', updates, phase: 'burst' });
  report({ bench: BENCH, name: 'update_latency_p99', value: round(quantile(burstLat, 0.99)), unit: 'ms', updates, phase: 'burst' });
  report({ bench: BENCH, name: 'update_batches', value: podC.batches + sliceC.batches - batches0, unit: 'batches', updates, note: 'sends to the discovery manager for the whole burst (pod + endpointslice discoverer)' });
  report({ bench: BENCH, name: 'update_groups_sent', value: podC.sentGroups + sliceC.sentGroups - groups0, unit: 'groups', updates, note: 'pod updates also rebuild the slice joining the pod' });
  report({ bench: BENCH, name: 'update_cpu', value: round((cpuBurst.user + cpuBurst.system) / 1000), unit: 'ms', updates });

  // One update at a time.
  const single = 100;
  for (let s = 0; s < single; s++) {
    const u = makeUpdate(k++);
    expect(u, performance.now());
    child.send({ cmd: 'update', updates: [u] });
    await allReflected();
  }
  const singleLat = latencies.splice(0);
  report({ bench: BENCH, name: 'single_update_latency_p50', value: round(quantile(singleLat, 0.5)), unit: 'ms', updates: single, coalesce_ms: coalesceMs });
  report({ bench: BENCH, name: 'single_update_latency_p99', value: round(quantile(singleLat, 0.99)), unit: 'ms', updates: single, coalesce_ms: coalesceMs });

  ac.abort();
  await Promise.all(runs);
  sd.close();
  child.send({ cmd: 'exit' });
  await new Promise((r) => child.once('exit', r));
}
