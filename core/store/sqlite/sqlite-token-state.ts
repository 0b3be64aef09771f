import type { Revocation, SigningKey } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { checkObject, checkOneOf, checkSealed } from './checks.js';
import { toRevocation, toSigningKey } from './rows.js';
import type { RevocationRow, SigningKeyRow } from './rows.js';
import type { SqliteDb } from './sqlite-db.js';
import { isoTime } from './time.js';

const REVOCATION_KINDS = ['jti', 'app'] as const;

/**
 * What the token service keeps in SQLite: signing keys (one active per zone, enforced by a
 * partial unique index; rotation retires the old key and stores the new one atomically) and
 * revocations (kept until the last token they concern has expired).
 */
export class SqliteTokenState {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  // Signing keys

  createSigningKey(key: SigningKey): Promise<SigningKey> {
    return this.#db.write(() => {
      this.#db.requireZone(key.zoneId);
      const stored = this.#insertKey(key);
      return stored;
    });
  }

  listSigningKeys(zoneId?: string): Promise<readonly SigningKey[]> {
    return this.#db.run(() => {
      const rows =
        zoneId === undefined
          ? this.#db.sql('SELECT * FROM signing_keys ORDER BY zone_id, created_at, kid').all()
          : this.#db.sql('SELECT * FROM signing_keys WHERE zone_id = ? ORDER BY created_at, kid').all(zoneId);
      return (rows as SigningKeyRow[]).map(toSigningKey);
    });
  }

  rotateSigningKey(zoneId: string, next: SigningKey, retireAfter: string): Promise<void> {
    return this.#db.write(() => {
      this.#db.requireZone(zoneId);
      if (next.zoneId !== zoneId || next.status !== 'active') {
        throw new CaracalError(
          'CRC_VALIDATION',
          `The new signing key must be an active key of zone ${zoneId} (got status ${next.status} in zone ${next.zoneId}).`,
        );
      }
      this.#db.sql("UPDATE signing_keys SET status = 'retired', retire_after = ? WHERE zone_id = ? AND status = 'active'").run(
        isoTime(retireAfter, 'retireAfter'),
        zoneId,
      );
      this.#insertKey(next);
    });
  }

  pruneSigningKeys(now: string): Promise<number> {
    return this.#db.run(
      () =>
        this.#db.sql(
          "DELETE FROM signing_keys WHERE status = 'retired' AND retire_after IS NOT NULL AND retire_after <= ?",
        ).run(isoTime(now, 'now')).changes,
    );
  }

  // Revocations

  addRevocation(revocation: Revocation): Promise<void> {
    return this.#db.write(() => {
      this.#db.requireZone(revocation.zoneId);
      const kind = checkOneOf(revocation.kind, REVOCATION_KINDS, 'kind');
      if (typeof revocation.value !== 'string' || revocation.value.length === 0) {
        throw new CaracalError('CRC_VALIDATION', 'A revocation needs the token jti or app ID it revokes.');
      }
      // Revoking again widens the entry: the later cut-off and the later expiry win.
      this.#db.sql(
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
    return this.#db.run(() =>
      (
        this.#db.sql('SELECT * FROM revocations WHERE expires_at > ? ORDER BY created_at, value').all(
          isoTime(now, 'now'),
        ) as RevocationRow[]
      ).map(toRevocation),
    );
  }

  #insertKey(key: SigningKey): SigningKey {
    const stored: SigningKey = {
      kid: key.kid,
      zoneId: key.zoneId,
      alg: key.alg,
      publicJwk: checkObject(key.publicJwk, 'publicJwk'),
      privateSealed: checkSealed(key.privateSealed, 'privateSealed'),
      status: key.status,
      createdAt: isoTime(key.createdAt, 'createdAt'),
      retireAfter: key.retireAfter === null ? null : isoTime(key.retireAfter, 'retireAfter'),
    };
    this.#db.unique(
      () =>
        this.#db.sql(
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
