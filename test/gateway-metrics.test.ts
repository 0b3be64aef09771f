import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * The Gateway's Prometheus metrics (`GET /_caracal/metrics`, gateway/metrics.ts) after a known
 * mix of requests against a real stack: allowed calls with one token, one policy denial and one
 * request without a token. Counters must match that mix exactly; the Gateway's own endpoints
 * (metrics, readiness) are not requests and are not counted.
 */

const ALLOWED = 5;
const TOTAL = ALLOWED + 2;

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let scrape: Map<string, number>;

/** One sample line: `name{label="value",…} number`. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Samples keyed `name{k="v",…}` with labels sorted, for exact look-ups. */
function keyed(samples: readonly Sample[]): Map<string, number> {
  return new Map(
    samples.map((s) => {
      const labels = Object.keys(s.labels)
        .sort()
        .map((k) => `${k}="${s.labels[k] ?? ''}"`)
        .join(',');
      return [labels === '' ? s.name : `${s.name}{${labels}}`, s.value];
    }),
  );
}

async function metrics(): Promise<{ contentType: string; samples: Sample[] }> {
  const reply = await send(`${stack.gatewayUrl}/_caracal/metrics`);
  expect(reply.status).toBe(200);
  return { contentType: String(reply.headers['content-type']), samples: parseMetrics(reply.body.toString('utf8')) };
}

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack();
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'], rules: () => [{ id: 'v1', effect: 'allow', scopes: ['billing:read'], paths: ['/v1/**'] }] });
  const token = await stack.mint(seeded);
  const gw = (path: string) => `${stack.gatewayUrl}${path}`;
  for (let i = 0; i < ALLOWED; i++) {
    const reply = await send(gw(`/v1/invoices/${i}`), { headers: stack.gatewayHeaders(seeded, token) });
    expect(reply.status, reply.body.toString()).toBe(200);
  }
  const denied = await send(gw('/admin/users'), { headers: stack.gatewayHeaders(seeded, token) });
  expect(denied.status, denied.body.toString()).toBe(403);
  const anonymous = await send(gw('/v1/invoices'), { headers: { 'x-caracal-resource': seeded.resourceId } });
  expect(anonymous.status, anonymous.body.toString()).toBe(401);
  // An answered request is counted as it is recorded, a moment after the client has the answer.
  const deadline = Date.now() + 2000;
  do {
    scrape = keyed((await metrics()).samples);
    if ((scrape.get('caracal_gateway_request_duration_seconds_count') ?? 0) >= TOTAL) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  } while (Date.now() < deadline);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

/** Every sample of one metric name, keyed by its labels. */
const series = (name: string) => [...scrape].filter(([key]) => key === name || key.startsWith(`${name}{`));

describe('GET /_caracal/metrics', () => {
  it('is the Prometheus text format', async () => {
    expect((await metrics()).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts requests by decision and status: the allowed calls, the policy denial, the missing token', () => {
    expect(scrape.get('caracal_gateway_requests_total{decision="allow",status="200"}')).toBe(ALLOWED);
    expect(scrape.get('caracal_gateway_requests_total{decision="deny",status="403"}')).toBe(1);
    expect(scrape.get('caracal_gateway_requests_total{decision="deny",status="401"}')).toBe(1);
    // Nothing else was counted.
    expect(series('caracal_gateway_requests_total').map(([key, value]) => [key, value]).sort()).toEqual(
      [
        ['caracal_gateway_requests_total{decision="allow",status="200"}', ALLOWED],
        ['caracal_gateway_requests_total{decision="deny",status="401"}', 1],
        ['caracal_gateway_requests_total{decision="deny",status="403"}', 1],
      ].sort(),
    );
  });

  it('observes every request in the latency histogram', () => {
    expect(scrape.get('caracal_gateway_request_duration_seconds_count')).toBe(TOTAL);
    expect(scrape.get('caracal_gateway_request_duration_seconds_bucket{le="+Inf"}')).toBe(TOTAL);
    const sum = scrape.get('caracal_gateway_request_duration_seconds_sum') ?? 0;
    expect(sum).toBeGreaterThan(0);
    // Seconds, not milliseconds: seven loopback requests take well under a minute.
    expect(sum).toBeLessThan(60);
    // Buckets are cumulative.
    const buckets = series('caracal_gateway_request_duration_seconds_bucket').map(([, value]) => value);
    expect(buckets.length).toBeGreaterThan(1);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('reports a token cache hit ratio between 0 and 1, above 0 after one token was used repeatedly', () => {
    const ratio = scrape.get('caracal_gateway_token_cache_hit_ratio');
    expect(ratio).toBeDefined();
    // The token's first verification is a miss; its next five (four allowed, one denied) are hits.
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(1);
    expect(scrape.get('caracal_gateway_token_cache_size')).toBe(1);
  });

  it('reports the audit queue depth and no dropped audit events', () => {
    const depth = scrape.get('caracal_gateway_audit_queue_depth');
    expect(depth).toBeDefined();
    expect(depth).toBeGreaterThanOrEqual(0);
    expect(scrape.get('caracal_gateway_audit_dropped_events')).toBe(0);
  });

  it("does not count the Gateway's own endpoints as requests", async () => {
    expect((await send(`${stack.gatewayUrl}/_caracal/readyz`)).status).toBe(200);
    expect((await send(`${stack.gatewayUrl}/_caracal/healthz`)).status).toBe(200);
    const again = keyed((await metrics()).samples);
    expect(again.get('caracal_gateway_request_duration_seconds_count')).toBe(TOTAL);
    expect([...again].filter(([key]) => key.startsWith('caracal_gateway_requests_total')).reduce((n, [, value]) => n + value, 0)).toBe(TOTAL);
  });
});
