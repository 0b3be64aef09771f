import { describe, expect, it } from 'vitest';
import { CaracalError } from '../core/errors.js';
import { defaultUpstreamLimits } from './forward.js';
import { defaultGatewayLimits } from './pipeline.js';
import { hookErrorText, limitsFromEnv } from './run-gateway.js';

describe('limitsFromEnv', () => {
  it('keeps the DESIGN.md §5 defaults when nothing is set', () => {
    expect(limitsFromEnv({})).toEqual({ request: defaultGatewayLimits, upstream: defaultUpstreamLimits });
    expect(defaultGatewayLimits).toEqual({ maxHeaderBytes: 16 * 1024, maxTokenBytes: 4096, maxBodyBytes: 10 * 1024 * 1024 });
    expect(defaultUpstreamLimits).toMatchObject({ connectTimeoutMs: 5000, headersTimeoutMs: 30_000, idleTimeoutMs: 60_000 });
  });

  it('reads each limit from its variable', () => {
    const limits = limitsFromEnv({
      CARACAL_GATEWAY_MAX_HEADER_BYTES: '8192',
      CARACAL_GATEWAY_MAX_TOKEN_BYTES: '2048',
      CARACAL_GATEWAY_MAX_BODY_BYTES: '1000',
      CARACAL_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: '250',
      CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS: '500',
      CARACAL_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS: '750',
    });
    expect(limits).toEqual({
      request: { maxHeaderBytes: 8192, maxTokenBytes: 2048, maxBodyBytes: 1000 },
      upstream: { ...defaultUpstreamLimits, connectTimeoutMs: 250, headersTimeoutMs: 500, idleTimeoutMs: 750 },
    });
  });

  it.each([
    ['CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS', 'milliseconds'],
    ['CARACAL_GATEWAY_MAX_BODY_BYTES', 'bytes'],
  ])('refuses bad values of %s with a configuration error naming the variable and its unit', (name, unit) => {
    for (const value of ['0', '-5', '1.5', 'soon', '9999999999']) {
      let caught: unknown;
      try {
        limitsFromEnv({ [name]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CaracalError);
      expect((caught as CaracalError).code).toBe('CRC_CONFIG_INVALID');
      expect((caught as CaracalError).message).toContain(name);
      expect((caught as CaracalError).message).toContain(unit);
    }
  });
});

describe('hookErrorText', () => {
  const failure = (hook: string, text: string) =>
    new CaracalError('CRC_PLUGIN_HOOK_FAILED', `plugin "keys" failed in hook ${hook}: ${text}`, { details: { plugin: 'keys', hook, elapsedMs: 1 } });

  it('never logs what an identify plugin said, which may quote the credential it was given', () => {
    const text = hookErrorText(failure('identify', 'no such key: sk_live_0123456789abcdef'));
    expect(text).not.toContain('sk_live');
    expect(text).toContain('plugin "keys" failed in hook identify');
  });

  it('masks secret-looking text in the other hooks, keeping the rest', () => {
    const text = hookErrorText(failure('prepareUpstream', 'upstream refused Bearer abcdefghijklmnop'));
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).toContain('plugin "keys" failed in hook prepareUpstream: upstream refused');
  });
});

