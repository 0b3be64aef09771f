import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { open, seal } from '../crypto/seal.js';
import { newId } from '../domain/ids.js';
import type { SigningKey } from '../domain/types.js';
import { CaracalError, isCaracalError } from '../errors.js';
import type { Store } from '../store/store.js';
import { ACCESS_TOKEN_ALG, MAX_TOKEN_TTL_SECONDS } from './claims.js';
import type { TokenSigningKey } from './mint.js';
import type { VerificationKey } from './verify.js';

/** A public signing key as published in the JWKS (RFC 7517). A type, so it is a JsonWebKey. */
export type PublicJwk = {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
};

/** The body of `GET /.well-known/jwks.json`. */
export interface JwkSet {
  readonly keys: readonly PublicJwk[];
}

/** A zone's active key: what mintAccessToken signs with, plus its published half. */
export interface ActiveSigningKey extends TokenSigningKey {
  readonly publicJwk: PublicJwk;
}

export interface KeyManagerOptions {
  readonly store: Store;
  /** The sealing subkey (`deriveSubkeys(master).seal`) that protects private keys at rest. */
  readonly sealKey: Buffer;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /**
   * How long a zone's active key is used from memory before the store is asked again (default
   * 5 s). Wire `store.watch(() => keys.invalidate())` to see rotations by other nodes at once.
   */
  readonly activeKeyRefreshMs?: number;
}

export interface KeyManager {
  /** The zone's active signing key; creates it (ES256) on first use. */
  activeKey(zoneId: string): Promise<ActiveSigningKey>;
  /**
   * Makes a new key active; the previous one stays published and trusted until
   * now + maxTokenTtlSeconds + ROTATION_GRACE_SECONDS, so every token it signed stays verifiable.
   */
  rotate(zoneId: string, maxTokenTtlSeconds?: number): Promise<ActiveSigningKey>;
  /** All zones' active and not yet expired retired public keys. */
  jwks(): Promise<JwkSet>;
  /** The same keys as `jwks()`, ready for createTokenVerifier's `keys`. */
  verificationKeys(): Promise<Map<string, VerificationKey>>;
  /** Deletes retired keys past their retireAfter; returns how many. */
  prune(): Promise<number>;
  /** Forgets the cached active key of one zone (or of all), e.g. on a store change. */
  invalidate(zoneId?: string): void;
}

/**
 * Added to the retirement deadline of a rotated key: another node may still sign with the old
 * key until it sees the rotation (≤ activeKeyRefreshMs, normally < 1 s via store.watch), and
 * verifiers allow 30 s of clock skew on `exp`.
 */
export const ROTATION_GRACE_SECONDS = 60;

const DEFAULT_REFRESH_MS = 5000;
const CREATE_ATTEMPTS = 3;

/**
 * The zones' signing keys (DESIGN.md §4): one active ES256 key per zone, private half sealed
 * with AES-256-GCM in the store, imported KeyObjects cached per kid. Creating a zone's first key
 * is safe against a race with another process: the store's one-active-key-per-zone constraint
 * makes the loser fail with CRC_CONFLICT, and it then uses the winner's key.
 */
export function createKeyManager(options: KeyManagerOptions): KeyManager {
  const { store, sealKey } = options;
  const now = options.now ?? Date.now;
  const refreshMs = options.activeKeyRefreshMs ?? DEFAULT_REFRESH_MS;
  const active = new Map<string, { readonly key: ActiveSigningKey; readonly loadedAt: number }>();
  const loading = new Map<string, Promise<ActiveSigningKey>>();
  const privateKeys = new Map<string, KeyObject>();
  const publicKeys = new Map<string, VerificationKey>();

  function toActive(stored: SigningKey): ActiveSigningKey {
    let privateKey = privateKeys.get(stored.kid);
    if (privateKey === undefined) {
      const jwk = JSON.parse(open(stored.privateSealed, sealKey).toString('utf8')) as JsonWebKey;
      privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
      privateKeys.set(stored.kid, privateKey);
    }
    return { kid: stored.kid, zoneId: stored.zoneId, privateKey, publicJwk: toPublicJwk(stored) };
  }

  function remember(key: ActiveSigningKey): ActiveSigningKey {
    active.set(key.zoneId, { key, loadedAt: now() });
    return key;
  }

  async function loadOrCreate(zoneId: string): Promise<ActiveSigningKey> {
    for (let attempt = 1; ; attempt++) {
      const current = (await store.listSigningKeys(zoneId)).find((key) => key.status === 'active');
      if (current !== undefined) return remember(toActive(current));
      const fresh = generateSigningKey(zoneId, sealKey, now());
      try {
        await store.createSigningKey(fresh.stored);
        privateKeys.set(fresh.stored.kid, fresh.privateKey);
        return remember(toActive(fresh.stored));
      } catch (error) {
        // Another process created the zone's key between our read and our write: use theirs.
        if (!isCaracalError(error, 'CRC_CONFLICT') || attempt >= CREATE_ATTEMPTS) throw error;
      }
    }
  }

  async function publishedKeys(): Promise<readonly SigningKey[]> {
    return publishable(await store.listSigningKeys(), now());
  }

  return {
    activeKey(zoneId) {
      const cached = active.get(zoneId);
      if (cached !== undefined && now() - cached.loadedAt < refreshMs) return Promise.resolve(cached.key);
      let pending = loading.get(zoneId);
      if (pending === undefined) {
        pending = loadOrCreate(zoneId).finally(() => loading.delete(zoneId));
        loading.set(zoneId, pending);
      }
      return pending;
    },

    async rotate(zoneId, maxTokenTtlSeconds = MAX_TOKEN_TTL_SECONDS) {
      if (!Number.isInteger(maxTokenTtlSeconds) || maxTokenTtlSeconds < 1) {
        throw new CaracalError(
          'CRC_VALIDATION',
          `The longest token lifetime must be a positive whole number of seconds, got ${String(maxTokenTtlSeconds)}.`,
        );
      }
      const at = now();
      const retireAfter = new Date(at + (maxTokenTtlSeconds + ROTATION_GRACE_SECONDS) * 1000).toISOString();
      const fresh = generateSigningKey(zoneId, sealKey, at);
      await store.rotateSigningKey(zoneId, fresh.stored, retireAfter);
      privateKeys.set(fresh.stored.kid, fresh.privateKey);
      return remember(toActive(fresh.stored));
    },

    async jwks() {
      return { keys: (await publishedKeys()).map(toPublicJwk) };
    },

    async verificationKeys() {
      const keys = new Map<string, VerificationKey>();
      for (const stored of await publishedKeys()) {
        let trusted = publicKeys.get(stored.kid);
        if (trusted === undefined) {
          trusted = { zoneId: stored.zoneId, publicKey: createPublicKey({ key: toPublicJwk(stored), format: 'jwk' }) };
          publicKeys.set(stored.kid, trusted);
        }
        keys.set(stored.kid, trusted);
      }
      // Drop what the store no longer publishes (pruned keys, deleted zones).
      for (const kid of publicKeys.keys()) if (!keys.has(kid)) publicKeys.delete(kid);
      return keys;
    },

    async prune() {
      const removed = await store.pruneSigningKeys(new Date(now()).toISOString());
      if (removed > 0) {
        const remaining = new Set((await store.listSigningKeys()).map((key) => key.kid));
        for (const cache of [privateKeys, publicKeys]) {
          for (const kid of cache.keys()) if (!remaining.has(kid)) cache.delete(kid);
        }
      }
      return removed;
    },

    invalidate(zoneId) {
      if (zoneId === undefined) active.clear();
      else active.delete(zoneId);
    },
  };
}

/**
 * The keys a verifier should trust, read straight from the store (for the Gateway, which holds
 * no sealing key): every active key and every retired key whose retireAfter has not passed.
 * A key whose public half is unusable (not an EC P-256 point) is left out and handed to
 * `onUnusable` (CRC_STORE_CORRUPT): one bad row must not cost every other zone its keys.
 */
export async function loadVerificationKeys(
  store: Store,
  now: number = Date.now(),
  onUnusable?: (key: { readonly kid: string; readonly zoneId: string }, error: CaracalError) => void,
): Promise<Map<string, VerificationKey>> {
  const keys = new Map<string, VerificationKey>();
  for (const stored of publishable(await store.listSigningKeys(), now)) {
    let jwk: PublicJwk;
    let publicKey: KeyObject;
    try {
      jwk = toPublicJwk(stored);
      // Imported here, not at the first token, so a point off the curve is found at load.
      publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    } catch (error) {
      onUnusable?.({ kid: stored.kid, zoneId: stored.zoneId }, isCaracalError(error, 'CRC_STORE_CORRUPT') ? error : unusableKey(stored, error));
      continue;
    }
    keys.set(stored.kid, { zoneId: stored.zoneId, jwk, publicKey });
  }
  return keys;
}

function publishable(keys: readonly SigningKey[], now: number): readonly SigningKey[] {
  return keys.filter(
    (key) =>
      key.status === 'active' ||
      // A retired key without a deadline is an anomaly: fail closed and stop trusting it.
      (key.retireAfter !== null && Date.parse(key.retireAfter) > now),
  );
}

/** The published half, rebuilt field by field so nothing private can ever leak into the JWKS. */
function toPublicJwk(key: SigningKey): PublicJwk {
  const { kty, crv, x, y } = key.publicJwk;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') throw unusableKey(key);
  return { kty, crv, x, y, kid: key.kid, alg: ACCESS_TOKEN_ALG, use: 'sig' };
}

function unusableKey(key: SigningKey, cause?: unknown): CaracalError {
  return new CaracalError('CRC_STORE_CORRUPT', `Signing key ${key.kid} of zone ${key.zoneId} has no valid EC P-256 public key.`, {
    hint: `Rotate the zone's key: caracal keys rotate --zone ${key.zoneId}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A fresh active ES256 key for the zone, its private JWK sealed for the store. */
function generateSigningKey(
  zoneId: string,
  sealKey: Buffer,
  at: number,
): { readonly stored: SigningKey; readonly privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = newId('key');
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const stored: SigningKey = {
    kid,
    zoneId,
    alg: ACCESS_TOKEN_ALG,
    publicJwk: { kty, crv, x, y, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' },
    privateSealed: seal(JSON.stringify(privateKey.export({ format: 'jwk' })), sealKey),
    status: 'active',
    createdAt: new Date(at).toISOString(),
    retireAfter: null,
  };
  return { stored, privateKey };
}
