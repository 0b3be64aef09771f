import type { PolicyRule } from '../../core/policy/types.js';
import { color, esc } from '../tags.js';

/**
 * The Policies view's model (pure): TOML syntax coloring, the members of a policy set version once
 * a policy version is put in, and the rule-level diff shown before an activation.
 */

/** Colors a TOML policy document line by line: comments, table headers, keys, strings, numbers. */
export function highlightToml(source: string): string {
  return source
    .split('\n')
    .map((line) => {
      if (/^\s*#/.test(line)) return color('gray', esc(line));
      if (/^\s*\[\[?[^\]]*\]\]?\s*$/.test(line)) return `{bold}${color('cyan', esc(line))}{/bold}`;
      const m = /^(\s*)([A-Za-z0-9_."-]+)(\s*=\s*)(.*)$/.exec(line);
      if (m === null) return esc(line);
      const [, indent = '', key = '', eq = '', value = ''] = m;
      return `${indent}${color('yellow', esc(key))}${esc(eq)}${highlightValue(value)}`;
    })
    .join('\n');
}

function highlightValue(value: string): string {
  return value.replace(/("(?:[^"\\]|\\.)*"|'[^']*')|(#.*$)|(\b-?\d+(?:\.\d+)?\b|\btrue\b|\bfalse\b)|([^"'#\d]+|.)/g, (_all, str: string | undefined, comment: string | undefined, num: string | undefined, other: string | undefined) => {
    if (str !== undefined) return color('green', esc(str));
    if (comment !== undefined) return color('gray', esc(comment));
    if (num !== undefined) return color('magenta', esc(num));
    return esc(other ?? '');
  });
}

/** One policy version in a set. */
export interface Member {
  readonly policy: string;
  readonly version: number;
}

/** The members after putting `member` in: it replaces another version of the same policy, or is appended. */
export function withMember(base: readonly Member[], member: Member): Member[] {
  const merged = [...base];
  const at = merged.findIndex((m) => m.policy === member.policy);
  if (at >= 0) merged[at] = member;
  else merged.push(member);
  return merged;
}

/** A rule together with the policy it belongs to. */
export interface OwnedRule {
  readonly policy: string;
  readonly rule: PolicyRule;
}

/** One sentence for a rule: `allow app_1 → resource://x scopes a b (GET /v1/**)`. */
export function ruleSummary(rule: PolicyRule): string {
  const limits = [rule.methods?.join(','), rule.paths?.join(' ')].filter((x) => x !== undefined && x !== '').join(' ');
  return `${rule.effect} ${rule.apps.join(',')} → ${rule.resources.join(',')} scopes ${rule.scopes.join(' ') || '-'}${limits === '' ? '' : ` (${limits})`}`;
}

/** What an activation changes, rule by rule (keyed by policy and rule ID): added, removed, changed. */
export function ruleDiff(before: readonly OwnedRule[], after: readonly OwnedRule[]): { readonly lines: readonly string[]; readonly changes: number } {
  const key = (r: OwnedRule) => `${r.policy}/${r.rule.id}`;
  const old = new Map(before.map((r) => [key(r), r]));
  const next = new Map(after.map((r) => [key(r), r]));
  const lines: string[] = [];
  for (const [k, r] of next) {
    const was = old.get(k);
    if (was === undefined) lines.push(`${color('green', '+')} ${esc(k)}  ${esc(ruleSummary(r.rule))}`);
    else if (JSON.stringify(was.rule) !== JSON.stringify(r.rule)) {
      lines.push(`${color('yellow', '~')} ${esc(k)}  ${color('red', esc(ruleSummary(was.rule)))}`, `    ${color('green', esc(ruleSummary(r.rule)))}`);
    }
  }
  for (const [k, r] of old) if (!next.has(k)) lines.push(`${color('red', '-')} ${esc(k)}  ${esc(ruleSummary(r.rule))}`);
  const changes = lines.filter((l) => !l.startsWith('    ')).length;
  return { lines: changes === 0 ? [color('gray', 'no rule changes: the active rules stay the same')] : lines, changes };
}
