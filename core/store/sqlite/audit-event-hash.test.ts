import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditEventTypes } from '../../audit/event.js';
import type { AuditEvent } from '../../audit/event.js';
import { canonicalJson, GENESIS_HASH, hashEvent } from '../../audit/chain.js';
import { auditEventHash, storedEventJson } from './audit-event-hash.js';

/** The ledger's hash of an event (core/store/sqlite/sqlite-audit-ledger.ts: detail comes as its canonical JSON). */
const hashOf = (event: Omit<AuditEvent, 'hash'>) => auditEventHash(event.prev_hash, storedEventJson(event, canonicalJson(event.detail)));

const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const number = fc.oneof(fc.integer(), fc.double(), fc.constant(Number.NaN));

const CROCKFORD = [...'0123456789ABCDEFGHJKMNPQRSTVWXYZ'];

/** Events as the ledger makes them (its own IDs and times), with anything a producer may send in the rest. */
const eventArb: fc.Arbitrary<Omit<AuditEvent, 'hash'>> = fc.record({
  id: fc.array(fc.constantFrom(...CROCKFORD), { minLength: 26, maxLength: 26 }).map((chars) => `evt_${chars.join('')}`),
  seq: fc.nat(),
  at: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  zone: nullable(fc.string()),
  request_id: fc.string({ unit: 'grapheme' }),
  type: fc.constantFrom(...auditEventTypes),
  app: nullable(fc.string()),
  resource: nullable(fc.string()),
  scopes: fc.array(fc.string({ unit: 'binary' })),
  decision: fc.constantFrom('allow', 'deny', 'error'),
  reason: fc.string(),
  category: fc.constantFrom(null, 'runtime_config', 'policy', 'resource_routing', 'upstream'),
  policy: nullable(
    fc.record({
      set_id: nullable(fc.string()),
      set_version: nullable(fc.integer()),
      versions: fc.array(fc.string()),
      rules: fc.array(fc.string()),
    }),
  ),
  http: nullable(
    fc.record({
      method: fc.string(),
      path: fc.string({ unit: 'binary' }),
      status: nullable(number),
      upstream_status: nullable(number),
      latency_ms: nullable(number),
    }),
  ),
  token: nullable(fc.record({ jti: fc.string(), exp: number })),
  detail: fc.dictionary(fc.string(), fc.jsonValue()),
  prev_hash: fc.oneof(fc.constant(GENESIS_HASH), fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))),
});

describe('auditEventHash of storedEventJson (the ledger\'s hash)', () => {
  it('equals hashEvent of core/audit/chain.ts for any event', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        expect(hashOf(event)).toBe(hashEvent(event));
      }),
      { numRuns: 500 },
    );
  });

  it('changes when any field changes', () => {
    const base: Omit<AuditEvent, 'hash'> = {
      id: 'evt_1', seq: 1, at: '2030-01-01T00:00:00.000Z', zone: 'zn_1', request_id: 'req_1', type: 'gateway.request',
      app: null, resource: null, scopes: [], decision: 'allow', reason: 'ok', category: null, policy: null, http: null,
      token: null, detail: {}, prev_hash: GENESIS_HASH,
    };
    const variants: Partial<Omit<AuditEvent, 'hash'>>[] = [
      { id: 'evt_2' }, { seq: 2 }, { at: '2030-01-01T00:00:00.001Z' }, { zone: null }, { request_id: 'req_2' },
      { type: 'token.issued' }, { app: 'app_1' }, { resource: 'resource://x' }, { scopes: ['a'] }, { decision: 'deny' },
      { reason: 'no' }, { category: 'policy' }, { detail: { a: 1 } }, { prev_hash: 'f'.repeat(64) },
      { token: { jti: 't', exp: 1 } },
    ];
    const hashes = new Set([hashOf(base), ...variants.map((v) => hashOf({ ...base, ...v }))]);
    expect(hashes.size).toBe(variants.length + 1);
  });
});
