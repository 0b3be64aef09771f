/**
 * Reading server-sent events (`GET /v1/audit/stream`), shared by `caracal audit tail` and the
 * console's live Audit view.
 */

/** Splits a server-sent-events buffer into the `data:` payloads of complete messages and the rest. */
export function takeSseData(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf('\n\n')) !== -1) {
    const message = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const lines = message.split('\n').filter((line) => line.startsWith('data:'));
    if (lines.length > 0) data.push(lines.map((line) => line.slice(line.startsWith('data: ') ? 6 : 5)).join('\n'));
  }
  return { data, rest };
}

/**
 * The `data:` payloads of a streaming response body as they arrive: one batch per network chunk
 * that completed at least one message (a reader can then repaint once per batch, not per event).
 */
export async function* sseBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    const { data, rest } = takeSseData(buffer);
    buffer = rest;
    if (data.length > 0) yield data;
  }
}
