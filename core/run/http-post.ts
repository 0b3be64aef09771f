import type { IncomingMessage } from 'node:http';
import type { Post } from './token-client.js';

/**
 * A Post over node:http (node:https loaded only for an https URL). `caracal run` uses it instead
 * of the global fetch, whose first use loads undici: about 40 ms of start-up on a quiet machine
 * and several times that under load, for two small requests.
 */
export const httpPost: Post = async (url, headers, body, timeoutMs) => {
  const target = new URL(url);
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          parsed = undefined;
        }
        const id = res.headers['x-request-id'];
        resolve({ status: res.statusCode ?? 0, requestId: typeof id === 'string' ? id : null, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${target.origin} within ${timeoutMs} ms`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
};
