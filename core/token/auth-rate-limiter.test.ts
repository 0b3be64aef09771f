import { describe, expect, it } from 'vitest';
import { createAuthRateLimiter } from './client-auth.js';

const T = 1_900_000_000_000;

function limiter(max = 3, windowMs = 60_000, maxKeys?: number) {
  const clock = { now: T };
  const limit = createAuthRateLimiter({ maxFailures: max, windowMs, now: () => clock.now, ...(maxKeys === undefined ? {} : { maxKeys }) });
  return { clock, limit };
}

describe('createAuthRateLimiter', () => {
  it('allows attempts until a client ID reaches maxFailures, then says when to retry', () => {
    const { clock, limit } = limiter(3);
    for (let i = 0; i < 3; i++) {
      expect(limit.check('app_a', `10.0.0.${i}`)).toEqual({ allowed: true });
      limit.recordFailure('app_a', `10.0.0.${i}`);
      clock.now += 1000;
    }
    // Failures at T, T+1s, T+2s; now T+3s: the oldest leaves the window at T+60s.
    expect(limit.check('app_a', '10.0.0.9')).toEqual({ allowed: false, retryAfterSeconds: 57 });
    expect(limit.check('app_b', '10.0.0.9')).toEqual({ allowed: true });
  });

  it('limits an address across client IDs', () => {
    const { limit } = limiter(3);
    for (const clientId of ['app_a', 'app_b', 'app_c']) limit.recordFailure(clientId, '192.0.2.1');
    expect(limit.check('app_d', '192.0.2.1')).toMatchObject({ allowed: false });
    expect(limit.check('app_d', '192.0.2.2')).toEqual({ allowed: true });
  });

  it('slides: each failure leaving the window frees one attempt', () => {
    const { clock, limit } = limiter(2, 10_000);
    limit.recordFailure('app_a', 'x');
    clock.now += 4000;
    limit.recordFailure('app_a', 'y');
    expect(limit.check('app_a', 'z')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    clock.now = T + 10_000;
    expect(limit.check('app_a', 'z')).toEqual({ allowed: true });
    limit.recordFailure('app_a', 'z');
    expect(limit.check('app_a', 'z')).toEqual({ allowed: false, retryAfterSeconds: 4 });
    clock.now = T + 30_000;
    expect(limit.check('app_a', 'z')).toEqual({ allowed: true });
    expect(limit.size).toBe(0);
  });

  it('rounds Retry-After up to at least one second', () => {
    const { clock, limit } = limiter(1, 60_000);
    limit.recordFailure('app_a', 'x');
    clock.now += 59_999;
    expect(limit.check('app_a', 'x')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('tracks a bounded number of keys, dropping the stalest', () => {
    const { clock, limit } = limiter(1, 60_000, 10);
    for (let i = 0; i < 50; i++) {
      limit.recordFailure(`app_${i}`, `addr_${i}`);
      clock.now += 1;
    }
    expect(limit.size).toBeLessThanOrEqual(10);
    expect(limit.check('app_49', 'other')).toMatchObject({ allowed: false });
    expect(limit.check('app_0', 'other')).toEqual({ allowed: true });
  });

  it('uses the defaults of 10 failures per 60 s', () => {
    const clock = { now: T };
    const limit = createAuthRateLimiter({ now: () => clock.now });
    for (let i = 0; i < 9; i++) limit.recordFailure('app_a', 'x');
    expect(limit.check('app_a', 'x').allowed).toBe(true);
    limit.recordFailure('app_a', 'x');
    expect(limit.check('app_a', 'x')).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });
});
