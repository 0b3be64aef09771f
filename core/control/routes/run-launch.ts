import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isResourceId, normalizeResourceId } from '../../domain/ids.js';
import { authenticateClient } from '../authenticate-client.js';
import type { ControlContext } from '../context.js';

/** What `caracal run` reports about a launch: the program's name only, never its arguments. */
const launchBody = z.strictObject({
  command: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\\0]+$/, 'the command is a program name without a folder (its basename)'),
  runtime: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a runtime ID such as "env"'),
  credentials: z.array(z.string().refine(isResourceId, 'a resource ID')).max(50),
});

/**
 * `POST /oauth2/run-launch`: `caracal run` records a `run.launch` audit event in its app's zone,
 * authenticated like the token endpoint (the app's client credentials, HTTP Basic), because a
 * workload has no admin token and must not get an endpoint that writes arbitrary events. The body
 * names the program (basename only: arguments may carry secrets), the runtime and the resources
 * (recorded as `detail.resources`: the audit redactor masks any key named like `credentials`).
 * Sent with the run's X-Request-Id, so the launch and the run's token mints share a request ID.
 */
export function runLaunchRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.post('/oauth2/run-launch', async (request: FastifyRequest, reply: FastifyReply) => {
    const fail = (status: number, error: string, description: string) => {
      if (status === 401) void reply.header('www-authenticate', 'Basic realm="caracal"');
      return reply.status(status).header('cache-control', 'no-store').send({ error, error_description: description, request_id: request.id });
    };
    const address = request.ip;
    const client = await authenticateClient(ctx, { authorization: request.headers.authorization, address });
    if (!client.ok) return fail(client.status, client.error, client.message);
    const record = client.app;
    const parsed = launchBody.safeParse(request.body);
    if (!parsed.success) {
      return fail(400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    const credentials = parsed.data.credentials.map((c) => normalizeResourceId(c));
    ctx.audit.append({
      type: 'run.launch',
      zone: record.zoneId,
      app: record.id,
      request_id: request.id,
      resource: credentials.length === 1 ? (credentials[0] ?? null) : null,
      decision: 'allow',
      reason: 'ok',
      detail: { command: parsed.data.command, runtime: parsed.data.runtime, resources: credentials, address },
    });
    return reply.status(201).header('cache-control', 'no-store').send({ recorded: true, request_id: request.id });
  });
}
