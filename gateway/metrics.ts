import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from '../core/audit/event.js';

/** The Gateway's Prometheus metrics (`/_caracal/metrics`). */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts one finished request. */
  observe(outcome: { decision: Decision; status: number; latencyMs: number }): void;
  /** Sets the audit gauges from the audit thread's last report. */
  audit(stats: { queued: number; dropped: number; pending: number }): void;
}

/** Creates the metrics registry; `tokenCache` is read at scrape time (the verifier counts itself). */
export function createGatewayMetrics(tokenCache: () => { hits: number; misses: number; size: number }): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: 'caracal_gateway_requests_total', help: 'Requests by decision and status', labelNames: ['decision', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'caracal_gateway_request_duration_seconds',
    help: 'Time from receipt to the end of the response',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'caracal_gateway_token_cache_hit_ratio',
    help: 'Share of token verifications answered from the verified-token cache',
    registers: [registry],
    // Under --workers, each worker has its own cache: the primary reports their mean.
    aggregator: 'average',
    collect() {
      const { hits, misses } = tokenCache();
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
    },
  });
  new Gauge({
    name: 'caracal_gateway_token_cache_size',
    help: 'Verified tokens held in the cache',
    registers: [registry],
    collect() {
      this.set(tokenCache().size);
    },
  });
  const queue = new Gauge({ name: 'caracal_gateway_audit_queue_depth', help: 'Audit events waiting to be stored', registers: [registry] });
  const dropped = new Gauge({ name: 'caracal_gateway_audit_dropped_events', help: 'Audit events dropped since start', registers: [registry] });
  return {
    registry,
    observe({ decision, status, latencyMs }) {
      requests.labels(decision, String(status)).inc();
      latency.observe(latencyMs / 1000);
    },
    audit(stats) {
      queue.set(stats.queued + stats.pending);
      dropped.set(stats.dropped);
    },
  };
}
