import { describe, expect, it } from 'vitest';
import { createKeymap, displayKey, helpText, type KeyBinding } from './keymap.js';

const noop = () => undefined;
const bind = (keys: string[], label: string, extra: Partial<KeyBinding> = {}): KeyBinding => ({ keys, label, help: `${label} help`, run: noop, ...extra });

describe('keymap registry', () => {
  it('refuses a global key bound twice, naming the key and both labels', () => {
    expect(() => createKeymap([bind(['q'], 'quit'), bind(['q'], 'query')])).toThrow(/key q is bound twice \("quit" and "query"\)/);
  });

  it('refuses a view that rebinds a global key, and one that binds a key twice', () => {
    const keymap = createKeymap([bind(['q'], 'quit'), bind(['escape'], 'back')]);
    expect(() => keymap.setView('apps', [bind(['escape'], 'close')])).toThrow(/view "apps": key esc \("close"\) is already the global key for "back"/);
    expect(() => keymap.setView('apps', [bind(['n'], 'new'), bind(['x', 'n'], 'next')])).toThrow(/key n is bound twice/);
    expect(() => keymap.setView('apps', [bind([], 'nothing')])).toThrow(/has no key/);
  });

  it('resolves view keys and global keys, and forgets the previous view', () => {
    const keymap = createKeymap([bind(['q'], 'quit')]);
    keymap.setView('apps', [bind(['n'], 'new')]);
    expect(keymap.resolve('n')?.scope).toBe('view');
    expect(keymap.resolve('q')?.scope).toBe('global');
    keymap.setView('zones', [bind(['enter'], 'use')]);
    expect(keymap.resolve('n')).toBeUndefined();
    expect(keymap.resolve('enter')?.binding.label).toBe('use');
  });

  it('writes the hint bar from view keys then global keys, without hidden or disabled ones, cut to the width', () => {
    const keymap = createKeymap([bind(['q'], 'quit'), bind(['C-c'], 'quit now', { hint: false })]);
    keymap.setView('apps', [bind(['n'], 'new'), bind(['S-r'], 'rotate'), bind(['d'], 'disable', { disabled: () => 'no app selected' }), bind(['up'], 'up', { hint: false })]);
    expect(keymap.hints(200)).toBe('n new  R rotate  q quit');
    expect(keymap.hints(16)).toBe('n new  R rotate');
    // While a text field reads keys, q is text: only the view's keys and ^C are hinted.
    expect(keymap.hints(200, true)).toBe('n new  R rotate  ^C quit');
  });

  it('lists every binding for the help overlay, with why a key is unavailable', () => {
    const keymap = createKeymap([bind(['q'], 'quit')]);
    keymap.setView('apps', [bind(['d'], 'disable', { disabled: () => 'no app selected' }), bind(['up'], 'up', { hint: false })]);
    const lines = helpText(keymap.help(), 'Apps');
    expect(lines).toEqual(['Apps', '  d     disable help (unavailable: no app selected)', '  ↑     up help', '', 'Everywhere', '  q     quit help']);
  });

  it('shows key names as people read them', () => {
    expect([displayKey('S-r'), displayKey('C-c'), displayKey('escape'), displayKey('pagedown'), displayKey('/')]).toEqual(['R', '^C', 'esc', 'PgDn', '/']);
  });
});
