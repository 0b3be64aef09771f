import { randomFillSync } from 'node:crypto';
import { CaracalError } from '../errors.js';

/** The prefixes of Caracal's generated IDs (DESIGN.md §3). */
export const idPrefixes = {
  zone: 'zn',
  app: 'app',
  provider: 'prv',
  policy: 'pol',
  policySet: 'pset',
  request: 'req',
  key: 'key',
  event: 'evt',
  token: 'tok',
} as const;
export type IdKind = keyof typeof idPrefixes;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = 0;
/** The time part of IDs made in `lastTime`'s millisecond. */
let lastTimeText = '';
const lastRandom = new Uint8Array(10);
/**
 * Random bytes drawn 4 KiB at a time: each call into the CSPRNG costs microseconds (measured
 * ~5 µs on a 2-core VM, whatever the size), and a busy Gateway starts a new millisecond per request.
 */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function fillRandom(target: Uint8Array): void {
  if (poolOffset + target.length > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  target.set(pool.subarray(poolOffset, poolOffset + target.length));
  poolOffset += target.length;
}

/** A ULID body: 48-bit millisecond time + 80 random bits, monotonic within one millisecond. */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Increment the 80-bit random part so IDs made in the same millisecond stay sorted.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      const next = (lastRandom[i] ?? 0) + 1;
      lastRandom[i] = next & 0xff;
      if (next <= 0xff) break;
    }
  } else {
    fillRandom(lastRandom);
    lastTime = now;
    lastTimeText = '';
    for (let i = 0, time = now; i < 10; i++, time = Math.floor(time / 32)) lastTimeText = CROCKFORD[time % 32] + lastTimeText;
  }
  // 80 bits → 16 base32 characters, 5 bits at a time.
  let out = lastTimeText;
  let bits = 0;
  let value = 0;
  for (const byte of lastRandom) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** A new prefixed, time-sortable ID such as `zn_01J…`. */
export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${ulid()}`;
}

const ID_BODY = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Whether a string is a well-formed ID of the given kind. */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${idPrefixes[kind]}_`;
  return value.startsWith(prefix) && ID_BODY.test(value.slice(prefix.length));
}

const RESOURCE_SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const RESOURCE_SCHEME = 'resource://';

/** Whether a string is a valid resource ID (`resource://<slug>`) or bare slug. */
export function isResourceId(value: string): boolean {
  const slug = value.startsWith(RESOURCE_SCHEME) ? value.slice(RESOURCE_SCHEME.length) : value;
  return RESOURCE_SLUG.test(slug) && !slug.includes('..');
}

/** Normalises a resource ID or bare slug to `resource://<slug>`, or throws a clear error. */
export function normalizeResourceId(value: string): string {
  if (!isResourceId(value)) {
    throw new CaracalError(
      'CRC_VALIDATION',
      `"${value.slice(0, 80)}" is not a resource ID: use resource://<slug> or a bare slug of ` +
        'lowercase letters, digits, ".", "_" and "-" (1–63 characters, starting with a letter or digit)',
    );
  }
  return value.startsWith(RESOURCE_SCHEME) ? value : `${RESOURCE_SCHEME}${value}`;
}
