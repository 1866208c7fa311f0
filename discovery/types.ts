/**
 * The discovery seam. A Discoverer watches one source of targets (a static list, files, the
 * Kubernetes API) and sends target groups; the discovery manager forwards them, coalesced, to
 * the scrape manager. Discovery knows nothing of scraping or storage.
 */

/** A label set as plain strings; discovery output is small and read once per update. */
export type LabelSet = Record<string, string>;

/**
 * A group of targets from one source. `source` identifies the group within its discoverer
 * (for example `pod/<namespace>/<name>` or `file.yml:0`); a later group with the same source
 * replaces it, and a group with no targets deletes it.
 */
export interface TargetGroup {
  readonly source: string;
  /** Each target's own labels, at least `__address__`. */
  readonly targets: readonly LabelSet[];
  /** Labels common to every target of the group (a target's own labels win). */
  readonly labels: LabelSet;
}

export interface Discoverer {
  /**
   * Sends the full current set of groups first, then changed groups as they change.
   * Resolves when `signal` aborts. Errors are reported through the discoverer's own logging and
   * metrics; `run` itself only rejects for programming errors.
   */
  run(signal: AbortSignal, send: (groups: TargetGroup[]) => void): Promise<void>;
}

/** Minimal logger shape, so discovery does not depend on the server's logger. */
export interface DiscoveryLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
