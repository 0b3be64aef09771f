import type { Dispatcher } from 'undici';
import type { AuditEvent } from '../../core/audit/event.js';
import type { AuditSink } from '../../core/audit/sink.js';
import { sinkOptions } from '../../core/audit/sink-options.js';
import { lazySchema } from '../../core/lazy-zod.js';
import { definePlugin, type SinkContext, type SinkContribution } from '../../core/plugin/types.js';

// Built on first use: zod is slow to load, and the CLI loads this plugin on every start.
const optionsSchema = lazySchema((z) =>
  z
    .object({
      url: z
        .string()
        .url()
        .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL'),
      /** Extra request headers (e.g. authorization for the receiver). Never logged or shown. */
      headers: z.record(z.string(), z.string()).default({}),
      /** Events per POST. Default 100. */
      batch_size: z.number().int().min(1).max(10_000).default(100),
      /** Events waiting for delivery beyond this are dropped (and counted). Default 10,000. */
      max_queue: z.number().int().min(1).default(10_000),
      /** Attempts per batch before it is dropped (and counted). Default 5. */
      max_attempts: z.number().int().min(1).max(100).default(5),
      /** Per-attempt deadline. Default 5,000 ms. */
      timeout_ms: z.number().int().min(10).default(5_000),
      /** First retry delay; doubles per attempt up to max_backoff_ms. Default 200 ms. */
      backoff_ms: z.number().int().min(1).default(200),
      max_backoff_ms: z.number().int().min(1).default(30_000),
      /** How long flush (and so shutdown) waits for the queue to drain. Default 4,000 ms. */
      flush_timeout_ms: z.number().int().min(0).default(4_000),
    })
    .strict(),
);

/** What a webhook sink reports beyond AuditSink.health(). */
export interface WebhookSinkStats {
  readonly delivered: number;
  readonly dropped: number;
  readonly queued: number;
  readonly failures: number;
}

/**
 * Creates the webhook sink: events are POSTed as `{"events":[…]}` (JSON) in batches, in order, by
 * one sender loop with its own bounded queue. `write` only enqueues, so a slow or failing receiver
 * never slows the audit log, let alone a request (DESIGN.md §7). A failed attempt (network error,
 * timeout, 408, 429 or 5xx) is retried with exponential backoff; a batch still failing after
 * `max_attempts`, refused with another 4xx, arriving when `max_queue` events already wait, or left
 * at close, is dropped — and every dropped event is counted exactly (`health().dropped`). undici
 * loads on the first delivery.
 */
export function createWebhookSink(options: Readonly<Record<string, unknown>>, ctx: SinkContext): AuditSink & { stats(): WebhookSinkStats } {
  const opts = sinkOptions(optionsSchema(), options, ctx, 'webhook');
  const url = new URL(opts.url);
  // Shown in health and errors: never the query string or user info (they may hold credentials).
  const target = `${url.origin}${url.pathname}`;
  const headers = { ...Object.fromEntries(Object.entries(opts.headers).map(([k, v]) => [k.toLowerCase(), v])), 'content-type': 'application/json' };
  let queue: AuditEvent[] = [];
  let delivered = 0;
  let dropped = 0;
  let failures = 0;
  let streak = 0;
  let lastFailure: string | null = null;
  let closed = false;
  let running: Promise<void> | undefined;
  let agent: Dispatcher | undefined;
  let inflight: AbortController | undefined;
  let wake: (() => void) | undefined;
  const idle: (() => void)[] = [];

  async function dispatcher(): Promise<Dispatcher> {
    if (agent !== undefined) return agent;
    const { Agent } = await import('undici');
    agent = new Agent({ connections: 2, headersTimeout: opts.timeout_ms, bodyTimeout: opts.timeout_ms, connectTimeout: opts.timeout_ms });
    return agent;
  }

  /** One POST; resolves 'ok', 'retry' or 'drop'. */
  async function attempt(batch: readonly AuditEvent[]): Promise<'ok' | 'retry' | 'drop'> {
    const abort = new AbortController();
    inflight = abort;
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${opts.timeout_ms} ms`)), opts.timeout_ms);
    try {
      const response = await (await dispatcher()).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers,
        body: JSON.stringify({ events: batch }),
        signal: abort.signal,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return 'ok';
      lastFailure = `HTTP ${response.statusCode}`;
      return response.statusCode === 408 || response.statusCode === 429 || response.statusCode >= 500 ? 'retry' : 'drop';
    } catch (error) {
      lastFailure = abort.signal.aborted ? `no answer within ${opts.timeout_ms} ms` : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      return 'retry';
    } finally {
      clearTimeout(timer);
      inflight = undefined;
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function loop(): Promise<void> {
    while (queue.length > 0 && !closed) {
      const batch = queue.slice(0, opts.batch_size);
      let outcome: 'ok' | 'retry' | 'drop' = 'retry';
      for (let n = 1; n <= opts.max_attempts && !closed; n++) {
        outcome = await attempt(batch);
        if (outcome !== 'retry') break;
        failures += 1;
        streak += 1;
        if (n < opts.max_attempts) await pause(Math.min(opts.max_backoff_ms, opts.backoff_ms * 2 ** (n - 1)));
      }
      if (closed && outcome !== 'ok') break;
      queue = queue.slice(batch.length);
      if (outcome === 'ok') {
        delivered += batch.length;
        streak = 0;
        lastFailure = null;
      } else {
        if (outcome === 'drop') {
          failures += 1;
          streak += 1;
        }
        dropped += batch.length;
      }
    }
    running = undefined;
    if (queue.length === 0 || closed) for (const resolve of idle.splice(0)) resolve();
  }

  function kick(): void {
    running ??= loop();
  }

  const stats = (): WebhookSinkStats => ({ delivered, dropped, queued: queue.length, failures });

  return {
    name: ctx.name,
    write(batch: readonly AuditEvent[]) {
      if (closed) {
        dropped += batch.length;
        return Promise.resolve();
      }
      const room = Math.max(0, opts.max_queue - queue.length);
      if (batch.length > room) dropped += batch.length - room;
      if (room > 0) queue.push(...(batch.length > room ? batch.slice(0, room) : batch));
      kick();
      return Promise.resolve();
    },
    async flush() {
      if (queue.length === 0 && running === undefined) return;
      await Promise.race([
        new Promise<void>((resolve) => idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, opts.flush_timeout_ms).unref()),
      ]);
    },
    async close() {
      closed = true;
      wake?.();
      inflight?.abort(new Error('closing'));
      await running;
      dropped += queue.length;
      queue = [];
      await agent?.close();
    },
    health: () => ({
      ok: streak === 0,
      detail:
        `webhook ${target}: ${delivered} delivered, ${queue.length} queued, ${dropped} dropped` +
        (streak === 0 ? '' : `; failing (${lastFailure ?? 'error'}, ${streak} failed attempts in a row)`),
      dropped,
    }),
    stats,
  };
}

/** The `webhook` sink type. */
export const webhookSinkType: SinkContribution = {
  id: 'webhook',
  description: 'POST batches of events as JSON to a URL, with retries, backoff and a bounded queue (options: url, headers, batch_size, max_queue, max_attempts, timeout_ms, backoff_ms)',
  create: createWebhookSink,
};

/** The built-in `webhook` audit sink plugin (DESIGN.md §7, §9). */
export const webhookSinkPlugin = definePlugin({ name: 'sink-webhook', caracal: '^1', sinks: [webhookSinkType] });
