import { GLOBAL_CHAIN } from '../../audit/chain.js';
import type { EventJson } from './audit-event-hash.js';
import type { AuditEvent, AuditEventType, AuditHttp, AuditPolicyRef, Category, Decision } from '../../audit/event.js';
import type {
  ActivePolicySet,
  App,
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
  RevocationKind,
  SigningKey,
  SigningKeyStatus,
  Zone,
  ZoneKind,
} from '../../domain/types.js';

/** The rows of the SQLite schema (core/store/sqlite/migrations.ts) and their domain objects. */

export interface ZoneRow {
  id: string;
  name: string;
  kind: string;
  description: string;
  allowed_private_hosts: string;
  created_at: string;
  updated_at: string;
}

/** A zones row as a Zone. */
export function toZone(row: ZoneRow): Zone {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ZoneKind,
    description: row.description,
    allowedPrivateHosts: JSON.parse(row.allowed_private_hosts) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface AppRow {
  id: string;
  zone_id: string;
  name: string;
  description: string;
  disabled: number;
  secret_hash: string;
  secret_rotated_at: string;
  created_at: string;
  updated_at: string;
}

/** An apps row as an App. */
export function toApp(row: AppRow): App {
  return {
    id: row.id,
    zoneId: row.zone_id,
    name: row.name,
    description: row.description,
    disabled: row.disabled !== 0,
    secretHash: row.secret_hash,
    secretRotatedAt: row.secret_rotated_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface ResourceRow {
  zone_id: string;
  id: string;
  name: string;
  description: string;
  scopes: string;
  upstream_url: string;
  provider_id: string | null;
  created_at: string;
  updated_at: string;
}

/** A resources row as a Resource. */
export function toResource(row: ResourceRow): Resource {
  return {
    id: row.id,
    zoneId: row.zone_id,
    name: row.name,
    description: row.description,
    scopes: JSON.parse(row.scopes) as string[],
    upstreamUrl: row.upstream_url,
    providerId: row.provider_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface ProviderRow {
  id: string;
  zone_id: string;
  name: string;
  kind: string;
  config: string;
  credentials_sealed: string;
  credential_keys: string;
  created_at: string;
  updated_at: string;
}

/** A providers row as a Provider. */
export function toProvider(row: ProviderRow): Provider {
  return {
    id: row.id,
    zoneId: row.zone_id,
    name: row.name,
    kind: row.kind as ProviderKind,
    config: JSON.parse(row.config) as Record<string, unknown>,
    credentialsSealed: row.credentials_sealed,
    credentialKeys: JSON.parse(row.credential_keys) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface VersionedRow {
  id: string;
  zone_id: string;
  name: string;
  description: string;
  latest_version: number;
  created_at: string;
}

/** A policies or policy_sets row as a Policy / PolicySet (they share a shape). */
export function toVersioned(row: VersionedRow): Policy & PolicySet {
  return {
    id: row.id,
    zoneId: row.zone_id,
    name: row.name,
    description: row.description,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
  };
}

export interface PolicyVersionRow {
  policy_id: string;
  version: number;
  format: string;
  source: string;
  rules: string;
  created_at: string;
}

/** A policy_versions row as a PolicyVersion. */
export function toPolicyVersion(row: PolicyVersionRow): PolicyVersion {
  return {
    policyId: row.policy_id,
    version: row.version,
    format: row.format as PolicyFormat,
    source: row.source,
    rules: JSON.parse(row.rules) as unknown[],
    createdAt: row.created_at,
  };
}

export interface PolicySetVersionRow {
  policy_set_id: string;
  version: number;
  policies: string;
  created_at: string;
}

/** A policy_set_versions row as a PolicySetVersion. */
export function toPolicySetVersion(row: PolicySetVersionRow): PolicySetVersion {
  return {
    policySetId: row.policy_set_id,
    version: row.version,
    policies: JSON.parse(row.policies) as PolicyRef[],
    createdAt: row.created_at,
  };
}

export interface ActiveRow {
  zone_id: string;
  policy_set_id: string;
  version: number;
  activated_at: string;
}

/** An active_policy_sets or policy_activations row as an ActivePolicySet. */
export function toActive(row: ActiveRow): ActivePolicySet {
  return {
    zoneId: row.zone_id,
    policySetId: row.policy_set_id,
    version: row.version,
    activatedAt: row.activated_at,
  };
}

export interface SigningKeyRow {
  kid: string;
  zone_id: string;
  alg: string;
  public_jwk: string;
  private_sealed: string;
  status: string;
  created_at: string;
  retire_after: string | null;
}

/** A signing_keys row as a SigningKey. */
export function toSigningKey(row: SigningKeyRow): SigningKey {
  return {
    kid: row.kid,
    zoneId: row.zone_id,
    alg: 'ES256',
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    privateSealed: row.private_sealed,
    status: row.status as SigningKeyStatus,
    createdAt: row.created_at,
    retireAfter: row.retire_after,
  };
}

export interface RevocationRow {
  kind: string;
  value: string;
  zone_id: string;
  reason: string;
  created_at: string;
  not_before: string;
  expires_at: string;
}

/** A revocations row as a Revocation. */
export function toRevocation(row: RevocationRow): Revocation {
  return {
    kind: row.kind as RevocationKind,
    value: row.value,
    zoneId: row.zone_id,
    reason: row.reason,
    createdAt: row.created_at,
    notBefore: row.not_before,
    expiresAt: row.expires_at,
  };
}

/**
 * An audit_events row (schema v4): the columns the ledger filters, orders and chains by, and
 * `body`, the JSON of every other field of the event. Each field lives in exactly one place, so
 * an edited column or body changes the event read back, and its hash no longer verifies.
 */
export interface AuditRow {
  /** Append position (the rowid): grows with every appended event, across chains and processes. */
  n: number;
  chain: string;
  seq: number;
  at: string;
  request_id: string;
  type: string;
  app: string | null;
  resource: string | null;
  decision: string;
  token_jti: string | null;
  body: string;
  hash: string;
}

/** The fields of an event kept in an audit row's `body`. */
interface AuditBody {
  id: string;
  scopes: string[];
  reason: string;
  category: Category | null;
  policy: AuditPolicyRef | null;
  http: AuditHttp | null;
  token_exp: number | null;
  detail: Record<string, unknown>;
  prev_hash: string;
}

/** The audit_events columns in insert order (`n` is assigned by SQLite). */
export const AUDIT_COLUMNS = [
  'chain',
  'seq',
  'at',
  'request_id',
  'type',
  'app',
  'resource',
  'decision',
  'token_jti',
  'body',
  'hash',
] as const;

/**
 * An event as positional values for AUDIT_COLUMNS; the body is put together from the fields'
 * JSON already written for its hash.
 */
export function auditValues(event: AuditEvent, chain: string, json: EventJson): unknown[] {
  const body =
    `{"category":${json.category},"detail":${json.detail},"http":${json.http},"id":${json.id}` +
    `,"policy":${json.policy},"prev_hash":${json.prev_hash},"reason":${json.reason}` +
    `,"scopes":${json.scopes},"token_exp":${event.token === null ? 'null' : JSON.stringify(event.token.exp)}}`;
  return [
    chain,
    event.seq,
    event.at,
    event.request_id,
    event.type,
    event.app,
    event.resource,
    event.decision,
    event.token?.jti ?? null,
    body,
    event.hash,
  ];
}

/** An audit_events row as the AuditEvent it stored (field for field, so its hash still verifies). */
export function toAuditEvent(row: AuditRow): AuditEvent {
  const body = JSON.parse(row.body) as AuditBody;
  return {
    id: body.id,
    seq: row.seq,
    at: row.at,
    zone: row.chain === GLOBAL_CHAIN ? null : row.chain,
    request_id: row.request_id,
    type: row.type as AuditEventType,
    app: row.app,
    resource: row.resource,
    scopes: body.scopes,
    decision: row.decision as Decision,
    reason: body.reason,
    category: body.category,
    policy: body.policy,
    http: body.http,
    token: row.token_jti === null ? null : { jti: row.token_jti, exp: body.token_exp ?? 0 },
    detail: body.detail,
    prev_hash: body.prev_hash,
    hash: row.hash,
  };
}
