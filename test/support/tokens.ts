import { createHmac, randomUUID, sign, type KeyObject } from 'node:crypto';
import { homePaths } from '../../core/config/paths.js';
import { deriveSubkeys, loadMasterKey } from '../../core/crypto/master-key.js';
import { openStore } from '../../core/store/open-store.js';
import { createKeyManager, type ActiveSigningKey } from '../../core/token/keys.js';

/**
 * Token forging for tests: compact JWS built by hand with node:crypto, so a test can present the
 * Gateway with exactly the header, claims and signature it wants (expired, `alg: none`, HS256
 * keyed with the public key, another issuer, …).
 */

export type JsonObject = Record<string, unknown>;

const b64 = (value: JsonObject | Buffer): string => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

/** `header.payload.signature` with the signature computed over `header.payload` by `signer`. */
export function compactJws(header: JsonObject, payload: JsonObject, signer: (input: Buffer) => Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${b64(signer(Buffer.from(input, 'latin1')))}`;
}

/** An ES256 (P-256, IEEE P1363 signature) token signed with `key`. */
export function signEs256(key: KeyObject, header: JsonObject, payload: JsonObject): string {
  return compactJws(header, payload, (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }));
}

/** An HS256 token keyed with arbitrary bytes (e.g. the public key's PEM: the classic confusion attack). */
export function signHs256(secret: string | Buffer, header: JsonObject, payload: JsonObject): string {
  return compactJws(header, payload, (input) => createHmac('sha256', secret).update(input).digest());
}

/** An unsigned token (`alg: none`, empty signature). */
export function unsigned(header: JsonObject, payload: JsonObject): string {
  return `${b64(header)}.${b64(payload)}.`;
}

/** The header and payload of a compact JWS, unverified. */
export function decodeJws(token: string): { header: JsonObject; payload: JsonObject } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as JsonObject,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JsonObject,
  };
}

/**
 * A zone's active signing key, read from the stack's home (store + master key) the way the
 * control plane reads it. Lets a test sign tokens the Gateway trusts, with any claims.
 */
export async function zoneSigningKey(home: string, zoneId: string): Promise<ActiveSigningKey> {
  const store = await openStore({ home });
  try {
    const subkeys = deriveSubkeys(loadMasterKey(homePaths(home)));
    return await createKeyManager({ store, sealKey: subkeys.seal }).activeKey(zoneId);
  } finally {
    await store.close();
  }
}

/** The current time in JWT seconds. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Access-token claims the Gateway accepts for an app and resource of a stack (issuer, audience,
 * zone, a fresh jti, valid for ten minutes), with `overrides` applied.
 */
export function accessClaims(issuer: string, seeded: { readonly appId: string; readonly resourceId: string; readonly zoneId: string }, overrides: JsonObject = {}): JsonObject {
  const t = nowSeconds();
  return {
    iss: issuer,
    sub: seeded.appId,
    client_id: seeded.appId,
    aud: seeded.resourceId,
    scope: 'billing:read',
    zone: seeded.zoneId,
    jti: randomUUID(),
    iat: t,
    nbf: t,
    exp: t + 600,
    ...overrides,
  };
}

