import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { requestIdFor } from '../domain/request-id.js';
import { createAdminCheck } from './admin-auth.js';
import type { ControlContext } from './context.js';
import { handleError } from './http-errors.js';
import { adminRoutes } from './routes/index.js';
import { runLaunchRoutes } from './routes/run-launch.js';
import { tokenRoutes } from './routes/token.js';

export interface ControlServerOptions {
  readonly context: ControlContext;
  readonly adminToken: string;
  /** A pino logger (core/log/logger.ts), typed as fastify sees it. */
  readonly logger: FastifyBaseLogger;
  /** Extra route groups (audit, explain…), registered after the admin API and the token service. */
  readonly routes?: readonly ((app: FastifyInstance, ctx: ControlContext) => void)[];
  /** `/readyz` detail: throws or returns a reason when not ready. */
  readonly readiness?: () => Promise<string | null>;
  /** `/readyz` detail when ready but degraded (e.g. a failing audit sink): shown, never a 503. */
  readonly degraded?: () => string | null;
}

/** Paths served without the admin token. */
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/metrics', '/oauth2/', '/.well-known/'];

/**
 * The control plane (DESIGN.md §2–§4): the admin API under `/v1` (admin token, constant-time
 * check), the token service, JWKS and metadata, health, readiness and metrics.
 */
export function createControlServer(options: ControlServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: (req) => requestIdFor(req.headers['x-request-id']),
    // One log line per request comes from the onResponse hook below, with the request ID.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });
  const isAdmin = createAdminCheck(options.adminToken);

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: 'CRC_NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      request_id: request.id,
    });
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (PUBLIC_PREFIXES.some((p) => request.url.startsWith(p))) return;
    if (!isAdmin(request.headers.authorization)) {
      await reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="caracal-admin"')
        .send({
          error: 'CRC_UNAUTHORIZED',
          message: 'the admin API needs "Authorization: Bearer <admin token>"',
          request_id: request.id,
          hint: 'the CLI reads the token from CARACAL_HOME/admin-token or CARACAL_ADMIN_TOKEN',
        });
    }
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    options.context.metrics.request(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', options.context.metrics.registry.contentType).send(await options.context.metrics.registry.metrics()),
  );

  app.get('/healthz', () => {
    const degraded = options.degraded?.() ?? null;
    return degraded === null ? { ok: true } : { ok: true, detail: `healthy; ${degraded}` };
  });
  app.get('/readyz', async (_request, reply) => {
    let reason: string | null;
    try {
      await options.context.store.ping();
      reason = (await options.readiness?.()) ?? null;
    } catch (error) {
      reason = `store: ${(error as Error).message}`;
    }
    const degraded = reason === null ? (options.degraded?.() ?? null) : null;
    return reply.status(reason === null ? 200 : 503).send({ ok: reason === null, detail: reason ?? (degraded === null ? 'ready' : `ready; ${degraded}`) });
  });

  for (const register of adminRoutes) register(app, options.context);
  tokenRoutes(app, options.context);
  runLaunchRoutes(app, options.context);
  for (const register of options.routes ?? []) register(app, options.context);
  return app;
}
