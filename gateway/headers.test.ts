import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptRequestId } from '../core/domain/request-id.js';
import { clientResponseHeaders, isStrippedRequestHeader, upstreamRequestHeaders } from './headers.js';

const facts = { requestId: 'req_1', clientIp: '127.0.0.1', proto: 'http', host: 'gw.local:4701' } as const;

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

describe('upstreamRequestHeaders', () => {
  it.each([
    'Authorization',
    'X-Caracal-Resource',
    'x-caracal-anything',
    'Connection',
    'Keep-Alive',
    'TE',
    'Trailer',
    'Transfer-Encoding',
    'Upgrade',
    'Proxy-Authorization',
    'Proxy-Connection',
    'Forwarded',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'X-Real-IP',
    'Host',
    'Expect',
  ])('never forwards %s', (name) => {
    const out = pairs(upstreamRequestHeaders([name, 'spoofed', 'Accept', 'application/json'], facts));
    expect(out.filter(([n, v]) => n === name && v === 'spoofed')).toEqual([]);
    expect(out).toContainEqual(['Accept', 'application/json']);
  });

  it('drops headers named in Connection', () => {
    const out = pairs(upstreamRequestHeaders(['Connection', 'close, X-Secret-Hop', 'X-Secret-Hop', 'v', 'X-Keep', 'k'], facts));
    expect(out.map(([n]) => n)).not.toContain('X-Secret-Hop');
    expect(out).toContainEqual(['X-Keep', 'k']);
  });

  it('sets forwarding headers and the request ID fresh', () => {
    const out = pairs(upstreamRequestHeaders(['X-Request-Id', 'client-chosen', 'X-Forwarded-For', '6.6.6.6'], facts));
    expect(out).toEqual([
      ['x-forwarded-for', '127.0.0.1'],
      ['x-forwarded-proto', 'http'],
      ['x-request-id', 'req_1'],
      ['x-forwarded-host', 'gw.local:4701'],
    ]);
  });

  it('never forwards a Caracal credential header, whatever the header set (property)', () => {
    const name = fc.oneof(
      fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'X-Caracal-Resource', 'x-CARACAL-token', 'Proxy-Authorization'),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 30 })), { maxLength: 20 }), (headers) => {
        const out = pairs(upstreamRequestHeaders(headers.flat(), facts));
        for (const [n] of out) {
          const lower = n.toLowerCase();
          expect(lower === 'authorization' || lower.startsWith('x-caracal-') || lower.startsWith('proxy-')).toBe(false);
        }
      }),
    );
  });
});

describe('clientResponseHeaders', () => {
  it('removes hop-by-hop headers and sets X-Request-Id, keeping redirects as they are', () => {
    const out = pairs(
      clientResponseHeaders(['Location', 'http://elsewhere/x', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Transfer-Encoding', 'chunked', 'X-Request-Id', 'upstream'], 'req_9'),
    );
    expect(out).toEqual([
      ['Location', 'http://elsewhere/x'],
      ['x-request-id', 'req_9'],
    ]);
  });
});

describe('acceptRequestId', () => {
  it.each([
    ['abc-123', 'abc-123'],
    ['x'.repeat(128), 'x'.repeat(128)],
    ['x'.repeat(129), undefined],
    ['has space', undefined],
    ['', undefined],
    ['é', undefined],
    [undefined, undefined],
  ])('%s → %s', (input, expected) => {
    expect(acceptRequestId(input)).toBe(expected);
  });

  it('strips names case-insensitively', () => {
    expect(isStrippedRequestHeader('x-caracal-resource')).toBe(true);
    expect(isStrippedRequestHeader('accept')).toBe(false);
  });
});
