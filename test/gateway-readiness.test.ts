/**
 * `/_caracal/readyz` (DESIGN.md §2: ready = store open, keys loaded, policy loaded, sinks open) on a
 * real stack: one summary line (`caracal status` prints it) and a check per part. A failing audit
 * sink is an observer: it shows in its check while the Gateway stays ready (200). The not-ready
 * cases (store never loaded, no issuer) are covered in gateway/runtime.test.ts.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, type HttpReply } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal } from './support/workload.js';

interface Check {
  ok: boolean;
  detail: string;
}

interface Readiness {
  ok: boolean;
  detail: string;
  checks: { store: Check; keys: Check; policy: Check; sinks: Check };
}

let home: string;
let stack: Stack;
let upstream: Upstream;
let receiver: Server;
let failing = false;
let seeded: Seeded;
let token: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(failing ? 500 : 204).end());
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  home = mkdtempSync(join(tmpdir(), 'caracal-readiness-'));
  writeFileSync(
    join(home, 'config.toml'),
    [
      '[[audit.sinks]]',
      'type = "webhook"',
      `url = "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook"`,
      'batch_size = 1',
      'max_attempts = 2',
      'backoff_ms = 20',
      'max_backoff_ms = 50',
      'timeout_ms = 2000',
      '',
    ].join('\n'),
  );
  upstream = await startUpstream();
  stack = await startStack({ home });
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
  // The zone's signing key is made at its first token.
  token = await stack.mint(seeded);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  receiver?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function readyz(): Promise<{ status: number; body: Readiness }> {
  const reply: HttpReply = await send(`${stack.gatewayUrl}/_caracal/readyz`);
  return { status: reply.status, body: reply.json as unknown as Readiness };
}

const call = () => send(`${stack.gatewayUrl}/v1/x`, { headers: stack.gatewayHeaders(seeded, token) });

/** Polls readyz until `done` holds (the Gateway sees store changes within a second), running `meanwhile` before each poll. */
async function readyzUntil(what: string, done: (body: Readiness) => boolean, meanwhile?: () => Promise<unknown>): Promise<{ status: number; body: Readiness }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await meanwhile?.();
    const answer = await readyz();
    if (done(answer.body)) return answer;
    if (Date.now() > deadline) throw new Error(`readyz never showed ${what}; last answer: ${answer.status} ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `caracal status --ready --json` against this stack: the Gateway's row. */
async function statusOfGateway(): Promise<{ ok: boolean; detail: string }> {
  const env = {
    CARACAL_HOME: stack.home,
    CARACAL_CONFIG_DIR: join(stack.home, 'config'),
    CARACAL_CONTROL_PORT: new URL(stack.controlUrl).port,
    CARACAL_GATEWAY_PORT: new URL(stack.gatewayUrl).port,
  };
  const run = await caracal(['status', '--ready', '--json'], env);
  const services = (JSON.parse(run.stdout) as { services: { name: string; ok: boolean; detail: string }[] }).services;
  const gateway = services.find((service) => service.name === 'gateway');
  if (gateway === undefined) throw new Error(`no gateway in caracal status: ${run.stdout}${run.stderr}`);
  return { ok: gateway.ok, detail: gateway.detail };
}

describe('/_caracal/readyz', () => {
  it('answers ready with a check for the store, the keys, the policies and the sinks', async () => {
    const { status, body } = await readyzUntil('the zone key and its active policy set', (b) => b.checks.keys.detail === '1 signing key for 1 zone');
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      detail: 'ready',
      checks: {
        store: { ok: true, detail: expect.stringMatching(/^the last reload succeeded; the last good load was \d+ s ago$/) as unknown },
        keys: { ok: true, detail: '1 signing key for 1 zone' },
        policy: { ok: true, detail: '1 of 1 zone with an active policy set' },
        sinks: { ok: true, detail: 'no audit sink failing' },
      },
    });
    expect(await statusOfGateway()).toEqual({ ok: true, detail: 'ready' });
  });

  it('stays ready (200) with a failing audit sink, shown in its check and in the summary', async () => {
    failing = true;
    try {
      // Each call's audit event goes to the webhook, which now answers 500.
      const { status, body } = await readyzUntil('the failing sink', (b) => !b.checks.sinks.ok, call);
      expect(status).toBe(200);
      expect(body.ok).toBe(true);
      expect(body.detail).toMatch(/^ready; audit sink webhook failing/);
      expect(body.checks.sinks.detail).toMatch(/^audit sink webhook failing/);
      expect([body.checks.store.ok, body.checks.keys.ok, body.checks.policy.ok]).toEqual([true, true, true]);
      // The Gateway still decides and forwards requests meanwhile.
      expect((await call()).status).toBe(200);
      const row = await statusOfGateway();
      expect(row.ok).toBe(true);
      expect(row.detail).toMatch(/^ready; audit sink webhook failing/);
    } finally {
      failing = false;
    }
  });
});
