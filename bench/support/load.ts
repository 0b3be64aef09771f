import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentile } from '../harness.js';

export interface LoadOptions {
  /** Base URL (origin) to send to. */
  readonly url: string;
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Concurrent requests in flight (closed loop: each connection sends the next when one ends). */
  readonly connections: number;
  readonly durationMs: number;
  /** Statuses counted as success (default 200). */
  readonly okStatus?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * A closed-loop load generator on undici: `connections` loops, each sending one request after
 * another for `durationMs`, recording every latency. Bounded in time and count; loopback only.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  let errors = 0;
  const okStatus = options.okStatus ?? 200;
  const end = performance.now() + options.durationMs;
  const loop = async () => {
    while (performance.now() < end && latencies.length < 5_000_000) {
      const start = performance.now();
      try {
        const res = await pool.request({
          path: options.path,
          method: options.method ?? 'GET',
          headers: options.headers ?? {},
          body: options.body ?? null,
        });
        await res.body.dump();
        if (res.statusCode !== okStatus) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - start);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: options.connections }, loop));
  const elapsed = (performance.now() - began) / 1000;
  await pool.close();
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
