import type { KeyObject } from 'node:crypto';
import { chainKey } from './chain.js';
import { isValidCheckpointSignature, readCheckpointSignature, type CheckpointSignature } from './checkpoint.js';
import type { AuditEvent } from './event.js';
import { createChainVerifier, type ChainFault, type ChainVerifier } from './verify.js';

/** Why a chain fails beyond its hash links: its signatures. */
export type SignatureFault = 'checkpoint_invalid' | 'checkpoint_key_unknown' | 'checkpoint_mismatch' | 'head_mismatch' | 'truncated';

/** The first bad event of a chain (or, for `truncated`, the point where events are missing). */
export interface BadEvent {
  readonly seq: number;
  readonly id: string;
  readonly reason: ChainFault | SignatureFault;
  readonly message: string;
}

/** The verification of one chain: its links and its signed checkpoints. */
export interface ChainReport {
  readonly chain: string;
  readonly ok: boolean;
  /** Events read (up to the first fault). */
  readonly events: number;
  /** Signed checkpoints (and export heads) that verified. */
  readonly checkpoints: number;
  /** The highest seq a valid signature covers (null: none). */
  readonly signed_through: number | null;
  /** Events after `signed_through`, which only the hash links protect. */
  readonly unsigned: number;
  readonly first_bad: BadEvent | null;
}

/** Verifies chains fed event by event (any mix of chains), checkpoints included. */
export interface AuditVerifier {
  push(event: AuditEvent): void;
  /** A signed head given outside the chain (an export's trailer): must match the chain's last event. */
  pushHead(head: CheckpointSignature): void;
  /** Records a fault found outside any event (an unreadable export line). */
  fail(chain: string, bad: BadEvent): void;
  results(): ChainReport[];
}

/** How many recent (seq → hash) pairs per chain are kept to match checkpoints against. */
const WINDOW = 100_000;

interface ChainState {
  readonly chain: string;
  readonly links: ChainVerifier;
  readonly recent: Map<number, string>;
  events: number;
  checkpoints: number;
  signedThrough: number | null;
  lastSeq: number;
  lastHash: string | null;
  lastId: string;
  fault: BadEvent | null;
}

/**
 * Creates a verifier for the ledger or an export (DESIGN.md §7). Each chain's hash links are
 * checked by core/audit/verify.ts (edits, deletions, reorderings and insertions name the first bad
 * event); each `audit.checkpoint` must carry a valid Ed25519 signature by one of `publicKeys` (by
 * key ID) over a (seq, hash) that is really in the chain, so a history rewritten and re-hashed
 * end to end is caught at the first checkpoint after the rewrite.
 */
export function createAuditVerifier(publicKeys: ReadonlyMap<string, KeyObject>): AuditVerifier {
  const chains = new Map<string, ChainState>();

  function stateOf(chain: string): ChainState {
    let state = chains.get(chain);
    if (state === undefined) {
      state = { chain, links: createChainVerifier(), recent: new Map(), events: 0, checkpoints: 0, signedThrough: null, lastSeq: 0, lastHash: null, lastId: '', fault: null };
      chains.set(chain, state);
    }
    return state;
  }

  function checkSigned(state: ChainState, signed: CheckpointSignature, at: { seq: number; id: string }, what: string): void {
    const key = publicKeys.get(signed.key_id);
    if (key === undefined) {
      state.fault = { ...at, reason: 'checkpoint_key_unknown', message: `${what} is signed by key ${signed.key_id}, which is not among the trusted public keys (${[...publicKeys.keys()].join(', ') || 'none'})` };
      return;
    }
    if (signed.chain !== state.chain || !isValidCheckpointSignature(key, signed)) {
      state.fault = { ...at, reason: 'checkpoint_invalid', message: `${what} has an invalid signature (it was altered or forged)` };
      return;
    }
    const hash = state.recent.get(signed.seq);
    if (hash !== undefined && hash !== signed.hash) {
      const from = state.signedThrough ?? 0;
      state.fault = {
        ...at,
        reason: 'checkpoint_mismatch',
        message: `${what} signed seq ${signed.seq} with another hash than the chain has now: events after seq ${from} up to seq ${signed.seq} were rewritten`,
      };
      return;
    }
    state.checkpoints += 1;
    state.signedThrough = Math.max(state.signedThrough ?? 0, signed.seq);
  }

  return {
    push(event) {
      const state = stateOf(chainKey(event.zone));
      if (state.fault !== null) return;
      if (!state.links.push(event)) {
        const result = state.links.result();
        if (!result.ok) state.fault = { ...result.firstBad, message: result.message };
        return;
      }
      state.events += 1;
      state.recent.set(event.seq, event.hash);
      if (state.recent.size > WINDOW) state.recent.delete(state.recent.keys().next().value as number);
      state.lastSeq = event.seq;
      state.lastHash = event.hash;
      state.lastId = event.id;
      if (event.type === 'audit.checkpoint') {
        const signed = readCheckpointSignature(event.detail);
        const at = { seq: event.seq, id: event.id };
        if (signed === undefined) state.fault = { ...at, reason: 'checkpoint_invalid', message: `event ${event.id} (seq ${event.seq}): the checkpoint detail is malformed` };
        else checkSigned(state, signed, at, `checkpoint event ${event.id} (seq ${event.seq})`);
      }
    },
    pushHead(head) {
      const state = stateOf(head.chain);
      if (state.fault !== null) return;
      const result = state.links.result();
      if (!result.ok) {
        state.fault = { ...result.firstBad, message: result.message };
        return;
      }
      const at = { seq: head.seq, id: `head of ${head.chain}` };
      if (head.seq > state.lastSeq) {
        state.fault = { seq: state.lastSeq + 1, id: at.id, reason: 'truncated', message: `the signed head says chain ${head.chain} ends at seq ${head.seq}, but the events stop at seq ${state.lastSeq}: seq ${state.lastSeq + 1}–${head.seq} are missing` };
        return;
      }
      checkSigned(state, head, at, `the signed head of chain ${head.chain}`);
    },
    fail(chain, bad) {
      const state = stateOf(chain);
      state.fault ??= bad;
    },
    results() {
      return [...chains.values()].map((state) => {
        let fault = state.fault;
        if (fault === null) {
          const result = state.links.result();
          if (!result.ok) fault = { ...result.firstBad, message: result.message };
        }
        const unsigned = state.signedThrough === null ? state.lastSeq : Math.max(0, state.lastSeq - state.signedThrough);
        return {
          chain: state.chain,
          ok: fault === null,
          events: state.events,
          checkpoints: state.checkpoints,
          signed_through: state.signedThrough,
          unsigned,
          first_bad: fault,
        };
      });
    },
  };
}
