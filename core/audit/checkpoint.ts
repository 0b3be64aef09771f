import { sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import { newId } from '../domain/ids.js';
import { canonicalJson, chainKey } from './chain.js';
import type { AuditSigningKey } from './checkpoint-key.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import type { AuditRecorder } from './sink.js';

/** The signed statement: "chain C's event `seq` has hash H", as of `signed_at`. */
export interface CheckpointHead {
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
  readonly signed_at: string;
}

/** The `detail` of an `audit.checkpoint` event (and a signed head in an export). */
export interface CheckpointSignature extends CheckpointHead {
  readonly alg: 'Ed25519';
  readonly key_id: string;
  /** base64url Ed25519 signature over {@link checkpointMessage}. */
  readonly signature: string;
}

/** The exact bytes a checkpoint signature covers (versioned, canonical JSON). */
export function checkpointMessage(head: CheckpointHead): Buffer {
  return Buffer.from(`caracal-audit-checkpoint/v1\n${canonicalJson({ chain: head.chain, seq: head.seq, hash: head.hash, signed_at: head.signed_at })}`, 'utf8');
}

/** Signs a chain head with the audit key. */
export function signCheckpoint(key: AuditSigningKey, head: CheckpointHead): CheckpointSignature {
  const signature = sign(null, checkpointMessage(head), key.privateKey).toString('base64url');
  return { chain: head.chain, seq: head.seq, hash: head.hash, signed_at: head.signed_at, alg: 'Ed25519', key_id: key.keyId, signature };
}

/** Whether a signed head verifies with a public key. */
export function isValidCheckpointSignature(publicKey: KeyObject, signed: CheckpointSignature): boolean {
  try {
    return verifySignature(null, checkpointMessage(signed), publicKey, Buffer.from(signed.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Reads a checkpoint signature out of an event's detail (or an export line); undefined when malformed. */
export function readCheckpointSignature(value: unknown): CheckpointSignature | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.chain !== 'string' || typeof v.seq !== 'number' || typeof v.hash !== 'string' || typeof v.signed_at !== 'string') return undefined;
  if (v.alg !== 'Ed25519' || typeof v.key_id !== 'string' || typeof v.signature !== 'string') return undefined;
  return { chain: v.chain, seq: v.seq, hash: v.hash, signed_at: v.signed_at, alg: 'Ed25519', key_id: v.key_id, signature: v.signature };
}

/** The input of an `audit.checkpoint` event holding a signed head. */
export function checkpointEvent(zone: string | null, signed: CheckpointSignature): AuditEventInput {
  return {
    type: 'audit.checkpoint',
    zone,
    request_id: newId('request'),
    at: signed.signed_at,
    decision: 'allow',
    reason: 'checkpoint',
    detail: { ...signed },
  };
}

export interface CheckpointOptions {
  readonly key: AuditSigningKey;
  /** A checkpoint after this many events of a chain (recorded by this process). Default 1,000. */
  readonly everyEvents?: number;
  /** …or once this long has passed since the chain's first unsigned event. Default 60,000 ms. */
  readonly everyMs?: number;
  /** Default `Date.now`. */
  readonly now?: () => number;
  /** Told when a timed checkpoint fails (the next one retries). */
  readonly onError?: (error: unknown) => void;
}

/** A recorder that also writes signed checkpoints; `close()` signs what is still unsigned. */
export interface CheckpointingRecorder extends AuditRecorder {
  close(): Promise<void>;
}

interface Pending {
  readonly zone: string | null;
  count: number;
  since: number;
  head: { seq: number; hash: string };
}

/**
 * Wraps the ledger recorder so that, per chain, every `everyEvents` events or `everyMs` after the
 * first unsigned one, an `audit.checkpoint` event is appended holding the chain head this process
 * just stored — (seq, hash), signed with the installation's Ed25519 key (DESIGN.md §7). Anyone
 * with the public key can then check that the chain up to that event is the one that was written.
 * Checkpoint events are themselves chained, and returned with the batch so sinks get them too.
 * Several processes may write one chain: each signs heads it saw, which are all genuine links.
 */
export function createCheckpointingRecorder(inner: AuditRecorder, options: CheckpointOptions): CheckpointingRecorder {
  const everyEvents = options.everyEvents ?? 1000;
  const everyMs = options.everyMs ?? 60_000;
  const now = options.now ?? Date.now;
  const pending = new Map<string, Pending>();
  let tail: Promise<unknown> = Promise.resolve();

  /** One recorder call at a time: timed checkpoints queue behind batches and vice versa. */
  function serial<T>(task: () => Promise<T>): Promise<T> {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  }

  function note(stored: readonly AuditEvent[]): void {
    const at = now();
    for (const event of stored) {
      if (event.type === 'audit.checkpoint') continue;
      const key = chainKey(event.zone);
      const entry = pending.get(key);
      if (entry === undefined) pending.set(key, { zone: event.zone, count: 1, since: at, head: { seq: event.seq, hash: event.hash } });
      else {
        entry.count += 1;
        if (event.seq > entry.head.seq) entry.head = { seq: event.seq, hash: event.hash };
      }
    }
  }

  /** Signs the heads of the chains that are due; they leave `pending` only once their checkpoint is stored. */
  async function checkpoint(force: boolean): Promise<readonly AuditEvent[]> {
    const at = now();
    const chains: string[] = [];
    const inputs: AuditEventInput[] = [];
    for (const [chain, entry] of pending) {
      if (!force && entry.count < everyEvents && at - entry.since < everyMs) continue;
      chains.push(chain);
      const signed = signCheckpoint(options.key, { chain, seq: entry.head.seq, hash: entry.head.hash, signed_at: new Date(at).toISOString() });
      inputs.push(checkpointEvent(entry.zone, signed));
    }
    if (inputs.length === 0) return [];
    const stored = await inner.record(inputs);
    for (const chain of chains) pending.delete(chain);
    return stored;
  }

  const timer = setInterval(() => {
    void serial(() => checkpoint(false)).catch((error: unknown) => options.onError?.(error));
  }, Math.max(50, Math.min(everyMs, 60_000)));
  timer.unref();

  return {
    record: (inputs) =>
      serial(async () => {
        const stored = await inner.record(inputs);
        note(stored);
        let signed: readonly AuditEvent[] = [];
        try {
          signed = await checkpoint(false);
        } catch (error) {
          // The batch is stored; a failed checkpoint must not make the log retry it. The next one covers it.
          options.onError?.(error);
        }
        return signed.length === 0 ? stored : [...stored, ...signed];
      }),
    close: async () => {
      clearInterval(timer);
      await serial(() => checkpoint(true));
    },
  };
}
