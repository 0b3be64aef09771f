import type { AuditSigningKey } from '../audit/checkpoint-key.js';
import type { AuditEventInput } from '../audit/event.js';
import type { SinkStatus } from '../audit/service-audit.js';
import type { Subkeys } from '../crypto/master-key.js';
import { createPolicyService, type PolicyService } from '../policy/policy-service.js';
import type { Store } from '../store/store.js';
import { createAuthRateLimiter, type AuthRateLimiter } from '../token/client-auth.js';
import { createKeyManager, type KeyManager } from '../token/keys.js';
import { createControlMetrics, type ControlMetrics } from './metrics.js';

/** What the caller provides; the services built on it are added by createControlContext. */
export interface ControlBase {
  readonly store: Store;
  readonly subkeys: Subkeys;
  /** Never throws, never awaits storage (core/audit/audit-log.ts). */
  readonly audit: { append(input: AuditEventInput): void };
  /** The `iss` of issued tokens and of the RFC 8414 metadata. */
  readonly issuer: string;
  /** The installation's audit key: signs the heads of `GET /v1/audit/export` (absent: exports carry no signed head). */
  readonly auditKey?: AuditSigningKey;
  /** The configured audit sinks' status (`GET /v1/audit/sinks`, `/readyz` detail). */
  readonly auditSinks?: () => readonly SinkStatus[];
}

/** What every control-plane route needs: the base plus the one policy service and key manager. */
export interface ControlContext extends ControlBase {
  /** Shared by every route group, so compiled policy sets are cached once. */
  readonly policy: PolicyService;
  /** Shared by the token service and key rotation, so a rotation is seen at once by the minting path. */
  readonly keys: KeyManager;
  readonly metrics: ControlMetrics;
  /** Failed client authentications, shared by every endpoint that authenticates apps. */
  readonly clientBrake: AuthRateLimiter;
}

/** Adds the policy service and the key manager to a base (keeping its getters, e.g. a late-bound issuer). */
export function createControlContext(base: ControlBase): ControlContext {
  return Object.defineProperties(base, {
    policy: { value: createPolicyService(base.store), enumerable: true },
    keys: { value: createKeyManager({ store: base.store, sealKey: base.subkeys.seal }), enumerable: true },
    metrics: { value: createControlMetrics(), enumerable: true },
    clientBrake: { value: createAuthRateLimiter(), enumerable: true },
  }) as ControlContext;
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
