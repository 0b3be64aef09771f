import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, type Benchmark, type Figure } from './harness.js';
import { BIN, startService, tempHome } from './support/service.js';

const LAUNCHES = 25;
const CALLS = 400;
const WARMUP = 50;

/**
 * `caracal run -- true` against plain `true` (the cost of a governed launch: Node start, CLI,
 * profile, secret file, one token, the launch record, the spawn), with `node -e 0` and
 * `caracal --version` beside it to show where the time goes; and the SDK's `caracal.fetch`
 * against a direct Gateway call with the same token (the cost of the SDK on each call).
 */
const bench: Benchmark = {
  name: 'run',
  description: `caracal run -- true vs true (${LAUNCHES} launches each), SDK fetch vs direct Gateway call (${CALLS} calls each)`,
  async run(): Promise<Figure[]> {
    const { home, remove } = tempHome('run');
    const configDir = mkdtempSync(join(tmpdir(), 'caracal-bench-run-config-'));
    const upstream = createServer((_req, res) => res.end('{"ok":true}'));
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const control = await startService('control', home);
    const gateway = await startService('gateway', home);
    try {
      const env = { ...process.env, CARACAL_HOME: home, CARACAL_CONFIG_DIR: configDir, CARACAL_CONTROL_URL: control.url, CARACAL_GATEWAY_URL: gateway.url };
      const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      const setup = spawnSync(process.execPath, [BIN, 'setup', '--resource', 'billing-api', '--scopes', 'billing:read', '--upstream', upstreamUrl, '--write-profile', '--json'], { env, encoding: 'utf8' });
      if (setup.status !== 0) throw new Error(`caracal setup failed: ${setup.stderr}`);
      const profile = (JSON.parse(setup.stdout) as { profile_path: string }).profile_path;

      // Launches, interleaved so that drift on a shared machine hits every series alike.
      const series = {
        true: ['true', []],
        node: [process.execPath, ['-e', '0']],
        version: [process.execPath, [BIN, '--version']],
        run: [process.execPath, [BIN, 'run', '--', 'true']],
      } as const;
      const times: Record<keyof typeof series, number[]> = { true: [], node: [], version: [], run: [] };
      const runEnv = { ...env, CARACAL_CONFIG: profile };
      for (let i = 0; i < LAUNCHES + 2; i++) {
        for (const [name, [command, args]] of Object.entries(series) as [keyof typeof series, (typeof series)[keyof typeof series]][]) {
          const started = performance.now();
          const result = spawnSync(command, [...args], { env: runEnv, stdio: 'ignore' });
          const ms = performance.now() - started;
          if (result.status !== 0) throw new Error(`${name} exited with ${String(result.status)}`);
          if (i >= 2) times[name].push(ms);
        }
      }
      const median = (name: keyof typeof times) => percentile(times[name], 50);

      // SDK fetch vs a direct call with the same token, sequential, after a warm-up.
      const { Caracal } = await import('../sdk/index.js');
      const caracal = new Caracal({ profile });
      const token = await caracal.token('billing-api');
      const headers = { authorization: `Bearer ${token}`, 'x-caracal-resource': 'resource://billing-api' };
      const direct = async () => {
        const response = await fetch(`${gateway.url}/bench`, { headers });
        await response.arrayBuffer();
      };
      const viaSdk = async () => {
        const response = await caracal.fetch('billing-api', '/bench');
        await response.arrayBuffer();
      };
      for (let i = 0; i < WARMUP; i++) {
        await direct();
        await viaSdk();
      }
      const calls: { direct: number[]; sdk: number[] } = { direct: [], sdk: [] };
      for (let i = 0; i < CALLS; i++) {
        for (const [name, call] of [['direct', direct], ['sdk', viaSdk]] as const) {
          const started = performance.now();
          await call();
          calls[name].push(performance.now() - started);
        }
      }

      return [
        { id: 'launch.true.p50', value: median('true'), unit: 'ms', target: null },
        { id: 'launch.node-e0.p50', value: median('node'), unit: 'ms', target: null, baseline_id: 'launch.true.p50' },
        { id: 'launch.caracal-version.p50', value: median('version'), unit: 'ms', target: null, baseline_id: 'launch.true.p50' },
        { id: 'launch.caracal-run-true.p50', value: median('run'), unit: 'ms', target: null, baseline_id: 'launch.true.p50' },
        { id: 'launch.caracal-run-true.p90', value: percentile(times.run, 90), unit: 'ms', target: null },
        { id: 'launch.run.added.p50', value: median('run') - median('true'), unit: 'ms', target: '< 150 ms added' },
        // What Caracal itself adds, with Node's own start (which `true` does not pay) taken out.
        { id: 'launch.run.over-node.p50', value: median('run') - median('node'), unit: 'ms', target: null },
        { id: 'fetch.direct.p50', value: percentile(calls.direct, 50), unit: 'ms', target: null },
        { id: 'fetch.sdk.p50', value: percentile(calls.sdk, 50), unit: 'ms', target: null, baseline_id: 'fetch.direct.p50' },
        { id: 'fetch.sdk.added.p50', value: percentile(calls.sdk, 50) - percentile(calls.direct, 50), unit: 'ms', target: '< 1 ms added' },
        { id: 'fetch.sdk.p99', value: percentile(calls.sdk, 99), unit: 'ms', target: null, baseline_id: 'fetch.direct.p99' },
        { id: 'fetch.direct.p99', value: percentile(calls.direct, 99), unit: 'ms', target: null },
      ];
    } finally {
      await gateway.stop();
      await control.stop();
      upstream.close();
      rmSync(configDir, { recursive: true, force: true });
      remove();
    }
  },
};
export default bench;
