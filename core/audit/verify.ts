import type { Store } from '../store/store.js';
import { GENESIS_HASH, chainKey, hashEvent } from './chain.js';
import type { AuditEvent } from './event.js';

/** Why an event breaks its chain. */
export type ChainFault = 'hash_mismatch' | 'broken_link' | 'seq_gap' | 'seq_out_of_order' | 'duplicate_seq';

/** The last verified event of a chain: what a signed checkpoint pins. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The outcome of verifying one chain. `count` is the number of events verified before any fault. */
export type ChainVerification =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead | null }
  | {
      readonly ok: false;
      readonly count: number;
      readonly firstBad: { readonly seq: number; readonly id: string; readonly reason: ChainFault };
      readonly message: string;
    };

export interface VerifyOptions {
  /**
   * Verify a chain's suffix from a known-good point (e.g. a checkpoint): the event before the
   * first one given. Default: the genesis (`seq` 0, {@link GENESIS_HASH}).
   */
  readonly after?: ChainHead;
}

/** An incremental verifier: feed events in seq order, then ask for the result. */
export interface ChainVerifier {
  /** Checks the next event; returns false once the chain is known to be broken (stop feeding). */
  push(event: AuditEvent): boolean;
  result(): ChainVerification;
}

interface Fault {
  readonly event: AuditEvent;
  readonly reason: ChainFault;
  readonly message: string;
}

/**
 * Creates a verifier for one chain. Each event must follow its predecessor: `seq` one higher,
 * `prev_hash` equal to the predecessor's `hash`, and `hash` equal to SHA-256 over its own content
 * (core/audit/chain.ts). An edited event fails `hash_mismatch`; an edited-and-rehashed one breaks
 * the next event's link (`broken_link`); a deleted one leaves a `seq_gap` at its successor; two
 * swapped ones show as `seq_out_of_order` at the first of them; a repeated seq is `duplicate_seq`.
 * A gap is only reported once the next event shows it is not a reordering (one event of lookahead).
 */
export function createChainVerifier(options: VerifyOptions = {}): ChainVerifier {
  let prev: ChainHead = options.after ?? { seq: 0, hash: GENESIS_HASH };
  let count = 0;
  let fault: Fault | undefined;
  /** An event whose seq skipped ahead: a deletion, unless the next event fills the hole. */
  let skipped: AuditEvent | undefined;

  function fail(event: AuditEvent, reason: ChainFault, message: string): false {
    fault = { event, reason, message: `event ${event.id} (seq ${event.seq}): ${message}` };
    return false;
  }

  function failGap(event: AuditEvent): false {
    const missing = event.seq - prev.seq > 2 ? `${prev.seq + 1}–${event.seq - 1} are` : `${prev.seq + 1} is`;
    return fail(event, 'seq_gap', `seq ${missing} missing before it (events were deleted)`);
  }

  /** Checks seq and hashes of an event whose position is accepted. */
  function checkContent(event: AuditEvent): boolean {
    if (hashEvent(withoutHash(event)) !== event.hash) {
      return fail(event, 'hash_mismatch', 'its content does not match its hash (the event was edited)');
    }
    if (event.prev_hash !== prev.hash) {
      return fail(event, 'broken_link', `its prev_hash does not match the hash of seq ${prev.seq} (an event before it was replaced or forged)`);
    }
    prev = { seq: event.seq, hash: event.hash };
    count += 1;
    return true;
  }

  function push(event: AuditEvent): boolean {
    if (fault) return false;
    if (skipped) {
      const ahead = skipped;
      skipped = undefined;
      if (event.seq < ahead.seq) return fail(ahead, 'seq_out_of_order', `it comes before seq ${event.seq} (events were reordered)`);
      return failGap(ahead);
    }
    if (event.seq === prev.seq && prev.seq > 0) {
      return fail(event, 'duplicate_seq', `seq ${event.seq} appears twice (an event was inserted)`);
    }
    if (event.seq <= prev.seq) {
      return fail(event, 'seq_out_of_order', `it follows seq ${prev.seq} (events were reordered)`);
    }
    if (event.seq > prev.seq + 1) {
      skipped = event;
      return true;
    }
    return checkContent(event);
  }

  function result(): ChainVerification {
    if (skipped && !fault) failGap(skipped);
    skipped = undefined;
    if (fault) {
      return {
        ok: false,
        count,
        firstBad: { seq: fault.event.seq, id: fault.event.id, reason: fault.reason },
        message: fault.message,
      };
    }
    return { ok: true, count, head: count > 0 ? prev : (options.after ?? null) };
  }

  return { push, result };
}

/** Verifies one chain's events, given in seq order, and names the first bad event. */
export function verifyChain(events: Iterable<AuditEvent>, options: VerifyOptions = {}): ChainVerification {
  const verifier = createChainVerifier(options);
  for (const event of events) if (!verifier.push(event)) break;
  return verifier.result();
}

/** Verifies events of several chains mixed in one stream (an export file), per chain key. */
export function verifyChains(events: Iterable<AuditEvent>): Map<string, ChainVerification> {
  const verifiers = new Map<string, ChainVerifier>();
  for (const event of events) {
    const key = chainKey(event.zone);
    let verifier = verifiers.get(key);
    if (!verifier) verifiers.set(key, (verifier = createChainVerifier()));
    verifier.push(event);
  }
  return new Map([...verifiers].map(([key, verifier]) => [key, verifier.result()]));
}

/** One chain's verification, as read from a store. */
export type StoredChainVerification = ChainVerification & { readonly chain: string };

/** Reads every chain (or the named ones) from a store page by page and verifies each. */
export async function verifyStoredChains(
  store: Pick<Store, 'listAuditChains' | 'readAuditChain'>,
  options: { readonly chains?: readonly string[]; readonly pageSize?: number } = {},
): Promise<StoredChainVerification[]> {
  const pageSize = options.pageSize ?? 1000;
  const chains = options.chains ?? (await store.listAuditChains());
  const results: StoredChainVerification[] = [];
  for (const chain of chains) {
    const verifier = createChainVerifier();
    let fromSeq = 1;
    for (;;) {
      const page = await store.readAuditChain(chain, fromSeq, pageSize);
      const last = page.at(-1);
      if (!last) break;
      if (!page.every((event) => verifier.push(event))) break;
      // Continue after the highest seq seen so a broken order cannot make the reader loop.
      fromSeq = Math.max(fromSeq, last.seq) + 1;
    }
    results.push({ chain, ...verifier.result() });
  }
  return results;
}

function withoutHash(event: AuditEvent): Omit<AuditEvent, 'hash'> {
  const { hash: _hash, ...rest } = event;
  return rest;
}
