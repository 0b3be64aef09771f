import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isResourceId, normalizeResourceId } from '../../domain/ids.js';
import type { Provider, Resource, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { displayName } from './apps.js';
import { listQuery, pageBody } from './paging.js';
import { requireProvider } from './providers.js';
import { checkProviderHost, checkUpstreamUrl } from './upstream-url.js';
import { requireZone } from './zones.js';

/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** A list of 1–50 distinct scope tokens. */
export const scopeList = z
  .array(
    z
      .string()
      .max(200)
      .regex(SCOPE_TOKEN, 'a scope is printable ASCII without spaces, quotes or backslashes, e.g. "billing:read"'),
  )
  .min(1, 'list at least one scope')
  .max(50, 'list at most 50 scopes')
  .refine((scopes) => new Set(scopes).size === scopes.length, 'each scope may be listed once');

const resourceIdField = z
  .string()
  .refine(isResourceId, 'use resource://<slug> or a bare slug of lowercase letters, digits, ".", "_" and "-" (1–63 characters)')
  .transform(normalizeResourceId);
const upstreamField = z.string().min(1).max(2048);
const providerField = z.string().min(1).max(128);

const resourceCreate = z
  .object({
    id: resourceIdField,
    name: displayName.optional(),
    description: z.string().max(500).default(''),
    scopes: scopeList,
    upstream_url: upstreamField,
    provider: providerField.nullable().optional(),
  })
  .strict();
const resourcePatch = z
  .object({
    name: displayName,
    description: z.string().max(500),
    scopes: scopeList,
    upstream_url: upstreamField,
    provider: providerField.nullable(),
  })
  .partial()
  .strict();

/** The API shape of a resource (snake_case, stable). */
export function resourceView(resource: Resource) {
  return {
    id: resource.id,
    zone_id: resource.zoneId,
    name: resource.name,
    description: resource.description,
    scopes: resource.scopes,
    upstream_url: resource.upstreamUrl,
    provider_id: resource.providerId,
    created_at: resource.createdAt,
    updated_at: resource.updatedAt,
  };
}
export type ResourceView = ReturnType<typeof resourceView>;

/** Finds a resource of the zone by `resource://slug` or bare slug, or throws a 404. */
export async function requireResource(ctx: ControlContext, zone: Zone, ref: string): Promise<Resource> {
  const resource = await ctx.store.getResource(zone.id, ref);
  if (!resource) {
    throw new CaracalError('CRC_NOT_FOUND', `resource "${ref.slice(0, 80)}" does not exist in zone ${zone.name}`, {
      hint: `list the zone's resources with \`caracal resources list --zone ${zone.name}\``,
    });
  }
  return resource;
}

async function resolveProvider(ctx: ControlContext, zone: Zone, ref: string | null): Promise<Provider | null> {
  if (ref === null) return null;
  try {
    return await requireProvider(ctx, zone, ref);
  } catch (error) {
    // The provider is named in the body, not the URL: the request is invalid, not aimed at nothing.
    if (error instanceof CaracalError && error.code === 'CRC_NOT_FOUND') {
      throw new CaracalError('CRC_VALIDATION', error.message, { details: [{ path: 'provider', message: error.message }], ...(error.hint ? { hint: error.hint } : {}) });
    }
    throw error;
  }
}

/** The provider a resource uses now, or null. */
async function currentProvider(ctx: ControlContext, zone: Zone, resource: Resource): Promise<Provider | null> {
  return resource.providerId === null ? null : ((await ctx.store.getProvider(zone.id, resource.providerId)) ?? null);
}

type ResourceParams = { Params: { zone: string; resource: string } };

/** `/v1/zones/:zone/resources`: create, list, get, update, delete (the path takes the slug or the URL-encoded resource ID). */
export function resourceRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/resources', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return pageBody(await ctx.store.listResources(zone.id, listQuery(request.query)), resourceView);
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/resources', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const input = parseInput(resourceCreate, request.body, 'resource');
    const upstreamUrl = checkUpstreamUrl(input.upstream_url, zone);
    const provider = await resolveProvider(ctx, zone, input.provider ?? null);
    if (provider !== null) checkProviderHost(upstreamUrl, provider, zone);
    const created = await ctx.store.createResource({
      zoneId: zone.id,
      id: input.id,
      ...(input.name === undefined ? {} : { name: input.name }),
      description: input.description,
      scopes: input.scopes,
      upstreamUrl,
      providerId: provider?.id ?? null,
    });
    recordChange(ctx, request.id, { zone: zone.id, action: 'resource.create', subject: created.id, after: resourceView(created) });
    return reply.status(201).send(resourceView(created));
  });

  app.get<ResourceParams>('/v1/zones/:zone/resources/:resource', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return resourceView(await requireResource(ctx, zone, request.params.resource));
  });

  app.patch<ResourceParams>('/v1/zones/:zone/resources/:resource', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const before = await requireResource(ctx, zone, request.params.resource);
    const input = parseInput(resourcePatch, request.body, 'resource update');
    const upstreamUrl = input.upstream_url === undefined ? undefined : checkUpstreamUrl(input.upstream_url, zone);
    const provider = input.provider === undefined ? undefined : await resolveProvider(ctx, zone, input.provider);
    if (upstreamUrl !== undefined || provider !== undefined) {
      // The result of the update must still send the credential only to an allowed host.
      const finalProvider = provider === undefined ? await currentProvider(ctx, zone, before) : provider;
      if (finalProvider !== null) checkProviderHost(upstreamUrl ?? before.upstreamUrl, finalProvider, zone);
    }
    const updated = await ctx.store.updateResource(zone.id, before.id, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
      ...(upstreamUrl === undefined ? {} : { upstreamUrl }),
      ...(provider === undefined ? {} : { providerId: provider?.id ?? null }),
    });
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'resource.update',
      subject: updated.id,
      before: resourceView(before),
      after: resourceView(updated),
    });
    return resourceView(updated);
  });

  app.delete<ResourceParams>('/v1/zones/:zone/resources/:resource', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const target = await requireResource(ctx, zone, request.params.resource);
    await ctx.store.deleteResource(zone.id, target.id);
    recordChange(ctx, request.id, { zone: zone.id, action: 'resource.delete', subject: target.id, before: resourceView(target) });
    return reply.status(204).send();
  });
}
