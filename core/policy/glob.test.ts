import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, ENCODED, globError, isMatchablePath, matchGlob, matchGlobRaw, pathEnd, pathSegments, scanPath, UNMATCHABLE } from './glob.js';

function matches(glob: string, path: string): boolean {
  const segments = pathSegments(path);
  const result = segments !== null && matchGlob(compileGlob(glob), segments);
  // The decision's one-pass scan agrees with the slower helpers.
  const scan = scanPath(path);
  if (scan === UNMATCHABLE) expect(segments).toBeNull();
  else if (scan === ENCODED) expect(path).toContain('%');
  else expect([scan, isMatchablePath(path)]).toEqual([pathEnd(path), true]);
  // Paths without percent-encoding also go through the in-place matcher the decision uses.
  if (!path.includes('%') && isMatchablePath(path)) expect(matchGlobRaw(compileGlob(glob), path, pathEnd(path))).toBe(result);
  return result;
}

describe('path globs', () => {
  it.each([
    // glob, path, matches
    ['/a/*', '/a/x', true],
    ['/a/*', '/a/x/', true], // one trailing slash is ignored
    ['/a/*', '/a/', false], // `*` needs a segment
    ['/a/*', '/a', false],
    ['/a/*', '/a/x/y', false], // `*` is exactly one segment
    ['/a/**', '/a', true],
    ['/a/**', '/a/', true],
    ['/a/**', '/a/x/y/z', true],
    ['/a/**', '/ab', false],
    ['/**', '/', true],
    ['/**', '/anything/at/all', true],
    ['/', '/', true],
    ['/', '/a', false],
    ['/a', '/a/', true],
    ['/a/', '/a', true],
    ['/a/**/z', '/a/z', true],
    ['/a/**/z', '/a/b/c/z', true],
    ['/a/**/z', '/a/b/c/z/d', false],
    ['/a/*/c/**/e', '/a/b/c/d/d/e', true],
    ['/a/*/c/**/e', '/a/b/x/d/e', false],
    ['/**/*', '/', false],
    ['/**/*', '/x', true],
    ['/v1/items', '/v1/items?limit=3', true], // the query is not part of the path
    ['/v1/items', '/v1/items#top', true],
    ['/a/*/b', '/a//b', false], // an empty segment matches only `**`
    ['/a/**', '/a//b', true],
    // percent-encoding is compared decoded once, on both sides
    ['/files/a b', '/files/a%20b', true],
    ['/files/a%20b', '/files/a%20b', true],
    ['/files/a%20b', '/files/a b', true],
    ['/files/a%2Fb', '/files/a%2Fb', true], // %2F stays inside its segment
    ['/files/a/b', '/files/a%2Fb', false],
    ['/files/*', '/files/a%2Fb', true],
    ['/files/%2541', '/files/%2541', true], // decoded once: "%41", not "A"
    ['/files/A', '/files/%2541', false],
    ['/files/A', '/files/%41', true],
    ['/caf%C3%A9', '/café', true],
    // dot segments and bad encoding never match, not even `/**`
    ['/**', '/a/../b', false],
    ['/**', '/a/./b', false],
    ['/**', '/..', false],
    ['/**', '/a/..', false],
    ['/**', '/a/%2e%2e/b', false],
    ['/**', '/a/%2E/b', false],
    ['/**', '/a/.%2e', false],
    ['/**', '/a/%zz', false],
    ['/**', 'relative/path', false],
    ['/**', '', false],
    ['/a/*', '/a/..', false],
    ['/**', '/a/.hidden', true],
    ['/**', '/a/...', true],
    ['/**', '/a/b..c', true],
    ['/**', '/a/..?x', false],
    ['/**', '/a/.#x', false],
    ['/**', '/a/x?/..', true], // a dot segment in the query is not in the path
    ['/a', '/a?b/../c', true],
  ])('%s against %s: %s', (glob, path, expected) => {
    expect(matches(glob, path)).toBe(expected);
    if (glob === '/**') expect(isMatchablePath(path)).toBe(expected);
  });

  it.each([
    ['', 'must not be empty'],
    ['a/b', 'must start with "/"'],
    ['/a//b', 'empty segment'],
    ['//', 'empty segment'],
    ['/a*', 'mixes "*"'],
    ['/***', 'mixes "*"'],
    ['/a/../b', '"." or ".."'],
    ['/a/%2e%2e', '"." or ".."'],
    ['/a/./b', '"." or ".."'],
    ['/a/%zz', 'malformed percent-encoding'],
    ['/a?b', 'must not contain "?"'],
    ['/a\tb', 'tabs or line breaks'],
    ['/a\\b', '"\\"'],
  ])('rejects the glob %j (%s)', (glob, message) => {
    expect(globError(glob)).toContain(message);
    expect(() => compileGlob(glob)).toThrow(/invalid path glob/);
  });

  it.each(['/', '/**', '/a/*', '/a/**/b', '/v1/items/', '/files/a%20b'])('accepts the glob %s', (glob) => {
    expect(globError(glob)).toBeNull();
  });

  it('agrees with a regular-expression reference on random globs and paths', () => {
    const segment = fc.constantFrom('a', 'b', 'c%20d', 'c d', '', 'ab');
    const globSegment = fc.constantFrom('a', 'b', 'c d', '*', '**', 'ab');
    fc.assert(
      fc.property(fc.array(globSegment, { maxLength: 5 }), fc.array(segment, { maxLength: 6 }), fc.boolean(), (g, p, slash) => {
        const glob = `/${g.join('/')}`;
        const path = `/${p.join('/')}${slash && p.length > 0 ? '/' : ''}`;
        // Reference: decode, drop one trailing slash, then a regex over "/"-joined segments.
        let decoded = decodeURIComponent(path);
        if (decoded.length > 1 && decoded.endsWith('/')) decoded = decoded.slice(0, -1);
        const body = glob === '/' ? [] : glob.slice(1).split('/');
        const source = body.map((s) => (s === '**' ? '(?:/[^/]*)*' : s === '*' ? '/[^/]+' : `/${s}`)).join('');
        const expected = new RegExp(`^${source}$`).test(decoded === '/' ? '' : decoded);
        expect(matches(glob, path)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
