import type { Database as Db, Statement } from 'better-sqlite3';
import type { AuditEvent, AuditEventInput, AuditQuery } from '../../audit/event.js';
import { isResourceId, newId, normalizeResourceId } from '../../domain/ids.js';
import type {
  ActivePolicySet,
  App,
  ListOptions,
  Page,
  Policy,
  PolicyRef,
  PolicySet,
  PolicySetVersion,
  PolicyVersion,
  Provider,
  Resource,
  Revocation,
  SigningKey,
  Zone,
} from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import type {
  AppPatch,
  NewApp,
  NewPolicy,
  NewPolicySet,
  NewPolicyVersion,
  NewProvider,
  NewResource,
  NewZone,
  ProviderPatch,
  ResourcePatch,
  Store,
  ZonePatch,
} from '../store.js';
import { checkName, checkObject, checkOneOf, checkStrings, checkUpstreamUrl, checkVersion } from './checks.js';
import { openDatabase } from './open-database.js';
import { decodeCursor, pageLimit, toPage } from './paging.js';
import {
  toActive,
  toApp,
  toPolicySetVersion,
  toPolicyVersion,
  toProvider,
  toResource,
  toRevocation,
  toSigningKey,
  toVersioned,
  toZone,
} from './rows.js';
import type {
  ActiveRow,
  AppRow,
  PolicySetVersionRow,
  PolicyVersionRow,
  ProviderRow,
  ResourceRow,
  RevocationRow,
  SigningKeyRow,
  VersionedRow,
  ZoneRow,
} from './rows.js';
import { SqliteAuditLedger } from './sqlite-audit-ledger.js';
import { uniqueViolationField, toStoreError } from './sqlite-errors.js';
import { SqliteWatcher } from './sqlite-watcher.js';
import { isoTime } from './time.js';

const ZONE_KINDS = ['evaluation', 'production'] as const;
const POLICY_FORMATS = ['toml', 'json'] as const;
const REVOCATION_KINDS = ['jti', 'app'] as const;

/**
 * The embedded Store (DESIGN.md §3): one SQLite file in WAL mode, shared safely by the control
 * plane and the Gateway processes. better-sqlite3 is synchronous; each method does its work at
 * once and returns a settled promise, so the Store interface fits both this and PostgreSQL.
 *
 * Deleting a zone deletes everything configured in it (apps, resources, providers, policies,
 * keys, revocations, the active pointer); its audit events stay. Deleting a provider that a
 * resource still uses is refused.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #db: Db;
  readonly #ledger: SqliteAuditLedger;
  readonly #watcher: SqliteWatcher;
  readonly #statements = new Map<string, Statement>();
  #closed = false;

  /** Opens (creating and migrating if needed) the database file; see openDatabase for the refusals. */
  static open(file: string): SqliteStore {
    return new SqliteStore(openDatabase(file), file);
  }

  private constructor(db: Db, file: string) {
    this.#db = db;
    this.location = file;
    this.#ledger = new SqliteAuditLedger(db);
    this.#watcher = new SqliteWatcher(db);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#watcher.stop();
      this.#db.close();
    }
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return this.#run(() => {
      this.#sql('SELECT 1').get();
    });
  }

  // Zones

  createZone(input: NewZone): Promise<Zone> {
    return this.#run(() => {
      const time = now();
      const zone: Zone = {
        id: newId('zone'),
        name: checkName(input.name, 'zone', 'zone'),
        kind: checkOneOf(input.kind, ZONE_KINDS, 'kind'),
        description: input.description ?? '',
        allowedPrivateHosts: checkStrings(input.allowedPrivateHosts ?? [], 'allowedPrivateHosts'),
        createdAt: time,
        updatedAt: time,
      };
      this.#insertZone(zone);
      return zone;
    });
  }

  getZone(ref: string): Promise<Zone | undefined> {
    return this.#run(() => {
      const row = (this.#sql('SELECT * FROM zones WHERE id = ?').get(ref) ??
        this.#sql('SELECT * FROM zones WHERE name = ?').get(ref)) as ZoneRow | undefined;
      return row && toZone(row);
    });
  }

  listZones(options: ListOptions = {}): Promise<Page<Zone>> {
    return this.#run(() => this.#list<ZoneRow, Zone>('SELECT * FROM zones WHERE', [], options, toZone));
  }

  updateZone(id: string, patch: ZonePatch): Promise<Zone> {
    return this.#write(() => {
      const current = this.#requireZone(id);
      const zone: Zone = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'zone', 'zone'),
        kind: patch.kind === undefined ? current.kind : checkOneOf(patch.kind, ZONE_KINDS, 'kind'),
        description: patch.description ?? current.description,
        allowedPrivateHosts:
          patch.allowedPrivateHosts === undefined
            ? current.allowedPrivateHosts
            : checkStrings(patch.allowedPrivateHosts, 'allowedPrivateHosts'),
        updatedAt: now(),
      };
      this.#unique(
        () =>
          this.#sql(
            `UPDATE zones SET name = ?, kind = ?, description = ?, allowed_private_hosts = ?, updated_at = ?
             WHERE id = ?`,
          ).run(zone.name, zone.kind, zone.description, JSON.stringify(zone.allowedPrivateHosts), zone.updatedAt, id),
        { name: `A zone named "${zone.name}" already exists; choose another name.` },
      );
      return zone;
    });
  }

  deleteZone(id: string): Promise<void> {
    return this.#run(() => this.#delete('DELETE FROM zones WHERE id = ?', [id], `Zone ${id}`));
  }

  // Apps

  createApp(input: NewApp): Promise<App> {
    return this.#write(() => {
      this.#requireZone(input.zoneId);
      const time = now();
      const app: App = {
        id: newId('app'),
        zoneId: input.zoneId,
        name: checkName(input.name, 'app', 'app'),
        description: input.description ?? '',
        disabled: false,
        secretHash: checkSecretHash(input.secretHash),
        secretRotatedAt: time,
        createdAt: time,
        updatedAt: time,
      };
      this.#unique(
        () =>
          this.#sql(
            `INSERT INTO apps (id, zone_id, name, description, disabled, secret_hash, secret_rotated_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)`,
          ).run(app.id, app.zoneId, app.name, app.description, app.secretHash, time, time, time),
        { name: `An app named "${app.name}" already exists in zone ${app.zoneId}; choose another name.` },
      );
      return app;
    });
  }

  getApp(zoneId: string, ref: string): Promise<App | undefined> {
    return this.#run(() => {
      const row = this.#byRef<AppRow>('apps', zoneId, ref);
      return row && toApp(row);
    });
  }

  getAppById(id: string): Promise<App | undefined> {
    return this.#run(() => {
      const row = this.#sql('SELECT * FROM apps WHERE id = ?').get(id) as AppRow | undefined;
      return row && toApp(row);
    });
  }

  listApps(zoneId: string, options: ListOptions & { readonly disabled?: boolean } = {}): Promise<Page<App>> {
    return this.#run(() => {
      const params: unknown[] = [zoneId];
      let sql = 'SELECT * FROM apps WHERE zone_id = ? AND';
      if (options.disabled !== undefined) {
        sql += ' disabled = ? AND';
        params.push(options.disabled ? 1 : 0);
      }
      return this.#list<AppRow, App>(sql, params, options, toApp);
    });
  }

  updateApp(id: string, patch: AppPatch): Promise<App> {
    return this.#write(() => {
      const row = this.#sql('SELECT * FROM apps WHERE id = ?').get(id) as AppRow | undefined;
      if (row === undefined) throw notFound(`App ${id}`);
      const current = toApp(row);
      const time = now();
      const rotated = patch.secretHash !== undefined;
      const app: App = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'app', 'app'),
        description: patch.description ?? current.description,
        disabled: patch.disabled ?? current.disabled,
        secretHash: rotated ? checkSecretHash(patch.secretHash) : current.secretHash,
        secretRotatedAt: rotated ? time : current.secretRotatedAt,
        updatedAt: time,
      };
      this.#unique(
        () =>
          this.#sql(
            `UPDATE apps SET name = ?, description = ?, disabled = ?, secret_hash = ?, secret_rotated_at = ?, updated_at = ?
             WHERE id = ?`,
          ).run(app.name, app.description, app.disabled ? 1 : 0, app.secretHash, app.secretRotatedAt, time, id),
        { name: `An app named "${app.name}" already exists in zone ${app.zoneId}; choose another name.` },
      );
      return app;
    });
  }

  deleteApp(id: string): Promise<void> {
    return this.#run(() => this.#delete('DELETE FROM apps WHERE id = ?', [id], `App ${id}`));
  }

  // Resources

  createResource(input: NewResource): Promise<Resource> {
    return this.#write(() => {
      this.#requireZone(input.zoneId);
      const id = normalizeResourceId(input.id);
      const time = now();
      const resource: Resource = {
        id,
        zoneId: input.zoneId,
        name: checkName(input.name ?? id.slice('resource://'.length), 'resource'),
        description: input.description ?? '',
        scopes: checkStrings(input.scopes, 'scopes'),
        upstreamUrl: checkUpstreamUrl(input.upstreamUrl),
        providerId: this.#checkProviderRef(input.zoneId, input.providerId ?? null),
        createdAt: time,
        updatedAt: time,
      };
      this.#unique(
        () =>
          this.#sql(
            `INSERT INTO resources (zone_id, id, name, description, scopes, upstream_url, provider_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            resource.zoneId,
            resource.id,
            resource.name,
            resource.description,
            JSON.stringify(resource.scopes),
            resource.upstreamUrl,
            resource.providerId,
            time,
            time,
          ),
        {
          id: `Resource ${id} already exists in zone ${resource.zoneId}.`,
          name: `A resource named "${resource.name}" already exists in zone ${resource.zoneId}; choose another name.`,
        },
      );
      return resource;
    });
  }

  getResource(zoneId: string, resourceId: string): Promise<Resource | undefined> {
    return this.#run(() => {
      // An ill-formed ID names no resource: answer "not here" rather than fail the lookup.
      if (!isResourceId(resourceId)) return undefined;
      const row = this.#sql('SELECT * FROM resources WHERE zone_id = ? AND id = ?').get(
        zoneId,
        normalizeResourceId(resourceId),
      ) as ResourceRow | undefined;
      return row && toResource(row);
    });
  }

  listResources(zoneId: string, options: ListOptions = {}): Promise<Page<Resource>> {
    return this.#run(() =>
      this.#list<ResourceRow, Resource>('SELECT * FROM resources WHERE zone_id = ? AND', [zoneId], options, toResource),
    );
  }

  updateResource(zoneId: string, resourceId: string, patch: ResourcePatch): Promise<Resource> {
    return this.#write(() => {
      const id = normalizeResourceId(resourceId);
      const row = this.#sql('SELECT * FROM resources WHERE zone_id = ? AND id = ?').get(zoneId, id) as
        | ResourceRow
        | undefined;
      if (row === undefined) throw notFound(`Resource ${id} in zone ${zoneId}`);
      const current = toResource(row);
      const resource: Resource = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'resource'),
        description: patch.description ?? current.description,
        scopes: patch.scopes === undefined ? current.scopes : checkStrings(patch.scopes, 'scopes'),
        upstreamUrl: patch.upstreamUrl === undefined ? current.upstreamUrl : checkUpstreamUrl(patch.upstreamUrl),
        providerId: patch.providerId === undefined ? current.providerId : this.#checkProviderRef(zoneId, patch.providerId),
        updatedAt: now(),
      };
      this.#unique(
        () =>
          this.#sql(
            `UPDATE resources SET name = ?, description = ?, scopes = ?, upstream_url = ?, provider_id = ?, updated_at = ?
             WHERE zone_id = ? AND id = ?`,
          ).run(
            resource.name,
            resource.description,
            JSON.stringify(resource.scopes),
            resource.upstreamUrl,
            resource.providerId,
            resource.updatedAt,
            zoneId,
            id,
          ),
        { name: `A resource named "${resource.name}" already exists in zone ${zoneId}; choose another name.` },
      );
      return resource;
    });
  }

  deleteResource(zoneId: string, resourceId: string): Promise<void> {
    return this.#run(() => {
      const id = normalizeResourceId(resourceId);
      this.#delete('DELETE FROM resources WHERE zone_id = ? AND id = ?', [zoneId, id], `Resource ${id} in zone ${zoneId}`);
    });
  }

  // Providers

  createProvider(input: NewProvider): Promise<Provider> {
    return this.#write(() => {
      this.#requireZone(input.zoneId);
      const time = now();
      const provider: Provider = {
        id: newId('provider'),
        zoneId: input.zoneId,
        name: checkName(input.name, 'provider', 'provider'),
        kind: checkName(input.kind, 'provider kind') as Provider['kind'],
        config: checkObject(input.config, 'config'),
        credentialsSealed: checkSealed(input.credentialsSealed),
        credentialKeys: checkStrings(input.credentialKeys, 'credentialKeys'),
        createdAt: time,
        updatedAt: time,
      };
      this.#unique(
        () =>
          this.#sql(
            `INSERT INTO providers (id, zone_id, name, kind, config, credentials_sealed, credential_keys, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            provider.id,
            provider.zoneId,
            provider.name,
            provider.kind,
            JSON.stringify(provider.config),
            provider.credentialsSealed,
            JSON.stringify(provider.credentialKeys),
            time,
            time,
          ),
        { name: `A provider named "${provider.name}" already exists in zone ${provider.zoneId}; choose another name.` },
      );
      return provider;
    });
  }

  getProvider(zoneId: string, ref: string): Promise<Provider | undefined> {
    return this.#run(() => {
      const row = this.#byRef<ProviderRow>('providers', zoneId, ref);
      return row && toProvider(row);
    });
  }

  listProviders(zoneId: string, options: ListOptions = {}): Promise<Page<Provider>> {
    return this.#run(() =>
      this.#list<ProviderRow, Provider>('SELECT * FROM providers WHERE zone_id = ? AND', [zoneId], options, toProvider),
    );
  }

  updateProvider(id: string, patch: ProviderPatch): Promise<Provider> {
    return this.#write(() => {
      const row = this.#sql('SELECT * FROM providers WHERE id = ?').get(id) as ProviderRow | undefined;
      if (row === undefined) throw notFound(`Provider ${id}`);
      const current = toProvider(row);
      const provider: Provider = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'provider', 'provider'),
        config: patch.config === undefined ? current.config : checkObject(patch.config, 'config'),
        credentialsSealed:
          patch.credentialsSealed === undefined ? current.credentialsSealed : checkSealed(patch.credentialsSealed),
        credentialKeys:
          patch.credentialKeys === undefined ? current.credentialKeys : checkStrings(patch.credentialKeys, 'credentialKeys'),
        updatedAt: now(),
      };
      this.#unique(
        () =>
          this.#sql(
            `UPDATE providers SET name = ?, config = ?, credentials_sealed = ?, credential_keys = ?, updated_at = ?
             WHERE id = ?`,
          ).run(
            provider.name,
            JSON.stringify(provider.config),
            provider.credentialsSealed,
            JSON.stringify(provider.credentialKeys),
            provider.updatedAt,
            id,
          ),
        { name: `A provider named "${provider.name}" already exists in zone ${provider.zoneId}; choose another name.` },
      );
      return provider;
    });
  }

  deleteProvider(id: string): Promise<void> {
    return this.#write(() => {
      const users = this.#sql('SELECT id FROM resources WHERE provider_id = ? ORDER BY id LIMIT 6')
        .pluck()
        .all(id) as string[];
      if (users.length > 0) {
        throw new CaracalError(
          'CRC_CONFLICT',
          `Provider ${id} is still used by ${users.slice(0, 5).join(', ')}${users.length > 5 ? ', …' : ''}.`,
          { details: { field: 'providerId', resources: users }, hint: 'Point those resources at another provider (or none) first.' },
        );
      }
      this.#delete('DELETE FROM providers WHERE id = ?', [id], `Provider ${id}`);
    });
  }

  // Policies

  createPolicy(input: NewPolicy): Promise<Policy> {
    return this.#write(() => this.#createVersioned('policies', 'policy', input));
  }

  getPolicy(zoneId: string, ref: string): Promise<Policy | undefined> {
    return this.#run(() => {
      const row = this.#byRef<VersionedRow>('policies', zoneId, ref);
      return row && toVersioned(row);
    });
  }

  listPolicies(zoneId: string, options: ListOptions = {}): Promise<Page<Policy>> {
    return this.#run(() =>
      this.#list<VersionedRow, Policy>('SELECT * FROM policies WHERE zone_id = ? AND', [zoneId], options, toVersioned),
    );
  }

  addPolicyVersion(policyId: string, input: NewPolicyVersion): Promise<PolicyVersion> {
    return this.#write(() => {
      const policy = this.#sql('SELECT * FROM policies WHERE id = ?').get(policyId) as VersionedRow | undefined;
      if (policy === undefined) throw notFound(`Policy ${policyId}`);
      if (typeof input.source !== 'string' || !Array.isArray(input.rules)) {
        throw new CaracalError('CRC_VALIDATION', 'A policy version needs its source text and its rules (a list).');
      }
      const version: PolicyVersion = {
        policyId,
        version: policy.latest_version + 1,
        format: checkOneOf(input.format, POLICY_FORMATS, 'format'),
        source: input.source,
        rules: JSON.parse(JSON.stringify(input.rules)) as unknown[],
        createdAt: now(),
      };
      this.#sql(
        'INSERT INTO policy_versions (policy_id, version, format, source, rules, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(policyId, version.version, version.format, version.source, JSON.stringify(version.rules), version.createdAt);
      this.#sql('UPDATE policies SET latest_version = ? WHERE id = ?').run(version.version, policyId);
      return version;
    });
  }

  getPolicyVersion(policyId: string, version: number): Promise<PolicyVersion | undefined> {
    return this.#run(() => {
      const row = this.#sql('SELECT * FROM policy_versions WHERE policy_id = ? AND version = ?').get(policyId, version) as
        | PolicyVersionRow
        | undefined;
      return row && toPolicyVersion(row);
    });
  }

  listPolicyVersions(policyId: string): Promise<readonly PolicyVersion[]> {
    return this.#run(() =>
      (this.#sql('SELECT * FROM policy_versions WHERE policy_id = ? ORDER BY version').all(policyId) as PolicyVersionRow[]).map(
        toPolicyVersion,
      ),
    );
  }

  // Policy sets

  createPolicySet(input: NewPolicySet): Promise<PolicySet> {
    return this.#write(() => this.#createVersioned('policy_sets', 'policy set', input));
  }

  getPolicySet(zoneId: string, ref: string): Promise<PolicySet | undefined> {
    return this.#run(() => {
      const row = this.#byRef<VersionedRow>('policy_sets', zoneId, ref);
      return row && toVersioned(row);
    });
  }

  listPolicySets(zoneId: string, options: ListOptions = {}): Promise<Page<PolicySet>> {
    return this.#run(() =>
      this.#list<VersionedRow, PolicySet>('SELECT * FROM policy_sets WHERE zone_id = ? AND', [zoneId], options, toVersioned),
    );
  }

  addPolicySetVersion(policySetId: string, policies: readonly PolicyRef[]): Promise<PolicySetVersion> {
    return this.#write(() => {
      const set = this.#sql('SELECT * FROM policy_sets WHERE id = ?').get(policySetId) as VersionedRow | undefined;
      if (set === undefined) throw notFound(`Policy set ${policySetId}`);
      const members = this.#checkMembers(set.zone_id, policies);
      const version: PolicySetVersion = {
        policySetId,
        version: set.latest_version + 1,
        policies: members,
        createdAt: now(),
      };
      this.#sql('INSERT INTO policy_set_versions (policy_set_id, version, policies, created_at) VALUES (?, ?, ?, ?)').run(
        policySetId,
        version.version,
        JSON.stringify(members),
        version.createdAt,
      );
      this.#sql('UPDATE policy_sets SET latest_version = ? WHERE id = ?').run(version.version, policySetId);
      return version;
    });
  }

  getPolicySetVersion(policySetId: string, version: number): Promise<PolicySetVersion | undefined> {
    return this.#run(() => {
      const row = this.#sql('SELECT * FROM policy_set_versions WHERE policy_set_id = ? AND version = ?').get(
        policySetId,
        version,
      ) as PolicySetVersionRow | undefined;
      return row && toPolicySetVersion(row);
    });
  }

  listPolicySetVersions(policySetId: string): Promise<readonly PolicySetVersion[]> {
    return this.#run(() =>
      (
        this.#sql('SELECT * FROM policy_set_versions WHERE policy_set_id = ? ORDER BY version').all(
          policySetId,
        ) as PolicySetVersionRow[]
      ).map(toPolicySetVersion),
    );
  }

  activatePolicySet(zoneId: string, policySetId: string, version: number): Promise<ActivePolicySet | null> {
    return this.#write(() => {
      this.#requireZone(zoneId);
      const exists = this.#sql(
        `SELECT 1 FROM policy_set_versions v JOIN policy_sets s ON s.id = v.policy_set_id
         WHERE s.zone_id = ? AND v.policy_set_id = ? AND v.version = ?`,
      ).get(zoneId, policySetId, version);
      if (exists === undefined) throw notFound(`Policy set ${policySetId} version ${version} in zone ${zoneId}`);
      const previous = this.#active(zoneId);
      const time = now();
      this.#sql(
        `INSERT INTO active_policy_sets (zone_id, policy_set_id, version, activated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (zone_id) DO UPDATE SET policy_set_id = excluded.policy_set_id, version = excluded.version,
           activated_at = excluded.activated_at`,
      ).run(zoneId, policySetId, version, time);
      this.#sql(
        'INSERT INTO policy_activations (zone_id, policy_set_id, version, activated_at) VALUES (?, ?, ?, ?)',
      ).run(zoneId, policySetId, version, time);
      return previous ?? null;
    });
  }

  deactivatePolicySet(zoneId: string): Promise<ActivePolicySet | null> {
    return this.#write(() => {
      this.#requireZone(zoneId);
      const previous = this.#active(zoneId);
      this.#sql('DELETE FROM active_policy_sets WHERE zone_id = ?').run(zoneId);
      return previous ?? null;
    });
  }

  getActivePolicySet(zoneId: string): Promise<ActivePolicySet | undefined> {
    return this.#run(() => this.#active(zoneId));
  }

  listActivations(zoneId: string, limit?: number): Promise<readonly ActivePolicySet[]> {
    return this.#run(() =>
      (
        this.#sql('SELECT * FROM policy_activations WHERE zone_id = ? ORDER BY seq DESC LIMIT ?').all(
          zoneId,
          pageLimit(limit),
        ) as ActiveRow[]
      ).map(toActive),
    );
  }

  // Signing keys

  createSigningKey(key: SigningKey): Promise<SigningKey> {
    return this.#write(() => {
      this.#requireZone(key.zoneId);
      const stored = this.#insertKey(key);
      return stored;
    });
  }

  listSigningKeys(zoneId?: string): Promise<readonly SigningKey[]> {
    return this.#run(() => {
      const rows =
        zoneId === undefined
          ? this.#sql('SELECT * FROM signing_keys ORDER BY zone_id, created_at, kid').all()
          : this.#sql('SELECT * FROM signing_keys WHERE zone_id = ? ORDER BY created_at, kid').all(zoneId);
      return (rows as SigningKeyRow[]).map(toSigningKey);
    });
  }

  rotateSigningKey(zoneId: string, next: SigningKey, retireAfter: string): Promise<void> {
    return this.#write(() => {
      this.#requireZone(zoneId);
      if (next.zoneId !== zoneId || next.status !== 'active') {
        throw new CaracalError(
          'CRC_VALIDATION',
          `The new signing key must be an active key of zone ${zoneId} (got status ${next.status} in zone ${next.zoneId}).`,
        );
      }
      this.#sql("UPDATE signing_keys SET status = 'retired', retire_after = ? WHERE zone_id = ? AND status = 'active'").run(
        isoTime(retireAfter, 'retireAfter'),
        zoneId,
      );
      this.#insertKey(next);
    });
  }

  pruneSigningKeys(now: string): Promise<number> {
    return this.#run(
      () =>
        this.#sql(
          "DELETE FROM signing_keys WHERE status = 'retired' AND retire_after IS NOT NULL AND retire_after <= ?",
        ).run(isoTime(now, 'now')).changes,
    );
  }

  // Revocations

  addRevocation(revocation: Revocation): Promise<void> {
    return this.#write(() => {
      this.#requireZone(revocation.zoneId);
      const kind = checkOneOf(revocation.kind, REVOCATION_KINDS, 'kind');
      if (typeof revocation.value !== 'string' || revocation.value.length === 0) {
        throw new CaracalError('CRC_VALIDATION', 'A revocation needs the token jti or app ID it revokes.');
      }
      // Revoking again widens the entry: the later cut-off and the later expiry win.
      this.#sql(
        `INSERT INTO revocations (kind, value, zone_id, reason, created_at, not_before, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (zone_id, kind, value) DO UPDATE SET reason = excluded.reason,
           not_before = MAX(not_before, excluded.not_before), expires_at = MAX(expires_at, excluded.expires_at)`,
      ).run(
        kind,
        revocation.value,
        revocation.zoneId,
        revocation.reason ?? '',
        isoTime(revocation.createdAt, 'createdAt'),
        isoTime(revocation.notBefore, 'notBefore'),
        isoTime(revocation.expiresAt, 'expiresAt'),
      );
    });
  }

  listRevocations(now: string): Promise<readonly Revocation[]> {
    return this.#run(() =>
      (
        this.#sql('SELECT * FROM revocations WHERE expires_at > ? ORDER BY created_at, value').all(
          isoTime(now, 'now'),
        ) as RevocationRow[]
      ).map(toRevocation),
    );
  }

  // Audit ledger

  appendAudit(events: readonly AuditEventInput[]): Promise<readonly AuditEvent[]> {
    return this.#run(() => this.#ledger.append(events));
  }

  queryAudit(query: AuditQuery): Promise<Page<AuditEvent>> {
    return this.#run(() => this.#ledger.query(query));
  }

  readAuditChain(chain: string, fromSeq?: number, limit?: number): Promise<readonly AuditEvent[]> {
    return this.#run(() => this.#ledger.readChain(chain, fromSeq, limit));
  }

  listAuditChains(): Promise<readonly string[]> {
    return this.#run(() => this.#ledger.chains());
  }

  // Settings

  getSetting(key: string): Promise<string | undefined> {
    return this.#run(() => this.#sql('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined);
  }

  setSetting(key: string, value: string): Promise<void> {
    return this.#run(() => {
      this.#sql(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(key, value, now());
    });
  }

  /** See SqliteWatcher: polls every 250 ms; reports configuration commits of OTHER connections only. */
  watch(listener: () => void): () => void {
    if (this.#closed) throw closedError(this.location);
    return this.#watcher.add(listener);
  }

  // Internals

  /** Runs synchronous work as a settled promise, mapping SQLite failures to catalog errors. */
  #run<T>(work: () => T): Promise<T> {
    try {
      if (this.#closed) throw closedError(this.location);
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toStoreError(error, this.location));
    }
  }

  /** Like #run, inside one BEGIN IMMEDIATE transaction (reads then writes, safe across processes). */
  #write<T>(work: () => T): Promise<T> {
    return this.#run(() => this.#db.transaction(work).immediate());
  }

  #sql(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a write, turning a uniqueness failure into CRC_CONFLICT with the message for its field. */
  #unique<T>(write: () => T, messages: Readonly<Record<string, string>>): T {
    try {
      return write();
    } catch (error) {
      const field = uniqueViolationField(error);
      if (field === undefined) throw error;
      throw new CaracalError('CRC_CONFLICT', messages[field] ?? `The ${field} is already taken.`, {
        cause: error,
        details: { field },
      });
    }
  }

  #delete(sql: string, params: readonly unknown[], subject: string): void {
    if (this.#sql(sql).run(...params).changes === 0) throw notFound(subject);
  }

  #list<R extends { id: string }, T>(
    sqlPrefix: string,
    params: readonly unknown[],
    options: ListOptions,
    map: (row: R) => T,
  ): Page<T> {
    const limit = pageLimit(options.limit);
    const after = options.cursor === undefined ? '' : decodeCursor(options.cursor);
    const rows = this.#sql(`${sqlPrefix} id > ? ORDER BY id LIMIT ?`).all(...params, after, limit + 1) as R[];
    return toPage(rows, limit, (row) => row.id, map);
  }

  /** A zone-scoped row by ID, else by name. */
  #byRef<R>(table: 'apps' | 'providers' | 'policies' | 'policy_sets', zoneId: string, ref: string): R | undefined {
    return (this.#sql(`SELECT * FROM ${table} WHERE zone_id = ? AND id = ?`).get(zoneId, ref) ??
      this.#sql(`SELECT * FROM ${table} WHERE zone_id = ? AND name = ?`).get(zoneId, ref)) as R | undefined;
  }

  #requireZone(id: string): Zone {
    const row = this.#sql('SELECT * FROM zones WHERE id = ?').get(id) as ZoneRow | undefined;
    if (row === undefined) throw notFound(`Zone ${id}`);
    return toZone(row);
  }

  #insertZone(zone: Zone): void {
    this.#unique(
      () =>
        this.#sql(
          `INSERT INTO zones (id, name, kind, description, allowed_private_hosts, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          zone.id,
          zone.name,
          zone.kind,
          zone.description,
          JSON.stringify(zone.allowedPrivateHosts),
          zone.createdAt,
          zone.updatedAt,
        ),
      { name: `A zone named "${zone.name}" already exists; choose another name.` },
    );
  }

  #createVersioned(
    table: 'policies' | 'policy_sets',
    what: 'policy' | 'policy set',
    input: NewPolicy | NewPolicySet,
  ): Policy & PolicySet {
    this.#requireZone(input.zoneId);
    const item = {
      id: newId(table === 'policies' ? 'policy' : 'policySet'),
      zoneId: input.zoneId,
      name: checkName(input.name, what, table === 'policies' ? 'policy' : 'policySet'),
      description: input.description ?? '',
      latestVersion: 0,
      createdAt: now(),
    };
    this.#unique(
      () =>
        this.#sql(`INSERT INTO ${table} (id, zone_id, name, description, latest_version, created_at) VALUES (?, ?, ?, ?, 0, ?)`).run(
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

  /** Checks a set version's members: each an existing version of a distinct policy of the zone. */
  #checkMembers(zoneId: string, policies: readonly PolicyRef[]): PolicyRef[] {
    if (!isList(policies)) {
      throw new CaracalError('CRC_VALIDATION', 'A policy set version needs a list of policy versions.');
    }
    const members: PolicyRef[] = [];
    const seen = new Set<string>();
    const missing: string[] = [];
    const find = this.#sql(
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
    const row = this.#sql('SELECT * FROM active_policy_sets WHERE zone_id = ?').get(zoneId) as ActiveRow | undefined;
    return row && toActive(row);
  }

  #checkProviderRef(zoneId: string, providerId: string | null): string | null {
    if (providerId === null) return null;
    const found = this.#sql('SELECT 1 FROM providers WHERE zone_id = ? AND id = ?').get(zoneId, providerId);
    if (found === undefined) {
      throw new CaracalError('CRC_VALIDATION', `Provider ${providerId} does not exist in zone ${zoneId}.`, {
        details: { field: 'providerId' },
      });
    }
    return providerId;
  }

  #insertKey(key: SigningKey): SigningKey {
    const stored: SigningKey = {
      kid: key.kid,
      zoneId: key.zoneId,
      alg: key.alg,
      publicJwk: checkObject(key.publicJwk, 'publicJwk'),
      privateSealed: checkSealed(key.privateSealed),
      status: key.status,
      createdAt: isoTime(key.createdAt, 'createdAt'),
      retireAfter: key.retireAfter === null ? null : isoTime(key.retireAfter, 'retireAfter'),
    };
    this.#unique(
      () =>
        this.#sql(
          `INSERT INTO signing_keys (kid, zone_id, alg, public_jwk, private_sealed, status, created_at, retire_after)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          stored.kid,
          stored.zoneId,
          stored.alg,
          JSON.stringify(stored.publicJwk),
          stored.privateSealed,
          stored.status,
          stored.createdAt,
          stored.retireAfter,
        ),
      {
        kid: `A signing key with kid ${key.kid} already exists.`,
        zone_id: `Zone ${key.zoneId} already has an active signing key; rotate it instead of adding another.`,
      },
    );
    return stored;
  }
}

function now(): string {
  return new Date().toISOString();
}

function notFound(subject: string): CaracalError {
  return new CaracalError('CRC_NOT_FOUND', `${subject} was not found.`);
}

function closedError(location: string): CaracalError {
  return new CaracalError('CRC_SERVICE_UNAVAILABLE', `The store ${location} is closed.`);
}

function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function checkSecretHash(value: unknown): string {
  if (typeof value !== 'string' || !value.includes(':')) {
    throw new CaracalError('CRC_VALIDATION', 'An app needs the keyed hash of its secret (scheme:hash), never the secret itself.', {
      details: { field: 'secretHash' },
    });
  }
  return value;
}

function checkSealed(value: unknown): string {
  if (typeof value !== 'string' || !/^v\d+\./.test(value)) {
    throw new CaracalError('CRC_VALIDATION', 'Secret material must be sealed (core/crypto/seal.ts) before it is stored.', {
      details: { field: 'credentialsSealed' },
    });
  }
  return value;
}
