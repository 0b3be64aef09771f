import { describe, expect, it } from 'vitest';
import { completePalette, parsePalette, type PaletteCatalog } from './palette.js';

const catalog: PaletteCatalog = {
  views: [{ id: 'home' }, { id: 'audit', aliases: ['log'] }, { id: 'policies', aliases: ['policy'] }, { id: 'setup' }],
  commands: [
    { name: 'zone', arg: 'required', usage: 'zone <name or ID>' },
    { name: 'explain', arg: 'required', usage: 'explain <request-id>' },
    { name: 'quit', aliases: ['exit'], arg: 'none', usage: 'quit' },
  ],
};

describe('palette parser', () => {
  it.each([
    ['audit', { kind: 'view', id: 'audit' }],
    ['  Audit  ', { kind: 'view', id: 'audit' }],
    ['log', { kind: 'view', id: 'audit' }],
    ['go policy', { kind: 'view', id: 'policies' }],
    ['zone prod', { kind: 'command', name: 'zone', arg: 'prod' }],
    ['explain req_01M8JGTPABKZ1QGQS3KNS0QR5D', { kind: 'command', name: 'explain', arg: 'req_01M8JGTPABKZ1QGQS3KNS0QR5D' }],
    ['req_01M8JGTPABKZ1QGQS3KNS0QR5D', { kind: 'command', name: 'explain', arg: 'req_01M8JGTPABKZ1QGQS3KNS0QR5D' }],
    ['explain my-own-request-id', { kind: 'command', name: 'explain', arg: 'my-own-request-id' }],
    ['exit', { kind: 'command', name: 'quit', arg: undefined }],
  ])('%j → %j', (line, expected) => {
    expect(parsePalette(line, catalog)).toEqual(expected);
  });

  it.each([
    ['', /type a view name/],
    ['zone', /zone needs an argument \(usage: zone <name or ID>\)/],
    ['quit now', /quit takes no argument/],
    ['audti', /unknown view or command "audti"; did you mean audit\?/],
    ['go', /go where\? one of home, audit, policies, setup/],
    ['frobnicate the thing', /unknown view or command "frobnicate"/],
  ])('%j is an error saying %s', (line, message) => {
    const action = parsePalette(line, catalog);
    expect(action.kind).toBe('error');
    if (action.kind === 'error') expect(action.message).toMatch(message);
  });

  it('does not treat a pasted request ID as explain when no explain command is registered', () => {
    expect(parsePalette('req_01M8JGTPABKZ1QGQS3KNS0QR5D', { ...catalog, commands: [] }).kind).toBe('error');
  });

  it('completes view and command names', () => {
    expect(completePalette('', catalog)).toEqual(['audit', 'explain', 'home', 'policies', 'quit', 'setup', 'zone']);
    expect(completePalette('s', catalog)).toEqual(['setup']);
    expect(completePalette('zone p', catalog)).toEqual([]);
  });
});
