import { Counter, Histogram, Registry } from 'prom-client';

/** The control plane's Prometheus metrics (`GET /metrics`). */
export interface ControlMetrics {
  readonly registry: Registry;
  /** Counts one answered request; `route` is the route pattern (bounded), never the raw URL. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** Counts one token request by outcome: `issued` or the RFC 6749 error code. */
  mint(outcome: string): void;
}

/** Creates the control plane's metrics registry. */
export function createControlMetrics(): ControlMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: 'caracal_control_requests_total', help: 'Requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'caracal_control_request_duration_seconds',
    help: 'Request latency by route',
    labelNames: ['route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const mints = new Counter({ name: 'caracal_control_token_requests_total', help: 'Token requests by outcome', labelNames: ['outcome'], registers: [registry] });
  return {
    registry,
    request(method, route, status, seconds) {
      requests.labels(method, route, String(status)).inc();
      latency.labels(route).observe(seconds);
    },
    mint(outcome) {
      mints.labels(outcome).inc();
    },
  };
}
