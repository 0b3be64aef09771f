import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, chainKey, hashEvent } from './chain.js';
import type { AuditEvent } from './event.js';

/** The definition canonicalJson must match exactly (the optimised one may never drift from it). */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

const event: Omit<AuditEvent, 'hash'> = {
  id: 'evt_01JB0000000000000000000000',
  seq: 1,
  at: '2025-01-01T00:00:00.000Z',
  zone: 'zn_a',
  request_id: 'req_1',
  type: 'gateway.request',
  app: null,
  resource: null,
  scopes: ['read'],
  decision: 'allow',
  reason: 'ok',
  category: null,
  policy: null,
  http: null,
  token: null,
  detail: { b: 1, a: [2, { d: 'x', c: null }] },
  prev_hash: GENESIS_HASH,
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves out undefined values', () => {
    expect(canonicalJson({ b: 1, a: { z: [3, { y: true, x: undefined }], c: 'é"' } })).toBe('{"a":{"c":"é\\"","z":[3,{"y":true}]},"b":1}');
  });

  it.each([
    ['undefined', undefined, 'null'],
    ['NaN', Number.NaN, 'null'],
    ['a function', () => 1, 'null'],
    ['an undefined array element', [undefined, 1], '[null,1]'],
    ['a string with a line separator', 'a\u2028b', JSON.stringify('a\u2028b')],
  ])('renders %s as JSON would', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('equals the reference definition for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('equals the reference definition for objects with undefined values and odd keys', () => {
    const value = fc.dictionary(fc.string(), fc.oneof(fc.constant(undefined), fc.jsonValue()));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 3 }), value, (array, object) => {
        expect(canonicalJson({ array, object })).toBe(reference({ array, object }));
      }),
      { numRuns: 300 },
    );
  });
});

describe('hashEvent', () => {
  it('is SHA-256 over prev_hash then the canonical JSON of the event without its hash', () => {
    const expected = createHash('sha256').update(event.prev_hash).update(reference(event)).digest('hex');
    expect(hashEvent(event)).toBe(expected);
  });

  it('does not depend on key order', () => {
    const reordered = Object.fromEntries(Object.entries(event).reverse()) as Omit<AuditEvent, 'hash'>;
    expect(hashEvent(reordered)).toBe(hashEvent(event));
  });

  it('changes when any field changes', () => {
    const base = hashEvent(event);
    for (const changed of [{ seq: 2 }, { reason: 'other' }, { detail: { b: 2 } }, { prev_hash: 'f'.repeat(64) }]) {
      expect(hashEvent({ ...event, ...changed })).not.toBe(base);
    }
  });
});

describe('chainKey', () => {
  it('is the zone, or global for zone-less events', () => {
    expect(chainKey('zn_a')).toBe('zn_a');
    expect(chainKey(null)).toBe('global');
  });
});
