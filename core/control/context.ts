import type { AuditEventInput } from '../audit/event.js';
import type { Subkeys } from '../crypto/master-key.js';
import type { Store } from '../store/store.js';

/** What every control-plane route needs. Built once by the server. */
export interface ControlContext {
  readonly store: Store;
  readonly subkeys: Subkeys;
  /** Never throws, never awaits storage (core/audit/audit-log.ts). */
  readonly audit: { append(input: AuditEventInput): void };
  /** The `iss` of issued tokens and of the RFC 8414 metadata. */
  readonly issuer: string;
}

/** Records an `admin.change` event: who did what to which object, before/after without secrets. */
export function recordChange(
  ctx: ControlContext,
  requestId: string,
  change: { zone: string | null; action: string; subject: string; before?: unknown; after?: unknown },
): void {
  ctx.audit.append({
    type: 'admin.change',
    zone: change.zone,
    request_id: requestId,
    decision: 'allow',
    reason: change.action,
    detail: { actor: 'admin', subject: change.subject, before: change.before ?? null, after: change.after ?? null },
  });
}
