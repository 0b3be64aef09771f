import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../domain/ids.js';
import type { Zone } from '../domain/types.js';
import { CaracalError, isCaracalError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createPolicyService, type PolicyService } from './policy-service.js';
import { buildStarterPolicy } from './starter.js';
import type { RequestQuery } from './types.js';

const APP = newId('app');
const RESOURCE = 'resource://billing-api';

const policyText = (methods: string) => `
[[rules]]
id = "main"
effect = "allow"
apps = ["${APP}"]
resources = ["billing-api"]
scopes = ["billing:read"]
methods = [${methods}]
`;

const get: RequestQuery = { app: APP, resource: RESOURCE, scopes: ['billing:read'], method: 'GET', path: '/v1/x' };
const post: RequestQuery = { ...get, method: 'POST' };

async function failure(promise: Promise<unknown>): Promise<CaracalError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CaracalError) return error;
    throw error;
  }
  throw new Error('expected a CaracalError');
}

describe('policy service (SQLite store)', () => {
  let home: string;
  let store: Store;
  let service: PolicyService;
  let zone: Zone;

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'caracal-policy-'));
    store = await openStore({ home });
    service = createPolicyService(store);
    zone = await store.createZone({ name: 'eval', kind: 'evaluation' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** A policy with versions allowing GET (v1) and GET+POST (v2), and a set with a version per policy version. */
  async function twoVersions() {
    const { policy } = await service.createPolicy({ zoneId: zone.id, name: 'billing', source: policyText('"GET"') });
    await service.addVersion(policy.id, { source: policyText('"GET", "POST"') });
    const { policySet: set } = await service.createPolicySet({ zoneId: zone.id, name: 'main' });
    await service.createSetVersion(zone.id, set.id, [{ policyId: policy.id, version: 1 }]);
    await service.createSetVersion(zone.id, set.id, [{ policyId: policy.id, version: 2 }]);
    return { policy, set };
  }

  it('stores a policy version as submitted, with its validated rules', async () => {
    const source = policyText('"get"');
    const { policy, version } = await service.createPolicy({ zoneId: zone.id, name: 'billing', source });
    expect(policy.latestVersion).toBe(1);
    expect(version).toMatchObject({ policyId: policy.id, version: 1, format: 'toml', source });
    expect(version.rules).toEqual([
      { id: 'main', effect: 'allow', apps: [APP], resources: [RESOURCE], scopes: ['billing:read'], methods: ['GET'] },
    ]);
    const json = await service.addVersion(policy.id, { source: JSON.stringify({ rules: version.rules }) });
    expect(json).toMatchObject({ version: 2, format: 'json', rules: version.rules });
  });

  it('stores nothing from an invalid document', async () => {
    const bad = await failure(service.createPolicy({ zoneId: zone.id, name: 'bad', source: policyText('"FETCH"') }));
    expect(bad.code).toBe('CRC_POLICY_INVALID');
    expect(bad.details).toEqual([expect.objectContaining({ line: 8, column: 12, pointer: '/rules/0/methods/0' })]);
    expect((await store.listPolicies(zone.id)).items).toEqual([]);

    const { policy } = await service.createPolicy({ zoneId: zone.id, name: 'good', source: policyText('"GET"') });
    const badVersion = await failure(service.addVersion(policy.id, { source: '{"rules": []}' }));
    expect(badVersion.code).toBe('CRC_POLICY_INVALID');
    expect((await store.listPolicyVersions(policy.id)).map((v) => v.version)).toEqual([1]);
    expect((await store.getPolicy(zone.id, policy.id))?.latestVersion).toBe(1);
  });

  it('keeps versions immutable: a new version leaves older versions and the sets using them unchanged', async () => {
    const { policy, set } = await twoVersions();
    const v1 = await store.getPolicyVersion(policy.id, 1);
    expect(v1?.source).toBe(policyText('"GET"'));
    expect((await service.simulate(zone.id, set.id, 1, post)).reason).toBe('method_not_allowed');
    expect((await service.simulate(zone.id, set.id, 2, post)).effect).toBe('allow');
    await service.addVersion(policy.id, { source: policyText('"DELETE"') });
    expect(await store.getPolicyVersion(policy.id, 1)).toEqual(v1);
    expect((await store.getPolicySetVersion(set.id, 1))?.policies).toEqual([{ policyId: policy.id, version: 1 }]);
    expect((await service.simulate(zone.id, set.id, 1, get)).effect).toBe('allow');
  });

  it('denies everything while no set is active', async () => {
    await twoVersions();
    const matcher = await service.loadActiveMatcher(zone.id);
    expect(matcher.decideRequest(get)).toMatchObject({ effect: 'deny', reason: 'no_active_policy' });
    expect(matcher.decideMint({ app: APP, resource: RESOURCE, scopes: ['billing:read'] }).reason).toBe('no_active_policy');
  });

  it('activates a set version, returning the previous one, and serves its matcher', async () => {
    const { set } = await twoVersions();
    const first = await service.activate(zone.id, set.id, 1);
    expect(first.previous).toBeNull();
    expect(first.active).toMatchObject({ zoneId: zone.id, policySetId: set.id, version: 1 });
    const active1 = await service.loadActiveMatcher(zone.id);
    expect(active1.decideRequest(get)).toMatchObject({ effect: 'allow', policySetId: set.id, policySetVersion: 1 });
    expect(active1.decideRequest(post).effect).toBe('deny');

    const second = await service.activate(zone.id, set.id, 2);
    expect(second.previous).toMatchObject({ policySetId: set.id, version: 1 });
    expect((await service.loadActiveMatcher(zone.id)).decideRequest(post)).toMatchObject({ effect: 'allow', policySetVersion: 2 });
  });

  it('leaves the active version untouched when an activation fails', async () => {
    const { policy, set } = await twoVersions();
    await service.activate(zone.id, set.id, 1);
    expect((await failure(service.activate(zone.id, set.id, 9))).code).toBe('CRC_NOT_FOUND');
    expect((await failure(service.activate(zone.id, 'pset_01J00000000000000000000000', 1))).code).toBe('CRC_NOT_FOUND');
    // A version whose stored rules no longer validate (written around the service) is never activated.
    await store.addPolicyVersion(policy.id, { format: 'json', source: '{}', rules: [{ id: 'x' }] });
    const broken = await service.createSetVersion(zone.id, set.id, [{ policyId: policy.id, version: 3 }]);
    expect((await failure(service.activate(zone.id, set.id, broken.version))).code).toBe('CRC_POLICY_INVALID');
    expect(await store.getActivePolicySet(zone.id)).toMatchObject({ policySetId: set.id, version: 1 });
    expect((await store.listActivations(zone.id)).map((a) => a.version)).toEqual([1]);
  });

  it('serialises concurrent activations: each returns the pointer it replaced', async () => {
    const { set } = await twoVersions();
    await service.activate(zone.id, set.id, 1);
    const [a, b] = await Promise.all([service.activate(zone.id, set.id, 2), service.activate(zone.id, set.id, 1)]);
    const history = (await store.listActivations(zone.id)).map((x) => x.version);
    expect(history).toHaveLength(3);
    // The later activation replaced the earlier one; the earlier one replaced version 1.
    const [earlier, later] = history[0] === 1 ? [a, b] : [b, a];
    expect(earlier.previous?.version).toBe(1);
    expect(later.previous?.version).toBe(earlier.active.version);
    expect((await store.getActivePolicySet(zone.id))?.version).toBe(history[0]);
  });

  it('rolls back to the previous activation, and back again', async () => {
    const { set } = await twoVersions();
    expect((await failure(service.rollback(zone.id))).code).toBe('CRC_CONFLICT');
    await service.activate(zone.id, set.id, 1);
    expect((await failure(service.rollback(zone.id))).code).toBe('CRC_CONFLICT');
    await service.activate(zone.id, set.id, 2);

    const back = await service.rollback(zone.id);
    expect(back.active.version).toBe(1);
    expect(back.previous?.version).toBe(2);
    expect((await service.loadActiveMatcher(zone.id)).decideRequest(post).effect).toBe('deny');

    const forth = await service.rollback(zone.id);
    expect(forth.active.version).toBe(2);
    expect((await service.loadActiveMatcher(zone.id)).decideRequest(post).effect).toBe('allow');
  });

  it('after a deactivation, rollback restores the last activated version', async () => {
    const { set } = await twoVersions();
    await service.activate(zone.id, set.id, 2);
    expect((await service.deactivate(zone.id))?.version).toBe(2);
    expect((await service.loadActiveMatcher(zone.id)).decideRequest(get).reason).toBe('no_active_policy');
    const restored = await service.rollback(zone.id);
    expect(restored).toMatchObject({ active: { version: 2 }, previous: null });
  });

  it('simulates against an inactive version without side effects', async () => {
    const { set } = await twoVersions();
    await service.activate(zone.id, set.id, 1);
    const before = await store.listActivations(zone.id);
    const simulated = await service.simulate(zone.id, set.id, 2, post);
    expect(simulated).toMatchObject({ effect: 'allow', policySetVersion: 2, rules: ['main'] });
    const mint = await service.simulateMint(zone.id, set.id, 2, { app: APP, resource: 'billing-api', scopes: ['billing:read'] });
    expect(mint.effect).toBe('allow');
    expect(await store.listActivations(zone.id)).toEqual(before);
    expect((await store.getActivePolicySet(zone.id))?.version).toBe(1);
    expect((await service.loadActiveMatcher(zone.id)).decideRequest(post).effect).toBe('deny');
  });

  it('refuses set versions that are empty, repeat a policy or name another zone\'s policy', async () => {
    const { policy, set } = await twoVersions();
    expect((await failure(service.createSetVersion(zone.id, set.id, []))).code).toBe('CRC_VALIDATION');
    const twice = [{ policyId: policy.id, version: 1 }, { policyId: policy.id, version: 2 }];
    expect((await failure(service.createSetVersion(zone.id, set.id, twice))).message).toMatch(/appears twice/);
    const other = await store.createZone({ name: 'other', kind: 'evaluation' });
    expect((await failure(service.createSetVersion(other.id, set.id, [{ policyId: policy.id, version: 1 }]))).code).toBe('CRC_NOT_FOUND');
    expect((await store.listPolicySetVersions(set.id)).map((v) => v.version)).toEqual([1, 2]);
  });

  it('creates a set with its version 1, checked like any set version: refused members leave no set', async () => {
    const { policy } = await service.createPolicy({ zoneId: zone.id, name: 'billing', source: policyText('"GET"') });
    const other = await store.createZone({ name: 'other', kind: 'evaluation' });
    const once = [{ policyId: policy.id, version: 1 }];
    expect((await failure(service.createPolicySet({ zoneId: zone.id, name: 'main' }, []))).message).toMatch(/at least one/);
    const twice = [...once, { policyId: policy.id, version: 1 }];
    expect((await failure(service.createPolicySet({ zoneId: zone.id, name: 'main' }, twice))).message).toMatch(/appears twice/);
    expect((await failure(service.createPolicySet({ zoneId: zone.id, name: 'main' }, [{ policyId: policy.id, version: 2 }]))).code).toBe('CRC_VALIDATION');
    expect((await failure(service.createPolicySet({ zoneId: other.id, name: 'main' }, once))).code).toBe('CRC_VALIDATION');
    expect((await store.listPolicySets(zone.id)).items).toEqual([]);
    expect((await store.listPolicySets(other.id)).items).toEqual([]);

    const { policySet, version } = await service.createPolicySet({ zoneId: zone.id, name: 'main' }, once);
    expect(policySet.latestVersion).toBe(1);
    expect(version).toMatchObject({ policySetId: policySet.id, version: 1, policies: once });
    expect((await service.activate(zone.id, policySet.id, 1)).active).toMatchObject({ policySetId: policySet.id, version: 1 });
  });

  it('compiles a set version once: versions are immutable', async () => {
    const { set } = await twoVersions();
    const a = await service.loadMatcher(zone.id, set.id, 2);
    expect(await service.loadMatcher(zone.id, set.id, 2)).toBe(a);
    expect(await service.loadMatcher(zone.id, set.id, 1)).not.toBe(a);
  });

  it('gives the same decisions after the store is closed and re-opened', async () => {
    const starter = buildStarterPolicy({ app: APP, resource: 'billing-api', scopes: ['billing:read'] });
    const { policy } = await service.createPolicy({ zoneId: zone.id, name: 'starter', source: starter.source });
    const { set } = await twoVersions();
    const v3 = await service.createSetVersion(zone.id, set.id, [
      { policyId: (await store.getPolicy(zone.id, 'billing'))!.id, version: 1 },
      { policyId: policy.id, version: 1 },
    ]);
    await service.activate(zone.id, set.id, v3.version);
    const questions: RequestQuery[] = [get, post, { ...get, scopes: [] }, { ...get, app: newId('app') }, { ...get, path: '/a/../b' }];
    const snapshot = async (s: PolicyService) => {
      const matcher = await s.loadActiveMatcher(zone.id);
      return JSON.stringify([
        ...questions.map((q) => matcher.decideRequest(q)),
        matcher.decideMint({ app: APP, resource: RESOURCE, scopes: ['billing:read', 'billing:write'] }),
      ]);
    };
    const before = await snapshot(service);
    expect(before).toContain('"effect":"allow"');
    expect(before).toContain('"reason":"scope_not_granted"');
    await store.close();
    store = await openStore({ home });
    expect(await snapshot(createPolicyService(store))).toBe(before);
  });

  it('creates and activates the starter policy guided setup uses', async () => {
    const starter = buildStarterPolicy({ app: APP, resource: 'billing-api', scopes: ['billing:read'] });
    const { policy } = await service.createPolicy({ zoneId: zone.id, name: 'starter', source: starter.source });
    const { policySet: set } = await service.createPolicySet({ zoneId: zone.id, name: 'default' });
    const version = await service.createSetVersion(zone.id, set.id, [{ policyId: policy.id, version: 1 }]);
    await service.activate(zone.id, set.id, version.version);
    const matcher = await service.loadActiveMatcher(zone.id);
    expect(matcher.decideMint({ app: APP, resource: RESOURCE, scopes: ['billing:read'] })).toMatchObject({
      effect: 'allow',
      rules: ['starter'],
      policies: [`${policy.id}@1`],
    });
    expect(isCaracalError(await failure(service.rollback(zone.id)), 'CRC_CONFLICT')).toBe(true);
  });
});
