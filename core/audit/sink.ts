import type { AuditEvent, AuditEventInput } from './event.js';

/**
 * Where audit events go (DESIGN.md §7).
 *
 * Decision: the ledger is the source of truth and the one primary. Only the primary, an
 * {@link AuditRecorder}, turns inputs into events: it assigns `id`, `seq`, `prev_hash` and `hash`
 * in the zone's hash chain and stores them. Every other sink (JSON lines, stdout, webhook, …) is
 * an isolated observer: it receives the events exactly as the primary stored them, after they
 * were stored, so every copy carries the same IDs and hashes and can be checked against the
 * ledger. An observer that fails, hangs or lags is counted and reported, and never delays or
 * fails the recorder, another sink, or the request that produced the event.
 */
export interface AuditSink {
  /** Unique among the configured sinks; names the sink in stats, health and error reports. */
  readonly name: string;
  /** Receives stored events in chain order, one batch at a time (never two writes at once while healthy). */
  write(batch: readonly AuditEvent[]): Promise<void>;
  /** Pushes out anything the sink buffers itself. */
  flush?(): Promise<void>;
  /** Releases files, sockets and timers; called once, after the last write. */
  close?(): Promise<void>;
  /** A cheap, synchronous status for `/readyz`, `caracal status` and the console. */
  health?(): { ok: boolean; detail: string; dropped: number };
}

/** The primary (the ledger): records inputs as chained events and returns them as stored, in order. */
export interface AuditRecorder {
  record(inputs: readonly AuditEventInput[]): Promise<readonly AuditEvent[]>;
}
