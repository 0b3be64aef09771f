import type { Explanation } from './explain.js';

type Paint = (color: 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold', text: string) => string;

const CATEGORY_WORDS = {
  runtime_config: 'runtime config',
  policy: 'policy',
  resource_routing: 'resource routing',
  upstream: 'upstream',
} as const;

/**
 * The compact narrative `caracal explain` prints for people: a headline with the outcome, the
 * facts that were joined (app, resource, scopes, policy, Gateway result, token), what happened in
 * one sentence and, when it failed, which of the four things to fix and how. `paint` colors text
 * (pass an identity painter when NO_COLOR is set or the output is not a terminal).
 */
export function renderExplanation(explanation: Explanation, paint: Paint): string {
  const e = explanation;
  const outcome = headline(e, paint);
  const call = e.method === null ? e.kind : `${e.method} ${e.path ?? ''}`;
  const lines = [`${outcome}  ${paint('bold', call)}  ${paint('gray', `${e.request_id} · ${e.at}`)}`];
  const row = (label: string, value: string | null) => {
    if (value !== null && value !== '') lines.push(`  ${paint('gray', label.padEnd(9))} ${value}`);
  };
  row('zone', e.zone_id);
  row('app', e.application_id === null ? null : e.application_name !== null && e.application_name !== e.application_id ? `${e.application_name} (${e.application_id})` : e.application_id);
  row('resource', e.resource_id);
  row('provider', e.provider === null ? null : `${e.provider.name} (${e.provider.kind}, ${e.provider.id})`);
  if (e.scopes.requested.length > 0 || e.scopes.granted.length > 0) {
    row('scopes', `requested ${e.scopes.requested.join(' ') || '-'} · granted ${e.scopes.granted.join(' ') || '-'}`);
  }
  if (e.policy !== null) {
    const set = e.policy.set_id === null ? 'no active policy set' : `${e.policy.set_id} v${e.policy.set_version ?? '?'}`;
    const rules = e.policy.rules.length > 0 ? ` · rules ${e.policy.rules.join(', ')}` : '';
    row('policy', `${set}${rules}`);
    for (const near of e.policy.nearest.slice(0, 3)) row('', paint('gray', `nearest: ${near.sentence}`));
  }
  if (e.gateway !== null) {
    const parts = [`status ${e.gateway.status ?? '-'}`];
    if (e.gateway.upstream_status !== null) parts.push(`upstream ${e.gateway.upstream_status}`);
    if (e.gateway.latency_ms !== null) parts.push(`${e.gateway.latency_ms} ms`);
    row('gateway', parts.join(' · '));
  }
  if (e.token !== null) {
    const issued = e.token.issued;
    const by = issued === null ? 'issuance not found' : `issued ${issued.at} (${issued.request_id}${issued.set_id === null ? '' : `, ${issued.set_id} v${issued.set_version ?? '?'}`}${issued.rules.length > 0 ? `, rules ${issued.rules.join(', ')}` : ''})`;
    row('token', `${e.token.jti} · ${by} · expires ${e.token.expires_at}`);
  }
  lines.push('');
  lines.push(`  ${e.summary}`);
  if (e.category !== null) lines.push(`  ${paint('bold', 'to fix:')} ${paint('yellow', CATEGORY_WORDS[e.category])}`);
  if (e.hint !== null) lines.push(`  ${paint('cyan', 'hint:')} ${e.hint}`);
  for (const note of e.current) lines.push(`  ${paint('gray', 'now:')} ${note}`);
  return `${lines.join('\n')}\n`;
}

/** The outcome: allowed; allowed but then failed (upstream, or what to fix); denied; error. */
function headline(e: Explanation, paint: Paint): string {
  if (e.final_decision === 'deny') return paint('red', '✖ denied');
  if (e.final_decision !== 'allow') return paint('red', '✖ error');
  if (e.category === null) return paint('green', '✔ allowed');
  // A rejected provider credential is allowed by policy, then fails on what resource routing holds.
  return paint('yellow', e.category === 'upstream' ? '▲ allowed, failed upstream' : `▲ allowed, then failed (${CATEGORY_WORDS[e.category]})`);
}
