import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventInput, AuditQuery } from '../audit/event.js';
import { GENESIS_HASH, hashEvent } from '../audit/chain.js';
import { open, seal } from '../crypto/seal.js';
import { generateClientSecret, hashSecret } from '../crypto/secrets.js';
import { isId } from '../domain/ids.js';
import type { PolicyRef, SigningKey, Zone } from '../domain/types.js';
import type { NewPolicyVersion, Store } from './store.js';

/** What a Store implementation hands the contract suite: a fresh, empty store and its disposal. */
export interface StoreUnderTest {
  readonly store: Store;
  cleanup(): Promise<void>;
}

const key = randomBytes(32);
const hashKey = randomBytes(32);
/** A valid policy version with no rules. */
const emptyVersion: NewPolicyVersion = { format: 'json', source: '{}', rules: [] };

/** Registers the behaviour every Store implementation must show (DESIGN.md §3); run it once per implementation. */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    const zone = (name = 'eval', kind: Zone['kind'] = 'evaluation') => store.createZone({ name, kind });
    const app = (zoneId: string, name = 'agent') =>
      store.createApp({ zoneId, name, secretHash: hashSecret(generateClientSecret(), hashKey) });

    describe('basics', () => {
      it('answers ping and describes itself', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        expect(['sqlite', 'postgres']).toContain(store.kind);
        expect(store.location.length).toBeGreaterThan(0);
      });
    });

    describe('zones', () => {
      it('creates a zone with a zn_ ID and defaults, found by ID and by name', async () => {
        const created = await store.createZone({ name: 'eval', kind: 'evaluation' });
        expect(isId('zone', created.id)).toBe(true);
        expect(created).toMatchObject({ name: 'eval', kind: 'evaluation', description: '', allowedPrivateHosts: [] });
        expect(created.createdAt).toBe(created.updatedAt);
        expect(await store.getZone(created.id)).toEqual(created);
        expect(await store.getZone('eval')).toEqual(created);
        expect(await store.getZone('nope')).toBeUndefined();
      });

      it('refuses a second zone with the same name, naming the field', async () => {
        await zone('eval');
        await expect(zone('eval', 'production')).rejects.toMatchObject({ code: 'CRC_CONFLICT', details: { field: 'name' } });
      });

      it.each([
        ['an empty name', { name: '', kind: 'evaluation' }],
        ['a name with surrounding spaces', { name: ' eval ', kind: 'evaluation' }],
        ['a name shaped like a zone ID', { name: 'zn_01J0000000000000000000000A', kind: 'evaluation' }],
        ['an unknown kind', { name: 'eval', kind: 'staging' }],
      ])('refuses %s', async (_label, input) => {
        await expect(store.createZone(input as never)).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
      });

      it('updates fields, keeps the rest, and moves updatedAt', async () => {
        const created = await store.createZone({ name: 'eval', kind: 'evaluation', description: 'first' });
        await new Promise((resolve) => setTimeout(resolve, 5));
        const updated = await store.updateZone(created.id, { kind: 'production', allowedPrivateHosts: ['10.0.0.0/8'] });
        expect(updated).toMatchObject({ id: created.id, name: 'eval', kind: 'production', description: 'first' });
        expect(updated.allowedPrivateHosts).toEqual(['10.0.0.0/8']);
        expect(updated.updatedAt > created.updatedAt).toBe(true);
        expect(await store.getZone(created.id)).toEqual(updated);
      });

      it('refuses renaming onto another zone name', async () => {
        await zone('a');
        const b = await zone('b');
        await expect(store.updateZone(b.id, { name: 'a' })).rejects.toMatchObject({
          code: 'CRC_CONFLICT',
          details: { field: 'name' },
        });
      });

      it('throws CRC_NOT_FOUND when updating or deleting a missing zone', async () => {
        await expect(store.updateZone('zn_01J0000000000000000000000A', { description: 'x' })).rejects.toMatchObject({
          code: 'CRC_NOT_FOUND',
        });
        await expect(store.deleteZone('zn_01J0000000000000000000000A')).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
      });

      it('deleting a zone deletes its configuration but keeps its audit events', async () => {
        const z = await zone();
        const a = await app(z.id);
        const provider = await store.createProvider(providerInput(z.id));
        await store.createResource({ zoneId: z.id, id: 'billing', scopes: ['r'], upstreamUrl: 'http://127.0.0.1:9', providerId: provider.id });
        const { policy } = await store.createPolicy({ zoneId: z.id, name: 'p' }, emptyVersion);
        const { policySet: set } = await store.createPolicySet({ zoneId: z.id, name: 's' }, [{ policyId: policy.id, version: 1 }]);
        await store.activatePolicySet(z.id, set.id, 1);
        await store.createSigningKey(signingKey(z.id));
        await store.addRevocation(revocation(z.id, 'jti', 'tok_1', future(60)));
        await store.appendAudit([event(z.id)]);

        await store.deleteZone(z.id);
        expect(await store.getZone(z.id)).toBeUndefined();
        expect(await store.getAppById(a.id)).toBeUndefined();
        expect((await store.listResources(z.id)).items).toEqual([]);
        expect(await store.getPolicy(z.id, policy.id)).toBeUndefined();
        expect(await store.getActivePolicySet(z.id)).toBeUndefined();
        expect(await store.listSigningKeys(z.id)).toEqual([]);
        expect(await store.listRevocations(new Date().toISOString())).toEqual([]);
        expect(await store.readAuditChain(z.id)).toHaveLength(1);
      });
    });

    describe('apps', () => {
      it('creates an app holding only the secret hash, found by ID, by name and by ID alone', async () => {
        const z = await zone();
        const secret = generateClientSecret();
        const created = await store.createApp({ zoneId: z.id, name: 'agent', secretHash: hashSecret(secret, hashKey) });
        expect(isId('app', created.id)).toBe(true);
        expect(created).toMatchObject({ zoneId: z.id, name: 'agent', disabled: false, description: '' });
        expect(JSON.stringify(created)).not.toContain(secret);
        expect(await store.getApp(z.id, created.id)).toEqual(created);
        expect(await store.getApp(z.id, 'agent')).toEqual(created);
        expect(await store.getAppById(created.id)).toEqual(created);
      });

      it('scopes names to the zone: same name in two zones is fine, twice in one zone is a conflict', async () => {
        const a = await zone('a');
        const b = await zone('b');
        const inA = await app(a.id, 'agent');
        await expect(app(b.id, 'agent')).resolves.toMatchObject({ zoneId: b.id });
        await expect(app(a.id, 'agent')).rejects.toMatchObject({ code: 'CRC_CONFLICT', details: { field: 'name' } });
        expect(await store.getApp(b.id, inA.id)).toBeUndefined();
      });

      it('refuses an app in a missing zone and a plaintext secret', async () => {
        await expect(app('zn_01J0000000000000000000000A')).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
        const z = await zone();
        await expect(store.createApp({ zoneId: z.id, name: 'x', secretHash: generateClientSecret() })).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
      });

      it('disables, renames and rotates the secret (secretRotatedAt moves only on rotation)', async () => {
        const z = await zone();
        const created = await app(z.id);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const disabled = await store.updateApp(created.id, { disabled: true, name: 'agent-2' });
        expect(disabled).toMatchObject({ disabled: true, name: 'agent-2', secretRotatedAt: created.secretRotatedAt });
        const newHash = hashSecret(generateClientSecret(), hashKey);
        const rotated = await store.updateApp(created.id, { secretHash: newHash });
        expect(rotated.secretHash).toBe(newHash);
        expect(rotated.secretRotatedAt > created.secretRotatedAt).toBe(true);
        expect(await store.getAppById(created.id)).toEqual(rotated);
      });

      it('lists apps filtered by disabled', async () => {
        const z = await zone();
        const a = await app(z.id, 'a');
        const b = await app(z.id, 'b');
        await store.updateApp(b.id, { disabled: true });
        expect((await store.listApps(z.id)).items.map((x) => x.id)).toEqual([a.id, b.id]);
        expect((await store.listApps(z.id, { disabled: true })).items.map((x) => x.id)).toEqual([b.id]);
        expect((await store.listApps(z.id, { disabled: false })).items.map((x) => x.id)).toEqual([a.id]);
      });

      it('throws CRC_NOT_FOUND for updating or deleting a missing app, and deletes', async () => {
        const z = await zone();
        const created = await app(z.id);
        await store.deleteApp(created.id);
        expect(await store.getAppById(created.id)).toBeUndefined();
        await expect(store.deleteApp(created.id)).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
        await expect(store.updateApp(created.id, { disabled: true })).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
      });
    });

    describe('resources', () => {
      it('normalises a bare slug to resource://slug, defaults the name to the slug, and finds it either way', async () => {
        const z = await zone();
        const created = await store.createResource({
          zoneId: z.id,
          id: 'billing-api',
          scopes: ['billing:read'],
          upstreamUrl: 'http://127.0.0.1:8080/api',
        });
        expect(created).toMatchObject({ id: 'resource://billing-api', name: 'billing-api', providerId: null, description: '' });
        expect(await store.getResource(z.id, 'billing-api')).toEqual(created);
        expect(await store.getResource(z.id, 'resource://billing-api')).toEqual(created);
        expect(await store.getResource(z.id, 'Not A Resource!')).toBeUndefined();
      });

      it.each([
        ['the same ID', { id: 'resource://billing', name: 'other' }, 'id'],
        ['the same name', { id: 'payments', name: 'billing' }, 'name'],
      ])('refuses %s in one zone, naming the field', async (_label, second, field) => {
        const z = await zone();
        await store.createResource({ zoneId: z.id, id: 'billing', scopes: [], upstreamUrl: 'https://example.com' });
        await expect(
          store.createResource({ zoneId: z.id, ...second, scopes: [], upstreamUrl: 'https://example.com' }),
        ).rejects.toMatchObject({ code: 'CRC_CONFLICT', details: { field } });
      });

      it('allows the same resource ID in two zones', async () => {
        const a = await zone('a');
        const b = await zone('b');
        for (const z of [a, b]) {
          await store.createResource({ zoneId: z.id, id: 'billing', scopes: [], upstreamUrl: 'https://example.com' });
        }
        expect((await store.getResource(b.id, 'billing'))?.zoneId).toBe(b.id);
      });

      it.each([
        ['an invalid resource ID', { id: 'Billing API' }],
        ['a non-http upstream', { upstreamUrl: 'ftp://example.com' }],
        ['a relative upstream', { upstreamUrl: '/api' }],
        ['scopes that are not strings', { scopes: [1] }],
        ['a provider that does not exist', { providerId: 'prv_01J0000000000000000000000A' }],
      ])('refuses %s', async (_label, override) => {
        const z = await zone();
        await expect(
          store.createResource({ zoneId: z.id, id: 'billing', scopes: [], upstreamUrl: 'https://example.com', ...override } as never),
        ).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
      });

      it('refuses a provider of another zone', async () => {
        const a = await zone('a');
        const b = await zone('b');
        const provider = await store.createProvider(providerInput(b.id));
        await expect(
          store.createResource({ zoneId: a.id, id: 'billing', scopes: [], upstreamUrl: 'https://x.test', providerId: provider.id }),
        ).rejects.toMatchObject({ code: 'CRC_VALIDATION', details: { field: 'providerId' } });
      });

      it('updates by bare slug or full ID, and throws CRC_NOT_FOUND for missing ones', async () => {
        const z = await zone();
        await store.createResource({ zoneId: z.id, id: 'billing', scopes: ['a'], upstreamUrl: 'https://x.test' });
        const updated = await store.updateResource(z.id, 'billing', { scopes: ['a', 'b'], upstreamUrl: 'https://y.test' });
        expect(updated).toMatchObject({ id: 'resource://billing', scopes: ['a', 'b'], upstreamUrl: 'https://y.test' });
        expect(await store.getResource(z.id, 'billing')).toEqual(updated);
        await expect(store.updateResource(z.id, 'nope', { scopes: [] })).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
        await store.deleteResource(z.id, 'resource://billing');
        await expect(store.deleteResource(z.id, 'billing')).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
      });
    });

    describe('providers', () => {
      it('stores sealed credentials that open with the key, and finds the provider by ID or name', async () => {
        const z = await zone();
        const created = await store.createProvider(providerInput(z.id));
        expect(isId('provider', created.id)).toBe(true);
        expect(open(created.credentialsSealed, key).toString()).toBe('{"apiKey":"k-123"}');
        expect(created).toMatchObject({ kind: 'api-key', config: { header: 'X-Api-Key' }, credentialKeys: ['apiKey'] });
        expect(await store.getProvider(z.id, created.id)).toEqual(created);
        expect(await store.getProvider(z.id, 'vendor')).toEqual(created);
        expect((await store.listProviders(z.id)).items).toEqual([created]);
      });

      it('refuses unsealed credentials and a duplicate name', async () => {
        const z = await zone();
        await expect(store.createProvider({ ...providerInput(z.id), credentialsSealed: 'k-123' })).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
        await store.createProvider(providerInput(z.id));
        await expect(store.createProvider(providerInput(z.id))).rejects.toMatchObject({
          code: 'CRC_CONFLICT',
          details: { field: 'name' },
        });
      });

      it('updates config and credentials', async () => {
        const z = await zone();
        const created = await store.createProvider(providerInput(z.id));
        const updated = await store.updateProvider(created.id, {
          config: { header: 'Authorization' },
          credentialsSealed: seal('{"apiKey":"k-456"}', key),
        });
        expect(updated.config).toEqual({ header: 'Authorization' });
        expect(open(updated.credentialsSealed, key).toString()).toContain('k-456');
        await expect(store.updateProvider('prv_01J0000000000000000000000A', { name: 'x' })).rejects.toMatchObject({
          code: 'CRC_NOT_FOUND',
        });
      });

      it('refuses to delete a provider a resource uses, until the resource lets go', async () => {
        const z = await zone();
        const provider = await store.createProvider(providerInput(z.id));
        await store.createResource({ zoneId: z.id, id: 'vendor-api', scopes: [], upstreamUrl: 'https://api.vendor.test', providerId: provider.id });
        await expect(store.deleteProvider(provider.id)).rejects.toMatchObject({ code: 'CRC_CONFLICT' });
        await store.updateResource(z.id, 'vendor-api', { providerId: null });
        await store.deleteProvider(provider.id);
        expect(await store.getProvider(z.id, provider.id)).toBeUndefined();
        await expect(store.deleteProvider(provider.id)).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
      });
    });

    describe('pagination', () => {
      it('walks every item once, in creation order, with opaque cursors', async () => {
        const z = await zone();
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await app(z.id, `app-${i}`)).id);
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<Store['listApps']>> = await store.listApps(z.id, {
            limit: 3,
            ...(cursor === null ? {} : { cursor }),
          });
          sizes.push(page.items.length);
          seen.push(...page.items.map((a) => a.id));
          if (page.nextCursor !== null) expect(page.nextCursor).not.toContain('app_');
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect(sizes).toEqual([3, 3, 1]);
        expect(seen).toEqual(ids);
      });

      it('returns 50 by default and at most 500', async () => {
        const z = await zone();
        for (let i = 0; i < 501; i++) await store.createResource({ zoneId: z.id, id: `r-${i}`, scopes: [], upstreamUrl: 'https://x.test' });
        const first = await store.listResources(z.id);
        expect(first.items).toHaveLength(50);
        expect(first.nextCursor).not.toBeNull();
        const big = await store.listResources(z.id, { limit: 10_000 });
        expect(big.items).toHaveLength(500);
        const rest = await store.listResources(z.id, { limit: 500, cursor: big.nextCursor ?? '' });
        expect(rest.items).toHaveLength(1);
        expect(rest.nextCursor).toBeNull();
      });

      it('refuses a forged cursor and a limit below 1', async () => {
        await expect(store.listZones({ cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'CRC_BAD_REQUEST' });
        await expect(store.listZones({ limit: 0 })).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
      });
    });

    describe('policies and their versions', () => {
      it('creates a policy with its version 1, then numbers versions 2, 3 and keeps earlier versions exactly as they were', async () => {
        const z = await zone();
        const { policy, version: v1 } = await store.createPolicy(
          { zoneId: z.id, name: 'starter', description: 'first policy' },
          { format: 'toml', source: 'a = 1', rules: [{ id: 'r1' }] },
        );
        expect(isId('policy', policy.id)).toBe(true);
        expect(policy).toMatchObject({ zoneId: z.id, name: 'starter', description: 'first policy', latestVersion: 1 });
        expect(v1).toMatchObject({ policyId: policy.id, version: 1, format: 'toml', source: 'a = 1', rules: [{ id: 'r1' }] });
        expect(await store.getPolicy(z.id, policy.id)).toEqual(policy);
        const v2 = await store.addPolicyVersion(policy.id, { format: 'json', source: '{"b":2}', rules: [{ id: 'r2' }] });
        expect(v2.version).toBe(2);
        expect(await store.getPolicyVersion(policy.id, 1)).toEqual(v1);
        expect(await store.getPolicyVersion(policy.id, 3)).toBeUndefined();
        expect(await store.listPolicyVersions(policy.id)).toEqual([v1, v2]);
        expect((await store.getPolicy(z.id, 'starter'))?.latestVersion).toBe(2);
      });

      it('creates a policy without a version when no first version is given', async () => {
        const z = await zone();
        const { policy, version } = await store.createPolicy({ zoneId: z.id, name: 'empty' });
        expect(version).toBeNull();
        expect(policy.latestVersion).toBe(0);
        expect(await store.getPolicy(z.id, 'empty')).toEqual(policy);
        expect(await store.listPolicyVersions(policy.id)).toEqual([]);
        expect((await store.addPolicyVersion(policy.id, emptyVersion)).version).toBe(1);
      });

      // The policy row would be written first; a refused version 1 must take it back with it.
      it.each([
        ['an unknown format', { format: 'yaml', source: '', rules: [] }],
        ['rules that are not a list', { format: 'json', source: '{}', rules: { id: 'r1' } }],
        ['rules that cannot be stored as JSON', { format: 'json', source: '{}', rules: [{ id: 'r1', limit: 10n }] }],
      ])('leaves no policy behind when its first version is refused: %s', async (_label, firstVersion) => {
        const z = await zone();
        await expect(store.createPolicy({ zoneId: z.id, name: 'billing' }, firstVersion as never)).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
        expect((await store.listPolicies(z.id)).items).toEqual([]);
        expect(await store.getPolicy(z.id, 'billing')).toBeUndefined();
        const { policy, version } = await store.createPolicy({ zoneId: z.id, name: 'billing' }, emptyVersion);
        expect(version?.version).toBe(1);
        expect((await store.listPolicies(z.id)).items).toEqual([policy]);
      });

      it('hands out distinct version numbers to concurrent additions', async () => {
        const z = await zone();
        const { policy } = await store.createPolicy({ zoneId: z.id, name: 'p' });
        const added = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.addPolicyVersion(policy.id, { format: 'json', source: `${i}`, rules: [] })),
        );
        expect(added.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      });

      it('refuses a version for a missing policy, a bad format and a duplicate policy name', async () => {
        const z = await zone();
        await expect(
          store.addPolicyVersion('pol_01J0000000000000000000000A', { format: 'json', source: '{}', rules: [] }),
        ).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
        const { policy } = await store.createPolicy({ zoneId: z.id, name: 'p' });
        await expect(store.addPolicyVersion(policy.id, { format: 'yaml' as never, source: '', rules: [] })).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
        expect(await store.listPolicyVersions(policy.id)).toEqual([]);
        await expect(store.createPolicy({ zoneId: z.id, name: 'p' }, emptyVersion)).rejects.toMatchObject({
          code: 'CRC_CONFLICT',
          details: { field: 'name' },
        });
        expect((await store.listPolicies(z.id)).items.map((p) => p.name)).toEqual(['p']);
        expect((await store.getPolicy(z.id, 'p'))?.latestVersion).toBe(0);
      });
    });

    describe('policy sets, activation and history', () => {
      /** A zone with policy p (versions 1 and 2) and policy q (version 1). */
      async function policies() {
        const z = await zone();
        const { policy } = await store.createPolicy({ zoneId: z.id, name: 'p' }, emptyVersion);
        await store.addPolicyVersion(policy.id, emptyVersion);
        const { policy: other } = await store.createPolicy({ zoneId: z.id, name: 'q' }, emptyVersion);
        return { z, policy, other };
      }

      async function setup() {
        const made = await policies();
        const { policySet: set, version } = await store.createPolicySet({ zoneId: made.z.id, name: 'default' });
        expect(version).toBeNull();
        return { ...made, set };
      }

      it('creates a policy set with its version 1 in one call', async () => {
        const { z, policy, other } = await policies();
        const members = [
          { policyId: other.id, version: 1 },
          { policyId: policy.id, version: 2 },
        ];
        const { policySet: set, version: v1 } = await store.createPolicySet(
          { zoneId: z.id, name: 'default', description: 'first set' },
          members,
        );
        expect(isId('policySet', set.id)).toBe(true);
        expect(set).toMatchObject({ zoneId: z.id, name: 'default', description: 'first set', latestVersion: 1 });
        expect(v1).toMatchObject({ policySetId: set.id, version: 1, policies: members });
        expect(await store.getPolicySet(z.id, 'default')).toEqual(set);
        expect(await store.listPolicySetVersions(set.id)).toEqual([v1]);
        expect((await store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 1 }])).version).toBe(2);
      });

      it('creates a policy set without a version when no first version is given', async () => {
        const { z, set } = await setup();
        expect(set.latestVersion).toBe(0);
        expect(await store.getPolicySet(z.id, 'default')).toEqual(set);
        expect(await store.listPolicySetVersions(set.id)).toEqual([]);
      });

      // The set row would be written first; refused members must take it back with them.
      it.each<[string, (made: Awaited<ReturnType<typeof policies>>) => PolicyRef[] | Promise<PolicyRef[]>]>([
        ['a policy version that does not exist', ({ policy }) => [{ policyId: policy.id, version: 9 }]],
        ['a policy that does not exist', () => [{ policyId: 'pol_01J0000000000000000000000A', version: 1 }]],
        [
          'a policy of another zone',
          async () => {
            const elsewhere = await zone('elsewhere');
            const { policy: foreign } = await store.createPolicy({ zoneId: elsewhere.id, name: 'p' }, emptyVersion);
            return [{ policyId: foreign.id, version: 1 }];
          },
        ],
        [
          'the same policy twice',
          ({ policy }) => [
            { policyId: policy.id, version: 1 },
            { policyId: policy.id, version: 2 },
          ],
        ],
      ])('leaves no policy set behind when its first version is refused: %s', async (_label, members) => {
        const made = await policies();
        const { z, policy } = made;
        await expect(store.createPolicySet({ zoneId: z.id, name: 'default' }, await members(made))).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
        expect((await store.listPolicySets(z.id)).items).toEqual([]);
        expect(await store.getPolicySet(z.id, 'default')).toBeUndefined();
        const { policySet, version } = await store.createPolicySet({ zoneId: z.id, name: 'default' }, [{ policyId: policy.id, version: 1 }]);
        expect(version?.version).toBe(1);
        expect((await store.listPolicySets(z.id)).items).toEqual([policySet]);
      });

      it('numbers set versions and keeps the order of their members', async () => {
        const { z, policy, other, set } = await setup();
        const v1 = await store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 1 }]);
        const members = [
          { policyId: other.id, version: 1 },
          { policyId: policy.id, version: 2 },
        ];
        const v2 = await store.addPolicySetVersion(set.id, members);
        expect([v1.version, v2.version]).toEqual([1, 2]);
        expect(v2.policies).toEqual(members);
        expect(await store.getPolicySetVersion(set.id, 1)).toEqual(v1);
        expect(await store.listPolicySetVersions(set.id)).toEqual([v1, v2]);
        expect((await store.getPolicySet(z.id, 'default'))?.latestVersion).toBe(2);
        expect((await store.listPolicySets(z.id)).items).toHaveLength(1);
      });

      it('refuses members that do not exist in the zone, or repeat a policy', async () => {
        const { policy, set } = await setup();
        const elsewhere = await zone('elsewhere');
        const { policy: foreign } = await store.createPolicy({ zoneId: elsewhere.id, name: 'p' }, emptyVersion);
        await expect(store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 9 }])).rejects.toThrow(
          new RegExp(`${policy.id}@9`),
        );
        for (const refs of [
          [{ policyId: foreign.id, version: 1 }],
          [
            { policyId: policy.id, version: 1 },
            { policyId: policy.id, version: 2 },
          ],
        ]) {
          await expect(store.addPolicySetVersion(set.id, refs)).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
        }
        expect(await store.listPolicySetVersions(set.id)).toEqual([]);
      });

      it('activates atomically, returns the previous pointer, and records history newest first', async () => {
        const { z, policy, set } = await setup();
        await store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 1 }]);
        await store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 2 }]);
        expect(await store.getActivePolicySet(z.id)).toBeUndefined();
        expect(await store.activatePolicySet(z.id, set.id, 1)).toBeNull();
        const previous = await store.activatePolicySet(z.id, set.id, 2);
        expect(previous).toMatchObject({ zoneId: z.id, policySetId: set.id, version: 1 });
        expect(await store.getActivePolicySet(z.id)).toMatchObject({ policySetId: set.id, version: 2 });

        await expect(store.activatePolicySet(z.id, set.id, 3)).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
        expect(await store.getActivePolicySet(z.id)).toMatchObject({ version: 2 });

        await store.activatePolicySet(z.id, set.id, 1);
        const history = await store.listActivations(z.id);
        expect(history.map((a) => a.version)).toEqual([1, 2, 1]);
        expect(await store.listActivations(z.id, 2)).toHaveLength(2);
      });

      it('deactivates (returning the previous pointer) so that nothing is active', async () => {
        const { z, policy, set } = await setup();
        await store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 1 }]);
        await store.activatePolicySet(z.id, set.id, 1);
        expect(await store.deactivatePolicySet(z.id)).toMatchObject({ policySetId: set.id, version: 1 });
        expect(await store.getActivePolicySet(z.id)).toBeUndefined();
        expect(await store.deactivatePolicySet(z.id)).toBeNull();
      });

      it('refuses to activate a set of another zone', async () => {
        const { policy, set } = await setup();
        await store.addPolicySetVersion(set.id, [{ policyId: policy.id, version: 1 }]);
        const other = await zone('other');
        await expect(store.activatePolicySet(other.id, set.id, 1)).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
        expect(await store.getActivePolicySet(other.id)).toBeUndefined();
      });
    });

    describe('signing keys', () => {
      it('stores one active key per zone, rotates atomically, and prunes retired keys after retireAfter', async () => {
        const z = await zone();
        const first = await store.createSigningKey(signingKey(z.id, 'k1'));
        expect(await store.listSigningKeys(z.id)).toEqual([first]);
        await expect(store.createSigningKey(signingKey(z.id, 'k2'))).rejects.toMatchObject({ code: 'CRC_CONFLICT' });

        const retireAfter = future(600);
        await store.rotateSigningKey(z.id, signingKey(z.id, 'k2'), retireAfter);
        const keys = await store.listSigningKeys(z.id);
        expect(keys.map((k) => [k.kid, k.status])).toEqual([
          ['k1', 'retired'],
          ['k2', 'active'],
        ]);
        expect(keys[0]?.retireAfter).toBe(retireAfter);

        expect(await store.pruneSigningKeys(new Date().toISOString())).toBe(0);
        expect(await store.pruneSigningKeys(future(601))).toBe(1);
        expect((await store.listSigningKeys(z.id)).map((k) => k.kid)).toEqual(['k2']);
      });

      it('lists keys of every zone and refuses a rotation to a key of another zone', async () => {
        const a = await zone('a');
        const b = await zone('b');
        await store.createSigningKey(signingKey(a.id, 'ka'));
        await store.createSigningKey(signingKey(b.id, 'kb'));
        expect((await store.listSigningKeys()).map((k) => k.kid).sort()).toEqual(['ka', 'kb']);
        await expect(store.rotateSigningKey(a.id, signingKey(b.id, 'kc'), future(60))).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
        await expect(store.createSigningKey(signingKey(b.id, 'ka'))).rejects.toMatchObject({ code: 'CRC_CONFLICT' });
      });
    });

    describe('revocations', () => {
      it('lists revocations until they expire, and widens an entry revoked twice', async () => {
        const z = await zone();
        await store.addRevocation(revocation(z.id, 'jti', 'tok_a', future(60)));
        await store.addRevocation(revocation(z.id, 'app', 'app_x', future(3600)));
        const now = new Date().toISOString();
        expect((await store.listRevocations(now)).map((r) => r.value).sort()).toEqual(['app_x', 'tok_a']);
        expect((await store.listRevocations(future(61))).map((r) => r.value)).toEqual(['app_x']);
        expect(await store.listRevocations(future(3601))).toEqual([]);

        const later = future(7200);
        await store.addRevocation({ ...revocation(z.id, 'app', 'app_x', later), notBefore: future(5) });
        const [entry] = await store.listRevocations(future(3601));
        expect(entry).toMatchObject({ kind: 'app', value: 'app_x', zoneId: z.id, expiresAt: later, notBefore: future(5) });
      });
    });

    describe('audit ledger', () => {
      it('appends a chain: seq from 1, prev_hash linking to the previous hash, defaults filled', async () => {
        const z = await zone();
        const stored = await store.appendAudit([event(z.id), event(z.id), event(z.id)]);
        expect(stored.map((e) => e.seq)).toEqual([1, 2, 3]);
        expect(stored[0]?.prev_hash).toBe(GENESIS_HASH);
        expect(stored[1]?.prev_hash).toBe(stored[0]?.hash);
        expect(stored[2]?.prev_hash).toBe(stored[1]?.hash);
        expect(stored[0]).toMatchObject({ app: null, scopes: [], category: null, policy: null, http: null, token: null, detail: {} });
        expect(isId('event', stored[0]?.id ?? '')).toBe(true);
        expect(Date.parse(stored[0]?.at ?? '')).not.toBeNaN();
        for (const e of stored) expect(e.hash).toBe(rehash(e));
      });

      it('continues each chain across batches, with several chains (and the global one) in one batch', async () => {
        const a = await zone('a');
        const b = await zone('b');
        const first = await store.appendAudit([event(a.id), event(b.id), event(null), event(a.id)]);
        const second = await store.appendAudit([event(b.id), event(a.id), event(null)]);
        expect([...first, ...second].map((e) => `${e.zone ?? 'global'}:${e.seq}`)).toEqual([
          `${a.id}:1`,
          `${b.id}:1`,
          'global:1',
          `${a.id}:2`,
          `${b.id}:2`,
          `${a.id}:3`,
          'global:2',
        ]);
        for (const chain of [a.id, b.id, 'global']) expectContinuous(await store.readAuditChain(chain), chain);
        expect([...(await store.listAuditChains())].sort()).toEqual([a.id, b.id, 'global'].sort());
      });

      it('reads every field back exactly as hashed', async () => {
        const z = await zone();
        const [stored] = await store.appendAudit([fullEvent(z.id)]);
        const [read] = await store.readAuditChain(z.id);
        expect(read).toEqual(stored);
        expect(read && rehash(read)).toBe(read?.hash);
        expect(read).toMatchObject({
          at: '2030-01-02T03:04:05.678Z',
          policy: { set_id: 'pset_1', set_version: 3, versions: ['pol_1@2'], rules: ['allow-read'] },
          http: { method: 'GET', path: '/invoices', status: 200, upstream_status: 200, latency_ms: 1.25 },
          token: { jti: 'tok_1', exp: 1_900_000_000 },
          detail: { note: 'hello', nested: { n: 1 } },
        });
      });

      it('keeps of a detail what JSON keeps, so every event reads back as hashed', async () => {
        const z = await zone();
        const when = new Date('2030-01-02T03:04:05.678Z');
        const details: Record<string, unknown>[] = [
          { text: 'a', n: 1.5, yes: true, none: null, gone: undefined, zero: -0 },
          { nan: Number.NaN, infinite: Number.POSITIVE_INFINITY, when, call: () => 1 },
          JSON.parse('{"__proto__": {"x": 1}, "a": [1, {"b": 2}]}') as Record<string, unknown>,
        ];
        const stored = await store.appendAudit(details.map((detail) => ({ ...event(z.id), detail })));
        const read = await store.readAuditChain(z.id);
        expect(read).toEqual(stored);
        for (const e of read) expect(e.hash).toBe(rehash(e));
        expect(read.map((e) => e.detail)).toEqual([
          { text: 'a', n: 1.5, yes: true, none: null, zero: 0 },
          { nan: null, infinite: null, when: when.toISOString() },
          JSON.parse('{"__proto__": {"x": 1}, "a": [1, {"b": 2}]}'),
        ]);
        expect(Object.getPrototypeOf(read[2]?.detail)).toBe(Object.prototype);
      });

      it('reads a chain from a seq with a limit', async () => {
        const z = await zone();
        await store.appendAudit(Array.from({ length: 10 }, () => event(z.id)));
        expect((await store.readAuditChain(z.id, 4, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
        expect((await store.readAuditChain(z.id, 9)).map((e) => e.seq)).toEqual([9, 10]);
        expect(await store.readAuditChain('zn_none')).toEqual([]);
      });

      it('appends nothing for an empty batch, and nothing at all when one event of a batch is invalid', async () => {
        const z = await zone();
        expect(await store.appendAudit([])).toEqual([]);
        await expect(store.appendAudit([event(z.id), { ...event(z.id), type: 'bogus' as never }])).rejects.toMatchObject({
          code: 'CRC_VALIDATION',
        });
        expect(await store.readAuditChain(z.id)).toEqual([]);
        // `global` is the zone-less chain's key, not a zone: recording it as one is refused.
        await expect(store.appendAudit([{ ...event(null), zone: 'global' }])).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
        // Every field an event is read back with must be there (a row that cannot be read would stop every reader).
        for (const bad of [{ reason: undefined }, { token: { jti: 'tok_1' } }, { http: { method: 'GET' } }]) {
          await expect(store.appendAudit([{ ...event(z.id), ...bad } as unknown as AuditEventInput])).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
        }
        expect(await store.readAuditChain('global')).toEqual([]);
      });

      describe('queries', () => {
        let zoneA: string;
        let zoneB: string;
        beforeEach(async () => {
          zoneA = (await zone('a')).id;
          zoneB = (await zone('b')).id;
          await store.appendAudit([
            { ...event(zoneA), request_id: 'req_1', type: 'token.issued', app: 'app_1', resource: 'resource://r1', token: { jti: 'tok_1', exp: 1 }, at: '2030-01-01T00:00:00.000Z' },
            { ...event(zoneA), request_id: 'req_2', type: 'gateway.request', decision: 'deny', app: 'app_1', resource: 'resource://r2', at: '2030-01-02T00:00:00.000Z' },
            { ...event(zoneB), request_id: 'req_2', type: 'gateway.request', app: 'app_2', resource: 'resource://r1', token: { jti: 'tok_1', exp: 1 }, at: '2030-01-03T00:00:00.000Z' },
            { ...event(null), request_id: 'req_3', type: 'token.denied', decision: 'error', at: '2030-01-04T00:00:00.000Z' },
          ]);
        });

        it.each<[string, (zones: { a: string }) => AuditQuery, string[]]>([
          ['no filter', () => ({}), ['req_3', 'req_2', 'req_2', 'req_1']],
          ['zone', (z) => ({ zone: z.a }), ['req_2', 'req_1']],
          ['the global chain', () => ({ zone: 'global' }), ['req_3']],
          ['type', () => ({ type: 'gateway.request' }), ['req_2', 'req_2']],
          ['decision', () => ({ decision: 'deny' }), ['req_2']],
          ['app', () => ({ app: 'app_1' }), ['req_2', 'req_1']],
          ['resource', () => ({ resource: 'resource://r1' }), ['req_2', 'req_1']],
          ['request ID', () => ({ requestId: 'req_2' }), ['req_2', 'req_2']],
          ['token jti', () => ({ jti: 'tok_1' }), ['req_2', 'req_1']],
          ['since (inclusive)', () => ({ since: '2030-01-02T00:00:00Z' }), ['req_3', 'req_2', 'req_2']],
          ['until (exclusive)', () => ({ until: '2030-01-02T00:00:00Z' }), ['req_1']],
          ['several filters', () => ({ app: 'app_1', decision: 'allow' }), ['req_1']],
        ])('filters by %s, newest first', async (_label, query, expected) => {
          const page = await store.queryAudit(query({ a: zoneA }));
          expect(page.items.map((e) => e.request_id)).toEqual(expected);
          expect(page.nextCursor).toBeNull();
        });

        it('pages newest first by time (ties: the later appended first), without gaps or repeats', async () => {
          // Seven events stamped in one millisecond, then one appended last but stamped earliest.
          await store.appendAudit(Array.from({ length: 7 }, (_, i) => ({ ...event(zoneB), request_id: `req_tie_${i}`, at: '2030-01-02T12:00:00.000Z' })));
          await store.appendAudit([{ ...event(zoneA), request_id: 'req_late', at: '2029-12-31T00:00:00.000Z' }]);
          const ties = Array.from({ length: 7 }, (_, i) => `req_tie_${6 - i}`);
          const all = (await store.queryAudit({ limit: 500 })).items;
          expect(all.map((e) => e.request_id)).toEqual(['req_3', 'req_2', ...ties, 'req_2', 'req_1', 'req_late']);
          for (const query of [{}, { zone: zoneB }, { type: 'gateway.request' as const }, { since: '2030-01-02T00:00:00Z' }]) {
            const expected = (await store.queryAudit({ ...query, limit: 500 })).items.map((e) => e.id);
            const seen: string[] = [];
            let cursor: string | undefined;
            for (;;) {
              const page = await store.queryAudit({ ...query, limit: 3, ...(cursor === undefined ? {} : { cursor }) });
              seen.push(...page.items.map((e) => e.id));
              if (page.nextCursor === null) break;
              cursor = page.nextCursor;
            }
            expect(seen).toEqual(expected);
          }
          const filtered = await store.queryAudit({ zone: zoneB, limit: 5 });
          const next = await store.queryAudit({ zone: zoneB, limit: 5, cursor: filtered.nextCursor ?? '' });
          expect([...filtered.items, ...next.items].map((e) => e.request_id)).toEqual(['req_2', ...ties]);
        });

        it('refuses a cursor it did not issue', async () => {
          for (const cursor of ['bogus', Buffer.from('c1:x').toString('base64url'), Buffer.from('c1:2030-01-01T00:00:00.000Z|0').toString('base64url')]) {
            await expect(store.queryAudit({ cursor })).rejects.toMatchObject({ code: 'CRC_BAD_REQUEST' });
          }
        });

        it('follows appends by position: append order, filtered, resumable, past what did not match', async () => {
          const start = await store.auditPosition();
          expect(start).toBeGreaterThan(0);
          // The first is stamped long ago (a writer with a slow clock): a tail still gets it, in append order.
          await store.appendAudit([
            { ...event(zoneA), request_id: 'req_t1', at: '2000-01-01T00:00:00.000Z' },
            { ...event(zoneB), request_id: 'req_t2' },
            { ...event(zoneA), request_id: 'req_t3' },
          ]);
          const head = await store.auditPosition();
          const all = await store.readAuditAfter({}, start, 500);
          expect(all.events.map((e) => e.request_id)).toEqual(['req_t1', 'req_t2', 'req_t3']);
          expect(all.position).toBe(head);
          expect(await store.readAuditAfter({}, head, 500)).toEqual({ events: [], position: head });
          // A position past the head comes from another ledger (purged and created again): it restarts at this head.
          expect(await store.readAuditAfter({}, head + 1000, 500)).toEqual({ events: [], position: head });
          const inZone = await store.readAuditAfter({ zone: zoneA }, start, 500);
          expect(inZone).toMatchObject({ events: [{ request_id: 'req_t1' }, { request_id: 'req_t3' }], position: head });
          expect(await store.readAuditAfter({ app: 'app_nobody' }, start, 500)).toEqual({ events: [], position: head });
          const first = await store.readAuditAfter({}, start, 2);
          expect(first.events.map((e) => e.request_id)).toEqual(['req_t1', 'req_t2']);
          expect((await store.readAuditAfter({}, first.position, 2)).events.map((e) => e.request_id)).toEqual(['req_t3']);
          await expect(store.readAuditAfter({}, -1, 500)).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
        });
      });
    });

    describe('settings', () => {
      it('gets what was set, overwrites, and answers undefined for unknown keys', async () => {
        expect(await store.getSetting('audit.public_key')).toBeUndefined();
        await store.setSetting('audit.public_key', 'one');
        await store.setSetting('audit.public_key', 'two');
        await store.setSetting('other', '');
        expect(await store.getSetting('audit.public_key')).toBe('two');
        expect(await store.getSetting('other')).toBe('');
      });
    });

    describe('watch', () => {
      it('returns an unsubscribe function that can be called more than once', () => {
        const stop = store.watch(() => undefined);
        expect(typeof stop).toBe('function');
        stop();
        stop();
      });
    });
  });
}

function providerInput(zoneId: string) {
  return {
    zoneId,
    name: 'vendor',
    kind: 'api-key' as const,
    config: { header: 'X-Api-Key' },
    credentialsSealed: seal('{"apiKey":"k-123"}', key),
    credentialKeys: ['apiKey'],
  };
}

function signingKey(zoneId: string, kid = 'k1'): SigningKey {
  return {
    kid,
    zoneId,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid },
    privateSealed: seal('{"d":"private"}', key),
    status: 'active',
    createdAt: new Date().toISOString(),
    retireAfter: null,
  };
}

function revocation(zoneId: string, kind: 'jti' | 'app', value: string, expiresAt: string) {
  const now = new Date().toISOString();
  return { kind, value, zoneId, reason: 'test', createdAt: now, notBefore: now, expiresAt };
}

function future(seconds: number): string {
  // Whole seconds, so the same offset gives the same instant within one test.
  return new Date(Math.floor(Date.now() / 1000) * 1000 + seconds * 1000).toISOString();
}

function event(zone: string | null): AuditEventInput {
  return { type: 'gateway.request', zone, request_id: `req_${Math.random().toString(36).slice(2)}`, decision: 'allow', reason: 'ok' };
}

function fullEvent(zone: string): AuditEventInput {
  return {
    type: 'gateway.request',
    zone,
    request_id: 'req_full',
    at: '2030-01-02T03:04:05.678Z',
    app: 'app_1',
    resource: 'resource://billing',
    scopes: ['billing:read'],
    decision: 'allow',
    reason: 'ok',
    category: null,
    policy: { set_id: 'pset_1', set_version: 3, versions: ['pol_1@2'], rules: ['allow-read'] },
    http: { method: 'GET', path: '/invoices', status: 200, upstream_status: 200, latency_ms: 1.25 },
    token: { jti: 'tok_1', exp: 1_900_000_000 },
    detail: { note: 'hello', nested: { n: 1 }, dropped: undefined },
  };
}

function rehash(event: AuditEvent): string {
  const { hash: _hash, ...rest } = event;
  return hashEvent(rest);
}

/** Asserts a chain's events are seq 1, 2, 3… with each prev_hash the previous hash. */
export function expectContinuous(events: readonly AuditEvent[], chain: string): void {
  let previous = GENESIS_HASH;
  events.forEach((e, i) => {
    expect(e.seq, `${chain} seq`).toBe(i + 1);
    expect(e.prev_hash, `${chain} prev_hash at seq ${e.seq}`).toBe(previous);
    expect(e.hash).toBe(rehash(e));
    previous = e.hash;
  });
}
