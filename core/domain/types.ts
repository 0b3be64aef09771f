/** The domain objects Caracal stores (DESIGN.md §3). Timestamps are ISO-8601 strings in UTC. */

export type ZoneKind = 'evaluation' | 'production';

export interface Zone {
  readonly id: string;
  readonly name: string;
  readonly kind: ZoneKind;
  readonly description: string;
  /** Hosts/CIDRs a production zone still allows for loopback/private upstreams. */
  readonly allowedPrivateHosts: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface App {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly description: string;
  readonly disabled: boolean;
  /** Keyed hash of the client secret (never the secret). */
  readonly secretHash: string;
  readonly secretRotatedAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Resource {
  /** `resource://<slug>`, chosen by the operator, unique per zone. */
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly description: string;
  readonly scopes: readonly string[];
  readonly upstreamUrl: string;
  readonly providerId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type ProviderKind = 'api-key' | 'bearer' | 'basic' | 'oauth2-client-credentials';

export interface Provider {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly kind: ProviderKind;
  /** Non-secret settings (header name, token URL, client ID, scopes, allowed hosts…). */
  readonly config: Readonly<Record<string, unknown>>;
  /** AES-256-GCM sealed credential material (never returned by an API). */
  readonly credentialsSealed: string;
  /** Names of the credential fields present, for display. */
  readonly credentialKeys: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Policy {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly description: string;
  readonly latestVersion: number;
  readonly createdAt: string;
}

export type PolicyFormat = 'toml' | 'json';

/** An immutable version of a policy document. */
export interface PolicyVersion {
  readonly policyId: string;
  readonly version: number;
  readonly format: PolicyFormat;
  /** The document exactly as submitted. */
  readonly source: string;
  /** The validated rules, as JSON (PolicyRule[] of core/policy). */
  readonly rules: readonly unknown[];
  readonly createdAt: string;
}

export interface PolicySet {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly description: string;
  readonly latestVersion: number;
  readonly createdAt: string;
}

export interface PolicyRef {
  readonly policyId: string;
  readonly version: number;
}

/** An immutable, ordered list of policy versions. */
export interface PolicySetVersion {
  readonly policySetId: string;
  readonly version: number;
  readonly policies: readonly PolicyRef[];
  readonly createdAt: string;
}

export interface ActivePolicySet {
  readonly zoneId: string;
  readonly policySetId: string;
  readonly version: number;
  readonly activatedAt: string;
}

export type SigningKeyStatus = 'active' | 'retired';

export interface SigningKey {
  readonly kid: string;
  readonly zoneId: string;
  readonly alg: 'ES256';
  readonly publicJwk: Readonly<Record<string, unknown>>;
  /** AES-256-GCM sealed private JWK. */
  readonly privateSealed: string;
  readonly status: SigningKeyStatus;
  readonly createdAt: string;
  /** When a retired key may leave the JWKS (the last token it signed has expired). */
  readonly retireAfter: string | null;
}

export type RevocationKind = 'jti' | 'app';

export interface Revocation {
  readonly kind: RevocationKind;
  /** The token `jti` or the app ID. */
  readonly value: string;
  readonly zoneId: string;
  readonly reason: string;
  readonly createdAt: string;
  /** For an app revocation: tokens issued at or before this instant are refused. */
  readonly notBefore: string;
  /** When the entry can be forgotten (the last token it concerns has expired). */
  readonly expiresAt: string;
}

/** A page of a list, with an opaque cursor for the next page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface ListOptions {
  readonly limit?: number;
  readonly cursor?: string;
}
