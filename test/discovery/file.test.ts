import { mkdtempSync, rmSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileDiscoverer, FileSDMetrics, parseTargetGroupFile, type TargetGroup } from '../../discovery/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sextant-filesd-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a discoverer and collects the current state (source → group) as sends arrive. */
function harness(files: string[], refreshInterval = 60_000) {
  const metrics = new FileSDMetrics();
  const d = new FileDiscoverer({ files, refreshInterval }, { metrics, debounceMs: 5 });
  const state = new Map<string, TargetGroup>();
  const ac = new AbortController();
  let sends = 0;
  const waiters: (() => void)[] = [];
  const done = d.run(ac.signal, (groups) => {
    sends++;
    for (const g of groups) {
      if (g.targets.length === 0) state.delete(g.source);
      else state.set(g.source, g);
    }
    for (const w of waiters.splice(0)) w();
  });
  /** Resolves when `pred` holds on the state (checked after each send), bounded. */
  const until = async (pred: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  const addresses = () =>
    [...state.values()].flatMap((g) => g.targets.map((t) => t['__address__'])).sort();
  return { d, state, metrics, stop: async () => { ac.abort(); await done; }, until, addresses, sends: () => sends };
}

describe('parseTargetGroupFile', () => {
  it('parses YAML and JSON into groups with sources and __meta_filepath', () => {
    const y = parseTargetGroupFile('/x/a.yml', '- targets: [a:1, "b:2"]\n  labels: {env: prod, n: 3}\n- targets: []\n');
    expect(y).toEqual([
      { source: '/x/a.yml:0', targets: [{ __address__: 'a:1' }, { __address__: 'b:2' }], labels: { env: 'prod', n: '3', __meta_filepath: '/x/a.yml' } },
      { source: '/x/a.yml:1', targets: [], labels: { __meta_filepath: '/x/a.yml' } },
    ]);
    const j = parseTargetGroupFile('/x/a.json', '[{"targets":["h:9"],"labels":{"k":"v"}}]');
    expect(j).toEqual([{ source: '/x/a.json:0', targets: [{ __address__: 'h:9' }], labels: { k: 'v', __meta_filepath: '/x/a.json' } }]);
    expect(parseTargetGroupFile('/x/e.yaml', '')).toEqual([]);
  });

  it.each([
    ['/x/a.yml', '- targets: [a]\n  lables: {}\n', /field lables not found/],
    ['/x/a.yml', '- targets: a\n', /targets must be a list/],
    ['/x/a.yml', 'targets: [a]\n', /expected a list of target groups/],
    ['/x/a.yml', '- null\n', /nil target group/],
    ['/x/a.json', '[{"targets":[1]}]', /target 0 must be a string/],
    ['/x/a.json', '[{"targets":["a"]', /invalid JSON/],
    ['/x/a.yml', '- targets: [a]\n  labels: {"": x}\n', /not a valid label name/],
    ['/x/a.txt', '[]', /unknown file extension/],
    ['/x/a.yml', '- targets: [a]\n  targets: [b]\n', /invalid YAML/],
  ])('rejects %s %j', (path, text, re) => {
    expect(() => parseTargetGroupFile(path, text)).toThrow(re);
  });
});

describe('FileDiscoverer', () => {
  it('follows files matching a glob as they are added, modified and deleted', async () => {
    const h = harness([join(dir, '*.yml'), join(dir, 'static.json')]);
    await h.until(() => h.sends() >= 1, 'first send');
    expect(h.state.size).toBe(0);

    writeFileSync(join(dir, 'a.yml'), '- targets: ["a:1", "a:2"]\n  labels: {team: x}\n');
    await h.until(() => h.addresses().length === 2, 'a.yml added');
    expect(h.state.get(join(dir, 'a.yml') + ':0')!.labels).toEqual({ team: 'x', __meta_filepath: join(dir, 'a.yml') });

    writeFileSync(join(dir, 'static.json'), '[{"targets":["s:1"]},{"targets":["s:2"]}]');
    await h.until(() => h.addresses().length === 4, 'static.json added');

    // A file not matching the pattern is ignored.
    writeFileSync(join(dir, 'ignored.json'), '[{"targets":["i:1"]}]');
    // Fewer groups: the second group of static.json is deleted.
    writeFileSync(join(dir, 'static.json'), '[{"targets":["s:1"]}]');
    await h.until(() => h.addresses().join() === 'a:1,a:2,s:1', 'static.json shrunk');

    unlinkSync(join(dir, 'a.yml'));
    await h.until(() => h.addresses().join() === 's:1', 'a.yml deleted');
    await h.stop();
  });

  it('keeps the last good groups of a file that becomes invalid, and counts the error', async () => {
    const f = join(dir, 't.yaml');
    writeFileSync(f, '- targets: ["good:1"]\n');
    const h = harness([f]);
    await h.until(() => h.addresses().join() === 'good:1', 'initial');
    writeFileSync(f, '- targets: ["bad:1"\n');
    await h.until(() => h.metrics.readErrors >= 1, 'read error');
    expect(h.addresses()).toEqual(['good:1']);
    writeFileSync(f, '- targets: ["fixed:1"]\n');
    await h.until(() => h.addresses().join() === 'fixed:1', 'fixed');
    await h.stop();
  });

  it('re-reads on refresh_interval when the directory is not watchable yet', async () => {
    const sub = join(dir, 'later');
    const h = harness([join(sub, '*.json')], 100);
    await h.until(() => h.sends() >= 1, 'first send');
    mkdirSync(sub);
    writeFileSync(join(sub, 'x.json'), '[{"targets":["x:1"]}]');
    await h.until(() => h.addresses().join() === 'x:1', 'picked up by refresh');
    await h.stop();
  });
});
