import type { Benchmark, Figure } from './harness.js';
import { runLoad } from './support/load.js';
import { seed, startService, tempHome } from './support/service.js';

const DURATION_MS = 5000;
const CONNECTIONS = 16;

/**
 * Tokens minted per second through `POST /oauth2/token` on a real `caracal serve control`
 * (client credentials with Basic auth, policy decision, ES256 signature, audit event), against
 * the same server's `GET /healthz` as the baseline: the floor of its HTTP stack, measured in the
 * same run.
 */
const bench: Benchmark = {
  name: 'mint',
  description: `token endpoint throughput, ${CONNECTIONS} connections × ${DURATION_MS / 1000} s`,
  async run(): Promise<Figure[]> {
    const { home, remove } = tempHome('mint');
    const control = await startService('control', home);
    try {
      const creds = await seed(home, control.url, 'http://127.0.0.1:9/');
      const basic = `Basic ${Buffer.from(`${creds.appId}:${creds.secret}`).toString('base64')}`;
      const floor = await runLoad({ url: control.url, path: '/healthz', connections: CONNECTIONS, durationMs: DURATION_MS });
      const mint = await runLoad({
        url: control.url,
        path: '/oauth2/token',
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&resource=${encodeURIComponent(creds.resource)}&scope=billing%3Aread`,
        connections: CONNECTIONS,
        durationMs: DURATION_MS,
      });
      if (mint.errors > 0) throw new Error(`${mint.errors} token requests failed`);
      return [
        { id: 'control.healthz', value: floor.perSecond, unit: 'req/s', target: null },
        { id: 'mint.tokens', value: mint.perSecond, unit: 'tokens/s', target: '>= 1500 tokens/s', baseline_id: 'control.healthz' },
        { id: 'mint.p50', value: mint.p50Ms, unit: 'ms', target: null },
        { id: 'mint.p99', value: mint.p99Ms, unit: 'ms', target: null },
      ];
    } finally {
      await control.stop();
      remove();
    }
  },
};
export default bench;
