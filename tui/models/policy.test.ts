import { describe, expect, it } from 'vitest';
import type { PolicyRule } from '../../core/policy/types.js';
import { highlightToml, ruleDiff, withMember } from './policy.js';

const rule = (id: string, extra: Partial<PolicyRule> = {}): PolicyRule => ({ id, effect: 'allow', apps: ['app_1'], resources: ['resource://billing-api'], scopes: ['billing:read'], ...extra });

describe('policy view model', () => {
  it('colors TOML: comments, tables, keys, strings and numbers, with braces escaped', () => {
    const out = highlightToml('# note {x}\nversion = 1\n[[rules]]\nid = "starter" # why');
    expect(out.split('\n')).toEqual([
      '{gray-fg}# note {open}x{close}{/gray-fg}',
      '{yellow-fg}version{/yellow-fg} = {magenta-fg}1{/magenta-fg}',
      '{bold}{cyan-fg}[[rules]]{/cyan-fg}{/bold}',
      '{yellow-fg}id{/yellow-fg} = {green-fg}"starter"{/green-fg} {gray-fg}# why{/gray-fg}',
    ]);
  });

  it('puts a policy version into a set in place of its older version, or at the end', () => {
    const base = [{ policy: 'pol_a', version: 1 }, { policy: 'pol_b', version: 3 }];
    expect(withMember(base, { policy: 'pol_a', version: 2 })).toEqual([{ policy: 'pol_a', version: 2 }, { policy: 'pol_b', version: 3 }]);
    expect(withMember(base, { policy: 'pol_c', version: 1 })).toEqual([...base, { policy: 'pol_c', version: 1 }]);
  });

  it('diffs the active rules against the candidate: added, changed, removed', () => {
    const before = [{ policy: 'pol_a', rule: rule('read') }, { policy: 'pol_a', rule: rule('old') }];
    const after = [{ policy: 'pol_a', rule: rule('read', { methods: ['GET'] }) }, { policy: 'pol_a', rule: rule('new', { effect: 'deny' }) }];
    const diff = ruleDiff(before, after);
    expect(diff.changes).toBe(3);
    const text = diff.lines.join('\n').replace(/\{\/?[a-z-]+\}/g, '');
    expect(text).toContain('~ pol_a/read  allow app_1 → resource://billing-api scopes billing:read\n    allow app_1 → resource://billing-api scopes billing:read (GET)');
    expect(text).toContain('+ pol_a/new  deny app_1');
    expect(text).toContain('- pol_a/old  allow app_1');
    expect(ruleDiff(before, before)).toEqual({ lines: ['{gray-fg}no rule changes: the active rules stay the same{/gray-fg}'], changes: 0 });
  });
});
