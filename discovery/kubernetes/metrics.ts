/**
 * Kubernetes discovery's own counters, as plain numbers (discovery imports nothing of ours).
 * The server exposes them by registering {@link KubernetesSDMetrics.families} as collected
 * metrics, with Prometheus's names where Prometheus has one.
 */

import { KUBERNETES_ROLES } from './config.js';

/** The event names Prometheus uses for `prometheus_sd_kubernetes_events_total{event}`. */
export type KubernetesEvent = 'add' | 'update' | 'delete';

/** One metric family, in the shape `Registry.collected(name, help, type, collect)` takes. */
export interface CollectedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  collect(): number | ReadonlyArray<{ labels: Record<string, string>; value: number }>;
}

/** Counters shared by every Kubernetes discoverer of one server. */
export class KubernetesSDMetrics {
  /** Failed LIST/WATCH requests (connection errors, non-2xx, unreadable kubeconfig, bad responses). */
  failures = 0;
  /** `role` → `event` → count, initialised to zero for every role and event, as Prometheus does. */
  readonly events = new Map<string, Map<KubernetesEvent, number>>();
  /** Objects or fields rejected as malformed, by resource kind. */
  readonly malformed = new Map<string, number>();
  /** HTTP requests to the API server by status code (`<error>` when no response arrived). */
  readonly requests = new Map<string, number>();
  /** Full relists forced by `410 Gone` (resourceVersion too old). */
  relists = 0;
  /** Target-group batches sent to the discovery manager, and the groups in them. */
  sentBatches = 0;
  sentGroups = 0;
  /** Shared informers currently running (one per connection, kind, namespace and selectors). */
  informers = 0;

  constructor() {
    for (const role of KUBERNETES_ROLES) {
      this.events.set(role, new Map<KubernetesEvent, number>([
        ['add', 0],
        ['update', 0],
        ['delete', 0],
      ]));
    }
  }

  event(role: string, event: KubernetesEvent): void {
    let m = this.events.get(role);
    if (!m) {
      m = new Map();
      this.events.set(role, m);
    }
    m.set(event, (m.get(event) ?? 0) + 1);
  }

  malformedObject(kind: string): void {
    this.malformed.set(kind, (this.malformed.get(kind) ?? 0) + 1);
  }

  request(status: number | undefined): void {
    const k = status === undefined ? '<error>' : String(status);
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  /** The families to register with the self-metrics registry. */
  families(): CollectedFamily[] {
    return [
      {
        name: 'prometheus_sd_kubernetes_failures_total',
        help: 'The number of failed WATCH/LIST requests.',
        type: 'counter',
        collect: () => this.failures,
      },
      {
        name: 'prometheus_sd_kubernetes_events_total',
        help: 'The number of Kubernetes events handled.',
        type: 'counter',
        collect: () => {
          const out: { labels: Record<string, string>; value: number }[] = [];
          for (const [role, m] of this.events) for (const [event, value] of m) out.push({ labels: { role, event }, value });
          return out;
        },
      },
      {
        name: 'prometheus_sd_kubernetes_http_request_total',
        help: 'Total number of HTTP requests to the Kubernetes API by status code.',
        type: 'counter',
        collect: () => [...this.requests].map(([status_code, value]) => ({ labels: { status_code }, value })),
      },
      {
        name: 'prometheus_sd_kubernetes_malformed_objects_total',
        help: 'Kubernetes objects or object fields discovery rejected as malformed, by kind.',
        type: 'counter',
        collect: () => [...this.malformed].map(([kind, value]) => ({ labels: { kind }, value })),
      },
      {
        name: 'prometheus_sd_kubernetes_relists_total',
        help: 'Full LISTs forced by the API server answering 410 Gone to a WATCH.',
        type: 'counter',
        collect: () => this.relists,
      },
      {
        name: 'prometheus_sd_kubernetes_informers',
        help: 'Shared list/watch informers currently running.',
        type: 'gauge',
        collect: () => this.informers,
      },
    ];
  }
}
