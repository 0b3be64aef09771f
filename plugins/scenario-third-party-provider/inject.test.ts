import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withQueryParameter } from './inject.js';

/** The query-parameter form of an API key (the other kinds are covered end to end in test/gateway-provider.test.ts). */
describe('withQueryParameter', () => {
  it.each([
    ['http://a/v1', 'http://a/v1?key=k%20%2F1'],
    ['http://a/v1?x=1', 'http://a/v1?x=1&key=k%20%2F1'],
    ['http://a/v1?key=mine&x=a+b&key', 'http://a/v1?x=a+b&key=k%20%2F1'],
    ['http://a/v1?k%65y=mine&y=%zz', 'http://a/v1?y=%zz&key=k%20%2F1'],
    ['http://a/v1?', 'http://a/v1?key=k%20%2F1'],
  ])('%s → %s', (url, expected) => {
    expect(withQueryParameter(url, 'key', 'k /1')).toBe(expected);
  });

  it('leaves exactly one parameter of that name with the key, and every other pair byte for byte', () => {
    const pair = fc.tuple(fc.constantFrom('key', 'a', 'b', 'k%65y', 'x+y'), fc.string({ unit: fc.constantFrom('a', '%20', '+', '=', '%zz', '1') }));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => {
        const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
        const out = withQueryParameter(`http://a/p${query === '' ? '' : `?${query}`}`, 'key', 'secret');
        const parts = out.slice(out.indexOf('?') + 1).split('&');
        expect(parts.at(-1)).toBe('key=secret');
        const others = pairs.filter(([k]) => k !== 'key' && k !== 'k%65y').map(([k, v]) => `${k}=${v}`);
        expect(parts.slice(0, -1)).toEqual(others);
      }),
    );
  });
});
