import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditEvent, AuditQuery } from '../../audit/event.js';
import { auditEventTypes } from '../../audit/event.js';
import { buildExplanation, type Explanation, type ExplainState } from '../../audit/explain.js';
import { exportAudit, knownAuditKeys, verifyLedger } from '../../audit/export.js';
import type { ChainReport } from '../../audit/checkpoint-verify.js';
import type { AuditPublicKey } from '../../audit/checkpoint-key.js';
import { parseTimePoint } from '../../audit/time-range.js';
import { isResourceId, normalizeResourceId } from '../../domain/ids.js';
import { CaracalError } from '../../errors.js';
import type { ControlContext } from '../context.js';
import type { AuditTail } from '../../store/store.js';
import { parseInput } from '../http-errors.js';

const text = z.string().min(1).max(200);
const auditFilters = z
  .object({
    zone: text.optional(),
    type: z.enum(auditEventTypes).optional(),
    decision: z.enum(['allow', 'deny', 'error']).optional(),
    app: text.optional(),
    resource: text.optional(),
    request_id: text.optional(),
    jti: text.optional(),
    since: text.optional(),
    until: text.optional(),
  })
  .passthrough();
const listSchema = auditFilters.extend({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(200).optional(),
});
const streamSchema = auditFilters.extend({
  /** How many recent events to send first (like `tail -n`). Default 0. */
  backlog: z.coerce.number().int().min(0).max(500).optional(),
  /** Poll interval of the ledger, ms (default 500). */
  interval_ms: z.coerce.number().int().min(50).max(10_000).optional(),
});

/** The body of `GET /v1/audit`: events newest first, per DESIGN.md §7. */
export interface AuditPageView {
  readonly items: readonly AuditEvent[];
  readonly next_cursor: string | null;
}

/** The body of `GET /v1/audit/verify`. */
export interface AuditVerifyView {
  readonly ok: boolean;
  readonly keys: readonly string[];
  readonly chains: readonly ChainReport[];
}

/** The body of `GET /v1/audit/public-key`. */
export interface AuditKeysView {
  readonly current: string | null;
  readonly keys: readonly { readonly key_id: string; readonly alg: 'Ed25519'; readonly pem: string }[];
}

/**
 * Audit inspection (DESIGN.md §7, docs/audit.md):
 * - `GET /v1/audit`: filters zone, type, decision, app, resource, request_id, jti, since/until
 *   (`15m`, `2h`, `7d` or ISO-8601); cursor pagination; newest first.
 * - `GET /v1/audit/stream`: the same filters as server-sent events, for a live tail.
 * - `GET /v1/requests/:request_id/explain`: the explanation of one request (core/audit/explain.ts).
 * - `GET /v1/audit/public-key`, `GET /v1/audit/verify`, `GET /v1/audit/export`, `GET /v1/audit/sinks`.
 */
export function auditRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get('/v1/audit', async (request): Promise<AuditPageView> => {
    const q = parseInput(listSchema, request.query ?? {}, 'audit query');
    const query = await toQuery(ctx, q);
    const page = await ctx.store.queryAudit({ ...query, ...(q.limit === undefined ? {} : { limit: q.limit }), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) });
    return { items: page.items, next_cursor: page.nextCursor };
  });

  // Open streams never finish by themselves: closing the server ends them first (their clients
  // resume from Last-Event-ID), or shutdown would wait for every tail to hang up.
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const res of streams) res.end();
    done();
  });
  app.get('/v1/audit/stream', async (request, reply) => {
    const q = parseInput(streamSchema, request.query ?? {}, 'audit stream query');
    const query = await toQuery(ctx, q);
    streams.add(reply.raw);
    reply.raw.once('close', () => streams.delete(reply.raw));
    await streamAudit(ctx, request, reply, query, { backlog: q.backlog ?? 0, intervalMs: q.interval_ms ?? 500 });
  });

  app.get<{ Params: { request_id: string } }>('/v1/requests/:request_id/explain', async (request): Promise<Explanation> => explainRequest(ctx, request.params.request_id));

  app.get('/v1/audit/public-key', async (): Promise<AuditKeysView> => {
    const keys = await trustedKeys(ctx);
    return { current: ctx.auditKey?.keyId ?? null, keys: keys.map((k) => ({ key_id: k.keyId, alg: 'Ed25519', pem: k.publicKeyPem })) };
  });

  app.get('/v1/audit/verify', async (request): Promise<AuditVerifyView> => {
    const q = parseInput(z.object({ zone: text.optional() }).passthrough(), request.query ?? {}, 'verify query');
    const keys = await trustedKeys(ctx);
    const chains = await verifyLedger(ctx.store, keys, q.zone === undefined ? {} : { chains: [await zoneChain(ctx, q.zone)] });
    return { ok: chains.every((c) => c.ok), keys: keys.map((k) => k.keyId), chains };
  });

  app.get('/v1/audit/export', async (request, reply) => {
    const q = parseInput(z.object({ zone: text.optional() }).passthrough(), request.query ?? {}, 'export query');
    const key = ctx.auditKey;
    if (key === undefined) throw new CaracalError('CRC_SERVICE_UNAVAILABLE', 'this control plane has no audit signing key, so it cannot sign an export');
    const chains = q.zone === undefined ? undefined : [await zoneChain(ctx, q.zone)];
    const lines = exportAudit(ctx.store, key, { publicKeys: await trustedKeys(ctx), ...(chains ? { chains } : {}) });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-request-id': request.id, 'cache-control': 'no-store' });
    try {
      for await (const chunk of lines) {
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        if (res.destroyed) break;
      }
    } catch (error) {
      request.log.error({ err: error }, 'audit export failed');
      res.write(`${JSON.stringify({ kind: 'warning', chain: null, message: 'the export stopped early: the control plane could not read the ledger' })}\n`);
    }
    res.end();
  });

  app.get('/v1/audit/sinks', () => ({ sinks: ctx.auditSinks?.() ?? [] }));
}

/** Events per read of a live tail (it reads again at once while batches come full). */
const TAIL_BATCH = 500;

/** Resolves the filters of a list or stream query into a store query (zone names, bare slugs, relative times). */
async function toQuery(ctx: ControlContext, q: z.infer<typeof auditFilters>): Promise<AuditQuery> {
  const now = Date.now();
  const query: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = {};
  if (q.zone !== undefined) query.zone = await zoneChain(ctx, q.zone);
  if (q.type !== undefined) query.type = q.type;
  if (q.decision !== undefined) query.decision = q.decision;
  if (q.app !== undefined) query.app = await appId(ctx, q.app, query.zone);
  if (q.resource !== undefined) query.resource = isResourceId(q.resource) ? normalizeResourceId(q.resource) : q.resource;
  if (q.request_id !== undefined) query.requestId = q.request_id;
  if (q.jti !== undefined) query.jti = q.jti;
  if (q.since !== undefined) query.since = parseTimePoint(q.since, 'since', now);
  if (q.until !== undefined) query.until = parseTimePoint(q.until, 'until', now);
  return query;
}

/** A zone filter: `global` (zone-less events), a zone ID (even of a deleted zone), or a zone name. */
async function zoneChain(ctx: ControlContext, ref: string): Promise<string> {
  if (ref === 'global' || ref.startsWith('zn_')) return ref;
  const zone = await ctx.store.getZone(ref);
  if (zone === undefined) throw new CaracalError('CRC_NOT_FOUND', `zone "${ref.slice(0, 80)}" does not exist`, { hint: 'list zones with `caracal zones list`, or filter by zone ID' });
  return zone.id;
}

/** An app filter: an app ID as is, or an app name resolved in the zone filter's zone. */
async function appId(ctx: ControlContext, ref: string, zone: string | undefined): Promise<string> {
  if (ref.startsWith('app_') || zone === undefined || zone === 'global') return ref;
  const app = await ctx.store.getApp(zone, ref);
  if (app === undefined) throw new CaracalError('CRC_NOT_FOUND', `app "${ref.slice(0, 80)}" does not exist in zone ${zone}`, { hint: 'filter by app ID, or list apps with `caracal apps list`' });
  return app.id;
}

async function trustedKeys(ctx: ControlContext): Promise<AuditPublicKey[]> {
  const keys = await knownAuditKeys(ctx.store);
  if (ctx.auditKey !== undefined && !keys.some((k) => k.keyId === ctx.auditKey?.keyId)) keys.push(ctx.auditKey);
  return keys;
}

/** Gathers the events of a request, its token's issuance and the current state, and explains them. */
export async function explainRequest(ctx: Pick<ControlContext, 'store'>, requestId: string): Promise<Explanation> {
  const page = await ctx.store.queryAudit({ requestId, limit: 100 });
  if (page.items.length === 0) {
    throw new CaracalError('CRC_NOT_FOUND', `no audit event has request ID ${JSON.stringify(requestId.slice(0, 128))}`, {
      hint:
        'find the request with `caracal audit list --since 15m` (add --decision deny, --app or --resource to narrow it); ' +
        'the ID is in the X-Request-Id response header and the request_id of every error body; events reach the ledger within a second',
    });
  }
  const events = page.items;
  const main = events.find((e) => e.type === 'gateway.request') ?? events.find((e) => e.type.startsWith('token.')) ?? events[0];
  let issuance: AuditEvent | null = null;
  if (main?.token != null && main.type !== 'token.issued') {
    issuance = (await ctx.store.queryAudit({ jti: main.token.jti, type: 'token.issued', limit: 1 })).items[0] ?? null;
  }
  return buildExplanation({ requestId, events, issuance, state: main === undefined ? {} : await currentState(ctx, main) });
}

async function currentState(ctx: Pick<ControlContext, 'store'>, event: AuditEvent): Promise<ExplainState> {
  const zone = event.zone;
  const state: { -readonly [K in keyof ExplainState]: ExplainState[K] } = {};
  if (event.app !== null) {
    const app = await ctx.store.getAppById(event.app);
    state.app = app === undefined ? null : { id: app.id, name: app.name, disabled: app.disabled, updatedAt: app.updatedAt };
  }
  if (zone === null) return state;
  if (event.resource !== null) {
    const resource = await ctx.store.getResource(zone, event.resource);
    state.resource =
      resource === undefined ? null : { id: resource.id, upstreamUrl: resource.upstreamUrl, scopes: resource.scopes, providerId: resource.providerId, updatedAt: resource.updatedAt };
    if (resource?.providerId) {
      const provider = await ctx.store.getProvider(zone, resource.providerId);
      state.provider = provider === undefined ? null : { id: provider.id, name: provider.name, kind: provider.kind, updatedAt: provider.updatedAt };
    }
  }
  if (event.policy !== null || event.type === 'gateway.request' || event.type.startsWith('token.')) {
    const active = await ctx.store.getActivePolicySet(zone);
    state.activePolicySet = active === undefined ? null : { setId: active.policySetId, version: active.version };
  }
  if (event.reason.endsWith('revoked')) {
    const live = await ctx.store.listRevocations(new Date().toISOString());
    state.revocations = live
      .filter((r) => r.zoneId === zone && ((r.kind === 'jti' && r.value === event.token?.jti) || (r.kind === 'app' && r.value === event.app)))
      .map((r) => ({ kind: r.kind, createdAt: r.createdAt, reason: r.reason }));
  }
  return state;
}

/**
 * Streams matching events as server-sent events (`event: audit`, `data: <event JSON>`), in append
 * order, polling the ledger (which several processes write) every `intervalMs`. The stream opens
 * with `id: <ledger position>` and the last event of each batch carries the position after it; a
 * client that reconnects with that `Last-Event-ID` resumes there (an event it got after the id is
 * sent again, none is lost). A comment line every 15 s keeps proxies from closing an idle stream.
 */
async function streamAudit(ctx: ControlContext, request: FastifyRequest, reply: FastifyReply, query: AuditQuery, options: { backlog: number; intervalMs: number }): Promise<void> {
  const lastEventId = request.headers['last-event-id'];
  let position: number;
  // The backlog's events, which the first read may meet again (appended while it was read).
  let backlogIds = new Set<string>();
  if (typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId)) {
    position = Number(lastEventId);
    reply.hijack();
    open(reply);
  } else {
    // Start at the newest event now, so the tail shows only what happens from here on.
    position = await ctx.store.auditPosition();
    const backlog = options.backlog > 0 ? [...(await ctx.store.queryAudit({ ...query, limit: options.backlog })).items].reverse() : [];
    backlogIds = new Set(backlog.map((event) => event.id));
    reply.hijack();
    open(reply);
    for (const event of backlog) send(reply, event, undefined);
  }
  const res = reply.raw;
  // The position to resume from, before any event: a client whose stream drops before the first
  // event still resumes without a gap.
  res.write(`id: ${position}\n\n`);
  const closed = () => res.closed || res.destroyed;
  let quietSince = Date.now();
  let full = false;
  while (!closed()) {
    // A full batch means more is waiting: read on at once, so a tail keeps up with a busy Gateway.
    if (!full) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    if (closed()) break;
    let tail: AuditTail;
    try {
      tail = await ctx.store.readAuditAfter(query, position, TAIL_BATCH);
    } catch (error) {
      request.log.error({ err: error }, 'audit stream: reading the ledger failed');
      full = false;
      continue;
    }
    full = tail.events.length === TAIL_BATCH;
    const fresh = tail.events.filter((event) => !backlogIds.has(event.id));
    backlogIds = new Set();
    fresh.forEach((event, i) => send(reply, event, i === fresh.length - 1 ? tail.position : undefined));
    position = tail.position;
    // A slow reader: wait until what was written has gone out before reading more.
    if (res.writableNeedDrain) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    if (fresh.length > 0) {
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 15_000) {
      res.write(': keep-alive\n\n');
      quietSince = Date.now();
    }
  }
}

function open(reply: FastifyReply): void {
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-request-id': reply.request.id,
  });
  reply.raw.write(': caracal audit stream\n\n');
}

function send(reply: FastifyReply, event: AuditEvent, position: number | undefined): void {
  reply.raw.write(`${position === undefined ? '' : `id: ${position}\n`}event: audit\ndata: ${JSON.stringify(event)}\n\n`);
}
