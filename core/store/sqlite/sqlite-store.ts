import type { AuditEvent, AuditEventInput, AuditQuery } from '../../audit/event.js';
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
import type {
  AppPatch,
  AuditTail,
  CreatedPolicy,
  CreatedPolicySet,
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
import { CaracalError } from '../../errors.js';
import { openDatabase } from './open-database.js';
import { SqliteAuditLedger } from './sqlite-audit-ledger.js';
import { closedError, now, SqliteDb } from './sqlite-db.js';
import { SqlitePolicies } from './sqlite-policies.js';
import { SqliteTokenState } from './sqlite-token-state.js';
import { SqliteWatcher } from './sqlite-watcher.js';
import { SqliteZoneObjects } from './sqlite-zone-objects.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/** Checkpointing on a thread of its own; `onError` hears once if that thread fails. */
export interface BackgroundCheckpoints {
  readonly onError: (error: CaracalError) => void;
}

/**
 * The embedded Store (DESIGN.md §3): one SQLite file in WAL mode, shared safely by the control
 * plane and the Gateway processes. better-sqlite3 is synchronous; each method does its work at
 * once and returns a settled promise, so the Store interface fits both this and PostgreSQL.
 * The work is split by area: zone objects, policies, token state (keys and revocations), the
 * audit ledger and the watcher; this class only routes to them.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #db: SqliteDb;
  readonly #objects: SqliteZoneObjects;
  readonly #policies: SqlitePolicies;
  readonly #tokens: SqliteTokenState;
  readonly #ledger: SqliteAuditLedger;
  readonly #watcher: SqliteWatcher;
  readonly #checkpointer: WalCheckpointer | undefined;

  /**
   * Opens (creating and migrating if needed) the database file; see openDatabase for the refusals.
   * `backgroundCheckpoints` moves WAL checkpoints to a thread of their own (wal-checkpointer.ts).
   */
  static open(file: string, options: { readonly backgroundCheckpoints?: BackgroundCheckpoints } = {}): SqliteStore {
    return new SqliteStore(openDatabase(file), file, options.backgroundCheckpoints);
  }

  private constructor(raw: ReturnType<typeof openDatabase>, file: string, backgroundCheckpoints: BackgroundCheckpoints | undefined) {
    this.location = file;
    this.#db = new SqliteDb(raw, file);
    this.#objects = new SqliteZoneObjects(this.#db);
    this.#policies = new SqlitePolicies(this.#db);
    this.#tokens = new SqliteTokenState(this.#db);
    this.#ledger = new SqliteAuditLedger(raw);
    this.#watcher = new SqliteWatcher(raw);
    this.#checkpointer =
      backgroundCheckpoints === undefined
        ? undefined
        : WalCheckpointer.start(raw, file, (error) =>
            backgroundCheckpoints.onError(
              new CaracalError('CRC_STORE_OPEN', `the WAL checkpoint thread for ${file} stopped: ${error.message}; appends checkpoint themselves again`, { cause: error }),
            ),
          );
  }

  close(): Promise<void> {
    this.#watcher.stop();
    // Without a checkpointer thread to wait for, the file is closed before close() returns.
    if (this.#checkpointer === undefined) {
      this.#db.close();
      return Promise.resolve();
    }
    return this.#checkpointer.stop().finally(() => this.#db.close());
  }

  ping(): Promise<void> {
    return this.#db.run(() => {
      this.#db.sql('SELECT 1').get();
    });
  }

  createZone = (input: NewZone): Promise<Zone> => this.#objects.createZone(input);
  getZone = (ref: string): Promise<Zone | undefined> => this.#objects.getZone(ref);
  listZones = (options?: ListOptions): Promise<Page<Zone>> => this.#objects.listZones(options);
  updateZone = (id: string, patch: ZonePatch): Promise<Zone> => this.#objects.updateZone(id, patch);
  deleteZone = (id: string): Promise<void> => this.#objects.deleteZone(id);

  createApp = (input: NewApp): Promise<App> => this.#objects.createApp(input);
  getApp = (zoneId: string, ref: string): Promise<App | undefined> => this.#objects.getApp(zoneId, ref);
  getAppById = (id: string): Promise<App | undefined> => this.#objects.getAppById(id);
  listApps = (zoneId: string, options?: ListOptions & { readonly disabled?: boolean }): Promise<Page<App>> =>
    this.#objects.listApps(zoneId, options);
  updateApp = (id: string, patch: AppPatch): Promise<App> => this.#objects.updateApp(id, patch);
  deleteApp = (id: string): Promise<void> => this.#objects.deleteApp(id);

  createResource = (input: NewResource): Promise<Resource> => this.#objects.createResource(input);
  getResource = (zoneId: string, resourceId: string): Promise<Resource | undefined> =>
    this.#objects.getResource(zoneId, resourceId);
  listResources = (zoneId: string, options?: ListOptions): Promise<Page<Resource>> =>
    this.#objects.listResources(zoneId, options);
  updateResource = (zoneId: string, resourceId: string, patch: ResourcePatch): Promise<Resource> =>
    this.#objects.updateResource(zoneId, resourceId, patch);
  deleteResource = (zoneId: string, resourceId: string): Promise<void> => this.#objects.deleteResource(zoneId, resourceId);

  createProvider = (input: NewProvider): Promise<Provider> => this.#objects.createProvider(input);
  getProvider = (zoneId: string, ref: string): Promise<Provider | undefined> => this.#objects.getProvider(zoneId, ref);
  listProviders = (zoneId: string, options?: ListOptions): Promise<Page<Provider>> =>
    this.#objects.listProviders(zoneId, options);
  updateProvider = (id: string, patch: ProviderPatch): Promise<Provider> => this.#objects.updateProvider(id, patch);
  deleteProvider = (id: string): Promise<void> => this.#objects.deleteProvider(id);

  createPolicy = (input: NewPolicy, firstVersion?: NewPolicyVersion): Promise<CreatedPolicy> =>
    this.#policies.createPolicy(input, firstVersion);
  getPolicy = (zoneId: string, ref: string): Promise<Policy | undefined> => this.#policies.getPolicy(zoneId, ref);
  listPolicies = (zoneId: string, options?: ListOptions): Promise<Page<Policy>> =>
    this.#policies.listPolicies(zoneId, options);
  addPolicyVersion = (policyId: string, input: NewPolicyVersion): Promise<PolicyVersion> =>
    this.#policies.addPolicyVersion(policyId, input);
  getPolicyVersion = (policyId: string, version: number): Promise<PolicyVersion | undefined> =>
    this.#policies.getPolicyVersion(policyId, version);
  listPolicyVersions = (policyId: string): Promise<readonly PolicyVersion[]> => this.#policies.listPolicyVersions(policyId);

  createPolicySet = (input: NewPolicySet, firstVersion?: readonly PolicyRef[]): Promise<CreatedPolicySet> =>
    this.#policies.createPolicySet(input, firstVersion);
  getPolicySet = (zoneId: string, ref: string): Promise<PolicySet | undefined> => this.#policies.getPolicySet(zoneId, ref);
  listPolicySets = (zoneId: string, options?: ListOptions): Promise<Page<PolicySet>> =>
    this.#policies.listPolicySets(zoneId, options);
  addPolicySetVersion = (policySetId: string, policies: readonly PolicyRef[]): Promise<PolicySetVersion> =>
    this.#policies.addPolicySetVersion(policySetId, policies);
  getPolicySetVersion = (policySetId: string, version: number): Promise<PolicySetVersion | undefined> =>
    this.#policies.getPolicySetVersion(policySetId, version);
  listPolicySetVersions = (policySetId: string): Promise<readonly PolicySetVersion[]> =>
    this.#policies.listPolicySetVersions(policySetId);
  activatePolicySet = (zoneId: string, policySetId: string, version: number): Promise<ActivePolicySet | null> =>
    this.#policies.activatePolicySet(zoneId, policySetId, version);
  deactivatePolicySet = (zoneId: string): Promise<ActivePolicySet | null> => this.#policies.deactivatePolicySet(zoneId);
  getActivePolicySet = (zoneId: string): Promise<ActivePolicySet | undefined> => this.#policies.getActivePolicySet(zoneId);
  listActivations = (zoneId: string, limit?: number): Promise<readonly ActivePolicySet[]> =>
    this.#policies.listActivations(zoneId, limit);

  createSigningKey = (key: SigningKey): Promise<SigningKey> => this.#tokens.createSigningKey(key);
  listSigningKeys = (zoneId?: string): Promise<readonly SigningKey[]> => this.#tokens.listSigningKeys(zoneId);
  rotateSigningKey = (zoneId: string, next: SigningKey, retireAfter: string): Promise<void> =>
    this.#tokens.rotateSigningKey(zoneId, next, retireAfter);
  pruneSigningKeys = (now: string): Promise<number> => this.#tokens.pruneSigningKeys(now);
  addRevocation = (revocation: Revocation): Promise<void> => this.#tokens.addRevocation(revocation);
  listRevocations = (now: string): Promise<readonly Revocation[]> => this.#tokens.listRevocations(now);

  appendAudit(events: readonly AuditEventInput[]): Promise<readonly AuditEvent[]> {
    return this.#db.run(() => this.#ledger.append(events));
  }

  queryAudit(query: AuditQuery): Promise<Page<AuditEvent>> {
    return this.#db.run(() => this.#ledger.query(query));
  }

  auditPosition(): Promise<number> {
    return this.#db.run(() => this.#ledger.position());
  }

  readAuditAfter(query: AuditQuery, position: number, limit: number): Promise<AuditTail> {
    return this.#db.run(() => this.#ledger.readAfter(query, position, limit));
  }

  readAuditChain(chain: string, fromSeq?: number, limit?: number): Promise<readonly AuditEvent[]> {
    return this.#db.run(() => this.#ledger.readChain(chain, fromSeq, limit));
  }

  listAuditChains(): Promise<readonly string[]> {
    return this.#db.run(() => this.#ledger.chains());
  }

  getSetting(key: string): Promise<string | undefined> {
    return this.#db.run(() => this.#db.sql('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined);
  }

  setSetting(key: string, value: string): Promise<void> {
    return this.#db.run(() => {
      this.#db
        .sql(
          `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        )
        .run(key, value, now());
    });
  }

  /** See SqliteWatcher: polls every 250 ms; reports configuration commits of OTHER connections only. */
  watch(listener: () => void): () => void {
    if (this.#db.closed) throw closedError(this.location);
    return this.#watcher.add(listener);
  }
}
