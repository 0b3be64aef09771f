import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { readLedger } from '../test/support/ledger.js';
import { freePort, startStack } from '../test/support/stack.js';
import { percentile, round, type Benchmark, type Figure } from './harness.js';
import { profilerFlags } from './support/service.js';

/**
 * The Gateway against baselines measured in the same run on the same machine (DESIGN.md §13):
 * the upstream called directly, a bare undici reverse proxy (node:http + undici dispatch, the same
 * connection settings as the Gateway, no checks), nginx as a reverse proxy where installed, and
 * the Gateway itself (`caracal serve gateway`, seeded, one valid token reused), and the Gateway on
 * a resource whose api-key provider credential it injects (third-party-provider scenario) against
 * the internal scenario, measured in alternating rounds (the audit thread catching up after one
 * run would otherwise slow whichever runs next; target: within 10 %). The upstream, each
 * proxy and the load generator are separate processes; the load generator is closed-loop (each of
 * N connections sends its next request when the previous answer is read) for a fixed time.
 * Finally the Gateway is stopped with SIGTERM and its ledger rows are counted: one per response.
 */

const CONNECTIONS = 32;
const DURATION_MS = 5000;
const SINGLE_DURATION_MS = 3000;
const WARMUP_MS = 1000;
/** Alternating rounds of the internal scenario and the provider route, each this long. */
const PAIRED_ROUNDS = 3;
const PAIRED_ROUND_MS = 2000;

/** A small upstream: 200 with a short JSON body, keep-alive. */
const UPSTREAM_SOURCE = `
import { createServer } from 'node:http';
const body = Buffer.from('{"ok":true,"items":[1,2,3]}');
const server = createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
`;

/** The bare reverse proxy: what the Gateway would cost with no token, policy, hygiene or audit. */
const BARE_PROXY_SOURCE = `
import { createServer } from 'node:http';
import { Agent } from 'undici';
const origin = process.env.UPSTREAM;
const agent = new Agent({ connect: { timeout: 5000 }, headersTimeout: 30000, bodyTimeout: 60000, connections: 256, keepAliveTimeout: 4000, pipelining: 1 });
const server = createServer({ keepAliveTimeout: 65000, requestTimeout: 0 }, (req, res) => {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name === 'host' || name === 'connection' || name === 'keep-alive') continue;
    headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  agent.dispatch({ origin, path: req.url, method: req.method, headers, body: hasBody ? req : null }, {
    onConnect() {},
    onHeaders(status, raw, resume, text) {
      const out = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = String(raw[i]).toLowerCase();
        if (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
        out.push(String(raw[i]), String(raw[i + 1]));
      }
      res.writeHead(status, text, out);
      res.on('drain', resume);
      return true;
    },
    onData(chunk) { return res.write(chunk); },
    onComplete() { res.end(); },
    onError(error) { if (!res.headersSent) { res.writeHead(502); res.end(); } else res.destroy(error); },
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
`;

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Closed-loop load: `connections` loops over one undici pool, each awaiting its answer, for `durationMs`. */
async function load(url: string, headers: Record<string, string>, connections: number, durationMs: number): Promise<LoadResult> {
  const origin = new URL(url).origin;
  const path = new URL(url).pathname;
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + durationMs;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          const { statusCode, body } = await pool.request({ path, method: 'GET', headers });
          await body.dump();
          if (statusCode !== 200) errors++;
          else latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: latencies.length + errors, errors, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Runs a module source in its own Node process with PORT (and env) set; resolves once it listens. */
async function serve(source: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: process.cwd(),
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await once(child, 'message');
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function nginxBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : null;
}

/** CPU time a process has used so far (user + system, all its threads), in µs; Linux /proc. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name: state is the first, utime the 12th, stime the 13th (clock ticks).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** Where the CPU went in the timed run: µs per response in the proxy and in the rest of the machine's work. */
interface CpuCost {
  readonly proxy: number;
  readonly upstream: number;
  readonly generator: number;
}

/** Measures one target: a warm-up, then the timed run; every run's responses are counted in `served`. */
async function measure(
  name: string,
  url: string,
  headers: Record<string, string>,
  connections: number,
  durationMs: number,
  served?: { count: number },
  pids?: { proxy: number; upstream: number },
): Promise<LoadResult & { cpu?: CpuCost }> {
  const warm = await load(url, headers, connections, WARMUP_MS);
  const before = pids && { proxy: cpuMicros(pids.proxy), upstream: cpuMicros(pids.upstream), generator: process.cpuUsage() };
  const result = await load(url, headers, connections, durationMs);
  const cpu =
    pids && before
      ? {
          proxy: (cpuMicros(pids.proxy) - before.proxy) / result.requests,
          upstream: (cpuMicros(pids.upstream) - before.upstream) / result.requests,
          generator: ((usage) => (usage.user + usage.system) / result.requests)(process.cpuUsage(before.generator)),
        }
      : undefined;
  if (served) served.count += warm.requests + result.requests;
  if (result.errors > 0 || warm.errors > 0) throw new Error(`${name}: ${result.errors + warm.errors} requests failed or were not 200`);
  const cpuText = cpu ? `  CPU µs/req: proxy ${cpu.proxy.toFixed(0)}, upstream ${cpu.upstream.toFixed(0)}, load generator ${cpu.generator.toFixed(0)}` : '';
  console.log(`  ${name.padEnd(28)} ${String(Math.round(result.perSecond)).padStart(7)} req/s  p50 ${result.p50.toFixed(3)} ms  p99 ${result.p99.toFixed(3)} ms  (${connections} conn)${cpuText}`);
  return cpu ? { ...result, cpu } : result;
}

/**
 * Two header sets on the same URL in alternating rounds (A B A B …, after one warm-up of each),
 * so drift on a shared machine and the audit thread's catch-up after a run fall on both alike.
 */
async function paired(url: string, headers: readonly [Record<string, string>, Record<string, string>], served: { count: number }): Promise<[LoadResult, LoadResult]> {
  const runs: [LoadResult[], LoadResult[]] = [[], []];
  for (const h of headers) served.count += (await load(url, h, CONNECTIONS, WARMUP_MS)).requests;
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    for (const i of [0, 1] as const) {
      const result = await load(url, headers[i], CONNECTIONS, PAIRED_ROUND_MS);
      if (result.errors > 0) throw new Error(`paired round ${round}: ${result.errors} requests failed or were not 200`);
      served.count += result.requests;
      runs[i].push(result);
    }
  }
  // Throughput over all rounds; p50 and p99 of the worst round.
  const merge = (results: LoadResult[], name: string): LoadResult => {
    const requests = results.reduce((sum, r) => sum + r.requests, 0);
    const merged = { requests, errors: 0, perSecond: requests / ((PAIRED_ROUNDS * PAIRED_ROUND_MS) / 1000), p50: Math.max(...results.map((r) => r.p50)), p99: Math.max(...results.map((r) => r.p99)) };
    console.log(`  ${name.padEnd(28)} ${String(Math.round(merged.perSecond)).padStart(7)} req/s  p50 ${merged.p50.toFixed(3)} ms  (${PAIRED_ROUNDS} alternating rounds, ${CONNECTIONS} conn)`);
    return merged;
  };
  return [merge(runs[0], 'Gateway, internal (paired)'), merge(runs[1], 'Gateway, api-key provider')];
}

const bench: Benchmark = {
  name: 'gateway',
  description: `req/s and latency at ${CONNECTIONS} connections (${DURATION_MS / 1000} s closed loop) and at 1: direct, bare undici proxy, nginx, the Gateway (internal scenario and api-key provider injection); audit rows after SIGTERM`,
  async run(): Promise<Figure[]> {
    const upstream = await serve(UPSTREAM_SOURCE, {});
    const bare = await serve(BARE_PROXY_SOURCE, { UPSTREAM: upstream.url });
    const stack = await startStack({ env: { CARACAL_LOG_LEVEL: 'error' }, gatewayNodeArgs: profilerFlags() });
    const figures: Figure[] = [];
    try {
      const seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['bench:read'] });
      const token = await stack.mint(seeded);
      const gwHeaders = stack.gatewayHeaders(seeded, token);
      // A second resource on the same upstream with an api-key provider; the policy allows both apps on both.
      await stack.adminOk('POST', `/v1/zones/${seeded.zoneName}/providers`, { name: 'bench-key', kind: 'api-key', config: { header: 'X-Api-Key' }, credentials: { api_key: 'bench-api-key' } });
      const withKey = await stack.seedInternalApi({
        upstreamUrl: upstream.url,
        scopes: ['bench:read'],
        app: 'agent-provider',
        resource: 'bench-provider',
        provider: 'bench-key',
        rules: (ids) => [{ id: 'starter', effect: 'allow', scopes: ['bench:read'], apps: [seeded.appId, ids.appId], resources: [seeded.resourceId, ids.resourceId], paths: ['/**'] }],
      });
      const providerHeaders = stack.gatewayHeaders(withKey, await stack.mint(withKey));
      const served = { count: 0 };
      const path = '/v1/items';

      const direct = await measure('direct upstream', upstream.url + path, {}, CONNECTIONS, DURATION_MS);
      const proxy = await measure('bare undici proxy', bare.url + path, {}, CONNECTIONS, DURATION_MS, undefined, { proxy: bare.child.pid ?? 0, upstream: upstream.child.pid ?? 0 });
      const nginx = nginxBinary();
      if (nginx === null) console.log('  nginx                        missing (not installed): row skipped');
      const gateway = await measure('Gateway', stack.gatewayUrl + path, gwHeaders, CONNECTIONS, DURATION_MS, served, { proxy: stack.gatewayPid, upstream: upstream.child.pid ?? 0 });
      const proxy1 = await measure('bare undici proxy, 1 conn', bare.url + path, {}, 1, SINGLE_DURATION_MS);
      const gateway1 = await measure('Gateway, 1 conn', stack.gatewayUrl + path, gwHeaders, 1, SINGLE_DURATION_MS, served);
      const [internal, injecting] = await paired(stack.gatewayUrl + path, [gwHeaders, providerHeaders], served);

      const code = await stack.stopGateway();
      if (code !== 0) throw new Error(`the Gateway exited with ${String(code)}:\n${stack.logs().gateway}`);
      const rows = readLedger(stack.databasePath).length;

      figures.push(
        { id: 'direct_rps', value: round(direct.perSecond, 0), unit: 'req/s', target: null },
        { id: 'direct_p50', value: round(direct.p50, 3), unit: 'ms', target: null },
        { id: 'direct_p99', value: round(direct.p99, 3), unit: 'ms', target: null },
        { id: 'bare_proxy_rps', value: round(proxy.perSecond, 0), unit: 'req/s', target: null, baseline_id: 'direct_rps' },
        { id: 'bare_proxy_p50', value: round(proxy.p50, 3), unit: 'ms', target: null },
        { id: 'bare_proxy_p99', value: round(proxy.p99, 3), unit: 'ms', target: null },
        { id: 'gateway_rps', value: round(gateway.perSecond, 0), unit: 'req/s', target: '>= 0.85x bare proxy', baseline_id: 'bare_proxy_rps' },
        { id: 'gateway_p50', value: round(gateway.p50, 3), unit: 'ms', target: null, baseline_id: 'bare_proxy_p50' },
        { id: 'gateway_p99', value: round(gateway.p99, 3), unit: 'ms', target: null, baseline_id: 'bare_proxy_p99' },
        { id: 'bare_proxy_cpu_us_per_req', value: round(proxy.cpu?.proxy ?? 0, 1), unit: 'µs', target: null },
        { id: 'gateway_cpu_us_per_req', value: round(gateway.cpu?.proxy ?? 0, 1), unit: 'µs', target: 'main thread + audit thread (informational)', baseline_id: 'bare_proxy_cpu_us_per_req' },
        { id: 'others_cpu_us_per_req', value: round((proxy.cpu?.upstream ?? 0) + (proxy.cpu?.generator ?? 0), 1), unit: 'µs', target: 'upstream + load generator, bare proxy run (informational)' },
        { id: 'gateway_internal_paired_rps', value: round(internal.perSecond, 0), unit: 'req/s', target: null },
        { id: 'gateway_provider_rps', value: round(injecting.perSecond, 0), unit: 'req/s', target: '>= 0.9x internal scenario', baseline_id: 'gateway_internal_paired_rps' },
        { id: 'gateway_internal_paired_p50', value: round(internal.p50, 3), unit: 'ms', target: null },
        { id: 'gateway_provider_p50', value: round(injecting.p50, 3), unit: 'ms', target: null, baseline_id: 'gateway_internal_paired_p50' },
        { id: 'bare_proxy_p50_1conn', value: round(proxy1.p50, 3), unit: 'ms', target: null },
        { id: 'gateway_p50_1conn', value: round(gateway1.p50, 3), unit: 'ms', target: null, baseline_id: 'bare_proxy_p50_1conn' },
        { id: 'gateway_added_p50_1conn', value: round(gateway1.p50 - proxy1.p50, 3), unit: 'ms', target: '<= 0.25 ms' },
        { id: 'responses_served', value: served.count, unit: 'responses', target: null },
        { id: 'audit_rows', value: rows, unit: 'rows', target: '== responses served (ratio 1)', baseline_id: 'responses_served' },
      );
      if (nginx !== null) {
        // nginx is present: measured by the same generator (see nginxRow); otherwise the row is skipped.
        const nginxResult = await nginxRow(nginx, upstream.url, path);
        figures.push(
          { id: 'nginx_rps', value: round(nginxResult.perSecond, 0), unit: 'req/s', target: null },
          { id: 'gateway_vs_nginx_rps', value: round(gateway.perSecond, 0), unit: 'req/s', target: '>= 0.5x nginx', baseline_id: 'nginx_rps' },
        );
      }
    } finally {
      await stack.stop();
      await stop(bare.child);
      await stop(upstream.child);
    }
    return figures;
  },
};

/** nginx with one worker as a keep-alive reverse proxy to the upstream, in a temp prefix. */
async function nginxRow(binary: string, upstreamUrl: string, path: string): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'caracal-nginx-'));
  const port = await freePort();
  const upstream = new URL(upstreamUrl);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream up { server ${upstream.host}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`,
  );
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return await measure('nginx (1 worker)', `http://127.0.0.1:${port}${path}`, {}, CONNECTIONS, DURATION_MS);
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export default bench;
