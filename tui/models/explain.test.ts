import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../core/audit/event.js';
import { buildExplanation } from '../../core/audit/explain.js';
import { renderExplanation } from '../../core/audit/explain-render.js';
import { explainScreen } from './explain.js';

const denied = {
  id: 'evt_01', seq: 1, at: '2026-01-02T03:04:05.678Z', zone: 'zn_1', request_id: 'req_01DENIED', type: 'gateway.request',
  app: 'app_1', resource: 'resource://billing-api', scopes: ['billing:read'], decision: 'deny', reason: 'policy_denied', category: 'policy',
  policy: { set_id: 'pset_1', set_version: 2, versions: [], rules: [] },
  http: { method: 'DELETE', path: '/invoices/{1}', status: 403, upstream_status: null, latency_ms: 0.4 }, token: null, detail: {}, prev_hash: '', hash: '',
} as unknown as AuditEvent;

/** The tagged text with tags removed and escapes undone: what the terminal shows. */
function visible(tagged: string): string {
  return tagged.replace(/\{\/?[a-z-]+\}/g, (tag) => (tag === '{open}' ? '{' : tag === '{close}' ? '}' : ''));
}

describe('explain screen', () => {
  it('shows exactly what caracal explain prints, then the events of the request', () => {
    const explanation = buildExplanation({ requestId: 'req_01DENIED', events: [denied] });
    const screen = explainScreen(explanation, 120);
    const cli = renderExplanation(explanation, (_c, t) => t).trimEnd();
    expect(visible(screen).startsWith(cli)).toBe(true);
    expect(visible(screen)).toContain('events of this request');
    expect(visible(screen)).toMatch(/03:04:05\.678\s+deny\s+gateway\.request\s+DELETE \/invoices\/\{1\} 403\s+policy_denied/);
  });

  it('escapes braces from the data and colors the outcome', () => {
    const screen = explainScreen(buildExplanation({ requestId: 'req_01DENIED', events: [denied] }), 120);
    expect(screen).toContain('/invoices/{open}1{close}');
    expect(screen).toContain('{red-fg}✖ denied{/red-fg}');
  });

  it('leaves the timeline out on a very narrow screen', () => {
    expect(explainScreen(buildExplanation({ requestId: 'req_01DENIED', events: [denied] }), 50)).not.toContain('events of this request');
  });

  it('names the provider of the resource (as it is now) under the resource; none without one', () => {
    const provider = { id: 'prv_1', name: 'weather', kind: 'api-key', updatedAt: '2026-01-01T00:00:00.000Z' };
    const explanation = buildExplanation({ requestId: 'req_01DENIED', events: [denied], state: { provider } });
    expect(explanation.provider).toEqual({ id: 'prv_1', name: 'weather', kind: 'api-key' });
    expect(visible(explainScreen(explanation, 120))).toMatch(/resource\s+resource:\/\/billing-api\n\s+provider\s+weather \(api-key, prv_1\)\n/);
    const none = buildExplanation({ requestId: 'req_01DENIED', events: [denied] });
    expect(none.provider).toBeNull();
    expect(visible(explainScreen(none, 120))).not.toContain('provider');
  });
});
