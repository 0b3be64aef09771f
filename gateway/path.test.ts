import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTarget, joinUpstreamPath } from './path.js';

describe('checkTarget', () => {
  it.each([
    ['/', { path: '/', search: '' }],
    ['/a/b?x=1&y=2', { path: '/a/b', search: '?x=1&y=2' }],
    ['/a/b/', { path: '/a/b/', search: '' }],
    ['/a/..b/c', { path: '/a/..b/c', search: '' }],
    ['/a/%20b', { path: '/a/%20b', search: '' }],
    ['/a/%C3%A9t%c3%a9', { path: '/a/%C3%A9t%c3%a9', search: '' }],
    ['/a?q=%zz', { path: '/a', search: '?q=%zz' }],
    ['/a?q=../..', { path: '/a', search: '?q=../..' }],
  ])('accepts %s', (target, expected) => {
    expect(checkTarget(target)).toEqual(expected);
  });

  it.each(['/../etc/passwd', '/a/../b', '/a/./b', '/a/..', '/.', '/a/%2e%2e/b', '/a/%2E%2e/b', '/a/.%2e/b', '/a%2fb', '/a%5Cb', '/a\\b', 'http://evil/x', '*', '', '/a/%00', '/a/%zz', '/a/%', '/a/%4', '/a/%g0/b', '/a/%a0', '/a/%C3', '/a/%ff%fe'])(
    'refuses %s',
    (target) => {
      expect(checkTarget(target)).toBeUndefined();
    },
  );

  it('never accepts a path whose decoded segments include "." or ".." (property)', () => {
    const segment = fc.oneof(fc.constantFrom('.', '..', '%2e', '%2E%2e', 'a', 'b%20c', '', '..x'), fc.stringMatching(/^[a-z0-9._~-]{0,6}$/));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.string({ maxLength: 10 }), (segments, query) => {
        const target = `/${segments.join('/')}${query === '' ? '' : `?${query}`}`;
        const result = checkTarget(target);
        if (result === undefined) return;
        for (const s of result.path.split('/')) {
          const decoded = s.replace(/%2e/gi, '.');
          expect(decoded === '.' || decoded === '..').toBe(false);
        }
      }),
    );
  });
});

describe('joinUpstreamPath', () => {
  it.each([
    ['', '/x', '', '/x'],
    ['/', '/x', '?a=1', '/x?a=1'],
    ['/api', '/x', '', '/api/x'],
    ['/api/', '/x/y', '?q', '/api/x/y?q'],
  ])('%s + %s%s = %s', (base, path, search, expected) => {
    expect(joinUpstreamPath(base, path, search)).toBe(expected);
  });
});
