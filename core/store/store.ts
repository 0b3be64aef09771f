import type { AuditEvent, AuditEventInput, AuditQuery } from '../audit/event.js';

/** What `readAuditAfter` returns: the events, and the position to ask from next. */
export interface AuditTail {
  readonly events: readonly AuditEvent[];
  readonly position: number;
}
import type {
  ActivePolicySet,
  App,
  ListOptions,
  Page,
  Policy,
  PolicyFormat,
  PolicyRef,
  PolicySet,
  PolicySetVersion,
  PolicyVersion,
  Provider,
  ProviderKind,
  Resource,
  Revocation,
  SigningKey,
  Zone,
  ZoneKind,
} from '../domain/types.js';

/**
 * The one storage interface (DESIGN.md §3). SQLite is the embedded default, PostgreSQL the
 * scale-out option; both pass the same test suite. Every method is async so both fit; writes that
 * touch several rows are one transaction. Lookups by "ref" accept an ID or a name (unique per zone).
 * Missing objects return `undefined` from get*, and throw CRC_NOT_FOUND from update/delete;
 * uniqueness violations throw CRC_CONFLICT naming the field.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** A human description of where the data lives (file path or redacted URL). */
  readonly location: string;

  close(): Promise<void>;
  /** Cheap readiness probe: throws when the store cannot answer. */
  ping(): Promise<void>;

  // Zones
  createZone(input: NewZone): Promise<Zone>;
  getZone(ref: string): Promise<Zone | undefined>;
  listZones(options?: ListOptions): Promise<Page<Zone>>;
  updateZone(id: string, patch: ZonePatch): Promise<Zone>;
  deleteZone(id: string): Promise<void>;

  // Apps (zone-scoped)
  createApp(input: NewApp): Promise<App>;
  getApp(zoneId: string, ref: string): Promise<App | undefined>;
  /** Find an app by ID in any zone (client authentication). */
  getAppById(id: string): Promise<App | undefined>;
  listApps(zoneId: string, options?: ListOptions & { readonly disabled?: boolean }): Promise<Page<App>>;
  updateApp(id: string, patch: AppPatch): Promise<App>;
  deleteApp(id: string): Promise<void>;

  // Resources (zone-scoped; `id` is the normalised resource://slug)
  createResource(input: NewResource): Promise<Resource>;
  getResource(zoneId: string, resourceId: string): Promise<Resource | undefined>;
  listResources(zoneId: string, options?: ListOptions): Promise<Page<Resource>>;
  updateResource(zoneId: string, resourceId: string, patch: ResourcePatch): Promise<Resource>;
  deleteResource(zoneId: string, resourceId: string): Promise<void>;

  // Providers
  createProvider(input: NewProvider): Promise<Provider>;
  getProvider(zoneId: string, ref: string): Promise<Provider | undefined>;
  listProviders(zoneId: string, options?: ListOptions): Promise<Page<Provider>>;
  updateProvider(id: string, patch: ProviderPatch): Promise<Provider>;
  deleteProvider(id: string): Promise<void>;

  // Policies and their immutable versions
  /**
   * Creates a policy and, when given, its version 1 in one transaction: a first version the store
   * refuses leaves no policy behind. `version` is null exactly when `firstVersion` is omitted.
   */
  createPolicy(input: NewPolicy, firstVersion?: NewPolicyVersion): Promise<CreatedPolicy>;
  getPolicy(zoneId: string, ref: string): Promise<Policy | undefined>;
  listPolicies(zoneId: string, options?: ListOptions): Promise<Page<Policy>>;
  /** Appends version latest+1 atomically. */
  addPolicyVersion(policyId: string, input: NewPolicyVersion): Promise<PolicyVersion>;
  getPolicyVersion(policyId: string, version: number): Promise<PolicyVersion | undefined>;
  listPolicyVersions(policyId: string): Promise<readonly PolicyVersion[]>;

  // Policy sets, their immutable versions, and the active pointer (one per zone)
  /**
   * Creates a policy set and, when given, its version 1 in one transaction, the members checked as
   * addPolicySetVersion checks them: refused members leave no set behind. `version` is null
   * exactly when `firstVersion` is omitted.
   */
  createPolicySet(input: NewPolicySet, firstVersion?: readonly PolicyRef[]): Promise<CreatedPolicySet>;
  getPolicySet(zoneId: string, ref: string): Promise<PolicySet | undefined>;
  listPolicySets(zoneId: string, options?: ListOptions): Promise<Page<PolicySet>>;
  /** Appends version latest+1 atomically; every referenced policy version must exist in the zone. */
  addPolicySetVersion(policySetId: string, policies: readonly PolicyRef[]): Promise<PolicySetVersion>;
  getPolicySetVersion(policySetId: string, version: number): Promise<PolicySetVersion | undefined>;
  listPolicySetVersions(policySetId: string): Promise<readonly PolicySetVersion[]>;
  /** Makes a set version the zone's active one in one transaction; returns the previous pointer. */
  activatePolicySet(zoneId: string, policySetId: string, version: number): Promise<ActivePolicySet | null>;
  /** Removes the active pointer (everything is then denied). Returns the previous pointer. */
  deactivatePolicySet(zoneId: string): Promise<ActivePolicySet | null>;
  getActivePolicySet(zoneId: string): Promise<ActivePolicySet | undefined>;
  /** History of activations, newest first (for rollback). */
  listActivations(zoneId: string, limit?: number): Promise<readonly ActivePolicySet[]>;

  // Signing keys
  createSigningKey(key: SigningKey): Promise<SigningKey>;
  listSigningKeys(zoneId?: string): Promise<readonly SigningKey[]>;
  /** Marks the zone's active key retired (until retireAfter) and stores the new active key, atomically. */
  rotateSigningKey(zoneId: string, next: SigningKey, retireAfter: string): Promise<void>;
  /** Deletes retired keys whose retireAfter has passed. */
  pruneSigningKeys(now: string): Promise<number>;

  // Revocations
  addRevocation(revocation: Revocation): Promise<void>;
  /** Live revocations (expiresAt in the future). */
  listRevocations(now: string): Promise<readonly Revocation[]>;

  // Audit ledger
  /**
   * Appends events to their zones' hash chains in one transaction (serialised across processes),
   * assigning `id`, `seq`, `prev_hash` and `hash` (core/audit/chain.ts). Returns the stored events.
   */
  appendAudit(events: readonly AuditEventInput[]): Promise<readonly AuditEvent[]>;
  /** Events matching every filter, newest first by time (ties: the later appended first), paged. */
  queryAudit(query: AuditQuery): Promise<Page<AuditEvent>>;
  /** The append position of the newest event: it grows with every append (0 while the ledger is empty). */
  auditPosition(): Promise<number>;
  /**
   * Events matching `query`'s filters (not its cursor) appended after `position`, in append order,
   * at most `limit`, and the position to read from next. Live tails follow the
   * ledger with it: append order is exact where clocks of several writers are not.
   */
  readAuditAfter(query: AuditQuery, position: number, limit: number): Promise<AuditTail>;
  /** A zone chain's events in seq order (for verification and export). */
  readAuditChain(chain: string, fromSeq?: number, limit?: number): Promise<readonly AuditEvent[]>;
  /** The chain keys present (zone IDs, and `global`). */
  listAuditChains(): Promise<readonly string[]>;

  // Settings (small key/value facts of the installation, e.g. the audit public key)
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;

  /**
   * Calls `listener` (debounced) after any other process or connection changes zones, apps,
   * resources, providers, policies, activations, keys or revocations. SQLite polls
   * `PRAGMA data_version`; PostgreSQL uses LISTEN/NOTIFY. Within a second either way.
   */
  watch(listener: () => void): () => void;
}

export interface NewZone {
  readonly name: string;
  readonly kind: ZoneKind;
  readonly description?: string;
  readonly allowedPrivateHosts?: readonly string[];
}
export type ZonePatch = Partial<Pick<Zone, 'name' | 'kind' | 'description' | 'allowedPrivateHosts'>>;

export interface NewApp {
  readonly zoneId: string;
  readonly name: string;
  readonly description?: string;
  readonly secretHash: string;
}
export type AppPatch = Partial<Pick<App, 'name' | 'description' | 'disabled' | 'secretHash'>>;

export interface NewResource {
  readonly zoneId: string;
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly scopes: readonly string[];
  readonly upstreamUrl: string;
  readonly providerId?: string | null;
}
export type ResourcePatch = Partial<
  Pick<Resource, 'name' | 'description' | 'scopes' | 'upstreamUrl' | 'providerId'>
>;

export interface NewProvider {
  readonly zoneId: string;
  readonly name: string;
  readonly kind: ProviderKind;
  readonly config: Readonly<Record<string, unknown>>;
  readonly credentialsSealed: string;
  readonly credentialKeys: readonly string[];
}
export type ProviderPatch = Partial<
  Pick<Provider, 'name' | 'config' | 'credentialsSealed' | 'credentialKeys'>
>;

export interface NewPolicy {
  readonly zoneId: string;
  readonly name: string;
  readonly description?: string;
}

export interface NewPolicyVersion {
  readonly format: PolicyFormat;
  readonly source: string;
  readonly rules: readonly unknown[];
}

/** A policy as just created, with its version 1 when a first version was given. */
export interface CreatedPolicy {
  readonly policy: Policy;
  readonly version: PolicyVersion | null;
}

export interface NewPolicySet {
  readonly zoneId: string;
  readonly name: string;
  readonly description?: string;
}

/** A policy set as just created, with its version 1 when a first version was given. */
export interface CreatedPolicySet {
  readonly policySet: PolicySet;
  readonly version: PolicySetVersion | null;
}
