import { createHash } from 'node:crypto';
import type { AuditEvent } from './event.js';

/** The `prev_hash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain an event belongs to: its zone, or `global` for zone-less events. */
export function chainKey(zone: string | null): string {
  return zone ?? 'global';
}

/** JSON with object keys sorted at every depth, so equal events hash equally everywhere. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** `SHA-256(prev_hash ‖ canonical JSON of the event without its hash)`, hex (DESIGN.md §7). */
export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  const { prev_hash: prev, ...rest } = event;
  return createHash('sha256').update(prev).update(canonicalJson({ ...rest, prev_hash: prev })).digest('hex');
}
