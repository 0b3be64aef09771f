import { newId } from '../../domain/ids.js';
import type {
  ActivePolicySet,
  ListOptions,
  Page,
  Policy,
  PolicyRef,
  PolicySet,
  PolicySetVersion,
  PolicyVersion,
} from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import type { CreatedPolicy, CreatedPolicySet, NewPolicy, NewPolicySet, NewPolicyVersion } from '../store.js';
import { checkName, checkOneOf, checkVersion, isList } from './checks.js';
import { pageLimit } from './paging.js';
import { toActive, toPolicySetVersion, toPolicyVersion, toVersioned } from './rows.js';
import type { ActiveRow, PolicySetVersionRow, PolicyVersionRow, VersionedRow } from './rows.js';
import { notFound, now } from './sqlite-db.js';
import type { SqliteDb } from './sqlite-db.js';

const POLICY_FORMATS = ['toml', 'json'] as const;

/**
 * Policies, policy sets, their immutable versions (numbered latest+1 inside a BEGIN IMMEDIATE
 * transaction, so concurrent writers never collide) and each zone's active pointer with its
 * activation history, in SQLite.
 */
export class SqlitePolicies {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  // Policies

  createPolicy(input: NewPolicy, firstVersion?: NewPolicyVersion): Promise<CreatedPolicy> {
    return this.#db.write(() => {
      const policy = this.#createVersioned('policies', 'policy', input);
      if (firstVersion === undefined) return { policy, version: null };
      // Same transaction as the policy row: a refused first version rolls the policy back with it.
      const version = this.#insertPolicyVersion(policy, firstVersion);
      return { policy: { ...policy, latestVersion: version.version }, version };
    });
  }

  getPolicy(zoneId: string, ref: string): Promise<Policy | undefined> {
    return this.#db.run(() => {
      const row = this.#db.byRef<VersionedRow>('policies', zoneId, ref);
      return row && toVersioned(row);
    });
  }

  listPolicies(zoneId: string, options: ListOptions = {}): Promise<Page<Policy>> {
    return this.#db.run(() =>
      this.#db.list<VersionedRow, Policy>('SELECT * FROM policies WHERE zone_id = ? AND', [zoneId], options, toVersioned),
    );
  }

  addPolicyVersion(policyId: string, input: NewPolicyVersion): Promise<PolicyVersion> {
    return this.#db.write(() => {
      const policy = this.#db.sql('SELECT * FROM policies WHERE id = ?').get(policyId) as VersionedRow | undefined;
      if (policy === undefined) throw notFound(`Policy ${policyId}`);
      return this.#insertPolicyVersion(toVersioned(policy), input);
    });
  }

  getPolicyVersion(policyId: string, version: number): Promise<PolicyVersion | undefined> {
    return this.#db.run(() => {
      const row = this.#db.sql('SELECT * FROM policy_versions WHERE policy_id = ? AND version = ?').get(policyId, version) as
        | PolicyVersionRow
        | undefined;
      return row && toPolicyVersion(row);
    });
  }

  listPolicyVersions(policyId: string): Promise<readonly PolicyVersion[]> {
    return this.#db.run(() =>
      (this.#db.sql('SELECT * FROM policy_versions WHERE policy_id = ? ORDER BY version').all(policyId) as PolicyVersionRow[]).map(
        toPolicyVersion,
      ),
    );
  }

  // Policy sets

  createPolicySet(input: NewPolicySet, firstVersion?: readonly PolicyRef[]): Promise<CreatedPolicySet> {
    return this.#db.write(() => {
      const policySet = this.#createVersioned('policy_sets', 'policy set', input);
      if (firstVersion === undefined) return { policySet, version: null };
      // Same transaction as the set row: refused members roll the set back with them.
      const version = this.#insertSetVersion(policySet, firstVersion);
      return { policySet: { ...policySet, latestVersion: version.version }, version };
    });
  }

  getPolicySet(zoneId: string, ref: string): Promise<PolicySet | undefined> {
    return this.#db.run(() => {
      const row = this.#db.byRef<VersionedRow>('policy_sets', zoneId, ref);
      return row && toVersioned(row);
    });
  }

  listPolicySets(zoneId: string, options: ListOptions = {}): Promise<Page<PolicySet>> {
    return this.#db.run(() =>
      this.#db.list<VersionedRow, PolicySet>('SELECT * FROM policy_sets WHERE zone_id = ? AND', [zoneId], options, toVersioned),
    );
  }

  addPolicySetVersion(policySetId: string, policies: readonly PolicyRef[]): Promise<PolicySetVersion> {
    return this.#db.write(() => {
      const set = this.#db.sql('SELECT * FROM policy_sets WHERE id = ?').get(policySetId) as VersionedRow | undefined;
      if (set === undefined) throw notFound(`Policy set ${policySetId}`);
      return this.#insertSetVersion(toVersioned(set), policies);
    });
  }

  getPolicySetVersion(policySetId: string, version: number): Promise<PolicySetVersion | undefined> {
    return this.#db.run(() => {
      const row = this.#db.sql('SELECT * FROM policy_set_versions WHERE policy_set_id = ? AND version = ?').get(
        policySetId,
        version,
      ) as PolicySetVersionRow | undefined;
      return row && toPolicySetVersion(row);
    });
  }

  listPolicySetVersions(policySetId: string): Promise<readonly PolicySetVersion[]> {
    return this.#db.run(() =>
      (
        this.#db.sql('SELECT * FROM policy_set_versions WHERE policy_set_id = ? ORDER BY version').all(
          policySetId,
        ) as PolicySetVersionRow[]
      ).map(toPolicySetVersion),
    );
  }

  activatePolicySet(zoneId: string, policySetId: string, version: number): Promise<ActivePolicySet | null> {
    return this.#db.write(() => {
      this.#db.requireZone(zoneId);
      const exists = this.#db.sql(
        `SELECT 1 FROM policy_set_versions v JOIN policy_sets s ON s.id = v.policy_set_id
         WHERE s.zone_id = ? AND v.policy_set_id = ? AND v.version = ?`,
      ).get(zoneId, policySetId, version);
      if (exists === undefined) throw notFound(`Policy set ${policySetId} version ${version} in zone ${zoneId}`);
      const previous = this.#active(zoneId);
      const time = now();
      this.#db.sql(
        `INSERT INTO active_policy_sets (zone_id, policy_set_id, version, activated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (zone_id) DO UPDATE SET policy_set_id = excluded.policy_set_id, version = excluded.version,
           activated_at = excluded.activated_at`,
      ).run(zoneId, policySetId, version, time);
      this.#db.sql(
        'INSERT INTO policy_activations (zone_id, policy_set_id, version, activated_at) VALUES (?, ?, ?, ?)',
      ).run(zoneId, policySetId, version, time);
      return previous ?? null;
    });
  }

  deactivatePolicySet(zoneId: string): Promise<ActivePolicySet | null> {
    return this.#db.write(() => {
      this.#db.requireZone(zoneId);
      const previous = this.#active(zoneId);
      this.#db.sql('DELETE FROM active_policy_sets WHERE zone_id = ?').run(zoneId);
      return previous ?? null;
    });
  }

  getActivePolicySet(zoneId: string): Promise<ActivePolicySet | undefined> {
    return this.#db.run(() => this.#active(zoneId));
  }

  listActivations(zoneId: string, limit?: number): Promise<readonly ActivePolicySet[]> {
    return this.#db.run(() =>
      (
        this.#db.sql('SELECT * FROM policy_activations WHERE zone_id = ? ORDER BY seq DESC LIMIT ?').all(
          zoneId,
          pageLimit(limit),
        ) as ActiveRow[]
      ).map(toActive),
    );
  }

  #createVersioned(
    table: 'policies' | 'policy_sets',
    what: 'policy' | 'policy set',
    input: NewPolicy | NewPolicySet,
  ): Policy & PolicySet {
    this.#db.requireZone(input.zoneId);
    const item = {
      id: newId(table === 'policies' ? 'policy' : 'policySet'),
      zoneId: input.zoneId,
      name: checkName(input.name, what, table === 'policies' ? 'policy' : 'policySet'),
      description: input.description ?? '',
      latestVersion: 0,
      createdAt: now(),
    };
    this.#db.unique(
      () =>
        this.#db.sql(`INSERT INTO ${table} (id, zone_id, name, description, latest_version, created_at) VALUES (?, ?, ?, ?, 0, ?)`).run(
          item.id,
          item.zoneId,
          item.name,
          item.description,
          item.createdAt,
        ),
      { name: `A ${what} named "${item.name}" already exists in zone ${item.zoneId}; choose another name.` },
    );
    return item;
  }

  /** Checks and stores version latest+1 of a policy; call inside a write transaction. */
  #insertPolicyVersion(policy: Pick<Policy, 'id' | 'latestVersion'>, input: NewPolicyVersion): PolicyVersion {
    if (typeof input.source !== 'string' || !Array.isArray(input.rules)) {
      throw new CaracalError('CRC_VALIDATION', 'A policy version needs its source text and its rules (a list).');
    }
    const format = checkOneOf(input.format, POLICY_FORMATS, 'format');
    let rules: string;
    try {
      rules = JSON.stringify(input.rules);
    } catch (error) {
      throw new CaracalError('CRC_VALIDATION', 'The rules of a policy version must be JSON values; these cannot be stored.', {
        cause: error,
        details: { field: 'rules' },
      });
    }
    const version: PolicyVersion = {
      policyId: policy.id,
      version: policy.latestVersion + 1,
      format,
      source: input.source,
      rules: JSON.parse(rules) as unknown[],
      createdAt: now(),
    };
    this.#db.sql(
      'INSERT INTO policy_versions (policy_id, version, format, source, rules, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(policy.id, version.version, version.format, version.source, rules, version.createdAt);
    this.#db.sql('UPDATE policies SET latest_version = ? WHERE id = ?').run(version.version, policy.id);
    return version;
  }

  /** Checks the members and stores version latest+1 of a policy set; call inside a write transaction. */
  #insertSetVersion(set: Pick<PolicySet, 'id' | 'zoneId' | 'latestVersion'>, policies: readonly PolicyRef[]): PolicySetVersion {
    const members = this.#checkMembers(set.zoneId, policies);
    const version: PolicySetVersion = {
      policySetId: set.id,
      version: set.latestVersion + 1,
      policies: members,
      createdAt: now(),
    };
    this.#db.sql('INSERT INTO policy_set_versions (policy_set_id, version, policies, created_at) VALUES (?, ?, ?, ?)').run(
      set.id,
      version.version,
      JSON.stringify(members),
      version.createdAt,
    );
    this.#db.sql('UPDATE policy_sets SET latest_version = ? WHERE id = ?').run(version.version, set.id);
    return version;
  }

  /** Checks a set version's members: each an existing version of a distinct policy of the zone. */
  #checkMembers(zoneId: string, policies: readonly PolicyRef[]): PolicyRef[] {
    if (!isList(policies)) {
      throw new CaracalError('CRC_VALIDATION', 'A policy set version needs a list of policy versions.');
    }
    const members: PolicyRef[] = [];
    const seen = new Set<string>();
    const missing: string[] = [];
    const find = this.#db.sql(
      `SELECT 1 FROM policy_versions v JOIN policies p ON p.id = v.policy_id
       WHERE p.zone_id = ? AND v.policy_id = ? AND v.version = ?`,
    );
    for (const ref of policies) {
      const version = checkVersion(ref.version, 'version');
      if (typeof ref.policyId !== 'string') throw new CaracalError('CRC_VALIDATION', 'Each member needs a policyId.');
      if (seen.has(ref.policyId)) {
        throw new CaracalError('CRC_VALIDATION', `Policy ${ref.policyId} appears twice in the policy set version; list each policy once.`);
      }
      seen.add(ref.policyId);
      if (find.get(zoneId, ref.policyId, version) === undefined) missing.push(`${ref.policyId}@${version}`);
      members.push({ policyId: ref.policyId, version });
    }
    if (missing.length > 0) {
      throw new CaracalError('CRC_VALIDATION', `No such policy version in zone ${zoneId}: ${missing.join(', ')}.`, {
        details: { field: 'policies', missing },
        hint: 'Reference existing versions of policies of the same zone (caracal policies --json lists them).',
      });
    }
    return members;
  }

  #active(zoneId: string): ActivePolicySet | undefined {
    const row = this.#db.sql('SELECT * FROM active_policy_sets WHERE zone_id = ?').get(zoneId) as ActiveRow | undefined;
    return row && toActive(row);
  }
}
