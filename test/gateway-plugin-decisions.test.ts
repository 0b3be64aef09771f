import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookKinds } from '../core/plugin/hooks.js';
import { send, type HttpReply } from './support/http.js';
import { readLedger, type GatewayRow } from './support/ledger.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { BIN, ROOT } from './support/workload.js';

/**
 * Plugin hooks inside the running Gateway (DESIGN.md §9, docs/plugins.md "Hooks"), end to end: the
 * fixture plugin test/fixtures/plugin-decisions is installed with `caracal plugin add <folder>`
 * into the stack's home before the services start, so the Gateway loads it as an operator's
 * plugin. Its `authorize` hook denies, throws, stalls past its timeout or answers nonsense by
 * path; each is refused with 403 `plugin_denied` naming the plugin, fails closed, never reaches
 * the upstream, and is recorded. Its observers (`onReceive`, `onResponse`) write what they saw
 * to files in a temp folder (CARACAL_TEST_PLUGIN_OUT, set for the Gateway only): they never see
 * the `Authorization` header, and when they throw the response is not affected.
 */

const FIXTURE = join(ROOT, 'test/fixtures/plugin-decisions');
const PLUGIN = 'decisions';
const AUTHORIZE_TIMEOUT_MS = hookKinds.authorize.timeoutMs;
const npmEnv = { ...process.env, NO_COLOR: '1', npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

let work: string;
let out: string;
let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'caracal-plugin-decisions-'));
  const home = join(work, 'home');
  out = join(work, 'out');
  mkdirSync(out);
  // A copy, so npm never touches the fixture folder in the repository.
  const pluginDir = join(work, 'plugin-decisions');
  cpSync(FIXTURE, pluginDir, { recursive: true });
  const added = await execa(process.execPath, [BIN, '--home', home, 'plugin', 'add', pluginDir], { reject: false, env: npmEnv, cwd: work });
  if (added.exitCode !== 0) throw new Error(`caracal plugin add failed (${String(added.exitCode)}):\n${added.stderr}`);
  expect(added.stdout).toBe(`added plugin ${PLUGIN} 1.0.0 (package caracal-plugin-decisions, dir)`);

  upstream = await startUpstream();
  stack = await startStack({ home, gatewayEnv: { CARACAL_TEST_PLUGIN_OUT: out } });
  // The policy allows /v1/** only: /admin/** is denied by the policy itself.
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'], rules: () => [{ id: 'v1', effect: 'allow', scopes: ['billing:read'], paths: ['/v1/**'] }] });
  token = await stack.mint(seeded);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** A Gateway call with the seeded token and its own request ID. */
const call = (path: string, requestId: string, extra: Record<string, string> = {}) =>
  send(`${stack.gatewayUrl}${path}`, { headers: { ...stack.gatewayHeaders(seeded, token), 'x-request-id': requestId, ...extra } });

/** Whether the upstream received a request for this path (with or without a query). */
const upstreamSaw = (path: string) => upstream.requests.some((r) => r.url === path || r.url.startsWith(`${path}?`));

/** The JSON lines the plugin wrote to one of its files. */
function notes(file: string): Record<string, unknown>[] {
  const path = join(out, file);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits (at most 2 s) until `check` holds; observers and logs run after the response. */
async function eventually<T>(what: string, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 2 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the Gateway's log contains `text` (a hook failure is reported as a warning). */
const logged = (text: string) => eventually(`the gateway log mentions ${JSON.stringify(text)}`, () => (stack.logs().gateway.includes(text) ? true : undefined));

interface DenyCase {
  readonly name: string;
  readonly path: string;
  /** What the refusal message says after the plugin's name. */
  readonly why: string;
  /** What the Gateway log reports about the failure, if it is one. */
  readonly reported?: string;
}

const denials: readonly DenyCase[] = [
  { name: 'denies the path', path: '/v1/deny/payouts', why: 'fixture_blocks_this_path' },
  { name: 'throws', path: '/v1/throw/payouts', why: 'plugin_error', reported: `failed in hook authorize: authorize exploded on purpose` },
  { name: `is slower than its ${AUTHORIZE_TIMEOUT_MS} ms timeout`, path: '/v1/stall/payouts', why: 'plugin_timeout', reported: `did not finish hook authorize within ${AUTHORIZE_TIMEOUT_MS} ms` },
  { name: 'answers something that is not a verdict', path: '/v1/nonsense/payouts', why: 'plugin_error', reported: 'failed in hook authorize: returned an object' },
];

/** Request ID → what the ledger must hold for it (checked once the Gateway stopped). */
const expectedRows = new Map<string, { decision: string; reason: string; status: number; why?: string }>();

describe('an authorize hook in the Gateway', () => {
  it.each(denials)('refuses with 403 plugin_denied, naming the plugin, when the hook $name; the upstream never sees it', async (c) => {
    const requestId = `authz-${c.path.split('/')[2] ?? ''}`;
    const started = Date.now();
    const reply = await call(c.path, requestId);
    const elapsed = Date.now() - started;
    const text = reply.body.toString();
    expect(reply.status, text).toBe(403);
    expect(reply.json).toMatchObject({ error: 'access_denied', reason: 'plugin_denied', category: 'policy', request_id: requestId });
    expect(reply.json?.message).toEqual(expect.stringContaining(PLUGIN));
    expect(reply.json?.message).toEqual(expect.stringContaining(c.why));
    expect(text).not.toContain(token);
    expect(upstreamSaw(c.path), 'the upstream received the denied request').toBe(false);
    // The hook really ran for this request (not some earlier refusal).
    expect(notes('authorize.jsonl').some((n) => n.requestId === requestId)).toBe(true);
    if (c.reported !== undefined) {
      await logged(c.reported);
      expect(stack.logs().gateway).toMatch(new RegExp(`plugin \\\\?"${PLUGIN}\\\\?" (failed|did not finish)`));
    }
    if (c.why === 'plugin_timeout') {
      // Refused when the timeout passed: not before, and without waiting for the 10 s the hook takes.
      expect(elapsed).toBeGreaterThanOrEqual(AUTHORIZE_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(5000);
      // The hook's AbortSignal fired, so the plugin could stop its work.
      await eventually('the stalled hook saw its signal abort', () => (notes('authorize.jsonl').some((n) => n.requestId === requestId && n.aborted === true) ? true : undefined));
    }
    expectedRows.set(requestId, { decision: 'deny', reason: 'plugin_denied', status: 403, why: c.why });
  });

  it('is not asked when the policy denied, and its explicit allow grants nothing', async () => {
    const reply = await call('/admin/users', 'authz-policy-denied');
    expect(reply.status, reply.body.toString()).toBe(403);
    expect(reply.json).toMatchObject({ reason: 'path_not_allowed', category: 'policy' });
    expect(upstreamSaw('/admin/users')).toBe(false);
    expect(notes('authorize.jsonl').some((n) => n.requestId === 'authz-policy-denied')).toBe(false);
    expectedRows.set('authz-policy-denied', { decision: 'deny', reason: 'path_not_allowed', status: 403 });
  });

  it('lets a request through when it allows, and sees the credential (deciders do)', async () => {
    const reply = await call('/v1/invoices', 'authz-allowed');
    expect(reply.status, reply.body.toString()).toBe(200);
    expect(upstreamSaw('/v1/invoices')).toBe(true);
    expect(notes('authorize.jsonl').find((n) => n.requestId === 'authz-allowed')).toMatchObject({ sawAuthorization: true });
    expectedRows.set('authz-allowed', { decision: 'allow', reason: 'ok', status: 200 });
  });
});

describe('observer hooks in the Gateway', () => {
  it('onReceive and onResponse see the request without the Authorization header', async () => {
    const reply = await call('/v1/observed', 'observe-1', { 'x-trace': 'trace-123' });
    expect(reply.status, reply.body.toString()).toBe(200);
    const received = await eventually('onReceive noted observe-1', () => notes('receive.jsonl').find((n) => n.requestId === 'observe-1'));
    const responded = await eventually('onResponse noted observe-1', () => notes('response.jsonl').find((n) => n.requestId === 'observe-1'));
    for (const seen of [received, responded]) {
      expect(seen).toMatchObject({ method: 'GET', path: '/v1/observed' });
      const headers = seen.headers as Record<string, unknown>;
      // The other headers are there: only the credential was left out.
      expect(headers).toMatchObject({ 'x-trace': 'trace-123', 'x-caracal-resource': seeded.resourceId, 'x-request-id': 'observe-1' });
      expect(Object.keys(headers).map((name) => name.toLowerCase())).not.toContain('authorization');
    }
    expect(responded).toMatchObject({ status: 200, decision: 'allow', upstreamStatus: 200 });
    // Nothing an observer wrote, for any request, holds the token.
    for (const file of ['receive.jsonl', 'response.jsonl']) expect(readFileSync(join(out, file), 'utf8')).not.toContain(token);
    expectedRows.set('observe-1', { decision: 'allow', reason: 'ok', status: 200 });
  });

  it('sees refused requests too, still without the credential', async () => {
    const reply = await call('/v1/deny/observed', 'observe-refused');
    expect(reply.status).toBe(403);
    const responded = await eventually('onResponse noted observe-refused', () => notes('response.jsonl').find((n) => n.requestId === 'observe-refused'));
    expect(responded).toMatchObject({ status: 403, decision: 'deny', upstreamStatus: null });
    expect(Object.keys(responded.headers as Record<string, unknown>)).not.toContain('authorization');
    expectedRows.set('observe-refused', { decision: 'deny', reason: 'plugin_denied', status: 403, why: 'fixture_blocks_this_path' });
  });

  it.each([
    { path: '/v1/observer-throws', how: 'throw', receive: 'failed in hook onReceive: onReceive exploded on purpose', respond: 'failed in hook onResponse: onResponse exploded on purpose' },
    { path: '/v1/observer-rejects', how: 'reject', receive: 'failed in hook onReceive: onReceive rejected on purpose', respond: 'failed in hook onResponse: onResponse rejected on purpose' },
  ])('leaves the response alone when both observers $how, and reports each failure', async (c) => {
    const requestId = `observer-${c.how}`;
    const reply = await call(c.path, requestId);
    expect(reply.status, reply.body.toString()).toBe(200);
    // The upstream's own answer, untouched.
    expect(reply.json).toEqual({ ok: true, method: 'GET', url: c.path });
    expect(reply.headers['x-request-id']).toBe(requestId);
    expect(upstreamSaw(c.path)).toBe(true);
    await logged(c.receive);
    await logged(c.respond);
    // And the Gateway keeps serving.
    const next: HttpReply = await call('/v1/after-observer-failure', `${requestId}-next`);
    expect(next.status).toBe(200);
    expectedRows.set(requestId, { decision: 'allow', reason: 'ok', status: 200 });
  });
});

describe('the record of plugin decisions', () => {
  let rows: Map<string, GatewayRow>;

  beforeAll(async () => {
    // Stopping the Gateway flushes every audit event.
    expect(await stack.stopGateway()).toBe(0);
    rows = new Map(readLedger(stack.databasePath).map((row) => [row.request_id, row]));
  });

  it('holds one event per request above, with its decision, reason and status', () => {
    expect(expectedRows.size).toBe(denials.length + 6);
    for (const [requestId, expected] of expectedRows) {
      const row = rows.get(requestId);
      expect(row, requestId).toBeDefined();
      expect({ decision: row?.decision, reason: row?.reason, status: row?.http_status, app: row?.app }, requestId).toEqual({
        decision: expected.decision,
        reason: expected.reason,
        status: expected.status,
        app: seeded.appId,
      });
      expect(JSON.stringify(row), requestId).not.toContain(token);
    }
  });

  it('names the denying plugin and why in the recorded event of each plugin denial (explain: "see the plugin named in the event detail")', () => {
    for (const [requestId, expected] of expectedRows) {
      if (expected.why === undefined) continue;
      const detail = rows.get(requestId)?.detail ?? '';
      expect(detail, `${requestId}: the event detail names the plugin`).toContain(PLUGIN);
      expect(detail, `${requestId}: the event detail says why`).toContain(expected.why);
    }
  });
});
