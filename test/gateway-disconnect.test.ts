import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import { readLedger } from './support/ledger.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * A client that disconnects in the middle of a large streamed response must release the upstream
 * connection (DESIGN.md §13: otherwise the pool drains and the Gateway hangs). Each time, the
 * upstream must see its response closed early; afterwards a normal call is still served at once.
 */

const ROUNDS = 20;
const TOTAL = 50 * 1024 * 1024;
const CHUNK = 64 * 1024;

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;
/** Upstream responses of /v1/big that ended: finished in full, or closed before the end. */
const bigOutcomes: ('finished' | 'closed early')[] = [];

/** Streams TOTAL bytes slowly (a chunk per millisecond, with backpressure) until done or closed. */
function streamSlowly(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
  const chunk = Buffer.alloc(CHUNK, 7);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    if (res.destroyed) return;
    if (sent >= TOTAL) return void res.end();
    sent += CHUNK;
    if (res.write(chunk)) timer = setTimeout(pump, 1);
    else res.once('drain', pump);
  };
  res.on('close', () => {
    clearTimeout(timer);
    bigOutcomes.push(res.writableFinished ? 'finished' : 'closed early');
  });
  pump();
}

beforeAll(async () => {
  upstream = await startUpstream({
    handle(req, res) {
      if (req.url?.startsWith('/v1/big')) return streamSlowly(res);
      res.end('small');
    },
  });
  stack = await startStack();
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
  token = await stack.mint(seeded);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

/** GETs /v1/big and destroys the connection after `after` bytes; resolves with the bytes seen. */
function readThenHangUp(after: number, requestId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${stack.gatewayUrl}/v1/big`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, agent: false, headers: { ...stack.gatewayHeaders(seeded, token), 'x-request-id': requestId } });
    let seen = 0;
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= after) {
          req.destroy();
          resolve(seen);
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error) => (seen >= after ? undefined : reject(error)));
    req.end();
  });
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

describe('a client that hangs up mid-response', () => {
  it(`releases the upstream connection every time (${ROUNDS} rounds), and the pool stays usable`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const seen = await readThenHangUp(256 * 1024 + round * 1024, `hangup-${round}`);
      expect(seen).toBeLessThan(TOTAL);
      // The upstream sees its response cut short, promptly: the Gateway aborted the exchange.
      expect(await until(() => bigOutcomes.length === round + 1, 2000), `round ${round}: upstream response still open`).toBe(true);
    }
    expect(bigOutcomes).toEqual(Array.from({ length: ROUNDS }, () => 'closed early'));

    // No leaked upstream sockets: each aborted exchange closed its connection.
    expect(await until(() => upstream.openSockets() <= 1, 2000), `open upstream sockets: ${upstream.openSockets()}`).toBe(true);

    // And the pool serves a normal call at once.
    const started = Date.now();
    const reply = await send(`${stack.gatewayUrl}/v1/small`, { headers: stack.gatewayHeaders(seeded, token), timeoutMs: 2000 });
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('small');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('records each hang-up as a 499 in the ledger', async () => {
    expect(await stack.stopGateway()).toBe(0);
    const rows = readLedger(stack.databasePath).filter((row) => row.request_id.startsWith('hangup-'));
    expect(rows).toHaveLength(ROUNDS);
    for (const row of rows) expect({ status: row.http_status, upstream: row.http_upstream_status, decision: row.decision }).toEqual({ status: 499, upstream: 200, decision: 'allow' });
  });
});
