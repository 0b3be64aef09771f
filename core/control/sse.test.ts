import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CaracalError } from '../errors.js';
import { followAuditStream, sseBatches, takeSseMessages } from './sse.js';

describe('server-sent events', () => {
  it('returns complete messages with their id and data, skipping comments, and keeps the incomplete rest', () => {
    expect(takeSseMessages(': hello\n\nid: 7\n\ndata: {"a":1}\n\nid: 9\nevent: audit\ndata: {"b":2}\n\nevent: x\ndata: {"c"')).toEqual({
      messages: [
        { id: '7', data: '' },
        { id: undefined, data: '{"a":1}' },
        { id: '9', data: '{"b":2}' },
      ],
      rest: 'event: x\ndata: {"c"',
    });
  });

  it('yields the messages each chunk completes, across chunk boundaries, skipping chunks that complete none', async () => {
    const chunks = [': comment\n\ndata: {"a"', ':1}\n\ndata: {"b":2}\n', '\n'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
    const seen: string[][] = [];
    for await (const batch of sseBatches(body)) seen.push(batch.map((m) => m.data));
    expect(seen).toEqual([['{"a":1}'], ['{"b":2}']]);
  });
});

describe('followAuditStream', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  const event = (id: string) => `event: audit\ndata: ${JSON.stringify({ id, request_id: `req_${id}` })}\n\n`;

  /** A real SSE server on loopback whose n-th connection is answered by `answers[n]` (a status alone, or a stream); records each request's headers. */
  async function serve(answers: (((res: ServerResponse) => void) | number)[]): Promise<{ url: string; requests: IncomingHttpHeaders[] }> {
    const requests: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      requests.push(req.headers);
      const answer = answers[requests.length - 1];
      if (answer === undefined || typeof answer === 'number') return void res.writeHead(answer ?? 503).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      answer(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    close = () => {
      server.closeAllConnections();
      server.close();
    };
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
  }

  it('resumes after a drop from the last id, and skips what the server sends again', async () => {
    const { url, requests } = await serve([
      // Opens at position 10, sends two events (the second batch carries id 12), then one more event, then dies.
      (res) => res.write(`id: 10\n\n${event('a')}id: 11\n${event('b').slice(0, -1)}\n${event('c')}`, () => res.destroy()),
      // Resumed from 11: the server sends c again (it came after id 11), then d, and stays open.
      (res) => res.write(`id: 11\n\n${event('c')}${event('d')}`),
    ]);
    const controller = new AbortController();
    const drops: string[] = [];
    let resumed = 0;
    const seen: string[] = [];
    for await (const batch of followAuditStream((lastEventId) => fetch(url, { headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId }, signal: controller.signal }), {
      signal: controller.signal,
      retryMs: 20,
      onDrop: (error) => drops.push(String(error)),
      onResume: () => resumed++,
    })) {
      seen.push(...batch.map((e) => e.id));
      if (seen.includes('d')) controller.abort();
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(requests.map((h) => h['last-event-id'])).toEqual([undefined, '11']);
    expect(drops).toHaveLength(1);
    expect(resumed).toBe(1);
  });

  /** Opens like the admin client: a non-2xx answer is a CaracalError of that status. */
  const opener = (url: string, signal?: AbortSignal) => async (lastEventId: string | undefined) => {
    const response = await fetch(url, { headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId }, ...(signal ? { signal } : {}) });
    if (response.status === 503) throw new CaracalError('CRC_SERVICE_UNAVAILABLE', 'control plane restarting');
    if (response.status === 404) throw new CaracalError('CRC_NOT_FOUND', 'zone deleted');
    return response;
  };

  it('reports an outage once, however many reconnects fail, then resumes', async () => {
    const { url } = await serve([(res) => res.write(`id: 1\n\n${event('a')}`, () => res.destroy()), 503, 503, 503, (res) => res.write(`id: 1\n\n${event('b')}`)]);
    const controller = new AbortController();
    let drops = 0;
    let resumes = 0;
    const seen: string[] = [];
    for await (const batch of followAuditStream(opener(url, controller.signal), { signal: controller.signal, retryMs: 10, onDrop: () => drops++, onResume: () => resumes++ })) {
      seen.push(...batch.map((e) => e.id));
      if (seen.includes('b')) controller.abort();
    }
    expect(seen).toEqual(['a', 'b']);
    expect([drops, resumes]).toEqual([1, 1]);
  });

  it('stops with the error when a reconnect is refused (a 4xx will not get better)', async () => {
    const { url } = await serve([(res) => res.write(`id: 1\n\n${event('a')}`, () => res.destroy()), 404]);
    const seen: string[] = [];
    const follow = async () => {
      for await (const batch of followAuditStream(opener(url), { retryMs: 10 })) seen.push(...batch.map((e) => e.id));
    };
    await expect(follow()).rejects.toMatchObject({ code: 'CRC_NOT_FOUND' });
    expect(seen).toEqual(['a']);
  });

  it('throws when the first connection fails: there is nothing to follow yet', async () => {
    const { url } = await serve([]);
    const open = async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`answered ${response.status}`);
      return response;
    };
    await expect(followAuditStream(open, { retryMs: 10 }).next()).rejects.toThrow('answered 503');
  });
});
