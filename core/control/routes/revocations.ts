import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Revocation } from '../../domain/types.js';
import { MAX_TOKEN_TTL_SECONDS } from '../../token/claims.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { appView, requireApp, rotateAppSecret, type AppWithSecret } from './apps.js';
import { listQuery, pageArray, pageBody } from './paging.js';
import { requireZone } from './zones.js';

/** Clock skew allowed between the nodes that mint and the nodes that verify. */
const SKEW_SECONDS = 60;

const zoneRef = z.string().min(1).max(128);
const reason = z.string().max(500).default('');
const revocationCreate = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('jti'), value: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'a jti is printable ASCII'), zone: zoneRef, reason }).strict(),
    z.object({ kind: z.literal('app'), app: z.string().min(1).max(128), zone: zoneRef, reason }).strict(),
  ],
  { error: 'kind must be "jti" (one token, with "value") or "app" (every token of "app", and a new secret)' },
);
const revocationQuery = z.object({ zone: zoneRef.optional() }).passthrough();

/** The API shape of a revocation. */
export function revocationView(revocation: Revocation) {
  return {
    kind: revocation.kind,
    value: revocation.value,
    zone_id: revocation.zoneId,
    reason: revocation.reason,
    created_at: revocation.createdAt,
    not_before: revocation.notBefore,
    expires_at: revocation.expiresAt,
  };
}
export type RevocationView = ReturnType<typeof revocationView>;

/** The response of a revocation: for an app (kill switch), the app and its new secret, shown once. */
export interface RevocationResult {
  readonly revocation: RevocationView;
  readonly app: AppWithSecret | null;
}

/**
 * `/v1/revocations` (DESIGN.md §4): revoke one token by `jti`, or an app (kill switch: every token
 * it holds now is refused, and its secret is replaced so it cannot mint new ones); list live ones.
 */
export function revocationRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.post('/v1/revocations', async (request, reply) => {
    const input = parseInput(revocationCreate, request.body, 'revocation');
    const zone = await requireZone(ctx, input.zone);
    const now = new Date();
    // A revocation can be forgotten once every token it concerns has expired.
    const expiresAt = new Date(now.getTime() + (MAX_TOKEN_TTL_SECONDS + SKEW_SECONDS) * 1000).toISOString();
    let revocation: Revocation;
    let result: RevocationResult;
    if (input.kind === 'jti') {
      revocation = { kind: 'jti', value: input.value, zoneId: zone.id, reason: input.reason, createdAt: now.toISOString(), notBefore: now.toISOString(), expiresAt };
      await ctx.store.addRevocation(revocation);
      result = { revocation: revocationView(revocation), app: null };
    } else {
      const target = await requireApp(ctx, zone, input.app);
      revocation = { kind: 'app', value: target.id, zoneId: zone.id, reason: input.reason, createdAt: now.toISOString(), notBefore: now.toISOString(), expiresAt };
      // Revoke first: should the rotation fail, the live tokens are already refused.
      await ctx.store.addRevocation(revocation);
      const { app: rotated, secret } = await rotateAppSecret(ctx, target);
      result = { revocation: revocationView(revocation), app: { ...appView(rotated), client_secret: secret } };
      recordChange(ctx, request.id, { zone: zone.id, action: 'app.rotate_secret', subject: rotated.id, before: appView(target), after: appView(rotated) });
    }
    recordChange(ctx, request.id, { zone: zone.id, action: `revocation.${revocation.kind}`, subject: revocation.value, after: revocationView(revocation) });
    return reply.status(201).send(result);
  });

  app.get('/v1/revocations', async (request) => {
    const { zone: ref } = parseInput(revocationQuery, request.query ?? {}, 'list query');
    const zoneId = ref === undefined ? undefined : (await requireZone(ctx, ref)).id;
    const live = await ctx.store.listRevocations(new Date().toISOString());
    const items = zoneId === undefined ? live : live.filter((r) => r.zoneId === zoneId);
    return pageBody(pageArray(items, listQuery(request.query)), revocationView);
  });
}
