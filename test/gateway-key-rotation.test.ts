import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../core/store/open-store.js';
import { send, type HttpReply } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { decodeJws } from './support/tokens.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * A zone's signing key rotated through the admin API while the Gateway runs (DESIGN.md §4): tokens
 * signed before and after the rotation are both accepted, within a second; the retired key stays
 * trusted until every token it signed has expired. Once the retired key is withdrawn, a token it
 * signed is refused even though the Gateway held it in its verified-token cache.
 *
 * The admin API only lists and rotates keys (core/control/routes/keys.ts); a retired key leaves
 * the store when its `retire_after` has passed (`KeyManager.prune`). The test withdraws it the same
 * way, through the store, with the clock moved just past `retire_after`.
 */

/** Store changes reach the Gateway within a second; polls allow twice that. */
const WITHIN_MS = 2000;
const POLL_MS = 25;

interface KeyView {
  readonly kid: string;
  readonly status: 'active' | 'retired';
  readonly retire_after: string | null;
}

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let tokenBefore: string;
let tokenAfter: string;
let oldKid: string;
let newKid: string;
let retireAfter: string;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack();
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
  tokenBefore = await stack.mint(seeded);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

const call = (token: string) => send(`${stack.gatewayUrl}/v1/invoices`, { headers: stack.gatewayHeaders(seeded, token) });
const keys = async () => (await stack.adminOk<{ items: KeyView[] }>('GET', `/v1/zones/${seeded.zoneName}/keys`)).items;
const jwksKids = async () => ((await (await fetch(`${stack.controlUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

/** Calls with each token until `done` holds for all their answers; returns the ms it took after `since`. */
async function msUntil(tokens: readonly string[], since: number, done: (reply: HttpReply) => boolean): Promise<number> {
  let last: string[] = [];
  for (;;) {
    const replies = await Promise.all(tokens.map((t) => call(t)));
    if (replies.every(done)) return Date.now() - since;
    last = replies.map((r) => `${r.status} ${r.body.toString()}`);
    if (Date.now() - since > WITHIN_MS) throw new Error(`not within ${WITHIN_MS} ms; last answers:\n${last.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe('signing key rotation with the Gateway running', () => {
  it('accepts a token minted before the rotation and one minted after, at once', async () => {
    const before = await keys();
    expect(before.map((k) => k.status)).toEqual(['active']);
    oldKid = before[0]?.kid ?? '';
    expect(decodeJws(tokenBefore).header.kid).toBe(oldKid);
    // The Gateway verifies and caches the old token.
    expect((await call(tokenBefore)).status).toBe(200);

    const rotation = await stack.adminOk<{ active: KeyView; retired: KeyView | null }>('POST', `/v1/zones/${seeded.zoneName}/keys/rotate`);
    const rotatedAt = Date.now();
    newKid = rotation.active.kid;
    expect(newKid).not.toBe(oldKid);
    expect(rotation.active.status).toBe('active');
    expect(rotation.retired).toMatchObject({ kid: oldKid, status: 'retired' });
    retireAfter = rotation.retired?.retire_after ?? '';
    // DESIGN.md §4: the previous key stays until every token it signed has expired.
    expect(Date.parse(retireAfter)).toBeGreaterThanOrEqual(Number(decodeJws(tokenBefore).payload.exp) * 1000);

    tokenAfter = await stack.mint(seeded);
    expect(decodeJws(tokenAfter).header.kid).toBe(newKid);
    const ms = await msUntil([tokenBefore, tokenAfter], rotatedAt, (r) => r.status === 200);
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    expect(upstream.requests.length).toBeGreaterThanOrEqual(3);

    // Both keys are published while the old one is retiring.
    expect((await jwksKids()).sort()).toEqual([oldKid, newKid].sort());
    expect((await keys()).map((k) => [k.kid, k.status]).sort()).toEqual(
      [
        [oldKid, 'retired'],
        [newKid, 'active'],
      ].sort(),
    );
  });

  it('refuses a token of the withdrawn key although the Gateway had it cached, and keeps accepting the new key', async () => {
    expect(oldKid, 'the rotation case ran first').not.toBe('');
    // Once more, so the old token is in the verified-token cache right before the withdrawal.
    expect((await call(tokenBefore)).status).toBe(200);

    const store = await openStore({ home: stack.home });
    try {
      const removed = await store.pruneSigningKeys(new Date(Date.parse(retireAfter) + 1000).toISOString());
      expect(removed).toBe(1);
    } finally {
      await store.close();
    }
    const withdrawnAt = Date.now();

    const ms = await msUntil([tokenBefore], withdrawnAt, (r) => r.status === 401 && r.json?.reason === 'kid_unknown');
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    const refused = await call(tokenBefore);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ error: 'invalid_token', reason: 'kid_unknown' });
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="caracal", error="invalid_token"');

    // The new key is untouched: its token, and one minted now, are served.
    expect((await call(tokenAfter)).status).toBe(200);
    expect((await call(await stack.mint(seeded))).status).toBe(200);
    expect(await jwksKids()).toEqual([newKid]);
  });
});
