/** The audit event (DESIGN.md §7): one shape for every sink, hash-chained per zone in the ledger. */

export const auditEventTypes = [
  'token.issued',
  'token.denied',
  'gateway.request',
  'admin.change',
  'run.launch',
  'audit.checkpoint',
] as const;
export type AuditEventType = (typeof auditEventTypes)[number];

export type Decision = 'allow' | 'deny' | 'error';
export type Category = 'runtime_config' | 'policy' | 'resource_routing' | 'upstream';

export interface AuditPolicyRef {
  readonly set_id: string | null;
  readonly set_version: number | null;
  /** `pol_…@3` for each policy version involved. */
  readonly versions: readonly string[];
  readonly rules: readonly string[];
}

export interface AuditHttp {
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  readonly status: number | null;
  readonly upstream_status: number | null;
  readonly latency_ms: number | null;
}

export interface AuditToken {
  readonly jti: string;
  readonly exp: number;
}

/** What a producer hands to the audit log: everything but the chain fields. */
export interface AuditEventInput {
  readonly type: AuditEventType;
  /** Zone ID, or null for events that belong to no zone (e.g. an unknown client). */
  readonly zone: string | null;
  readonly request_id: string;
  readonly at?: string;
  readonly app?: string | null;
  readonly resource?: string | null;
  readonly scopes?: readonly string[];
  readonly decision: Decision;
  /** Stable reason code (`ok`, `scope_not_granted`, `token_expired`, …). */
  readonly reason: string;
  readonly category?: Category | null;
  readonly policy?: AuditPolicyRef | null;
  readonly http?: AuditHttp | null;
  readonly token?: AuditToken | null;
  /** Free-form context; redacted before any sink sees it. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A recorded event, with its place in the zone's hash chain. */
export interface AuditEvent {
  readonly id: string;
  /** Position in the zone's chain, from 1. */
  readonly seq: number;
  readonly at: string;
  readonly zone: string | null;
  readonly request_id: string;
  readonly type: AuditEventType;
  readonly app: string | null;
  readonly resource: string | null;
  readonly scopes: readonly string[];
  readonly decision: Decision;
  readonly reason: string;
  readonly category: Category | null;
  readonly policy: AuditPolicyRef | null;
  readonly http: AuditHttp | null;
  readonly token: AuditToken | null;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly prev_hash: string;
  readonly hash: string;
}

/** Filters for querying the ledger (all optional; newest first). */
export interface AuditQuery {
  readonly zone?: string;
  readonly type?: AuditEventType;
  readonly decision?: Decision;
  readonly app?: string;
  readonly resource?: string;
  readonly requestId?: string;
  readonly jti?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
}
