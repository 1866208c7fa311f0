import { describe, expect, it } from 'vitest';
import { Gate } from '../../../src/web/api/query.js';

describe('query concurrency gate (--query.max-concurrency)', () => {
  it('runs at most N at once and serves waiters in arrival order', async () => {
    const gate = new Gate(2);
    const signal = new AbortController().signal;
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const job = (i: number) =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((r) => releases.push(r));
        running--;
        return i;
      }, signal);
    const all = [0, 1, 2, 3, 4].map(job);
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setImmediate(r));
      releases.shift()?.();
    }
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('a waiter whose client went away leaves the queue with canceled', async () => {
    const gate = new Gate(1);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)), new AbortController().signal);
    const ac = new AbortController();
    const second = gate.run(async () => 'ran', ac.signal);
    ac.abort();
    await expect(second).rejects.toMatchObject({ errorType: 'canceled' });
    release();
    await first;
    expect(await gate.run(async () => 'free again', new AbortController().signal)).toBe('free again');
  });
});
