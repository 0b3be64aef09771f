import { describe, expect, it } from 'vitest';
import type { Revocation } from '../domain/types.js';
import { createRevocationSet } from './revocations.js';

const zoneId = 'zn_01JZONE0000000000000000000';
const app = 'app_01JAPP00000000000000000000';
const T = Date.parse('2030-06-01T12:00:00.000Z');

function revocation(kind: Revocation['kind'], value: string, notBeforeMs = T): Revocation {
  return {
    kind,
    value,
    zoneId,
    reason: 'test',
    createdAt: new Date(notBeforeMs).toISOString(),
    notBefore: new Date(notBeforeMs).toISOString(),
    expiresAt: new Date(notBeforeMs + 3600_000).toISOString(),
  };
}

const token = (jti: string, iatMs: number, clientId = app) => ({ jti, client_id: clientId, iat: Math.floor(iatMs / 1000) });

describe('createRevocationSet', () => {
  it('refuses nothing while empty', () => {
    const set = createRevocationSet();
    expect(set.isRevoked(token('tok_1', T))).toBe(false);
    expect(set.size).toBe(0);
  });

  it('revokes a token by its jti, and only that token', () => {
    const set = createRevocationSet();
    const entry = revocation('jti', 'tok_1');
    set.load([entry]);
    expect(set.isRevoked(token('tok_1', T))).toBe(true);
    expect(set.find(token('tok_1', T))).toBe(entry);
    expect(set.isRevoked(token('tok_2', T))).toBe(false);
  });

  it.each([
    ['issued a minute before the revocation', T - 60_000, true],
    ['issued in the same second, before it', T - 300, true],
    ['issued in the same second, after it (iat has one-second resolution)', T + 400, true],
    ['issued a second after the revocation', T + 1000, false],
    ['issued an hour later', T + 3600_000, false],
  ])('app kill switch: a token %s is revoked: %s', (_name, iatMs, revoked) => {
    const set = createRevocationSet();
    set.load([revocation('app', app, T + 500)]);
    expect(set.isRevoked(token('tok_x', iatMs))).toBe(revoked);
  });

  it("leaves other apps' tokens alone", () => {
    const set = createRevocationSet();
    set.load([revocation('app', app)]);
    expect(set.isRevoked(token('tok_x', T - 60_000, 'app_01JOTHER000000000000000000'))).toBe(false);
  });

  it('uses the latest cut-off when an app was revoked twice', () => {
    const set = createRevocationSet();
    set.load([revocation('app', app, T + 60_000), revocation('app', app, T)]);
    expect(set.isRevoked(token('tok_x', T + 30_000))).toBe(true);
  });

  it('replaces its content on every load', () => {
    const set = createRevocationSet();
    set.load([revocation('jti', 'tok_1'), revocation('app', app)]);
    expect(set.size).toBe(2);
    set.load([revocation('jti', 'tok_2')]);
    expect(set.isRevoked(token('tok_1', T))).toBe(false);
    expect(set.isRevoked(token('tok_x', T - 1000))).toBe(false);
    expect(set.isRevoked(token('tok_2', T))).toBe(true);
    expect(set.size).toBe(1);
  });

  it('revokes every token of an app whose cut-off cannot be read (fail closed)', () => {
    const set = createRevocationSet();
    set.load([{ ...revocation('app', app), notBefore: 'not a date' }]);
    expect(set.isRevoked(token('tok_x', T + 3600_000))).toBe(true);
  });

  it('answers from a map of 100,000 entries', () => {
    const set = createRevocationSet();
    set.load(Array.from({ length: 100_000 }, (_, i) => revocation('jti', `tok_${i}`)));
    expect(set.isRevoked(token('tok_99999', T))).toBe(true);
    expect(set.isRevoked(token('tok_100000', T))).toBe(false);
  });
});
