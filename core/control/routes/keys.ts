import type { FastifyInstance } from 'fastify';
import type { SigningKey } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { recordChange, type ControlContext } from '../context.js';
import { requireZone } from './zones.js';

/** The API shape of a signing key: its public half and lifecycle, never the sealed private key. */
export function signingKeyView(key: SigningKey) {
  return {
    kid: key.kid,
    zone_id: key.zoneId,
    alg: key.alg,
    status: key.status,
    public_jwk: key.publicJwk,
    created_at: key.createdAt,
    retire_after: key.retireAfter,
  };
}
export type SigningKeyView = ReturnType<typeof signingKeyView>;

/** The response of a rotation: the new active key and the key it retired (still published until retire_after). */
export interface KeyRotationView {
  readonly active: SigningKeyView;
  readonly retired: SigningKeyView | null;
}

/** `/v1/zones/:zone/keys`: list the zone's signing keys (public parts), rotate the active one. */
export function keyRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/keys', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return { items: (await ctx.store.listSigningKeys(zone.id)).map(signingKeyView) };
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/keys/rotate', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const previous = (await ctx.store.listSigningKeys(zone.id)).find((key) => key.status === 'active');
    const next = await ctx.keys.rotate(zone.id);
    const after = await ctx.store.listSigningKeys(zone.id);
    const active = after.find((key) => key.kid === next.kid);
    const retired = previous === undefined ? undefined : after.find((key) => key.kid === previous.kid);
    if (active === undefined) throw new CaracalError('CRC_INTERNAL', `rotated key ${next.kid} of zone ${zone.id} is not in the store`);
    const body: KeyRotationView = { active: signingKeyView(active), retired: retired ? signingKeyView(retired) : null };
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'key.rotate',
      subject: active.kid,
      before: previous ? { kid: previous.kid } : null,
      after: { kid: active.kid, retired_kid: body.retired?.kid ?? null, retire_after: body.retired?.retire_after ?? null },
    });
    return body;
  });
}
