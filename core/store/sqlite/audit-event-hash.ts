import { hash } from 'node:crypto';
import type { AuditEvent, AuditHttp } from '../../audit/event.js';
import { canonicalJson } from '../../audit/chain.js';

/**
 * `hashEvent` of core/audit/chain.ts, specialised for the fixed shape of an AuditEvent: the
 * canonical JSON is written with the keys already in sorted order, the object and list parts come
 * precomputed (the ledger stores the same strings in a row's body), and the digest is
 * one-shot. The result is identical to hashEvent — a property test holds them equal — at a
 * fraction of the cost, which the ledger's ≥50,000 events/s needs.
 */
export function auditEventHash(event: Omit<AuditEvent, 'hash'>, parts: EventJsonParts = eventJsonParts(event)): string {
  const s = JSON.stringify;
  const token = event.token;
  const canonical =
    `{"app":${s(event.app)},"at":${s(event.at)},"category":${s(event.category)},"decision":${s(event.decision)}` +
    `,"detail":${parts.detail}` +
    `,"http":${parts.http}` +
    `,"id":${s(event.id)},"policy":${parts.policy}` +
    `,"prev_hash":${s(event.prev_hash)},"reason":${s(event.reason)},"request_id":${s(event.request_id)}` +
    `,"resource":${s(event.resource)},"scopes":${parts.scopes},"seq":${s(event.seq)}` +
    `,"token":${token === null ? 'null' : `{"exp":${s(token.exp)},"jti":${s(token.jti)}}`}` +
    `,"type":${s(event.type)},"zone":${s(event.zone)}}`;
  return hash('sha256', event.prev_hash + canonical, 'hex');
}

/** The canonical JSON of an event's object and list fields, as the ledger stores them in a row's body. */
export interface EventJsonParts {
  readonly scopes: string;
  readonly policy: string;
  readonly detail: string;
  readonly http: string;
}

/** Computes an event's EventJsonParts (the ledger builds them more cheaply for its own events). */
export function eventJsonParts(event: Omit<AuditEvent, 'hash'>): EventJsonParts {
  return {
    scopes: canonicalJson(event.scopes),
    policy: canonicalJson(event.policy),
    detail: canonicalJson(event.detail),
    http: httpJson(event.http),
  };
}

/** canonicalJson of an event's `http` (its five fields, written in sorted order). */
export function httpJson(http: AuditHttp | null): string {
  if (http === null) return 'null';
  const s = JSON.stringify;
  return (
    `{"latency_ms":${s(http.latency_ms)},"method":${s(http.method)},"path":${s(http.path)}` +
    `,"status":${s(http.status)},"upstream_status":${s(http.upstream_status)}}`
  );
}
