import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { newId } from '../../domain/ids.js';
import type { TokenSigningKey } from '../mint.js';
import type { VerificationKey } from '../verify.js';

/** A zone key made in memory: its signing half for mint, its public half for a verifier. */
export interface ZoneKey {
  readonly signing: TokenSigningKey;
  readonly verification: VerificationKey;
  readonly publicJwk: JsonWebKey;
  readonly publicKey: KeyObject;
}

/** A fresh ES256 key for a zone, without a store. */
export function makeZoneKey(zoneId: string): ZoneKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = newId('key');
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  return { signing: { kid, zoneId, privateKey }, verification: { zoneId, jwk: publicJwk }, publicJwk, publicKey };
}

/** How a forged token is signed. */
export type Signer =
  | { readonly kind: 'es256'; readonly key: KeyObject }
  | { readonly kind: 'rs256'; readonly key: KeyObject }
  | { readonly kind: 'hs256'; readonly secret: Buffer | string }
  | { readonly kind: 'none' };

/** Builds a compact JWS from any header and payload: for the tokens an attacker would send. */
export function forgeToken(header: object, payload: object, signer: Signer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const data = Buffer.from(input, 'ascii');
  let signature: Buffer;
  switch (signer.kind) {
    case 'es256':
      signature = sign('sha256', data, { key: signer.key, dsaEncoding: 'ieee-p1363' });
      break;
    case 'rs256':
      signature = sign('sha256', data, signer.key);
      break;
    case 'hs256':
      signature = createHmac('sha256', signer.secret).update(data).digest();
      break;
    case 'none':
      signature = Buffer.alloc(0);
      break;
  }
  return `${input}.${signature.toString('base64url')}`;
}

/** The decoded header and payload of a compact JWS (no verification). */
export function decodeToken(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
