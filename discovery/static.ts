/**
 * `static_configs`: a fixed list of target groups, sent once. As in Prometheus, all static
 * configs of one scrape config form one provider whose groups have the sources "0", "1", …
 */

import type { Discoverer, TargetGroup } from './types.js';

export class StaticDiscoverer implements Discoverer {
  private readonly groups: TargetGroup[];

  /** `groups` as configured; their sources are replaced by their index. */
  constructor(groups: readonly TargetGroup[]) {
    this.groups = groups.map((g, i) => ({ source: String(i), targets: g.targets, labels: g.labels }));
  }

  run(signal: AbortSignal, send: (groups: TargetGroup[]) => void): Promise<void> {
    if (!signal.aborted) send(this.groups.slice());
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}
