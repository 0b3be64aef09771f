import { Worker } from 'node:worker_threads';
import type { AuditEventInput } from '../core/audit/event.js';
import { workerUrl } from '../core/worker-url.js';
import { CaracalError } from '../core/errors.js';
import type { SinkStatus } from '../core/audit/service-audit.js';
import type { AuditWorkerData, AuditWorkerMessage } from './audit-worker.js';

/** What the audit thread last reported. */
export interface AuditChannelStats {
  readonly queued: number;
  readonly recorded: number;
  readonly dropped: number;
  /** Events handed to the channel and not yet posted to the thread. */
  readonly pending: number;
  /** The configured sinks' status (core/audit/service-audit.ts), as the thread last reported it. */
  readonly sinks: readonly SinkStatus[];
}

/** The Gateway's side of the audit thread. */
export interface AuditChannel {
  /** Queues an event; posted to the thread in batches every few ms. Never throws. */
  append(event: AuditEventInput): void;
  stats(): AuditChannelStats;
  /** Posts what is pending, waits until the thread stored everything, then stops it. */
  close(): Promise<AuditChannelStats>;
}

const WORKER_URL = workerUrl(import.meta.url, './audit-worker.js');

/**
 * The audit writer's group commit: one transaction per 50 ms or 2,000 events, because each commit
 * has a fixed cost (chain heads, WAL frames of every index) that dominated at a few events per
 * batch. bench/ledger.ts measures appends at this batch size.
 */
export const AUDIT_WRITER_BATCH = 2000;
const AUDIT_WRITER_INTERVAL_MS = 50;
/**
 * The audit writer thread's young generation: a 2,000-event batch and what it makes while it
 * commits (a few MB) then die young rather than being copied through V8's default ~16 MB young
 * generation; measured, garbage collection took 2.2 µs of an event's time instead of 4.4.
 */
export const AUDIT_WRITER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 96 } as const;

/**
 * Events are posted to the thread in batches: each postMessage has a fixed cost (a wake-up of the
 * thread), so a batch every 20 ms or every 1,024 events keeps it off the request path (measured:
 * posting every 2 ms cost ~5 % of the event loop at ~1,000 req/s). Each event is written as JSON
 * when appended and a batch travels as one string: JSON.stringify and JSON.parse cost less than
 * half of a structured clone of the same objects (1.5 and 1.7 µs an event against 3.4 and 3.8).
 */
const POST_INTERVAL_MS = 20;
const POST_BATCH = 1024;

/** Starts the audit thread and resolves once its store is open. */
export async function openAuditChannel(store: { readonly home: string; readonly databaseUrl: string }, onError: (message: string) => void): Promise<AuditChannel> {
  const data: AuditWorkerData = { ...store, batchSize: AUDIT_WRITER_BATCH, flushIntervalMs: AUDIT_WRITER_INTERVAL_MS };
  const worker = new Worker(WORKER_URL, { workerData: data, resourceLimits: AUDIT_WRITER_RESOURCE_LIMITS });
  /** The JSON texts of the events not yet posted, comma-separated. */
  let batch = '';
  let pending = 0;
  let unserialisable = 0;
  /** Events appended after close(): dropped. */
  let unstored = 0;
  /** Events dropped since the last post, and why the first was: reported once per post, not per request. */
  let droppedSincePost = 0;
  let dropReason = '';
  let scheduled = false;
  let last: { queued: number; recorded: number; dropped: number; sinks: readonly SinkStatus[] } = { queued: 0, recorded: 0, dropped: 0, sinks: [] };
  let closing: Promise<AuditChannelStats> | undefined;

  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) =>
      reject(new CaracalError('CRC_STORE_OPEN', `the audit writer could not start: ${error.message}`, { cause: error }));
    worker.once('error', fail);
    worker.once('message', () => {
      worker.off('error', fail);
      resolve();
    });
  });
  worker.on('error', (error) => onError(`audit writer failed: ${error.message}`));
  worker.on('message', (message: { type: string; stats?: typeof last & { errors: string[] } }) => {
    if (message.type !== 'stats' || !message.stats) return;
    last = { queued: message.stats.queued, recorded: message.stats.recorded, dropped: message.stats.dropped, sinks: message.stats.sinks };
    for (const error of message.stats.errors) onError(error);
  });

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(post, POST_INTERVAL_MS);
  };
  const post = () => {
    scheduled = false;
    if (droppedSincePost > 0) {
      onError(`${droppedSincePost} audit event(s) could not be written as JSON and were dropped: ${dropReason}`);
      droppedSincePost = 0;
    }
    if (pending === 0) return;
    const message: AuditWorkerMessage = { type: 'events', json: `[${batch}]` };
    worker.postMessage(message);
    batch = '';
    pending = 0;
  };
  const stats = (): AuditChannelStats => ({ ...last, dropped: last.dropped + unserialisable + unstored, pending });

  return {
    append(event) {
      if (closing !== undefined) {
        // Too late to be stored: counted, and said once (shutdown waits for requests first, so
        // this is a request that outlived the drain).
        if (unstored++ === 0) onError('an audit event arrived after the audit writer was closed and was dropped (a request outlived the shutdown drain)');
        return;
      }
      let json: string;
      try {
        json = JSON.stringify(event);
      } catch (error) {
        // A value JSON cannot hold (a BigInt, a cycle) in a plugin's detail: this event only is lost.
        unserialisable += 1;
        if (droppedSincePost++ === 0) dropReason = error instanceof Error ? error.message : String(error);
        schedule();
        return;
      }
      batch = pending === 0 ? json : `${batch},${json}`;
      pending += 1;
      if (pending >= POST_BATCH) post();
      else schedule();
    },
    stats,
    close() {
      closing ??= new Promise<AuditChannelStats>((resolve) => {
        post();
        worker.on('message', (message: { type: string; stats?: typeof last }) => {
          if (message.type !== 'closed') return;
          if (message.stats) last = { queued: message.stats.queued, recorded: message.stats.recorded, dropped: message.stats.dropped, sinks: message.stats.sinks };
          void worker.terminate().then(() => resolve(stats()));
        });
        worker.once('exit', () => resolve(stats()));
        worker.postMessage({ type: 'close' });
      });
      return closing;
    },
  };
}
