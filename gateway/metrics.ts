import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from '../core/audit/event.js';

/** The Gateway's Prometheus metrics (`/_caracal/metrics`). */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts one finished request; `cacheHit` is null when no token was checked. */
  observe(outcome: { decision: Decision; status: number; latencyMs: number; cacheHit: boolean | null }): void;
  /** Sets the audit gauges from the audit thread's last report. */
  audit(stats: { queued: number; dropped: number; pending: number }): void;
}

/** Creates the metrics registry; label values are bounded (decision × status class). */
export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: 'caracal_gateway_requests_total', help: 'Requests by decision and status', labelNames: ['decision', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'caracal_gateway_request_duration_seconds',
    help: 'Time from receipt to the end of the response',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const cache = new Counter({ name: 'caracal_gateway_token_cache_total', help: 'Token verifications by cache result', labelNames: ['result'], registers: [registry] });
  const queue = new Gauge({ name: 'caracal_gateway_audit_queue_depth', help: 'Audit events waiting to be stored', registers: [registry] });
  const dropped = new Gauge({ name: 'caracal_gateway_audit_dropped_events', help: 'Audit events dropped since start', registers: [registry] });
  // Pre-resolve the label children used on every request.
  const hit = cache.labels('hit');
  const miss = cache.labels('miss');
  return {
    registry,
    observe({ decision, status, latencyMs, cacheHit }) {
      requests.labels(decision, String(status)).inc();
      latency.observe(latencyMs / 1000);
      if (cacheHit !== null) (cacheHit ? hit : miss).inc();
    },
    audit(stats) {
      queue.set(stats.queued + stats.pending);
      dropped.set(stats.dropped);
    },
  };
}
