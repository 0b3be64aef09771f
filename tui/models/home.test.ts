import { describe, expect, it } from 'vitest';
import { countText, homeActions } from './home.js';
import { maskSecret, secretPanel } from './secret.js';

const views = [
  { id: 'home', title: 'Home', summary: 'h' },
  { id: 'apps', title: 'Apps', summary: 'a' },
  { id: 'explain', title: 'Explain', summary: 'e', listed: false },
  { id: 'setup', title: 'Guided setup', summary: 'create everything' },
];

describe('home menu', () => {
  it('offers the guided setup first when the zone has no app (or no zone is chosen)', () => {
    expect(homeActions(views, 0).map((a) => a.viewId)).toEqual(['setup', 'apps']);
    expect(homeActions(views, undefined)[0]).toEqual({ viewId: 'setup', title: 'Guided setup', summary: 'start here: create everything' });
    expect(homeActions(views, 3).map((a) => a.viewId)).toEqual(['apps', 'setup']);
    expect(homeActions(views.filter((v) => v.id !== 'setup'), 0).map((a) => a.viewId)).toEqual(['apps']);
  });

  it('says when a count is only a lower bound', () => {
    expect([countText(3, false, 'app'), countText(1, false, 'app'), countText(500, true, 'app'), countText(undefined, false, 'app')]).toEqual(['3 apps', '1 app', '500+ apps', '? apps']);
    expect(countText(1, false, 'policy', 'policies')).toBe('1 policy');
    expect(countText(2, false, 'policy', 'policies')).toBe('2 policies');
  });
});

describe('one-time secret', () => {
  it('is masked unless revealed, keeping only its kind prefix', () => {
    const secret = 'cs_' + 'A'.repeat(43);
    expect(maskSecret(secret)).toBe('cs_' + '•'.repeat(43));
    expect(maskSecret(secret)).not.toContain('A');
    expect(secretPanel('agent', 'app_1', secret, false, 'created').join('\n')).not.toContain('AAAA');
    expect(secretPanel('agent', 'app_1', secret, true, 'rotated')[1]).toBe(`  ${secret}`);
  });
});
