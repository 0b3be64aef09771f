import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * How long the unread body of a refused request is still read and discarded, so that a client
 * still uploading gets the answer instead of a reset ("lingering close"): Node destroys the socket
 * as soon as a closing response is written, and the client's next write then fails with EPIPE
 * before it ever reads the 413.
 */
export const LINGER_MS = 2000;

/**
 * Sends a refusal: JSON body, `X-Request-Id`, and `WWW-Authenticate` where RFC 6750 §3 asks for
 * it (401 → invalid_token; 403 insufficient_scope). `message` and `hint` may be specialised (e.g.
 * the policy's own sentence, a "did you mean") but never carry a token or a secret.
 */
export function sendRefusal(res: ServerResponse, reason: RefusalReason, requestId: string, message?: string, req?: IncomingMessage, hint?: string): number {
  const refusal = refusals[reason];
  const body: GatewayErrorBody = {
    error: refusal.error,
    reason,
    message: message ?? refusal.message,
    request_id: requestId,
    category: refusal.category,
    hint: hint ?? refusal.hint,
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
  const unread = req !== undefined && !req.complete && !req.destroyed;
  // The connection cannot be reused while an unread body is on it: close after this answer.
  if (unread) res.shouldKeepAlive = false;
  if (!res.headersSent) res.writeHead(refusal.status, headers);
  if (unread) {
    res.write(payload);
    linger(req, res);
  } else {
    res.end(payload);
  }
  return refusal.status;
}

/** Discards the rest of the request body (up to LINGER_MS), then ends the response and so the connection. */
function linger(req: IncomingMessage, res: ServerResponse): void {
  const end = () => {
    clearTimeout(timer);
    req.off('end', end);
    req.off('error', end);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(end, LINGER_MS);
  timer.unref();
  req.on('end', end);
  req.on('error', end);
  req.resume();
}
