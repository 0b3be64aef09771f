import { describe, expect, it } from 'vitest';
import { CaracalError } from '../core/errors.js';
import { defaultUpstreamLimits } from './forward.js';
import { upstreamLimitsFromEnv } from './run-gateway.js';

describe('upstreamLimitsFromEnv', () => {
  it('keeps the DESIGN.md §5 defaults when nothing is set', () => {
    expect(upstreamLimitsFromEnv({})).toEqual(defaultUpstreamLimits);
    expect(defaultUpstreamLimits).toMatchObject({ connectTimeoutMs: 5000, headersTimeoutMs: 30_000, idleTimeoutMs: 60_000 });
  });

  it('reads each timeout from its variable', () => {
    const limits = upstreamLimitsFromEnv({
      CARACAL_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: '250',
      CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS: '500',
      CARACAL_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS: '750',
    });
    expect(limits).toEqual({ ...defaultUpstreamLimits, connectTimeoutMs: 250, headersTimeoutMs: 500, idleTimeoutMs: 750 });
  });

  it.each(['0', '-5', '1.5', 'soon', '9999999999'])('refuses %j with a configuration error naming the variable', (value) => {
    let caught: unknown;
    try {
      upstreamLimitsFromEnv({ CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CaracalError);
    expect((caught as CaracalError).code).toBe('CRC_CONFIG_INVALID');
    expect((caught as CaracalError).message).toContain('CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS');
  });
});
