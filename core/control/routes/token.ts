import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEventInput } from '../../audit/event.js';
import { reasonInfo } from '../../audit/explain-reasons.js';
import { isResourceId, normalizeResourceId } from '../../domain/ids.js';
import type { FormBody } from '../../token/client-auth.js';
import { authenticateClient } from '../authenticate-client.js';
import { mintAccessToken } from '../../token/mint.js';
import type { ControlContext } from '../context.js';

const FORM = 'application/x-www-form-urlencoded';
const MAX_FORM_BYTES = 16 * 1024;

/** An RFC 6749 §5.2 error, always with the request ID. */
interface TokenError {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  /** Stable reason recorded in the audit event. */
  readonly reason: string;
}

/** The RFC 6749 §5.1 success body. */
interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

const fail = (status: number, error: string, reason: string, description: string): TokenError => ({ status, error, reason, description });

/** Parses a form body keeping repeated parameters as arrays (so duplicates can be refused). */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/**
 * The token service (DESIGN.md §4): `POST /oauth2/token` with the client credentials grant, one
 * RFC 8707 `resource` per token, scopes granted only by the zone's active policy set; plus the
 * JWKS and the RFC 8414 metadata. Every mint, allowed or denied, is an audit event.
 */
export function tokenRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { policy, keys } = ctx;

  app.register((scope, _opts, done) => {
    scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_req, body, next) => {
      next(null, parseForm(body as string));
    });
    scope.post('/oauth2/token', async (request, reply) => {
      const outcome = await mint(request);
      ctx.metrics.mint('access_token' in outcome ? 'issued' : outcome.error);
      if (!('access_token' in outcome)) return sendError(request, reply, outcome);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(outcome);
    });
    done();
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => reply.header('cache-control', 'max-age=60').send(await keys.jwks()));
  app.get('/.well-known/oauth-authorization-server', () => ({
    issuer: ctx.issuer,
    token_endpoint: `${ctx.issuer}/oauth2/token`,
    jwks_uri: `${ctx.issuer}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: ['token'],
    // RFC 9068 access tokens; RFC 8707 resource indicators are required (one per token).
    access_token_signing_alg_values_supported: ['ES256'],
  }));

  function sendError(request: FastifyRequest, reply: FastifyReply, error: TokenError) {
    if (error.status === 401) void reply.header('www-authenticate', 'Basic realm="caracal"');
    return reply
      .status(error.status)
      .header('cache-control', 'no-store')
      .send({ error: error.error, error_description: error.description, request_id: request.id });
  }

  async function mint(request: FastifyRequest): Promise<TokenError | TokenResponse> {
    const address = request.ip;
    const denied = (error: TokenError, facts: Partial<AuditEventInput> = {}): TokenError => {
      ctx.audit.append({
        type: 'token.denied',
        zone: null,
        request_id: request.id,
        decision: 'deny',
        reason: error.reason,
        // One catalog decides the category, so `audit list` and `explain` always agree.
        category: reasonInfo('token.denied', error.reason)?.category ?? 'policy',
        detail: { error: error.error, description: error.description, address },
        ...facts,
      });
      return error;
    };
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== FORM || typeof request.body !== 'object' || request.body === null) {
      return denied(fail(400, 'invalid_request', 'invalid_request', `the token request must be ${FORM}`));
    }
    const body = request.body as FormBody;
    const client = await authenticateClient(ctx, { authorization: request.headers.authorization, body, address });
    if (!client.ok) return denied(fail(client.status, client.error, client.reason, client.message), { zone: client.zone, app: client.app });
    const appRecord = client.app;
    const facts = { zone: appRecord.zoneId, app: appRecord.id };

    const grant = single(body.grant_type);
    if (grant === null || grant === undefined) return denied(fail(400, 'invalid_request', 'invalid_request', 'grant_type is required, exactly once'), facts);
    if (grant !== 'client_credentials') {
      return denied(fail(400, 'unsupported_grant_type', 'unsupported_grant_type', 'only grant_type=client_credentials is supported'), facts);
    }
    const resources = body.resource === undefined ? [] : typeof body.resource === 'string' ? [body.resource] : body.resource;
    if (resources.length !== 1) {
      const why = resources.length === 0 ? 'resource is required (RFC 8707): name the one resource the token is for' : 'one resource per token: request a separate token for each resource';
      return denied(fail(400, 'invalid_target', 'invalid_target', why), facts);
    }
    const rawResource = resources[0] as string;
    if (!isResourceId(rawResource)) return denied(fail(400, 'invalid_target', 'invalid_target', 'resource must be resource://<slug> or a bare slug'), facts);
    const resourceId = normalizeResourceId(rawResource);
    const resource = await ctx.store.getResource(appRecord.zoneId, resourceId);
    if (resource === undefined) {
      return denied(fail(400, 'invalid_target', 'resource_unknown', `resource ${resourceId} does not exist in zone ${appRecord.zoneId}`), { ...facts, resource: resourceId });
    }
    const withResource = { ...facts, resource: resourceId };

    const scopeParam = single(body.scope);
    if (scopeParam === null) return denied(fail(400, 'invalid_request', 'invalid_request', 'scope may appear only once'), withResource);
    const matcher = await policy.loadActiveMatcher(appRecord.zoneId);
    const requested =
      scopeParam === undefined
        ? resource.scopes.filter((s) => matcher.grantableScopes(appRecord.id, resourceId).some((g) => g === '*' || g === s))
        : [...new Set(scopeParam.split(' ').filter((s) => s !== ''))];
    if (requested.length === 0) {
      return denied(fail(400, 'invalid_scope', 'scope_not_granted', 'no scope requested and the policy grants none by default'), withResource);
    }
    const unknown = requested.filter((s) => !resource.scopes.includes(s));
    if (unknown.length > 0) {
      return denied(fail(400, 'invalid_scope', 'scope_unknown', `resource ${resourceId} has no scope ${unknown.join(', ')}; it defines: ${resource.scopes.join(' ')}`), {
        ...withResource,
        scopes: requested,
      });
    }
    const decision = matcher.decideMint({ app: appRecord.id, resource: resourceId, scopes: requested });
    const policyRef = { set_id: decision.policySetId, set_version: decision.policySetVersion, versions: decision.policies, rules: decision.rules };
    if (decision.effect === 'deny') {
      return denied(fail(400, 'invalid_scope', decision.reason ?? 'scope_not_granted', decision.diagnosis?.summary ?? 'the policy does not grant these scopes'), {
        ...withResource,
        scopes: requested,
        policy: policyRef,
        ...(decision.diagnosis ? { detail: { diagnosis: decision.diagnosis, address } } : {}),
      });
    }
    const key = await keys.activeKey(appRecord.zoneId);
    const token = mintAccessToken({ key, issuer: ctx.issuer, app: appRecord.id, zoneId: appRecord.zoneId, resource: resourceId, scopes: requested });
    ctx.audit.append({
      type: 'token.issued',
      request_id: request.id,
      ...withResource,
      scopes: requested,
      decision: 'allow',
      reason: 'ok',
      policy: policyRef,
      token: { jti: token.jti, exp: token.exp },
      detail: { kid: key.kid, method: client.method },
    });
    return { access_token: token.token, token_type: 'Bearer', expires_in: token.exp - token.iat, scope: requested.join(' ') };
  }
}

/** The one value of a form parameter: undefined when absent, null when repeated. */
function single(value: string | readonly string[] | undefined): string | undefined | null {
  if (value === undefined || typeof value === 'string') return value;
  return null;
}
