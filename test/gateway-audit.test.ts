import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, type HttpReply } from './support/http.js';
import { readLedger } from './support/ledger.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * Every response the Gateway serves has its `gateway.request` event (DESIGN.md §5, §7): after a
 * burst of mixed requests and a graceful stop (SIGTERM flushes the audit thread), the ledger holds
 * exactly one row per response, under the request ID the client saw.
 */

const N = 240;
const CONCURRENCY = 24;

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack();
  seeded = await stack.seedInternalApi({
    upstreamUrl: upstream.url,
    scopes: ['billing:read'],
    rules: () => [{ id: 'read', effect: 'allow', scopes: ['billing:read'], methods: ['GET'], paths: ['/v1/**'] }],
  });
  token = await stack.mint(seeded);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

/** The i-th request of the burst: allowed, policy-denied, tokenless, bad path or oversized headers. */
function request(i: number): Promise<HttpReply> {
  const url = (path: string) => `${stack.gatewayUrl}${path}`;
  const auth = stack.gatewayHeaders(seeded, token);
  switch (i % 8) {
    case 0:
    case 1:
    case 2:
      return send(url(`/v1/items/${i}?n=${i}`), { headers: auth });
    case 3:
      return send(url(`/v1/items/${i}`), { headers: { ...auth, 'x-request-id': `client-${i}` } });
    case 4:
      return send(url('/v1/items'), { method: 'DELETE', headers: auth });
    case 5:
      return send(url('/v1/items'), { headers: { 'x-caracal-resource': seeded.resourceId } });
    case 6:
      return send(url('/v1/%2e%2e/secret'), { headers: auth });
    default:
      return send(url('/v1/items'), { headers: { ...auth, 'x-big': 'b'.repeat(20_000) } });
  }
}

describe('audit of every response', () => {
  it(`records ${N} gateway.request events for ${N} responses, under the request IDs the clients saw`, async () => {
    const seen: { id: string; status: number }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          const reply = await request(next++);
          seen.push({ id: String(reply.headers['x-request-id']), status: reply.status });
        }
      }),
    );
    expect(seen).toHaveLength(N);
    expect(new Set(seen.map((s) => s.id)).size).toBe(N);
    expect(new Set(seen.map((s) => s.status))).toEqual(new Set([200, 403, 401, 400, 431]));

    expect(await stack.stopGateway(), stack.logs().gateway).toBe(0);
    const rows = readLedger(stack.databasePath);
    expect(rows).toHaveLength(N);
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    for (const { id, status } of seen) {
      expect(byId.get(id)?.http_status, id).toBe(status);
    }
    expect(rows.filter((r) => r.decision === 'allow')).toHaveLength(upstream.hits());
  });
});
