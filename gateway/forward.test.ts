import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyUpstreamError, forward, type ForwardOutcome } from './forward.js';

/**
 * forward() between two real node:http servers: an upstream that misbehaves mid-body, and a front
 * server whose handler forwards to it through an undici Agent with a short idle (body) timeout.
 */

const IDLE_MS = 200;

let upstream: Server;
let front: Server;
let agent: Agent;
const outcomes = new Map<string, ForwardOutcome>();
const settled = new Map<string, () => void>();

/** Answers 200 with part of a 100-byte body, then stalls (`/stall`) or drops the connection (`/reset`). */
function misbehave(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
  res.write('x'.repeat(10));
  if (req.url === '/reset') setTimeout(() => req.socket.destroy(), 20);
}

beforeAll(async () => {
  upstream = createServer(misbehave);
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  agent = new Agent({ bodyTimeout: IDLE_MS, headersTimeout: 5_000 });
  front = createServer((req, res) => {
    const id = req.url ?? '';
    forward(agent, res, { origin, path: id, method: 'GET', headers: [], body: null }, 'req_1', (outcome) => {
      outcomes.set(id, outcome);
      settled.get(id)?.();
    });
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
});

afterAll(async () => {
  upstream.closeAllConnections();
  front.closeAllConnections();
  upstream.close();
  front.close();
  await agent.close();
});

/** GETs a path from the front server; resolves with the status, the bytes seen and whether the body was cut. */
async function get(path: string): Promise<{ status: number; bytes: number; cut: boolean; outcome: ForwardOutcome }> {
  const done = new Promise<void>((resolve) => settled.set(path, resolve));
  const { port } = front.address() as AddressInfo;
  const answer = await new Promise<{ status: number; bytes: number; cut: boolean }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, cut: false }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, bytes, cut: true }));
    });
    req.on('error', reject);
    req.end();
  });
  await done;
  return { ...answer, outcome: outcomes.get(path) as ForwardOutcome };
}

describe('forward', () => {
  it('records an upstream that goes idle mid-body as upstream_timeout, and cuts the client connection', async () => {
    const started = Date.now();
    const answer = await get('/stall');
    expect(answer).toMatchObject({ status: 200, bytes: 10, cut: true });
    expect(answer.outcome).toMatchObject({ failure: 'upstream_timeout', responded: true, upstreamStatus: 200, clientAborted: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 20);
  });

  it('records an upstream that drops the connection mid-body as upstream_reset, and cuts the client connection', async () => {
    const answer = await get('/reset');
    expect(answer).toMatchObject({ status: 200, bytes: 10, cut: true });
    expect(answer.outcome).toMatchObject({ failure: 'upstream_reset', responded: true, upstreamStatus: 200 });
  });
});

describe('classifyUpstreamError', () => {
  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'upstream_timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'upstream_timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'upstream_timeout'],
    ['ETIMEDOUT', 'upstream_timeout'],
    ['UND_ERR_SOCKET', 'upstream_reset'],
    ['ECONNRESET', 'upstream_reset'],
    ['EPIPE', 'upstream_reset'],
    ['CRC_ADDRESS_REFUSED', 'address_not_allowed'],
    ['ECONNREFUSED', 'upstream_unreachable'],
    ['', 'upstream_unreachable'],
  ])('%s → %s', (code, reason) => {
    expect(classifyUpstreamError(Object.assign(new Error('x'), { code }))).toBe(reason);
  });
});
