/**
 * Audit sinks configured with `[[audit.sinks]]` (DESIGN.md §7) in a real stack: a webhook receiver
 * that fails, then is slow, then recovers. No token request or Gateway call is slowed or failed
 * meanwhile; the failing sink shows in `/readyz`, `/healthz` and `GET /v1/audit/sinks`; and the
 * sink's dropped count is exact: every control-plane event in the ledger was either delivered or
 * counted as dropped. A jsonl sink writes the same events to a file.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit/event.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';

type Mode = 'ok' | 'fail' | 'slow';

const CONTROL_TYPES = new Set(['token.issued', 'token.denied', 'admin.change']);
const SLOW_MS = 300;

let home: string;
let stack: Stack;
let upstream: Upstream;
let receiver: Server;
let mode: Mode = 'ok';
let seeded: Seeded;
const received = new Map<string, AuditEvent>();
let posts = 0;

interface SinkView {
  name: string;
  ok: boolean;
  detail: string;
  dropped: number;
  failures: number;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      posts += 1;
      if (mode === 'fail') {
        res.writeHead(500).end('down');
        return;
      }
      const record = () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: AuditEvent[] };
        for (const event of body.events) received.set(event.id, event);
        res.writeHead(204).end();
      };
      if (mode === 'slow') setTimeout(record, SLOW_MS);
      else record();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const port = (receiver.address() as AddressInfo).port;
  home = mkdtempSync(join(tmpdir(), 'caracal-sinks-'));
  writeFileSync(
    join(home, 'config.toml'),
    [
      '[audit]',
      'checkpoint_events = 1000000',
      'checkpoint_seconds = 3600',
      '',
      '[[audit.sinks]]',
      'type = "webhook"',
      `url = "http://127.0.0.1:${port}/hook?key=not-shown"`,
      'max_queue = 5',
      'batch_size = 2',
      'max_attempts = 3',
      'backoff_ms = 20',
      'max_backoff_ms = 50',
      'timeout_ms = 2000',
      '',
      '[[audit.sinks]]',
      'type = "jsonl"',
      'path = "audit/events.jsonl"',
      '',
    ].join('\n'),
  );
  upstream = await startUpstream();
  stack = await startStack({ home });
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  receiver?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function sinks(): Promise<SinkView[]> {
  return (await stack.adminOk<{ sinks: SinkView[] }>('GET', '/v1/audit/sinks')).sinks;
}

async function webhook(): Promise<SinkView> {
  const sink = (await sinks()).find((s) => s.name === 'webhook');
  if (!sink) throw new Error('no webhook sink');
  return sink;
}

/** One mint and one Gateway call; returns their latencies (ms) after checking both succeeded. */
async function traffic(): Promise<number[]> {
  let start = performance.now();
  const token = await stack.mint(seeded);
  const mintMs = performance.now() - start;
  start = performance.now();
  const response = await fetch(`${stack.gatewayUrl}/v1/items`, { headers: stack.gatewayHeaders(seeded, token) });
  await response.arrayBuffer();
  expect(response.status).toBe(200);
  return [mintMs, performance.now() - start];
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe('a webhook sink whose receiver fails, is slow, then recovers', () => {
  it('never slows or fails a request, reports the failure, and counts every dropped event exactly', async () => {
    // Healthy: events flow.
    await traffic();
    await until('the first delivery', () => Promise.resolve(received.size > 0));
    expect((await webhook()).ok).toBe(true);

    // Failing: 500 for everything.
    mode = 'fail';
    const failing: number[] = [];
    for (let i = 0; i < 20; i++) failing.push(...(await traffic()));
    await until('the failure to show', async () => !(await webhook()).ok);
    const down = await webhook();
    expect(down.detail).toContain('failing (HTTP 500');
    expect(down.detail).not.toContain('not-shown');
    expect(down.dropped).toBeGreaterThan(0);
    const ready = (await (await fetch(`${stack.controlUrl}/readyz`)).json()) as { ok: boolean; detail: string };
    expect(ready.ok).toBe(true);
    expect(ready.detail).toContain('audit sink webhook failing');
    const health = (await (await fetch(`${stack.controlUrl}/healthz`)).json()) as { ok: boolean; detail: string };
    expect(health.detail).toContain('audit sink webhook failing');
    // The Gateway's audit thread has the same sinks and reports them the same way.
    let gatewayReady = { ok: false, detail: '' };
    await until('the Gateway to report the failing sink', async () => {
      gatewayReady = (await (await fetch(`${stack.gatewayUrl}/_caracal/readyz`)).json()) as { ok: boolean; detail: string };
      return gatewayReady.detail.includes('audit sink webhook failing');
    });
    expect(gatewayReady.ok).toBe(true);
    expect(gatewayReady.detail).not.toContain('not-shown');

    // Slow: every delivery takes SLOW_MS.
    mode = 'slow';
    const slow: number[] = [];
    for (let i = 0; i < 10; i++) slow.push(...(await traffic()));

    // Recovered.
    mode = 'ok';
    await until('the webhook queue to drain', async () => {
      const sink = await webhook();
      return sink.ok && sink.detail.includes(' 0 queued');
    });

    // No request waited for the sink: medians stay far below the receiver's delay, and none failed (checked in traffic()).
    expect(median(failing)).toBeLessThan(100);
    expect(median(slow)).toBeLessThan(SLOW_MS / 2);
    expect(Math.max(...failing, ...slow)).toBeLessThan(1500);

    // Exact: every control-plane event in the ledger was delivered or counted as dropped, none twice.
    const ledger: AuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: AuditEvent[]; next_cursor: string | null } = await stack.adminOk('GET', `/v1/audit?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      ledger.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);
    const controlEvents = ledger.filter((e) => CONTROL_TYPES.has(e.type));
    const deliveredControl = [...received.values()].filter((e) => CONTROL_TYPES.has(e.type));
    const final = await webhook();
    expect(final.dropped).toBeGreaterThan(0);
    expect(deliveredControl.length).toBeGreaterThan(0);
    expect(deliveredControl.every((e) => ledger.some((l) => l.id === e.id && l.hash === e.hash))).toBe(true);
    expect(deliveredControl.length + final.dropped).toBe(controlEvents.length);
    expect(posts).toBeGreaterThan(deliveredControl.length / 2);
  });

  it('the jsonl sink wrote the same events, one JSON object per line', () => {
    const lines = readFileSync(join(home, 'audit', 'events.jsonl'), 'utf8').trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as AuditEvent);
    expect(events.length).toBeGreaterThan(20);
    expect(events.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    expect(events.some((e) => e.type === 'token.issued')).toBe(true);
  });
});
