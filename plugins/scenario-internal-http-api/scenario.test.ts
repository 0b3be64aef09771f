import { describe, expect, it } from 'vitest';
import { validatePlugin } from '../../core/plugin/validate.js';
import { buildStarterPolicy } from '../../core/policy/starter.js';
import { internalHttpApiPlugin } from './index.js';
import { internalHttpApiScenario, planInternalHttpApi } from './scenario.js';

const input = { resource: 'billing-api', scopes: ['billing:read', 'billing:write'], upstream: 'http://127.0.0.1:4780/' };

describe('the internal-http-api scenario', () => {
  it('is a valid plugin whose steps follow the guided setup of DESIGN.md §1', () => {
    expect(validatePlugin(internalHttpApiPlugin, 'builtin').name).toBe('scenario-internal-http-api');
    expect(internalHttpApiScenario.steps.map((s) => s.id)).toEqual(['zone', 'app', 'resource', 'policy', 'review']);
    expect(internalHttpApiScenario.steps.flatMap((s) => s.fields.map((f) => f.name))).toEqual(['zone', 'app', 'resource', 'scopes', 'upstream', 'firstPath', 'policy', 'writeProfile']);
  });

  it('plans the objects in dependency order, each referring to earlier ones', () => {
    const plan = planInternalHttpApi(input);
    expect(plan.objects.map((o) => o.kind)).toEqual(['zone', 'application', 'resource', 'policy', 'policy_set']);
    expect(plan.objects[0]?.spec).toEqual({ name: 'local', kind: 'evaluation' });
    expect(plan.objects[1]?.spec).toEqual({ zone: { $ref: 'zone' }, name: 'agent' });
    expect(plan.objects[2]?.spec).toEqual({ zone: { $ref: 'zone' }, id: 'resource://billing-api', name: 'billing-api', scopes: input.scopes, upstream_url: 'http://127.0.0.1:4780' });
    expect(plan.objects[3]?.spec).toMatchObject({ name: 'starter-agent-billing-api', starter: { app: { $ref: 'application' }, resource: 'resource://billing-api', scopes: input.scopes } });
    expect(plan.objects[4]?.spec).toMatchObject({ name: 'starter', policies: [{ $ref: 'policy' }], extend_active: true, activate: true });
    const refs = plan.objects.map((o) => o.ref);
    plan.objects.forEach((o, i) => {
      for (const ref of JSON.stringify(o.spec).matchAll(/"\$ref":"(\w+)"/g)) expect(refs.indexOf(ref[1] as string)).toBeLessThan(i);
    });
  });

  it('plans the starter policy the policy engine builds, and the profile credential', () => {
    const plan = planInternalHttpApi(input);
    const built = buildStarterPolicy({ app: 'app_01J0000000000000000000000B', resource: 'billing-api', scopes: input.scopes });
    const { description: _description, ...rule } = built.rules[0]!;
    expect(plan.policy?.rules).toEqual([{ ...rule, apps: ['$ref:application'] }]);
    expect(plan.credentials).toEqual([{ resource: 'resource://billing-api', scopes: input.scopes, env: 'CARACAL_BILLING_API_TOKEN' }]);
    expect(plan.firstRequest).toEqual({ resource: 'resource://billing-api', method: 'GET', path: '/' });
  });

  it('skips the policy when asked', () => {
    const plan = planInternalHttpApi({ ...input, policy: false });
    expect(plan.objects.map((o) => o.kind)).toEqual(['zone', 'application', 'resource']);
    expect(plan.policy).toBeNull();
  });

  it('is pure: the same answers give the same plan', () => {
    expect(planInternalHttpApi(input)).toEqual(planInternalHttpApi(input));
  });

  it.each([
    [{ ...input, resource: undefined }, /needs "resource"/],
    [{ ...input, upstream: 'ftp://x' }, /must start with http/],
    [{ ...input, upstream: 'http://x/?q=1' }, /must not have a query/],
    [{ ...input, scopes: ['has space'] }, /is not a scope/],
    [{ ...input, zone: 'Not A Zone' }, /a zone name is/],
    [{ ...input, firstPath: 'no-slash' }, /a path starts with "\/"/],
  ])('refuses bad answers with a message that says what to give (%#)', (answers, message) => {
    expect(() => planInternalHttpApi(answers)).toThrow(message);
  });
});
