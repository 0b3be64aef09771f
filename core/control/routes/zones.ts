import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { listQuery, pageBody } from './paging.js';

const zoneName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'use 1–63 lowercase letters, digits, ".", "_" or "-"');
const zoneFields = {
  name: zoneName,
  kind: z.enum(['evaluation', 'production']),
  description: z.string().max(500),
  allowed_private_hosts: z.array(z.string().min(1).max(255)).max(100),
};
const zoneCreate = z
  .object({
    ...zoneFields,
    kind: zoneFields.kind.default('evaluation'),
    description: zoneFields.description.default(''),
    allowed_private_hosts: zoneFields.allowed_private_hosts.default([]),
  })
  .strict();
// Built from the fields without defaults: zod's partial() keeps a default, so a patch made from
// zoneCreate would reset an omitted kind to evaluation (a production zone silently downgraded).
const zonePatch = z.object(zoneFields).partial().strict();

/** The API shape of a zone (snake_case, stable). */
export function zoneView(zone: Zone) {
  return {
    id: zone.id,
    name: zone.name,
    kind: zone.kind,
    description: zone.description,
    allowed_private_hosts: zone.allowedPrivateHosts,
    created_at: zone.createdAt,
    updated_at: zone.updatedAt,
  };
}

/** Finds a zone by ID or name, or throws a 404 that says how to list zones. */
export async function requireZone(ctx: ControlContext, ref: string): Promise<Zone> {
  const zone = await ctx.store.getZone(ref);
  if (!zone) {
    throw new CaracalError('CRC_NOT_FOUND', `zone "${ref.slice(0, 80)}" does not exist`, { hint: 'list zones with `caracal zones list`' });
  }
  return zone;
}

/** `/v1/zones`: create, list, get, update, delete. */
export function zoneRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get('/v1/zones', async (request) => {
    const page = await ctx.store.listZones(listQuery(request.query));
    return pageBody(page, zoneView);
  });
  app.post('/v1/zones', async (request, reply) => {
    const input = parseInput(zoneCreate, request.body, 'zone');
    const zone = await ctx.store.createZone({
      name: input.name,
      kind: input.kind,
      description: input.description,
      allowedPrivateHosts: input.allowed_private_hosts,
    });
    recordChange(ctx, request.id, { zone: zone.id, action: 'zone.create', subject: zone.id, after: zoneView(zone) });
    return reply.status(201).send(zoneView(zone));
  });
  app.get<{ Params: { zone: string } }>('/v1/zones/:zone', async (request) => zoneView(await requireZone(ctx, request.params.zone)));
  app.patch<{ Params: { zone: string } }>('/v1/zones/:zone', async (request) => {
    const before = await requireZone(ctx, request.params.zone);
    const input = parseInput(zonePatch, request.body, 'zone update');
    const zone = await ctx.store.updateZone(before.id, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.kind === undefined ? {} : { kind: input.kind }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.allowed_private_hosts === undefined ? {} : { allowedPrivateHosts: input.allowed_private_hosts }),
    });
    recordChange(ctx, request.id, { zone: zone.id, action: 'zone.update', subject: zone.id, before: zoneView(before), after: zoneView(zone) });
    return zoneView(zone);
  });
  app.delete<{ Params: { zone: string } }>('/v1/zones/:zone', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    await ctx.store.deleteZone(zone.id);
    recordChange(ctx, request.id, { zone: zone.id, action: 'zone.delete', subject: zone.id, before: zoneView(zone) });
    return reply.status(204).send();
  });
}
