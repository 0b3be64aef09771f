import { describe, expect, it } from 'vitest';
import { closestResource } from './closest-resource.js';

const zone = ['resource://billing-api', 'resource://ledger-api', 'resource://hr'];

describe('closestResource: the "did you mean" of an unknown resource', () => {
  it.each([
    ['a shortened name, the token’s own resource', 'resource://billing', 'resource://billing-api', 'resource://billing-api'],
    ['a typo', 'resource://biling-api', 'resource://ledger-api', 'resource://billing-api'],
    ['a longer name containing an existing one', 'resource://ledger-api-v2', 'resource://hr', 'resource://ledger-api'],
    ['a bare slug', 'ledger', 'resource://hr', 'resource://ledger-api'],
  ])('suggests for %s', (_name, named, issuedFor, expected) => {
    expect(closestResource(named, zone, issuedFor)).toBe(expected);
  });

  it.each([
    ['nothing close', 'resource://weather', 'resource://billing-api'],
    ['a name too short to match by containment', 'resource://api', 'resource://hr'],
    ['an ambiguous name (two resources contain it), none the token’s', 'resource://-api', 'resource://hr'],
  ])('suggests nothing for %s', (_name, named, issuedFor) => {
    expect(closestResource(named, zone, issuedFor)).toBeUndefined();
  });

  it('prefers the token’s own resource among several that contain the name', () => {
    const ids = ['resource://billing-api', 'resource://billing-archive'];
    expect(closestResource('resource://billing', ids, 'resource://billing-archive')).toBe('resource://billing-archive');
    expect(closestResource('resource://billing', ids, 'resource://other')).toBeUndefined();
  });
});
