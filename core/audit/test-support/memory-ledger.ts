import { newId } from '../../domain/ids.js';
import { GENESIS_HASH, chainKey, hashEvent } from '../chain.js';
import type { AuditEvent, AuditEventInput } from '../event.js';
import type { AuditRecorder } from '../sink.js';

/**
 * An in-memory ledger for tests of the audit log's queueing: it chains events exactly like the
 * store (core/audit/chain.ts) and can be told to fail or to hold calls, which a real database
 * cannot do on demand.
 */
export interface MemoryLedger extends AuditRecorder {
  /** Every stored event, in the order stored. */
  readonly events: AuditEvent[];
  /** The size of every record() call, failed ones included. */
  readonly calls: number[];
  /** While set, every call fails with this error (or only calls whose batch matches `when`). */
  failWith(error: Error | undefined, when?: (batch: readonly AuditEventInput[]) => boolean): void;
  /** While held, calls wait until release(). */
  hold(): void;
  release(): void;
}

/** Creates an empty in-memory ledger. */
export function createMemoryLedger(): MemoryLedger {
  const events: AuditEvent[] = [];
  const calls: number[] = [];
  const heads = new Map<string, { seq: number; hash: string }>();
  let failure: { error: Error; when: (batch: readonly AuditEventInput[]) => boolean } | undefined;
  let gate: { promise: Promise<void>; open: () => void } | undefined;

  async function record(inputs: readonly AuditEventInput[]): Promise<readonly AuditEvent[]> {
    calls.push(inputs.length);
    if (gate) await gate.promise;
    if (failure && failure.when(inputs)) throw failure.error;
    return inputs.map((input) => {
      const chain = chainKey(input.zone);
      const head = heads.get(chain) ?? { seq: 0, hash: GENESIS_HASH };
      const unhashed: Omit<AuditEvent, 'hash'> = {
        id: newId('event'),
        seq: head.seq + 1,
        at: input.at ?? new Date().toISOString(),
        zone: input.zone,
        request_id: input.request_id,
        type: input.type,
        app: input.app ?? null,
        resource: input.resource ?? null,
        scopes: [...(input.scopes ?? [])],
        decision: input.decision,
        reason: input.reason,
        category: input.category ?? null,
        policy: input.policy ?? null,
        http: input.http ?? null,
        token: input.token ?? null,
        detail: input.detail ?? {},
        prev_hash: head.hash,
      };
      const event = { ...unhashed, hash: hashEvent(unhashed) };
      heads.set(chain, { seq: event.seq, hash: event.hash });
      events.push(event);
      return event;
    });
  }

  return {
    events,
    calls,
    record,
    failWith(error, when = () => true) {
      failure = error === undefined ? undefined : { error, when };
    },
    hold() {
      let open = () => {};
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
  };
}
