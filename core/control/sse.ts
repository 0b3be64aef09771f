/**
 * Reading server-sent events (`GET /v1/audit/stream`), shared by `caracal audit tail` and the
 * console's live Audit view.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AuditEvent } from '../audit/event.js';
import { CaracalError } from '../errors.js';

/** One complete message: its `id:` (when it set one) and its `data:` lines joined ('' when none). */
export interface SseMessage {
  readonly id: string | undefined;
  readonly data: string;
}

/** Splits a server-sent-events buffer into complete messages (comments skipped) and the rest. */
export function takeSseMessages(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf('\n\n')) !== -1) {
    const lines = rest.slice(0, end).split('\n');
    rest = rest.slice(end + 2);
    let id: string | undefined;
    const data: string[] = [];
    for (const line of lines) {
      if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      else if (line.startsWith('id:')) id = line.slice(line.startsWith('id: ') ? 4 : 3);
    }
    if (id !== undefined || data.length > 0) messages.push({ id, data: data.join('\n') });
  }
  return { messages, rest };
}

/**
 * The messages of a streaming response body as they arrive: one batch per network chunk that
 * completed at least one message (a reader can then repaint once per batch, not per event).
 */
export async function* sseBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage[]> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    const { messages, rest } = takeSseMessages(buffer);
    buffer = rest;
    if (messages.length > 0) yield messages;
  }
}

export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** Wait before reconnecting after the stream dropped (default 1,000 ms). */
  readonly retryMs?: number;
  /** Called once when an established stream drops (not again for each failed retry). */
  onDrop?(error: unknown): void;
  /** Called when a stream opens again after a drop. */
  onResume?(): void;
}

/**
 * Follows the audit stream across drops (a control plane restarted, a proxy timing out): `open`
 * opens it, with the `Last-Event-ID` to resume from once the server has sent one. Events are
 * yielded in the ledger's order, none lost and none twice: those the server sends again after the
 * last id are skipped. The first connection's failure is thrown (nothing is running to follow), and
 * so is a refusal (a 4xx: the token, or a zone deleted meanwhile); an unreachable or failing
 * service is retried every `retryMs` until `signal` aborts, with one `onDrop` per outage.
 */
export async function* followAuditStream(
  open: (lastEventId: string | undefined) => Promise<Response>,
  options: FollowOptions = {},
): AsyncGenerator<AuditEvent[]> {
  const { signal, retryMs = 1000 } = options;
  let lastId: string | undefined;
  // Events received after the last id: a resumed stream sends them again.
  let sinceId = new Set<string>();
  let connected = false;
  let down = false;
  // A function: the signal aborts while this generator waits, which narrowing cannot see.
  const aborted = () => signal?.aborted === true;
  const dropped = (error: unknown) => {
    if (!down) options.onDrop?.(error);
    down = true;
  };
  while (!aborted()) {
    try {
      const response = await open(lastId);
      if (down) options.onResume?.();
      connected = true;
      down = false;
      for await (const batch of sseBatches(response.body as ReadableStream<Uint8Array>)) {
        const events: AuditEvent[] = [];
        for (const message of batch) {
          if (message.data !== '') {
            const event = JSON.parse(message.data) as AuditEvent;
            if (!sinceId.has(event.id)) events.push(event);
            sinceId.add(event.id);
          }
          // A resumed stream opens with the id it resumes from: what came after it is still to skip.
          if (message.id !== undefined && message.id !== lastId) {
            lastId = message.id;
            sinceId = new Set();
          }
        }
        if (events.length > 0) yield events;
      }
      if (aborted()) return;
      dropped(new Error('the control plane closed the stream'));
    } catch (error) {
      if (aborted()) return;
      if (!connected || !retryable(error)) throw error;
      dropped(error);
    }
    // Cut short by an abort (which the loop then sees).
    await delay(retryMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  }
}

/** Whether a failed (re)connection may succeed later: the service is down or failing, not refusing. */
function retryable(error: unknown): boolean {
  return !(error instanceof CaracalError) || error.status >= 500;
}
