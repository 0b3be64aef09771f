import { describe, expect, it } from 'vitest';
import { sseBatches, takeSseData } from './sse.js';

describe('server-sent events', () => {
  it('returns the data of complete messages and keeps the incomplete rest', () => {
    expect(takeSseData(': hello\n\ndata: {"a":1}\n\nevent: x\ndata: {"b"')).toEqual({ data: ['{"a":1}'], rest: 'event: x\ndata: {"b"' });
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
    for await (const batch of sseBatches(body)) seen.push(batch);
    expect(seen).toEqual([['{"a":1}'], ['{"b":2}']]);
  });
});
