import type { Category } from '../core/audit/event.js';

/** The JSON body of a Gateway refusal (DESIGN.md §5). */
export interface GatewayRefusalBody {
  readonly error: string;
  readonly reason?: string;
  readonly message: string;
  readonly request_id: string;
  readonly category: Category;
  readonly hint: string;
}

/**
 * The Gateway refused a call (a token, routing, policy or upstream problem), as opposed to the
 * upstream answering with an error of its own, which `caracal.fetch` returns like fetch does.
 * `requestId` is what `caracal explain` takes.
 */
export class CaracalGatewayError extends Error {
  override readonly name = 'CaracalGatewayError';
  /** The HTTP status of the refusal (401, 403, 404, 400, 413, 431, 502, 504). */
  readonly status: number;
  /** The Gateway's error code (`invalid_token`, `insufficient_scope`, `upstream_unreachable`, …). */
  readonly code: string;
  /** The stable reason recorded in the audit ledger (`token_expired`, `policy_denied`, …). */
  readonly reason: string;
  readonly requestId: string;
  /** What to fix: `runtime_config`, `policy`, `resource_routing` or `upstream`. */
  readonly category: Category;
  readonly hint: string;

  constructor(status: number, body: GatewayRefusalBody) {
    super(`${body.message} (${body.error}, request ${body.request_id})`);
    this.status = status;
    this.code = body.error;
    this.reason = body.reason ?? body.error;
    this.requestId = body.request_id;
    this.category = body.category;
    this.hint = body.hint;
  }
}

const CATEGORIES = new Set(['runtime_config', 'policy', 'resource_routing', 'upstream']);

/** Whether a parsed body is a Gateway refusal (and not an upstream's own JSON error). */
export function isGatewayRefusal(body: unknown): body is GatewayRefusalBody {
  if (body === null || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  return typeof b.error === 'string' && typeof b.message === 'string' && typeof b.request_id === 'string' && typeof b.hint === 'string' && CATEGORIES.has(b.category as string);
}
