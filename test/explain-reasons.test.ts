/**
 * The pure parts of explain (core/audit/explain*.ts) and the audit time filters: every reason the
 * Gateway can record has an explanation with the Gateway's own category; the builder joins what
 * it is given and says what changed since; the narrative respects NO_COLOR; relative times parse.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit/event.js';
import { buildExplanation } from '../core/audit/explain.js';
import { gatewayReasons, reasonInfo } from '../core/audit/explain-reasons.js';
import { renderExplanation } from '../core/audit/explain-render.js';
import { parseTimePoint, parseTimeRange } from '../core/audit/time-range.js';
import { forwardedReasons, refusals } from '../gateway/refusals.js';

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: 'evt_01',
    seq: 1,
    at: '2025-01-01T00:00:00.000Z',
    zone: 'zn_1',
    request_id: 'req_1',
    type: 'gateway.request',
    app: 'app_1',
    resource: 'resource://billing-api',
    scopes: ['billing:read'],
    decision: 'allow',
    reason: 'ok',
    category: null,
    policy: { set_id: 'pset_1', set_version: 2, versions: ['pol_1@1'], rules: ['starter'] },
    http: { method: 'GET', path: '/v1/x', status: 200, upstream_status: 200, latency_ms: 1.5 },
    token: { jti: 'jti-1', exp: 1735690200 },
    detail: {},
    prev_hash: '0'.repeat(64),
    hash: '1'.repeat(64),
    ...overrides,
  };
}

describe('the reason catalog', () => {
  it.each(Object.entries(refusals))('covers the Gateway refusal %s with the same category', (reason, refusal) => {
    const info = reasonInfo('gateway.request', reason);
    expect(info, `no explanation for ${reason}`).toBeDefined();
    expect(info?.category).toBe(refusal.category);
    expect(info?.fix).toBeTruthy();
  });

  it('has no Gateway reason the Gateway does not know (besides the reasons of forwarded requests)', () => {
    const extra = Object.keys(gatewayReasons).filter((r) => !(r in refusals));
    expect(extra.sort()).toEqual(Object.keys(forwardedReasons).sort());
    for (const reason of extra) expect(reasonInfo('gateway.request', reason)?.category).toBe(forwardedReasons[reason as keyof typeof forwardedReasons]);
  });
});

describe('buildExplanation', () => {
  it('explains a clean success with no category and no hint', () => {
    const e = buildExplanation({ requestId: 'req_1', events: [event()], state: { app: { id: 'app_1', name: 'agent', disabled: false, updatedAt: '2024-01-01T00:00:00Z' } } });
    expect(e).toMatchObject({ final_decision: 'allow', category: null, reason: 'ok', hint: null, application_name: 'agent', method: 'GET', path: '/v1/x' });
    expect(e.summary).toBe('GET /v1/x by app agent (app_1) on resource://billing-api was allowed by rule `starter` (policy set pset_1 v2) and the upstream answered 200 in 1.5 ms.');
    expect(e.token?.issued).toBeNull();
    expect(e.current).toContain('no issuance event was found for token jti-1 (issued by another installation, or before this ledger began)');
  });

  it('says what changed since: app deleted, resource upstream changed, another policy set version active', () => {
    const e = buildExplanation({
      requestId: 'req_1',
      events: [event({ decision: 'error', reason: 'upstream_unreachable', category: 'upstream', http: { method: 'GET', path: '/v1/x', status: 502, upstream_status: null, latency_ms: 3 } })],
      state: {
        app: null,
        resource: { id: 'resource://billing-api', upstreamUrl: 'http://10.0.0.9:8080', scopes: [], providerId: null, updatedAt: '2025-02-01T00:00:00.000Z' },
        activePolicySet: { setId: 'pset_1', version: 3 },
      },
    });
    expect(e.category).toBe('upstream');
    expect(e.hint).toContain('at http://10.0.0.9:8080');
    expect(e.hint).toContain('the resource was changed after this request');
    expect(e.current).toEqual(
      expect.arrayContaining([
        'app app_1 no longer exists',
        'resource resource://billing-api was changed after this request (upstream now http://10.0.0.9:8080)',
        'policy set pset_1 v3 is active now (this was decided by pset_1 v2)',
      ]),
    );
  });

  it('combines several failed clauses of the nearest rule into one fix', () => {
    const diagnosis = {
      reason: 'method_not_allowed',
      summary: 'Denied …',
      nearest: [{ rule: 'starter', policy: 'pol_1@1', effect: 'allow', sentence: 's', failed: [
        { clause: 'method', expected: ['GET', 'HEAD'], actual: 'DELETE' },
        { clause: 'path', expected: ['/v1/**'], actual: '/v2/x' },
      ] }],
      denyingRules: [],
    };
    const e = buildExplanation({ requestId: 'req_1', events: [event({ decision: 'deny', reason: 'method_not_allowed', category: 'policy', detail: { diagnosis }, policy: { set_id: 'pset_1', set_version: 2, versions: [], rules: [] } })] });
    expect(e.hint).toBe(
      'the token has scope billing:read; rule starter allows GET, HEAD only; this was DELETE; rule starter allows paths /v1/** only; this was /v2/x — add DELETE to rule starter and add a path pattern matching /v2/x (for example "/v2/**") to rule starter or use a read call and call a path under /v1/**',
    );
    expect(e.policy?.nearest[0]?.failed).toHaveLength(2);
  });

  it('explains the latest of several events sharing a request ID and lists them all, oldest first', () => {
    const first = event({ id: 'evt_01', at: '2025-01-01T00:00:00.000Z' });
    const second = event({ id: 'evt_02', at: '2025-01-01T00:00:01.000Z', decision: 'deny', reason: 'token_expired', category: 'runtime_config', token: null, policy: null, scopes: [] });
    const e = buildExplanation({ requestId: 'req_1', events: [second, first] });
    expect(e.reason).toBe('token_expired');
    expect(e.events.map((x) => x.id)).toEqual(['evt_01', 'evt_02']);
    expect(e.summary).toContain('2 gateway.request events share this request ID');
  });

  it('names both resources for a token issued for another resource (the one recorded by the Gateway)', () => {
    const e = buildExplanation({
      requestId: 'req_1',
      events: [event({ decision: 'deny', reason: 'audience_mismatch', category: 'resource_routing', resource: 'resource://ledger-api', policy: null, detail: { issued_for: 'resource://billing-api' } })],
    });
    expect(e.category).toBe('resource_routing');
    expect(e.summary).toContain('carried a token issued for resource://billing-api, not for this resource');
    expect(e.hint).toContain('the request named resource://ledger-api in X-Caracal-Resource but its token was issued for resource://billing-api');
    expect(e.hint).toContain('request a token for resource://ledger-api');
    expect(e.hint).toContain('send X-Caracal-Resource: resource://billing-api');
  });

  it('names the token resource from its issuance when the event does not record it', () => {
    const issuance = event({ id: 'evt_00', type: 'token.issued', request_id: 'req_0', resource: 'resource://billing-api', http: null });
    const e = buildExplanation({
      requestId: 'req_1',
      issuance,
      events: [event({ decision: 'deny', reason: 'audience_mismatch', category: 'resource_routing', resource: 'resource://ledger-api', policy: null })],
    });
    expect(e.hint).toContain('its token was issued for resource://billing-api');
  });

  it('passes on the Gateway "did you mean" for a resource that does not exist, and how to create it', () => {
    const e = buildExplanation({
      requestId: 'req_1',
      state: { resource: null },
      events: [
        event({ decision: 'deny', reason: 'resource_unknown', category: 'resource_routing', resource: 'resource://billing', policy: null, detail: { issued_for: 'resource://billing-api', did_you_mean: 'resource://billing-api' } }),
      ],
    });
    expect(e.category).toBe('resource_routing');
    expect(e.hint).toContain('no resource resource://billing exists in zone zn_1 (the token was issued for resource://billing-api)');
    expect(e.hint).toContain('did you mean resource://billing-api? Send X-Caracal-Resource: resource://billing-api');
    expect(e.hint).toContain('caracal resources create --id resource://billing --zone zn_1');
  });

  it('suggests listing resources when the Gateway had no "did you mean"', () => {
    const e = buildExplanation({
      requestId: 'req_1',
      state: { resource: null },
      events: [event({ decision: 'deny', reason: 'resource_unknown', category: 'resource_routing', resource: 'resource://weather', policy: null })],
    });
    expect(e.hint).not.toContain('did you mean');
    expect(e.hint).toContain('caracal resources list --zone zn_1');
  });

  it('falls back to a generic hint for a reason it does not know', () => {
    const e = buildExplanation({ requestId: 'req_1', events: [event({ decision: 'deny', reason: 'something_new', category: 'policy' })] });
    expect(e.category).toBe('policy');
    expect(e.hint).toContain('no explanation is known for reason something_new');
  });
});

describe('renderExplanation', () => {
  it('paints only through the painter it is given', () => {
    const e = buildExplanation({ requestId: 'req_1', events: [event({ decision: 'deny', reason: 'token_revoked', category: 'runtime_config' })] });
    const plain = renderExplanation(e, (_c, t) => t);
    expect(plain).not.toContain('\u001b[');
    expect(plain).toContain('✖ denied  GET /v1/x');
    expect(plain).toContain('to fix: runtime config');
    const colored = renderExplanation(e, (_c, t) => `\u001b[31m${t}\u001b[0m`);
    expect(colored).toContain('\u001b[31m');
  });

  it('headlines an allowed call that then failed by what to fix: the upstream, or the provider credential (resource routing)', () => {
    const plain = (overrides: Partial<AuditEvent>) => renderExplanation(buildExplanation({ requestId: 'req_1', events: [event(overrides)] }), (_c, t) => t);
    expect(plain({})).toMatch(/^✔ allowed {2}GET/);
    const failed = { http: { method: 'GET', path: '/v1/x', status: 502, upstream_status: null, latency_ms: 1 } };
    expect(plain({ ...failed, reason: 'upstream_unreachable', category: 'upstream' })).toMatch(/^▲ allowed, failed upstream {2}GET/);
    const rejected = { http: { method: 'GET', path: '/v1/x', status: 401, upstream_status: 401, latency_ms: 1 } };
    expect(plain({ ...rejected, reason: 'provider_credential_rejected', category: 'resource_routing' })).toMatch(/^▲ allowed, then failed \(resource routing\) {2}GET/);
  });
});

describe('audit time filters', () => {
  const now = Date.parse('2025-06-01T12:00:00.000Z');
  it.each([
    ['30s', '2025-06-01T11:59:30.000Z'],
    ['15m', '2025-06-01T11:45:00.000Z'],
    ['2h', '2025-06-01T10:00:00.000Z'],
    ['7d', '2025-05-25T12:00:00.000Z'],
    ['1w', '2025-05-25T12:00:00.000Z'],
    ['2025-01-31T12:00:00Z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31', '2025-01-31T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseTimePoint(text, '--since', now)).toBe(iso);
  });

  it.each(['yesterday', '15', '-5m', '15 minutes', '0m', '2025-13-45'])('refuses %s with an example', (text) => {
    expect(() => parseTimePoint(text, '--since', now)).toThrow(/relative age like 15m/);
  });

  it('refuses an inverted window', () => {
    expect(() => parseTimeRange({ since: '1h', until: '2h' }, now)).toThrow(/must be before --until/);
    expect(parseTimeRange({ since: '2h', until: '1h' }, now)).toEqual({ since: '2025-06-01T10:00:00.000Z', until: '2025-06-01T11:00:00.000Z' });
  });
});
