import type { ServerResponse } from 'node:http';
import type { Category } from '../core/audit/event.js';
import { refusals, type RefusalReason } from './refusals.js';

/** The JSON error body of a Gateway refusal (DESIGN.md §5). */
export interface GatewayErrorBody {
  readonly error: string;
  readonly reason: string;
  readonly message: string;
  readonly request_id: string;
  readonly category: Category;
  readonly hint: string;
}

/**
 * Sends a refusal: JSON body, `X-Request-Id`, and `WWW-Authenticate` where RFC 6750 §3 asks for
 * it (401 → invalid_token; 403 insufficient_scope). `message` may be specialised (e.g. the policy's
 * own sentence) but never carries a token or a secret.
 */
export function sendRefusal(res: ServerResponse, reason: RefusalReason, requestId: string, message?: string): number {
  const refusal = refusals[reason];
  const body: GatewayErrorBody = {
    error: refusal.error,
    reason,
    message: message ?? refusal.message,
    request_id: requestId,
    category: refusal.category,
    hint: refusal.hint,
  };
  const payload = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    'cache-control': 'no-store',
  };
  if (refusal.status === 401) {
    headers['www-authenticate'] =
      reason === 'token_missing' ? 'Bearer realm="caracal"' : 'Bearer realm="caracal", error="invalid_token"';
  } else if (refusal.error === 'insufficient_scope') {
    headers['www-authenticate'] = 'Bearer realm="caracal", error="insufficient_scope"';
  }
  if (!res.headersSent) res.writeHead(refusal.status, headers);
  res.end(payload);
  return refusal.status;
}
