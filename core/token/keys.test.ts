import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open } from '../crypto/seal.js';
import { isId, newId } from '../domain/ids.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { ROTATION_GRACE_SECONDS, createKeyManager, loadVerificationKeys } from './keys.js';
import type { JwkSet, KeyManager } from './keys.js';
import { mintAccessToken } from './mint.js';
import { createTokenVerifier } from './verify.js';
import type { VerificationKey } from './verify.js';

const issuer = 'http://127.0.0.1:4700';
const resource = 'resource://billing-api';
const T = Date.parse('2030-06-01T12:00:00.000Z');

let home: string;
let store: Store;
let zoneId: string;
const sealKey = randomBytes(32);
const clock = { now: T };

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'caracal-keys-'));
  store = await openStore({ home });
  zoneId = (await store.createZone({ name: 'eval', kind: 'evaluation' })).id;
  clock.now = T;
});

afterEach(async () => {
  await store.close();
  rmSync(home, { recursive: true, force: true });
});

function manager(over: Partial<Parameters<typeof createKeyManager>[0]> = {}): KeyManager {
  return createKeyManager({ store, sealKey, now: () => clock.now, ...over });
}

function mintWith(key: Awaited<ReturnType<KeyManager['activeKey']>>, now = clock.now): string {
  return mintAccessToken({ key, issuer, app: 'app_01JAPP00000000000000000000', zoneId, resource, scopes: ['read'], now }).token;
}

function localJwks(set: JwkSet) {
  return jose.createLocalJWKSet({ keys: set.keys.map((key) => ({ ...key })) });
}

describe('createKeyManager', () => {
  it("creates the zone's ES256 key on first use and keeps using it", async () => {
    const keys = manager();
    const first = await keys.activeKey(zoneId);
    expect(isId('key', first.kid)).toBe(true);
    expect(first.zoneId).toBe(zoneId);
    const { x, y, ...rest } = first.publicJwk;
    expect(rest).toEqual({ kty: 'EC', crv: 'P-256', kid: first.kid, alg: 'ES256', use: 'sig' });
    expect([x, y].map((coordinate) => Buffer.from(coordinate, 'base64url').length)).toEqual([32, 32]);
    expect((await keys.activeKey(zoneId)).kid).toBe(first.kid);
    // A second manager (a restarted process) finds the stored key instead of making another.
    expect((await manager().activeKey(zoneId)).kid).toBe(first.kid);
    const stored = await store.listSigningKeys(zoneId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ kid: first.kid, status: 'active', alg: 'ES256', retireAfter: null });
  });

  it('stores the private key sealed, and only the sealing key opens it', async () => {
    const key = await manager().activeKey(zoneId);
    const [stored] = await store.listSigningKeys(zoneId);
    if (stored === undefined) throw new Error('no stored key');
    expect(stored.privateSealed).not.toContain(String(key.privateKey.export({ format: 'jwk' }).d));
    const jwk = JSON.parse(open(stored.privateSealed, sealKey).toString('utf8')) as Record<string, unknown>;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', d: key.privateKey.export({ format: 'jwk' }).d });
    expect(() => open(stored.privateSealed, randomBytes(32))).toThrow(/could not be opened/);
    expect(JSON.stringify(stored.publicJwk)).not.toContain('"d"');
  });

  it('gives each zone its own key', async () => {
    const other = (await store.createZone({ name: 'prod', kind: 'production' })).id;
    const keys = manager();
    const [a, b] = await Promise.all([keys.activeKey(zoneId), keys.activeKey(other)]);
    expect(a.kid).not.toBe(b.kid);
    expect((await keys.jwks()).keys.map((key) => key.kid).sort()).toEqual([a.kid, b.kid].sort());
  });

  it('ends with one active key when two connections create the first key at once', async () => {
    const second = await openStore({ home });
    try {
      let creates = 0;
      const counting = new Proxy(second, {
        get(target, name, receiver) {
          if (name === 'createSigningKey') {
            return (...args: Parameters<Store['createSigningKey']>) => {
              creates++;
              return target.createSigningKey(...args);
            };
          }
          const value: unknown = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const a = manager();
      const b = createKeyManager({ store: counting, sealKey, now: () => clock.now });
      const [ka, kb] = await Promise.all([a.activeKey(zoneId), b.activeKey(zoneId)]);
      // Both read "no key" before either wrote: b lost the race on the unique index and re-read.
      expect(creates).toBe(1);
      expect(kb.kid).toBe(ka.kid);
      const stored = await store.listSigningKeys(zoneId);
      expect(stored.filter((key) => key.status === 'active')).toHaveLength(1);
      // The loser signs with the winner's key, and tokens verify.
      const keysNow = await a.verificationKeys();
      const verifier = createTokenVerifier({ issuer, keys: () => keysNow, now: () => clock.now });
      expect(verifier.verify(mintWith(kb), resource).ok).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('ends with one active key when several processes create the first key at once', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const built = join(root, 'dist/core/token/keys.js');
    if (!existsSync(built)) throw new Error('dist/ is not built: run the suite through vitest.config.ts (its global setup builds)');
    const script = `
      import { createKeyManager } from ${JSON.stringify(built)};
      import { openStore } from ${JSON.stringify(join(root, 'dist/core/store/open-store.js'))};
      const store = await openStore({ home: process.argv[1] });
      const keys = createKeyManager({ store, sealKey: Buffer.from(process.argv[2], 'hex') });
      const start = Number(process.argv[4]);
      while (Date.now() < start) {}
      const key = await keys.activeKey(process.argv[3]);
      process.stdout.write(key.kid);
      await store.close();`;
    const run = promisify(execFile);
    const start = String(Date.now() + 1500);
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--input-type=module', '-e', script, home, sealKey.toString('hex'), zoneId, start]),
      ),
    );
    const kids = new Set(outputs.map((out) => out.stdout));
    expect(kids.size).toBe(1);
    const stored = await store.listSigningKeys(zoneId);
    expect(stored.map((key) => key.kid)).toEqual([...kids]);
  });

  it('refuses to create a key for a zone that does not exist', async () => {
    await expect(manager().activeKey('zn_01JNOPE0000000000000000000')).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
  });
});

describe('createKeyManager: rotation and pruning', () => {
  it('keeps tokens of the previous key valid until retireAfter, then prune removes that key', async () => {
    const keys = manager();
    const old = await keys.activeKey(zoneId);
    const oldToken = mintWith(old);
    const tokenTime = clock.now;

    const next = await keys.rotate(zoneId, 600);
    expect(next.kid).not.toBe(old.kid);
    expect((await keys.activeKey(zoneId)).kid).toBe(next.kid);
    const stored = await store.listSigningKeys(zoneId);
    expect(stored.find((key) => key.kid === old.kid)).toMatchObject({
      status: 'retired',
      retireAfter: new Date(T + (600 + ROTATION_GRACE_SECONDS) * 1000).toISOString(),
    });

    // Both keys are published and trusted; old and new tokens verify, also with jose.
    const jwks = await keys.jwks();
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual([old.kid, next.kid].sort());
    let trusted = await keys.verificationKeys();
    const verifier = createTokenVerifier({ issuer, keys: () => trusted, now: () => tokenTime });
    const newToken = mintWith(next);
    expect(verifier.verify(oldToken, resource).ok).toBe(true);
    expect(verifier.verify(newToken, resource).ok).toBe(true);
    for (const token of [oldToken, newToken]) {
      const verified = await jose.jwtVerify(token, localJwks(jwks), { issuer, audience: resource, typ: 'at+jwt', algorithms: ['ES256'], currentDate: new Date(tokenTime) });
      expect(verified.payload.zone).toBe(zoneId);
    }

    // Just before retireAfter nothing is pruned; after it, the old key leaves JWKS and trust.
    clock.now = T + (600 + ROTATION_GRACE_SECONDS) * 1000 - 1;
    expect(await keys.prune()).toBe(0);
    expect((await keys.jwks()).keys).toHaveLength(2);
    clock.now += 1;
    expect((await keys.jwks()).keys.map((key) => key.kid)).toEqual([next.kid]);
    expect(await keys.prune()).toBe(1);
    expect((await store.listSigningKeys(zoneId)).map((key) => key.kid)).toEqual([next.kid]);

    trusted = await keys.verificationKeys();
    expect(verifier.verify(oldToken, resource)).toMatchObject({ ok: false, reason: 'kid_unknown' });
    const fresh = createTokenVerifier({ issuer, keys: () => trusted, now: () => tokenTime });
    expect(fresh.verify(oldToken, resource)).toMatchObject({ ok: false, reason: 'kid_unknown' });
    expect(fresh.verify(newToken, resource).ok).toBe(true);
  });

  it('rotates a zone that had no key yet', async () => {
    const key = await manager().rotate(zoneId);
    expect((await store.listSigningKeys(zoneId)).map((stored) => [stored.kid, stored.status])).toEqual([[key.kid, 'active']]);
  });

  it('refuses a maximum lifetime that is not a positive whole number', async () => {
    await expect(manager().rotate(zoneId, 0)).rejects.toMatchObject({ code: 'CRC_VALIDATION' });
  });

  it('sees a rotation by another process after invalidate() or the refresh interval', async () => {
    const mine = manager({ activeKeyRefreshMs: 5000 });
    const theirs = manager();
    const before = await mine.activeKey(zoneId);
    const rotated = await theirs.rotate(zoneId);
    expect((await mine.activeKey(zoneId)).kid).toBe(before.kid);
    mine.invalidate(zoneId);
    expect((await mine.activeKey(zoneId)).kid).toBe(rotated.kid);
    const again = await theirs.rotate(zoneId);
    clock.now += 5000;
    expect((await mine.activeKey(zoneId)).kid).toBe(again.kid);
  });
});

describe('loadVerificationKeys', () => {
  it('trusts the same keys as the JWKS, without the sealing key', async () => {
    const keys = manager();
    await keys.activeKey(zoneId);
    await keys.rotate(zoneId, 60);
    const loaded: Map<string, VerificationKey> = await loadVerificationKeys(store, clock.now);
    expect([...loaded.keys()].sort()).toEqual((await keys.jwks()).keys.map((key) => key.kid).sort());
    for (const key of loaded.values()) expect(key.zoneId).toBe(zoneId);
    const token = mintWith(await keys.activeKey(zoneId));
    expect(createTokenVerifier({ issuer, keys: () => loaded, now: () => clock.now }).verify(token, resource).ok).toBe(true);
    expect((await loadVerificationKeys(store, clock.now + 121_000)).size).toBe(1);
  });

  it("leaves out a key that is not an EC P-256 point and reports it, keeping every other zone's keys", async () => {
    const keys = manager();
    const good = await keys.activeKey(zoneId);
    const other = (await store.createZone({ name: 'broken', kind: 'evaluation' })).id;
    const kid = newId('key');
    const { x, y } = good.publicJwk;
    await store.createSigningKey({ kid, zoneId: other, alg: 'ES256', publicJwk: { kty: 'EC', crv: 'P-256', x: y, y: x }, privateSealed: 'v1.never-opened', status: 'active', createdAt: new Date(clock.now).toISOString(), retireAfter: null });
    const reported: unknown[] = [];
    const loaded = await loadVerificationKeys(store, clock.now, (key, error) => reported.push({ ...key, code: error.code, message: error.message }));
    expect([...loaded.keys()]).toEqual([good.kid]);
    expect(reported).toEqual([{ kid, zoneId: other, code: 'CRC_STORE_CORRUPT', message: `Signing key ${kid} of zone ${other} has no valid EC P-256 public key.` }]);
    expect(createTokenVerifier({ issuer, keys: () => loaded, now: () => clock.now }).verify(mintWith(good), resource).ok).toBe(true);
  });
});
