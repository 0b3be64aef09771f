import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptRequestId } from '../core/domain/request-id.js';
import { clientResponseHeaders, editedHeaderLines, headerRecord, isStrippedRequestHeader, upstreamRequestHeaders } from './headers.js';

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

  it('drops every line of the headers an identify plugin said carried the credential, whatever their case', () => {
    const raw = ['X-Api-Key', 'sk_live_1', 'x-api-key', 'sk_live_2', 'X-Keep', 'k'];
    const out = pairs(upstreamRequestHeaders(raw, facts, ['x-api-key']));
    expect(out.map(([n]) => n.toLowerCase())).not.toContain('x-api-key');
    expect(out).toContainEqual(['X-Keep', 'k']);
    // Without such headers nothing else is dropped.
    expect(pairs(upstreamRequestHeaders(raw, facts)).filter(([n]) => n.toLowerCase() === 'x-api-key')).toHaveLength(2);
  });

  it('still sets the forwarding headers fresh when a plugin names them as credential headers', () => {
    const out = pairs(upstreamRequestHeaders(['X-Forwarded-For', '6.6.6.6'], facts, ['x-forwarded-for', 'x-request-id']));
    expect(out).toContainEqual(['x-forwarded-for', '127.0.0.1']);
    expect(out).toContainEqual(['x-request-id', 'req_1']);
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

describe('headerRecord and editedHeaderLines (what prepareUpstream plugins edit)', () => {
  const flat = ['Accept', 'text/plain', 'X-Custom', 'a', 'Cookie', 'a=1', 'x-custom', 'b', 'Cookie', 'b=2', 'X-Api-Key', 'from-caller'];

  it('shows repeated lines as one lower-case entry, joined with ", " (cookies with "; ")', () => {
    expect({ ...headerRecord(flat) }).toEqual({ accept: 'text/plain', 'x-custom': 'a, b', cookie: 'a=1; b=2', 'x-api-key': 'from-caller' });
  });

  it('has no prototype, so any header name is an ordinary key', () => {
    const record = headerRecord(['__proto__', 'x', 'constructor', 'y']);
    expect(Object.keys(record)).toEqual(['__proto__', 'constructor']);
    expect(pairs(editedHeaderLines(['__proto__', 'x', 'constructor', 'y'], record))).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  it('sends headers a plugin left alone as the original lines: names, order and repetitions kept', () => {
    const record = headerRecord(flat);
    record['x-api-key'] = 'provider-key';
    record.traceparent = '00-abc';
    expect(pairs(editedHeaderLines(flat, record))).toEqual([
      ['Accept', 'text/plain'],
      ['X-Custom', 'a'],
      ['Cookie', 'a=1'],
      ['x-custom', 'b'],
      ['Cookie', 'b=2'],
      ['x-api-key', 'provider-key'],
      ['traceparent', '00-abc'],
    ]);
  });

  it('sends a changed header as one line where its first line was, and drops a deleted one', () => {
    const record: Record<string, string | undefined> = headerRecord(flat);
    record['x-custom'] = 'c';
    delete record.cookie;
    record.accept = undefined;
    expect(pairs(editedHeaderLines(flat, record))).toEqual([
      ['x-custom', 'c'],
      ['X-Api-Key', 'from-caller'],
    ]);
  });

  it('gives back exactly the lines it was made of when nothing is edited (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,12}$/);
    const lines = fc.array(fc.tuple(fc.oneof(name, fc.constantFrom('X-Custom', 'x-custom', 'Cookie')), fc.string({ maxLength: 12 })), { maxLength: 12 });
    fc.assert(
      fc.property(lines, (headers) => {
        const list = headers.flat();
        expect(editedHeaderLines(list, headerRecord(list))).toEqual(list);
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
