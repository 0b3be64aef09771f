import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseRange, parseVersion, satisfies } from './semver.js';

// Cases from npm's range documentation (docs.npmjs.com, node-semver README).
const cases: [range: string, version: string, expected: boolean][] = [
  ['^1', '1.0.0', true],
  ['^1', '1.9.3', true],
  ['^1', '2.0.0', false],
  ['^1', '0.9.9', false],
  ['^1', '2.0.0-alpha', false],
  ['^1.2.3', '1.2.3', true],
  ['^1.2.3', '1.2.2', false],
  ['^1.2.3', '1.99.0', true],
  ['^0.2.3', '0.2.9', true],
  ['^0.2.3', '0.3.0', false],
  ['^0.0.3', '0.0.3', true],
  ['^0.0.3', '0.0.4', false],
  ['^0', '0.9.0', true],
  ['^0', '1.0.0', false],
  ['^0.0', '0.0.9', true],
  ['^0.0', '0.1.0', false],
  ['^1.x', '1.5.0', true],
  ['~1.2.3', '1.2.9', true],
  ['~1.2.3', '1.3.0', false],
  ['~1.2', '1.2.0', true],
  ['~1', '1.9.0', true],
  ['~1', '2.0.0', false],
  ['~>1.2', '1.2.5', true],
  ['>=1.0.0', '1.0.0', true],
  ['>=1.0.0', '0.9.0', false],
  ['>= 1.2', '1.2.0', true],
  ['>1.2', '1.2.9', false],
  ['>1.2', '1.3.0', true],
  ['>1.2.3', '1.2.4', true],
  ['<2', '1.99.99', true],
  ['<2', '2.0.0', false],
  ['<2', '2.0.0-rc.1', false],
  ['<=1.2', '1.2.9', true],
  ['<=1.2', '1.3.0', false],
  ['<1.2.3', '1.2.2', true],
  ['=1.0.0', '1.0.0', true],
  ['1.0.0', '1.0.1', false],
  ['1', '1.4.2', true],
  ['1.x', '1.4.2', true],
  ['1.2.*', '1.2.7', true],
  ['1.2.*', '1.3.0', false],
  ['*', '5.4.3', true],
  ['x', '0.0.1', true],
  ['', '1.0.0', true],
  ['*', '1.0.0-beta', false],
  ['>=1.0.0 <1.1.0', '1.0.5', true],
  ['>=1.0.0 <1.1.0', '1.1.0', false],
  ['^0.9 || ^1', '1.0.0', true],
  ['^0.9 || ^1', '0.9.5', true],
  ['^0.9 || ^1', '2.0.0', false],
  ['1.0.0 - 1.2', '1.2.9', true],
  ['1.0.0 - 1.2', '1.3.0', false],
  ['1.2 - 2.3.4', '1.2.0', true],
  ['1.2 - 2.3.4', '2.3.5', false],
  ['^1.0.0-beta.2', '1.0.0-beta.3', true],
  ['^1.0.0-beta.2', '1.0.0-beta.1', false],
  ['^1.0.0-beta.2', '1.0.1-beta.3', false],
  ['^1.0.0-beta.2', '1.0.0', true],
  ['v1.0.0', '1.0.0', true],
];

describe('satisfies', () => {
  it.each(cases)('%j with %s → %s', (range, version, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it.each(['abc', '^', '>=>1', '1.2.3.4', '^1 ^', '1 - ', '1.2.3-'])('refuses the invalid range %j', (range) => {
    expect(parseRange(range)).toBeUndefined();
    expect(satisfies('1.0.0', range)).toBe(false);
  });

  it('refuses an invalid version', () => {
    expect(parseVersion('1.0')).toBeUndefined();
    expect(satisfies('1.0', '*')).toBe(false);
  });

  it('^M (M ≥ 1) holds exactly for release versions with major M', () => {
    const num = fc.integer({ min: 0, max: 30 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), num, num, num, (m, major, minor, patch) => {
        expect(satisfies(`${major}.${minor}.${patch}`, `^${m}`)).toBe(major === m);
      }),
    );
  });

  it('~M.N holds exactly for release versions M.N.x', () => {
    const num = fc.integer({ min: 0, max: 12 });
    fc.assert(
      fc.property(num, num, num, num, num, (m, n, major, minor, patch) => {
        expect(satisfies(`${major}.${minor}.${patch}`, `~${m}.${n}`)).toBe(major === m && minor === n);
      }),
    );
  });
});

describe('compareVersions', () => {
  it('orders per semver.org §11', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0'];
    const parsed = ordered.map((v) => parseVersion(v)!);
    for (let i = 1; i < parsed.length; i++) {
      expect(compareVersions(parsed[i - 1]!, parsed[i]!), `${ordered[i - 1]} < ${ordered[i]}`).toBeLessThan(0);
      expect(compareVersions(parsed[i]!, parsed[i - 1]!)).toBeGreaterThan(0);
    }
    expect(compareVersions(parseVersion('1.2.3+build')!, parseVersion('1.2.3')!)).toBe(0);
  });
});
