import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { generateClientSecret, hashSecret } from '../../crypto/secrets.js';
import type { App, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { booleanQuery, listQuery, pageBody } from './paging.js';
import { requireZone } from './zones.js';

/** A display name: printable, no surrounding spaces, 1–128 characters (the store refuses ID-shaped names). */
export const displayName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^\S(?:[^\p{Cc}]*\S)?$/u, 'use 1–128 printable characters without leading or trailing spaces');
const description = z.string().max(500);

const appCreate = z.object({ name: displayName, description: description.default('') }).strict();
const appPatch = z.object({ name: displayName, description, disabled: z.boolean() }).partial().strict();

/** The API shape of an app (snake_case, stable); never the secret nor its hash. */
export function appView(app: App) {
  return {
    id: app.id,
    zone_id: app.zoneId,
    name: app.name,
    description: app.description,
    disabled: app.disabled,
    secret_rotated_at: app.secretRotatedAt,
    created_at: app.createdAt,
    updated_at: app.updatedAt,
  };
}
export type AppView = ReturnType<typeof appView>;

/** An app view with its client secret: the one response that carries it (create, rotate, kill switch). */
export type AppWithSecret = AppView & { readonly client_secret: string };

/** Finds an app of the zone by ID or name, or throws a 404 that says how to list apps. */
export async function requireApp(ctx: ControlContext, zone: Zone, ref: string): Promise<App> {
  const app = await ctx.store.getApp(zone.id, ref);
  if (!app) {
    throw new CaracalError('CRC_NOT_FOUND', `app "${ref.slice(0, 80)}" does not exist in zone ${zone.name}`, {
      hint: `list the zone's apps with \`caracal apps list --zone ${zone.name}\``,
    });
  }
  return app;
}

/** Replaces an app's secret with a fresh one; returns the app and the new secret (shown once). */
export async function rotateAppSecret(ctx: ControlContext, app: App): Promise<{ app: App; secret: string }> {
  const secret = generateClientSecret();
  const updated = await ctx.store.updateApp(app.id, { secretHash: hashSecret(secret, ctx.subkeys.secretHash) });
  return { app: updated, secret };
}

type AppParams = { Params: { zone: string; app: string } };

/** `/v1/zones/:zone/apps`: create (secret once), list (`?disabled=`), get, update, delete, rotate-secret, disable, enable. */
export function appRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/apps', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const disabled = booleanQuery(request.query, 'disabled');
    const page = await ctx.store.listApps(zone.id, { ...listQuery(request.query), ...(disabled === undefined ? {} : { disabled }) });
    return pageBody(page, appView);
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/apps', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const input = parseInput(appCreate, request.body, 'app');
    const secret = generateClientSecret();
    const created = await ctx.store.createApp({
      zoneId: zone.id,
      name: input.name,
      description: input.description,
      secretHash: hashSecret(secret, ctx.subkeys.secretHash),
    });
    recordChange(ctx, request.id, { zone: zone.id, action: 'app.create', subject: created.id, after: appView(created) });
    const body: AppWithSecret = { ...appView(created), client_secret: secret };
    return reply.status(201).send(body);
  });

  app.get<AppParams>('/v1/zones/:zone/apps/:app', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return appView(await requireApp(ctx, zone, request.params.app));
  });

  app.patch<AppParams>('/v1/zones/:zone/apps/:app', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const before = await requireApp(ctx, zone, request.params.app);
    const input = parseInput(appPatch, request.body, 'app update');
    const updated = await ctx.store.updateApp(before.id, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.disabled === undefined ? {} : { disabled: input.disabled }),
    });
    recordChange(ctx, request.id, { zone: zone.id, action: 'app.update', subject: updated.id, before: appView(before), after: appView(updated) });
    return appView(updated);
  });

  app.delete<AppParams>('/v1/zones/:zone/apps/:app', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const target = await requireApp(ctx, zone, request.params.app);
    await ctx.store.deleteApp(target.id);
    recordChange(ctx, request.id, { zone: zone.id, action: 'app.delete', subject: target.id, before: appView(target) });
    return reply.status(204).send();
  });

  app.post<AppParams>('/v1/zones/:zone/apps/:app/rotate-secret', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const before = await requireApp(ctx, zone, request.params.app);
    const { app: rotated, secret } = await rotateAppSecret(ctx, before);
    recordChange(ctx, request.id, { zone: zone.id, action: 'app.rotate_secret', subject: rotated.id, before: appView(before), after: appView(rotated) });
    const body: AppWithSecret = { ...appView(rotated), client_secret: secret };
    return body;
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post<AppParams>(`/v1/zones/:zone/apps/:app/${action}`, async (request) => {
      const zone = await requireZone(ctx, request.params.zone);
      const before = await requireApp(ctx, zone, request.params.app);
      const updated = before.disabled === disabled ? before : await ctx.store.updateApp(before.id, { disabled });
      if (updated !== before) {
        recordChange(ctx, request.id, { zone: zone.id, action: `app.${action}`, subject: updated.id, before: appView(before), after: appView(updated) });
      }
      return appView(updated);
    });
  }
}
