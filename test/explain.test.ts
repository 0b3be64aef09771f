/**
 * `caracal explain <request-id> --json` against the real stack (DESIGN.md §7): one request of each
 * kind goes through the Gateway (or the token endpoint), then the built CLI explains it. Each case
 * asserts the final decision, the category, the stable reason and that the hint names the concrete
 * fix (the rule, the method, the scope, the resource, the upstream).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Explanation } from '../core/audit/explain.js';
import type { AuditEvent } from '../core/audit/event.js';
import { freePort, startStack, type Seeded, type Stack } from './support/stack.js';
import { signEs256, zoneSigningKey } from './support/tokens.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'caracal.js');

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let readToken: string;
let ledgerWriteToken: string;
let tempToken: string;
let downToken: string;
let oldAgent: { id: string; client_secret: string };
let oldAgentToken: string;

/** Runs the built CLI against the stack; resolves with exit code, stdout and stderr. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', stack.home, ...args, '--control-url', stack.controlUrl], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CARACAL_HOME: stack.home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `caracal explain <id> --json`, retried while the event is still on its way to the ledger. */
async function explain(requestId: string): Promise<Explanation> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const run = await cli(['explain', requestId, '--json']);
    if (run.code === 0) return JSON.parse(run.stdout) as Explanation;
    if (run.code !== 3 || Date.now() > deadline) throw new Error(`caracal explain ${requestId} exited ${run.code}: ${run.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A Gateway call; returns its request ID (from X-Request-Id) and status. */
async function call(method: string, path: string, token: string, resource: string = seeded.resourceId): Promise<{ id: string; status: number }> {
  const response = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'x-caracal-resource': resource, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  await response.arrayBuffer();
  const id = response.headers.get('x-request-id');
  if (id === null) throw new Error('no X-Request-Id');
  return { id, status: response.status };
}

beforeAll(async () => {
  upstream = await startUpstream({
    handle: (req, res) => {
      if (req.url?.startsWith('/v1/fail')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('boom');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    },
  });
  const closedPort = await freePort();
  stack = await startStack();
  seeded = await stack.seedInternalApi({
    upstreamUrl: upstream.url,
    scopes: ['billing:read', 'billing:write'],
    rules: ({ resourceId }) => [
      { id: 'starter', effect: 'allow', apps: ['*'], resources: [resourceId], scopes: ['billing:read'], methods: ['GET'], paths: ['/v1/**'] },
      { id: 'ledger-reader', effect: 'allow', apps: ['*'], resources: ['resource://ledger-api'], scopes: ['ledger:read'], methods: ['GET'], paths: ['/v1/**'] },
      { id: 'ledger-writer', effect: 'allow', apps: ['*'], resources: ['resource://ledger-api'], scopes: ['ledger:write'], methods: ['POST'], paths: ['/v1/**'] },
      { id: 'temp-reader', effect: 'allow', apps: ['*'], resources: ['resource://temp-api', 'resource://down-api'], scopes: ['billing:read'] },
    ],
  });
  const Z = `/v1/zones/${seeded.zoneName}`;
  await stack.adminOk('POST', `${Z}/resources`, { id: 'ledger-api', scopes: ['ledger:read', 'ledger:write'], upstream_url: upstream.url });
  await stack.adminOk('POST', `${Z}/resources`, { id: 'temp-api', scopes: ['billing:read'], upstream_url: upstream.url });
  await stack.adminOk('POST', `${Z}/resources`, { id: 'down-api', scopes: ['billing:read'], upstream_url: `http://127.0.0.1:${closedPort}` });
  oldAgent = await stack.adminOk<{ id: string; client_secret: string }>('POST', `${Z}/apps`, { name: 'old-agent' });
  const app = { appId: seeded.appId, clientSecret: seeded.clientSecret };
  readToken = await stack.mint({ ...app, resourceId: seeded.resourceId, scopes: ['billing:read'] });
  ledgerWriteToken = await stack.mint({ ...app, resourceId: 'resource://ledger-api', scopes: ['ledger:write'] });
  tempToken = await stack.mint({ ...app, resourceId: 'resource://temp-api', scopes: ['billing:read'] });
  downToken = await stack.mint({ ...app, resourceId: 'resource://down-api', scopes: ['billing:read'] });
  oldAgentToken = await stack.mint({ appId: oldAgent.id, clientSecret: oldAgent.client_secret, resourceId: seeded.resourceId, scopes: ['billing:read'] });
  await stack.adminOk('DELETE', `${Z}/resources/temp-api`);
  await stack.adminOk('POST', '/v1/revocations', { kind: 'app', app: 'old-agent', zone: seeded.zoneName, reason: 'leaked secret' });
  // Let the Gateway see the deletion and the revocation (the store watcher, within a second).
  await new Promise((resolve) => setTimeout(resolve, 1500));
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

interface Case {
  readonly name: string;
  readonly request: () => Promise<{ id: string; status: number }>;
  readonly status: number;
  readonly decision: 'allow' | 'deny' | 'error';
  readonly category: Explanation['category'];
  readonly reason: string;
  /** Substrings the hint must contain (null: no hint). */
  readonly hint: readonly string[] | null;
}

const now = () => Math.floor(Date.now() / 1000);

const cases: readonly Case[] = [
  {
    name: 'an allowed call',
    request: () => call('GET', '/v1/invoices', readToken),
    status: 200,
    decision: 'allow',
    category: null,
    reason: 'ok',
    hint: null,
  },
  {
    name: 'a policy denial for the method',
    request: () => call('POST', '/v1/invoices', readToken),
    status: 403,
    decision: 'deny',
    category: 'policy',
    reason: 'method_not_allowed',
    hint: ['the token has scope billing:read', 'rule starter allows GET only', 'this was POST', 'add POST to rule starter', 'use a read call'],
  },
  {
    name: 'a policy denial for the path',
    request: () => call('GET', '/admin/users', readToken),
    status: 403,
    decision: 'deny',
    category: 'policy',
    reason: 'path_not_allowed',
    hint: ['rule starter allows paths /v1/** only', 'this was /admin/users', 'add a path pattern matching /admin/users', '"/admin/**"'],
  },
  {
    name: 'a policy denial for the scope',
    request: () => call('GET', '/v1/entries', ledgerWriteToken, 'resource://ledger-api'),
    status: 403,
    decision: 'deny',
    category: 'policy',
    reason: 'scope_not_granted',
    hint: ['the token has scope ledger:write', 'rule ledger-reader needs one of the scopes ledger:read', 'request a token with ledger:read', 'add ledger:write to rule ledger-reader'],
  },
  {
    name: 'an expired token',
    request: async () => {
      const key = await zoneSigningKey(stack.home, seeded.zoneId);
      const t = now();
      const claims = { iss: stack.controlUrl, sub: seeded.appId, client_id: seeded.appId, aud: seeded.resourceId, scope: 'billing:read', zone: seeded.zoneId, jti: randomUUID(), iat: t - 900, nbf: t - 900, exp: t - 120 };
      return call('GET', '/v1/invoices', signEs256(key.privateKey, { alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims));
    },
    status: 401,
    decision: 'deny',
    category: 'runtime_config',
    reason: 'token_expired',
    hint: ['get a fresh token'],
  },
  {
    name: 'a token for another resource',
    request: () => call('GET', '/v1/invoices', ledgerWriteToken, seeded.resourceId),
    status: 401,
    decision: 'deny',
    category: 'resource_routing',
    reason: 'audience_mismatch',
    hint: ['request a token for resource://billing-api', 'one resource per token'],
  },
  {
    name: 'an unknown (deleted) resource',
    request: () => call('GET', '/v1/invoices', tempToken, 'resource://temp-api'),
    status: 404,
    decision: 'deny',
    category: 'resource_routing',
    reason: 'resource_unknown',
    hint: ['no resource resource://temp-api exists', 'caracal resources create --id resource://temp-api'],
  },
  {
    name: 'a revoked app',
    request: () => call('GET', '/v1/invoices', oldAgentToken),
    status: 401,
    decision: 'deny',
    category: 'runtime_config',
    reason: 'app_revoked',
    hint: ['revoked every token of app', '(leaked secret)', 'new secret'],
  },
  {
    name: 'an upstream that is down',
    request: () => call('GET', '/v1/invoices', downToken, 'resource://down-api'),
    status: 502,
    decision: 'error',
    category: 'upstream',
    reason: 'upstream_unreachable',
    hint: ['start the upstream service', 'caracal resources update resource://down-api --upstream'],
  },
  {
    name: 'an upstream that answers 500',
    request: () => call('GET', '/v1/fail', readToken),
    status: 500,
    decision: 'allow',
    category: 'upstream',
    reason: 'upstream_error',
    hint: ['answered 500', 'the Gateway and the policy worked'],
  },
];

describe('caracal explain <request-id> --json through the real stack', () => {
  it.each(cases)('$name: $category / $reason', async (c) => {
    const { id, status } = await c.request();
    expect(status).toBe(c.status);
    const e = await explain(id);
    expect(e.request_id).toBe(id);
    expect(e.kind).toBe('gateway.request');
    expect(e.final_decision).toBe(c.decision);
    expect(e.category).toBe(c.category);
    expect(e.reason).toBe(c.reason);
    expect(e.summary.length).toBeGreaterThan(20);
    if (c.hint === null) expect(e.hint).toBeNull();
    else for (const part of c.hint) expect(e.hint).toContain(part);
    expect(e.gateway?.status).toBe(c.status);
    expect(e.events.map((ev) => ev.request_id)).toEqual([id]);
    expect(e.events[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('joins the token issuance by jti: when, and by which policy set version and rule the scopes were granted', async () => {
    const { id } = await call('GET', '/v1/invoices', readToken);
    const e = await explain(id);
    expect(e.application_id).toBe(seeded.appId);
    expect(e.application_name).toBe('agent');
    expect(e.resource_id).toBe(seeded.resourceId);
    expect(e.scopes).toEqual({ requested: ['billing:read'], granted: ['billing:read'] });
    expect(e.method).toBe('GET');
    expect(e.path).toBe('/v1/invoices');
    expect(e.policy).toMatchObject({ set_version: seeded.policySetVersion, rules: ['starter'] });
    expect(e.gateway).toMatchObject({ status: 200, upstream_status: 200 });
    expect(e.gateway?.latency_ms).toBeGreaterThan(0);
    expect(e.token?.issued).toMatchObject({ scopes: ['billing:read'], set_version: seeded.policySetVersion, rules: ['starter'] });
    expect(e.token?.issued?.request_id).toMatch(/\S/);
    expect(e.summary).toContain('was allowed by rule `starter`');
  });

  /** A token request the endpoint refuses; returns its request ID. */
  async function refusedMint(resource: string, scope: string): Promise<string> {
    const basic = Buffer.from(`${seeded.appId}:${seeded.clientSecret}`).toString('base64');
    const response = await fetch(`${stack.controlUrl}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString(),
    });
    const body = (await response.json()) as { error: string; request_id: string };
    expect(body.error).toBe('invalid_scope');
    return body.request_id;
  }

  it('explains a token request the policy refused (token.denied), by the request ID the token endpoint returned', async () => {
    const e = await explain(await refusedMint(seeded.resourceId, 'billing:write'));
    expect(e).toMatchObject({ kind: 'token.denied', final_decision: 'deny', reason: 'scope_not_granted', category: 'policy', application_id: seeded.appId });
    expect(e.scopes).toEqual({ requested: ['billing:write'], granted: [] });
    expect(e.hint).toContain('asked for billing:write; rule starter grants billing:read');
    expect(e.hint).toContain('request billing:read');
    expect(e.hint).toContain('grant billing:write in rule starter');
  });

  it('explains a token request for a scope the resource does not define', async () => {
    const e = await explain(await refusedMint('resource://ledger-api', 'billing:read'));
    expect(e).toMatchObject({ kind: 'token.denied', reason: 'scope_unknown', category: 'resource_routing' });
    expect(e.hint).toContain('scopes the resource defines');
  });

  it('says so for an unknown request ID and suggests how to find the right one', async () => {
    const run = await cli(['explain', 'req_does-not-exist', '--json']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('no audit event has request ID');
    expect(run.stderr).toContain('caracal audit list --since 15m');
  });

  it('prints a compact narrative for people (NO_COLOR: no escape codes)', async () => {
    const { id } = await call('POST', '/v1/invoices', readToken);
    await explain(id);
    const run = await cli(['explain', id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✖ denied  POST /v1/invoices');
    expect(run.stdout).toContain('to fix: policy');
    expect(run.stdout).toContain('hint: the token has scope billing:read; rule starter allows GET only');
    expect(run.stdout).not.toContain('\u001b[');
  });
});

describe('caracal audit list', () => {
  it('filters by request ID, decision, resource and time, newest first, as JSON events', async () => {
    const first = await call('GET', '/v1/invoices', readToken);
    const second = await call('POST', '/v1/invoices', readToken);
    await explain(second.id);
    await explain(first.id);
    const byId = await cli(['audit', 'list', '--request-id', second.id, '--json']);
    expect(byId.code).toBe(0);
    const events = JSON.parse(byId.stdout) as AuditEvent[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ request_id: second.id, type: 'gateway.request', decision: 'deny', reason: 'method_not_allowed', category: 'policy' });
    for (const key of ['id', 'seq', 'at', 'zone', 'app', 'resource', 'scopes', 'policy', 'http', 'token', 'detail', 'prev_hash', 'hash']) expect(events[0]).toHaveProperty(key);

    const denied = JSON.parse((await cli(['audit', 'list', '--decision', 'deny', '--resource', 'billing-api', '--since', '15m', '--json', '--limit', '500'])).stdout) as AuditEvent[];
    expect(denied.length).toBeGreaterThan(3);
    expect(denied.every((e) => e.decision === 'deny' && e.resource === seeded.resourceId)).toBe(true);
    expect(denied.map((e) => e.id)).toEqual([...denied.map((e) => e.id)].sort().reverse());

    const future = JSON.parse((await cli(['audit', 'list', '--until', '2000-01-01T00:00:00Z', '--json'])).stdout) as AuditEvent[];
    expect(future).toEqual([]);
    const bad = await cli(['audit', 'list', '--since', 'yesterday']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('relative age like 15m');
  });

  it('pages with a cursor', async () => {
    const one = await cli(['audit', 'list', '--limit', '2', '--json']);
    expect(one.stderr).toMatch(/--cursor (\S+)/);
    const cursor = /--cursor (\S+)/.exec(one.stderr)?.[1] ?? '';
    const two = JSON.parse((await cli(['audit', 'list', '--limit', '2', '--cursor', cursor, '--json'])).stdout) as AuditEvent[];
    const first = JSON.parse(one.stdout) as AuditEvent[];
    expect(two).toHaveLength(2);
    expect((two[0]?.at ?? '') <= (first[1]?.at ?? '')).toBe(true);
    expect(two.map((e) => e.id)).not.toContain(first[1]?.id);
  });

  /** Opens the audit stream of gateway requests and reads until `done(text)`; the text and the last `id:` seen. */
  async function readStream(done: (text: string) => boolean, lastEventId?: string): Promise<{ text: string; contentType: string | null; lastId: string | undefined }> {
    const controller = new AbortController();
    const headers: Record<string, string> = { authorization: `Bearer ${stack.adminToken}`, ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) };
    const response = await fetch(`${stack.controlUrl}/v1/audit/stream?type=gateway.request&interval_ms=50`, { headers, signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const deadline = Date.now() + 5000;
    while (!done(text) && Date.now() < deadline) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    return { text, contentType: response.headers.get('content-type'), lastId: [...text.matchAll(/^id: (\d+)$/gm)].at(-1)?.[1] };
  }

  /** Starts reading the stream, then makes a call once it is open; the call's request ID and what the stream showed. */
  async function callWhileStreaming() {
    const made: { id?: string } = {};
    const reading = readStream((text) => made.id !== undefined && text.includes(`"request_id":"${made.id}"`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    made.id = (await call('GET', '/v1/invoices', readToken)).id;
    return { id: made.id, ...(await reading) };
  }

  it('tails new events over server-sent events', async () => {
    const { id, text, contentType } = await callWhileStreaming();
    expect(contentType).toContain('text/event-stream');
    expect(text).toContain('event: audit');
    expect(text).toContain(`"request_id":"${id}"`);
  });

  it('resumes a stream from its Last-Event-ID: what was stored meanwhile comes, what was seen does not', async () => {
    const first = await callWhileStreaming();
    expect(first.text).toContain(`"request_id":"${first.id}"`);
    expect(first.lastId).toMatch(/^\d+$/);
    const missed = await call('GET', '/v1/invoices', readToken);
    const resumed = await readStream((text) => text.includes(`"request_id":"${missed.id}"`), first.lastId);
    expect(resumed.text).toContain(`"request_id":"${missed.id}"`);
    expect(resumed.text).not.toContain(`"request_id":"${first.id}"`);
  });
});
