import type { Revocation } from '../domain/types.js';
import type { AccessTokenClaims } from './claims.js';

/** The claims a revocation check reads. */
export type RevocableClaims = Pick<AccessTokenClaims, 'jti' | 'client_id' | 'iat'>;

export interface RevocationSet {
  /** Replaces the whole set with the store's live revocations (`store.listRevocations(now)`). */
  load(revocations: readonly Revocation[]): void;
  /** Whether the token is revoked: its jti is, or its app was revoked at or after it was issued. */
  isRevoked(claims: RevocableClaims): boolean;
  /** The revocation that refuses the token, if any (for messages and audit). */
  find(claims: RevocableClaims): Revocation | undefined;
  readonly size: number;
}

interface AppCutoff {
  readonly revocation: Revocation;
  /** `notBefore` in seconds since the epoch. */
  readonly notBefore: number;
}

/**
 * The revocations the Gateway checks after a token verifies (DESIGN.md §4): two maps, so each
 * check is two O(1) lookups. Token and app IDs are unique across zones, so the zone is not part of
 * the key: a revocation filed under the wrong zone still refuses (fail closed).
 *
 * App kill switch: a token is refused when `iat <= notBefore`. `iat` has one-second resolution,
 * so a token minted in the same second as the revocation is refused too (conservative: a client
 * that retries a second later gets a usable token).
 */
export function createRevocationSet(): RevocationSet {
  let byJti = new Map<string, Revocation>();
  let byApp = new Map<string, AppCutoff>();

  function find(claims: RevocableClaims): Revocation | undefined {
    const token = byJti.get(claims.jti);
    if (token !== undefined) return token;
    const app = byApp.get(claims.client_id);
    if (app !== undefined && claims.iat <= app.notBefore) return app.revocation;
    return undefined;
  }

  return {
    load(revocations) {
      const nextJti = new Map<string, Revocation>();
      const nextApp = new Map<string, AppCutoff>();
      for (const revocation of revocations) {
        if (revocation.kind === 'jti') {
          nextJti.set(revocation.value, revocation);
          continue;
        }
        const parsed = Date.parse(revocation.notBefore);
        // An unreadable cut-off revokes everything the app holds rather than nothing.
        const notBefore = Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed / 1000;
        const previous = nextApp.get(revocation.value);
        if (previous === undefined || notBefore > previous.notBefore) nextApp.set(revocation.value, { revocation, notBefore });
      }
      byJti = nextJti;
      byApp = nextApp;
    },
    isRevoked: (claims) => find(claims) !== undefined,
    find,
    get size() {
      return byJti.size + byApp.size;
    },
  };
}
