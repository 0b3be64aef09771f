import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { seal } from '../../crypto/seal.js';
import type { Provider, ProviderKind, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { displayName } from './apps.js';
import { listQuery, pageBody } from './paging.js';
import { providerKinds, providerSchemas } from './provider-config.js';
import { checkOutboundHost } from './upstream-url.js';
import { requireZone } from './zones.js';

const kind = z.enum(providerKinds as [ProviderKind, ...ProviderKind[]], {
  error: `kind must be one of ${providerKinds.join(', ')}`,
});
const providerCreate = z
  .object({ name: displayName, kind, config: z.unknown().optional(), credentials: z.unknown() })
  .strict();
const providerPatch = z.object({ name: displayName, config: z.unknown() }).partial().strict();

/** The API shape of a provider: its config and the names of its credential fields, never their values. */
export function providerView(provider: Provider) {
  return {
    id: provider.id,
    zone_id: provider.zoneId,
    name: provider.name,
    kind: provider.kind,
    config: provider.config,
    credential_keys: provider.credentialKeys,
    created_at: provider.createdAt,
    updated_at: provider.updatedAt,
  };
}
export type ProviderView = ReturnType<typeof providerView>;

/** Finds a provider of the zone by ID or name, or throws a 404 that says how to list providers. */
export async function requireProvider(ctx: ControlContext, zone: Zone, ref: string): Promise<Provider> {
  const provider = await ctx.store.getProvider(zone.id, ref);
  if (!provider) {
    throw new CaracalError('CRC_NOT_FOUND', `provider "${ref.slice(0, 80)}" does not exist in zone ${zone.name}`, {
      hint: `list the zone's providers with \`caracal providers list --zone ${zone.name}\``,
    });
  }
  return provider;
}

/**
 * Validates a kind's config (absent means the kind's defaults); an OAuth token endpoint must also
 * be a host the zone lets Caracal connect to (the Gateway checks its address again when it connects).
 */
function parseConfig(providerKind: ProviderKind, config: unknown, zone: Zone): Record<string, unknown> {
  const schema = z.object({ config: providerSchemas().config[providerKind] });
  const parsed: Record<string, unknown> = parseInput(schema, { config: config ?? {} }, `${providerKind} provider config`).config;
  if (typeof parsed.token_url === 'string') checkOutboundHost(new URL(parsed.token_url), zone, 'config.token_url');
  return parsed;
}

/** Validates a kind's credentials and seals them; the values never reach a message or a log. */
function sealCredentials(ctx: ControlContext, providerKind: ProviderKind, credentials: unknown): { sealed: string; keys: string[] } {
  const schema = z.object({ credentials: providerSchemas().credentials[providerKind] });
  const parsed = parseInput(schema, { credentials }, `${providerKind} provider credentials`).credentials as Record<string, string>;
  return { sealed: seal(JSON.stringify(parsed), ctx.subkeys.seal), keys: Object.keys(parsed).sort() };
}

type ProviderParams = { Params: { zone: string; provider: string } };

/** `/v1/zones/:zone/providers`: create, list, get, update (name, config), replace credentials, delete. */
export function providerRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/providers', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return pageBody(await ctx.store.listProviders(zone.id, listQuery(request.query)), providerView);
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/providers', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const input = parseInput(providerCreate, request.body, 'provider');
    const config = parseConfig(input.kind, input.config, zone);
    const { sealed, keys } = sealCredentials(ctx, input.kind, input.credentials);
    const created = await ctx.store.createProvider({
      zoneId: zone.id,
      name: input.name,
      kind: input.kind,
      config,
      credentialsSealed: sealed,
      credentialKeys: keys,
    });
    recordChange(ctx, request.id, { zone: zone.id, action: 'provider.create', subject: created.id, after: providerView(created) });
    return reply.status(201).send(providerView(created));
  });

  app.get<ProviderParams>('/v1/zones/:zone/providers/:provider', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return providerView(await requireProvider(ctx, zone, request.params.provider));
  });

  app.patch<ProviderParams>('/v1/zones/:zone/providers/:provider', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const before = await requireProvider(ctx, zone, request.params.provider);
    const input = parseInput(providerPatch, request.body, 'provider update');
    const updated = await ctx.store.updateProvider(before.id, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.config === undefined ? {} : { config: parseConfig(before.kind, input.config, zone) }),
    });
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'provider.update',
      subject: updated.id,
      before: providerView(before),
      after: providerView(updated),
    });
    return providerView(updated);
  });

  app.put<ProviderParams>('/v1/zones/:zone/providers/:provider/credentials', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const before = await requireProvider(ctx, zone, request.params.provider);
    const { sealed, keys } = sealCredentials(ctx, before.kind, request.body);
    const updated = await ctx.store.updateProvider(before.id, { credentialsSealed: sealed, credentialKeys: keys });
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'provider.credentials.replace',
      subject: updated.id,
      before: { credential_keys: before.credentialKeys },
      after: { credential_keys: updated.credentialKeys },
    });
    return providerView(updated);
  });

  app.delete<ProviderParams>('/v1/zones/:zone/providers/:provider', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const target = await requireProvider(ctx, zone, request.params.provider);
    await ctx.store.deleteProvider(target.id);
    recordChange(ctx, request.id, { zone: zone.id, action: 'provider.delete', subject: target.id, before: providerView(target) });
    return reply.status(204).send();
  });
}
