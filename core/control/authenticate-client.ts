import { verifySecret } from '../crypto/secrets.js';
import type { App } from '../domain/types.js';
import { parseClientCredentials, type ClientAuthMethod, type FormBody } from '../token/client-auth.js';
import type { ControlContext } from './context.js';

/** A refused client authentication: the RFC 6749 error to answer with and the facts to audit. */
export interface ClientAuthRefusal {
  readonly ok: false;
  readonly status: number;
  readonly error: string;
  /** Stable audit reason (`invalid_client`, `rate_limited`, `app_disabled`, …). */
  readonly reason: string;
  readonly message: string;
  readonly zone: string | null;
  readonly app: string | null;
}

export type ClientAuthOutcome = { readonly ok: true; readonly app: App; readonly method: ClientAuthMethod } | ClientAuthRefusal;

/**
 * Authenticates an app by its client credentials (HTTP Basic, or the form body where allowed),
 * for every endpoint a workload calls (token, run-launch). One brake, on the context, counts the
 * failures of all of them, so no endpoint is a second guessing oracle.
 */
export async function authenticateClient(
  ctx: ControlContext,
  input: { readonly authorization: string | undefined; readonly body?: FormBody; readonly address: string },
): Promise<ClientAuthOutcome> {
  const refuse = (status: number, error: string, reason: string, message: string, zone: string | null = null, app: string | null = null): ClientAuthRefusal => ({
    ok: false,
    status,
    error,
    reason,
    message,
    zone,
    app,
  });
  const client = parseClientCredentials({ authorization: input.authorization, body: input.body });
  if (!client.ok) return refuse(client.status, client.error, client.error, client.message);
  const limit = ctx.clientBrake.check(client.clientId, input.address);
  if (!limit.allowed) {
    return refuse(429, 'invalid_client', 'rate_limited', `too many failed attempts; retry in ${limit.retryAfterSeconds} s`, null, client.clientId.slice(0, 64));
  }
  const record = await ctx.store.getAppById(client.clientId);
  if (record === undefined || !verifySecret(client.clientSecret, record.secretHash, ctx.subkeys.secretHash)) {
    ctx.clientBrake.recordFailure(client.clientId, input.address);
    return refuse(401, 'invalid_client', 'invalid_client', 'client authentication failed: unknown client or wrong secret', record?.zoneId ?? null, record?.id ?? null);
  }
  if (record.disabled) return refuse(400, 'unauthorized_client', 'app_disabled', `app ${record.id} is disabled`, record.zoneId, record.id);
  return { ok: true, app: record, method: client.method };
}
