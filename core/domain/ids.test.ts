import { describe, expect, it } from 'vitest';
import { isId, newId, ulid } from './ids.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const decode = (text: string): bigint => [...text].reduce((value, char) => value * 32n + BigInt(CROCKFORD.indexOf(char)), 0n);

describe('ulid', () => {
  it('encodes the millisecond in its first ten characters and 80 bits after them', () => {
    const now = Date.now() + 10_000;
    const id = ulid(now);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(Number(decode(id.slice(0, 10)))).toBe(now);
  });

  it('counts up by one within a millisecond and stays sorted when the clock goes back', () => {
    const now = Date.now() + 20_000;
    const ids = [ulid(now), ulid(now), ulid(now), ulid(now - 5)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i]?.slice(0, 10)).toBe(ids[0]?.slice(0, 10));
      expect(decode(ids[i]?.slice(10) ?? '') - decode(ids[i - 1]?.slice(10) ?? '')).toBe(1n);
    }
  });

  it('draws fresh random bits for every new millisecond (past one 4 KiB draw from the CSPRNG)', () => {
    const now = Date.now() + 30_000;
    const ids = Array.from({ length: 1000 }, (_, i) => ulid(now + i));
    expect([...ids].sort()).toEqual(ids);
    const randoms = ids.map((id) => decode(id.slice(10)));
    expect(new Set(randoms).size).toBe(randoms.length);
    // Not a counter carried across milliseconds: neighbours differ by far more than one.
    const close = randoms.slice(1).filter((r, i) => (r > (randoms[i] ?? 0n) ? r - (randoms[i] ?? 0n) : (randoms[i] ?? 0n) - r) < 1n << 40n);
    expect(close).toEqual([]);
  });

  it('makes prefixed IDs that isId accepts', () => {
    const id = newId('event');
    expect(id.startsWith('evt_')).toBe(true);
    expect(isId('event', id)).toBe(true);
    expect(isId('request', id)).toBe(false);
  });
});
