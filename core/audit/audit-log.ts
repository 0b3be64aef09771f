import { CaracalError, isCaracalError } from '../errors.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import { redact } from './redact.js';
import { isoNow } from './stamp.js';
import type { AuditRecorder, AuditSink } from './sink.js';

/** What an `onError` report is about. */
export interface AuditErrorContext {
  /** The recorder (ledger) failed, a sink failed, or events were dropped from the queue. */
  readonly source: 'recorder' | 'sink' | 'queue';
  /** The sink's name, when `source` is `sink`. */
  readonly sink?: string;
  /** How many events the report concerns. */
  readonly events: number;
}

export interface AuditLogOptions {
  /** The primary (the ledger): turns inputs into chained, stored events. */
  readonly recorder: AuditRecorder;
  /** Isolated observers that receive the stored events (DESIGN.md §7). */
  readonly sinks?: readonly AuditSink[];
  /** At most this many events per recorder call (group commit). Default 500. */
  readonly batchSize?: number;
  /** A partial batch is committed this long after its first event arrived. Default 5 ms. */
  readonly flushIntervalMs?: number;
  /** Events waiting for the recorder (and, separately, for each sink) beyond this are dropped. Default 100,000. */
  readonly maxQueue?: number;
  /** A sink write, flush or close that takes longer than this counts as failed. Default 5,000 ms. */
  readonly sinkTimeoutMs?: number;
  /** How long `close()` keeps retrying a failing recorder and waiting for sinks. Default 10,000 ms. */
  readonly closeTimeoutMs?: number;
  /** The longest pause between retries of a failing recorder (the backoff doubles up to it). Default 1,000 ms. */
  readonly maxRetryDelayMs?: number;
  /** Told about every failure and drop; must not throw (if it does, the error is ignored). */
  readonly onError?: (error: CaracalError, context: AuditErrorContext) => void;
}

export interface AuditLogStats {
  /** Events waiting for the recorder. */
  readonly queued: number;
  /** Events the recorder has stored. */
  readonly recorded: number;
  /** Events lost before the recorder stored them (queue full, closed, refused on their own, close timeout). */
  readonly dropped: number;
  /** Failed recorder calls (each is retried). */
  readonly recorderFailures: number;
  /** Failed or timed-out operations per sink. */
  readonly sinkFailures: Readonly<Record<string, number>>;
  /** Events a sink never received because its own backlog was full or it was still hung at close. */
  readonly sinkDropped: Readonly<Record<string, number>>;
}

/** The audit log every producer appends to: fire-and-forget in, group-committed out. */
export interface AuditLog {
  /** Queues an event; never throws and never waits for storage. */
  append(input: AuditEventInput): void;
  /** Records everything queued now and waits for the sinks; rejects when the recorder is failing. */
  flush(): Promise<void>;
  /** Stops accepting events, records and delivers everything queued, then flushes and closes the sinks. */
  close(): Promise<void>;
  stats(): AuditLogStats;
}

/** After this many consecutive failed batches, the recorder is tried one event at a time. */
const ISOLATE_AFTER = 3;
/** In one-at-a-time mode, this many events failing in a row means an outage, not a bad event. */
const OUTAGE_RUN = 8;

interface Outlet {
  readonly sink: AuditSink;
  readonly batches: (readonly AuditEvent[])[];
  queued: number;
  busy: Promise<void> | undefined;
  failures: number;
  dropped: number;
  overflowing: boolean;
}

/**
 * Creates the audit log: `append` redacts the event, stamps its time and queues it; a commit runs
 * every `flushIntervalMs` or as soon as `batchSize` events wait, handing one batch at a time to the
 * recorder, then the stored events to every sink.
 *
 * Failure rules. The recorder is the source of truth: when it fails, the batch stays at the head
 * of the queue and is retried with a doubling backoff, so nothing is lost and order is kept (one
 * FIFO, so order within every zone too). After repeated failures (at once for a CRC_VALIDATION
 * refusal), events are tried one at a time; an event the recorder refuses on its own (twice) while
 * a later one is accepted, or as invalid, is dropped and reported, so one bad event cannot block
 * the ledger forever. Sinks are observers: each has its
 * own backlog and is written in order; a throw or a timeout is counted and reported and the sink
 * moves on to its next batch. Nothing is retried for sinks: the ledger holds every event.
 *
 * Back-pressure. When `maxQueue` events already wait (the recorder has been failing or is
 * slower than producers for a long time), new events are dropped, counted in `stats().dropped`
 * and reported once per episode. Dropping the newest keeps the queued events in order and bounds
 * memory; blocking or throwing would instead fail the requests that produce events.
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 500);
  const maxQueue = positiveInteger('maxQueue', options.maxQueue ?? 100_000);
  const flushIntervalMs = nonNegative('flushIntervalMs', options.flushIntervalMs ?? 5);
  const sinkTimeoutMs = positiveInteger('sinkTimeoutMs', options.sinkTimeoutMs ?? 5_000);
  const closeTimeoutMs = nonNegative('closeTimeoutMs', options.closeTimeoutMs ?? 10_000);
  const maxRetryDelayMs = positiveInteger('maxRetryDelayMs', options.maxRetryDelayMs ?? 1_000);
  const { recorder } = options;
  const onError = options.onError ?? defaultOnError;
  const outlets = createOutlets(options.sinks ?? []);

  let queue: AuditEventInput[] = [];
  let head = 0;
  let recorded = 0;
  let dropped = 0;
  let recorderFailures = 0;
  let consecutiveFailures = 0;
  let lastError: CaracalError | undefined;
  let overflowing = false;
  let closed = false;
  let abandoned = false;
  let closing: Promise<void> | undefined;
  let running: Promise<boolean> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;

  const pending = (): number => queue.length - head;

  function report(error: CaracalError, context: AuditErrorContext): void {
    try {
      onError(error, context);
    } catch {
      // A broken reporter must not break auditing; there is nowhere left to report to.
    }
  }

  function drop(count: number, why: 'full' | 'closed' | 'refused' | 'close_timeout', cause?: unknown): void {
    dropped += count;
    const messages = {
      full: `audit queue is full (${maxQueue} events wait for the ledger); dropping new events until it drains`,
      closed: 'audit log is closed; dropping events appended after close()',
      refused: `the audit ledger refused ${count} event(s) on their own while later events were accepted; dropped them`,
      close_timeout: `the audit ledger did not accept ${count} queued event(s) within ${closeTimeoutMs} ms of close(); dropped them`,
    } as const;
    report(
      new CaracalError('CRC_AUDIT_DROPPED', messages[why], {
        cause,
        details: { dropped: count, total_dropped: dropped },
        hint: 'check that the store is reachable and writable (caracal status); see stats().dropped',
      }),
      { source: 'queue', events: count },
    );
  }

  function consume(count: number): void {
    head = Math.min(head + count, queue.length);
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head >= 1024 && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (overflowing && pending() < maxQueue) overflowing = false;
  }

  function clearTimers(): void {
    if (timer !== undefined) clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
  }

  function schedule(delayMs: number): void {
    if (running || timer !== undefined || immediate !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void pump();
    }, delayMs);
    // A queued event must not keep a finished process alive; close() is the way to flush at exit.
    timer.unref();
  }

  function retryDelay(): number {
    return Math.max(1, Math.min(maxRetryDelayMs, Math.max(flushIntervalMs, 1) * 2 ** Math.min(consecutiveFailures, 20)));
  }

  function recorderFailed(error: unknown, events: number): void {
    recorderFailures += 1;
    consecutiveFailures += 1;
    lastError = new CaracalError(
      'CRC_AUDIT_RECORD_FAILED',
      `the audit ledger failed to record ${events} event(s) (attempt ${consecutiveFailures}); ` +
        'they stay queued in order and are retried',
      { cause: error, hint: 'check that the store is reachable and writable (caracal status)' },
    );
    report(lastError, { source: 'recorder', events });
  }

  /** Runs the recorder until the queue is empty (true) or a call fails (false). Never rejects. */
  function pump(): Promise<boolean> {
    if (running) return running;
    clearTimers();
    running = drain()
      .catch((error: unknown) => {
        recorderFailed(error, pending());
        return false;
      })
      .then((ok) => {
        running = undefined;
        if (!closed && pending() > 0) schedule(ok ? flushIntervalMs : retryDelay());
        return ok;
      });
    return running;
  }

  async function drain(): Promise<boolean> {
    while (pending() > 0 && !abandoned) {
      const batch = queue.slice(head, head + batchSize);
      if (consecutiveFailures >= ISOLATE_AFTER) {
        if (!(await recordOneByOne(batch))) return false;
        continue;
      }
      let stored: readonly AuditEvent[];
      try {
        stored = await recorder.record(batch);
      } catch (error) {
        recorderFailed(error, batch.length);
        // An invalid event fails every batch it is in: find it now rather than after the backoff.
        if (isCaracalError(error, 'CRC_VALIDATION') && batch.length > 1) {
          if (!(await recordOneByOne(batch))) return false;
          continue;
        }
        return false;
      }
      if (abandoned) return true;
      consume(batch.length);
      recorded += batch.length;
      consecutiveFailures = 0;
      deliver(stored);
    }
    return true;
  }

  /**
   * Records a batch one event at a time to find the event(s) the recorder refuses on their own
   * (see the failure rules above); true when every event was consumed.
   */
  async function recordOneByOne(batch: readonly AuditEventInput[]): Promise<boolean> {
    let failedRun = 0;
    let cause: unknown;
    for (const input of batch) {
      let stored: readonly AuditEvent[] | undefined;
      for (let attempt = 0; attempt < 2 && stored === undefined; attempt++) {
        try {
          stored = await recorder.record([input]);
        } catch (error) {
          cause = error;
        }
      }
      if (abandoned) return true;
      if (stored === undefined && failedRun === 0 && isCaracalError(cause, 'CRC_VALIDATION')) {
        // Invalid on its own: no retry will ever store it.
        consume(1);
        drop(1, 'refused', cause);
        continue;
      }
      if (stored === undefined) {
        failedRun += 1;
        if (failedRun >= OUTAGE_RUN) break;
        continue;
      }
      if (failedRun > 0) {
        consume(failedRun);
        drop(failedRun, 'refused', cause);
        failedRun = 0;
      }
      consume(1);
      recorded += 1;
      consecutiveFailures = 0;
      deliver(stored);
    }
    if (failedRun === 0) return true;
    recorderFailed(cause, failedRun);
    return false;
  }

  function deliver(stored: readonly AuditEvent[]): void {
    if (stored.length === 0) return;
    for (const outlet of outlets) offer(outlet, stored);
  }

  function offer(outlet: Outlet, stored: readonly AuditEvent[]): void {
    if (outlet.queued + stored.length > maxQueue) {
      outlet.dropped += stored.length;
      if (!outlet.overflowing) {
        outlet.overflowing = true;
        report(
          new CaracalError(
            'CRC_AUDIT_SINK_FAILED',
            `audit sink "${outlet.sink.name}" is ${maxQueue} events behind; dropping events for it until it catches up ` +
              '(the ledger still has them)',
          ),
          { source: 'sink', sink: outlet.sink.name, events: stored.length },
        );
      }
      return;
    }
    outlet.batches.push(stored);
    outlet.queued += stored.length;
    outlet.busy ??= writeOut(outlet);
  }

  async function writeOut(outlet: Outlet): Promise<void> {
    for (let batch = outlet.batches.shift(); batch !== undefined; batch = outlet.batches.shift()) {
      // Coalesce small batches that piled up while the previous write ran.
      for (let next = outlet.batches[0]; next !== undefined && batch.length + next.length <= batchSize; next = outlet.batches[0]) {
        outlet.batches.shift();
        batch = batch.concat(next);
      }
      outlet.queued -= batch.length;
      const events = batch;
      await callSink(outlet, 'write', () => outlet.sink.write(events), events.length);
    }
    outlet.busy = undefined;
    outlet.overflowing = false;
  }

  async function callSink(outlet: Outlet, op: 'write' | 'flush' | 'close', call: () => Promise<void>, events: number): Promise<void> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(call),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${sinkTimeoutMs} ms`)), sinkTimeoutMs);
        }),
      ]);
    } catch (error) {
      outlet.failures += 1;
      const reason = error instanceof Error ? error.message : String(error);
      report(
        new CaracalError('CRC_AUDIT_SINK_FAILED', `audit sink "${outlet.sink.name}" failed to ${op} ${events} event(s): ${reason}`, {
          cause: error,
          hint: 'the events are safe in the ledger; fix the sink (caracal status names it) or remove it',
        }),
        { source: 'sink', sink: outlet.sink.name, events },
      );
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Waits until every sink has written what it was given, or until the deadline. */
  async function settleSinks(deadline: number): Promise<void> {
    await Promise.all(
      outlets.map(async (outlet) => {
        while (outlet.busy && (await within(outlet.busy, deadline - Date.now())).done);
      }),
    );
  }

  function append(input: AuditEventInput): void {
    try {
      if (closed || pending() >= maxQueue) {
        // Reported once per episode; every drop is counted.
        if (overflowing) dropped += 1;
        else drop(1, closed ? 'closed' : 'full');
        overflowing = true;
        return;
      }
      const clean = redact(input);
      // Stamp the time now: a batch may be committed much later when the recorder is retrying.
      queue.push(clean.at === undefined ? { ...clean, at: isoNow() } : clean);
      if (pending() >= batchSize && consecutiveFailures === 0) {
        if (!running && immediate === undefined) {
          clearTimers();
          immediate = setImmediate(() => {
            immediate = undefined;
            void pump();
          });
        }
      } else {
        schedule(consecutiveFailures === 0 ? flushIntervalMs : retryDelay());
      }
    } catch (error) {
      dropped += 1;
      report(new CaracalError('CRC_AUDIT_DROPPED', 'an audit event could not be queued and was dropped', { cause: error }), {
        source: 'queue',
        events: 1,
      });
    }
  }

  async function flush(): Promise<void> {
    let failed = 0;
    while (pending() > 0 && !abandoned) {
      // A run already under way may have started before a fix; allow one fresh attempt of our own.
      if (!(await pump()) && ++failed >= 2) {
        throw lastError ?? new CaracalError('CRC_AUDIT_RECORD_FAILED', 'the audit ledger failed to record queued events');
      }
    }
    // Each write is bounded by sinkTimeoutMs, but producers may keep sinks busy: bound the wait too.
    await settleSinks(Date.now() + Math.max(sinkTimeoutMs, closeTimeoutMs));
    await Promise.all(outlets.map((o) => finishSink(o, 'flush')));
  }

  /** Calls a sink's optional flush or close, bounded and isolated like its writes. */
  function finishSink(outlet: Outlet, op: 'flush' | 'close'): Promise<void> {
    const { sink } = outlet;
    if (!sink[op]) return Promise.resolve();
    return callSink(outlet, op, () => sink[op]?.() ?? Promise.resolve(), 0);
  }

  async function shutDown(): Promise<void> {
    closed = true;
    overflowing = false;
    const deadline = Date.now() + closeTimeoutMs;
    while (pending() > 0 && Date.now() < deadline) {
      const run = await within(pump(), deadline - Date.now());
      if (run.done && !run.value) await sleep(Math.min(retryDelay(), deadline - Date.now()));
    }
    clearTimers();
    const left = pending();
    if (left > 0) {
      abandoned = true;
      queue = [];
      head = 0;
      drop(left, 'close_timeout', lastError);
    }
    await settleSinks(Math.max(deadline, Date.now() + sinkTimeoutMs));
    for (const outlet of outlets) {
      // A sink still hung at the deadline gets nothing more; the ledger has every event.
      outlet.dropped += outlet.queued;
      outlet.batches.length = 0;
      outlet.queued = 0;
    }
    await Promise.all(
      outlets.map(async (o) => {
        await finishSink(o, 'flush');
        await finishSink(o, 'close');
      }),
    );
  }

  return {
    append,
    flush,
    close: () => (closing ??= shutDown()),
    stats: () => ({
      queued: pending(),
      recorded,
      dropped,
      recorderFailures,
      sinkFailures: Object.fromEntries(outlets.map((o) => [o.sink.name, o.failures])),
      sinkDropped: Object.fromEntries(outlets.map((o) => [o.sink.name, o.dropped])),
    }),
  };
}

function createOutlets(sinks: readonly AuditSink[]): Outlet[] {
  const seen = new Set<string>();
  for (const sink of sinks) {
    if (seen.has(sink.name)) {
      throw new CaracalError('CRC_VALIDATION', `two audit sinks are named "${sink.name}"; give each sink a unique name`);
    }
    seen.add(sink.name);
  }
  return sinks.map((sink) => ({ sink, batches: [], queued: 0, busy: undefined, failures: 0, dropped: 0, overflowing: false }));
}

/** Waits for a promise that never rejects, but no longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timeout: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then((value) => ({ done: true as const, value })),
      new Promise<{ done: false }>((resolve) => {
        timeout = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timeout);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function defaultOnError(error: CaracalError): void {
  process.emitWarning(error.message, { code: error.code });
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new CaracalError('CRC_VALIDATION', `audit log option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new CaracalError('CRC_VALIDATION', `audit log option ${name} must be a number ≥ 0, got ${value}`);
  }
  return value;
}
