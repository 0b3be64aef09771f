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
 * the internal scenario (target: within 10 %). Each comparison is measured in alternating rounds
 * (see `alternating`): the bare proxy and the Gateway, and the two Gateway routes. The upstream, each
 * proxy and the load generator are separate processes; the load generator is closed-loop (each of
 * N connections sends its next request when the previous answer is read) for a fixed time.
 * Finally the Gateway is stopped with SIGTERM and its ledger rows are counted: one per response.
 */

const CONNECTIONS = 32;
const WARMUP_MS = 1000;
/** Rounds of each target compared with another (alternating), each this long. */
const ROUNDS = 3;
const ROUND_MS = 3000;
const SINGLE_ROUND_MS = 1000;
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

/** One thing measured: a URL with its headers; `pids` to report CPU per request, `served` to count responses. */
interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly pids?: { readonly proxy: number; readonly upstream: number };
  readonly served?: { count: number };
}

type Measured = LoadResult & { readonly cpu?: CpuCost };

/** One timed run of a target, with the CPU its processes used meanwhile. */
async function run(target: Target, durationMs: number): Promise<Measured> {
  const { pids } = target;
  const before = pids && { proxy: cpuMicros(pids.proxy), upstream: cpuMicros(pids.upstream), generator: process.cpuUsage() };
  const result = await load(target.url, target.headers, target.connections, durationMs);
  if (target.served) target.served.count += result.requests;
  if (result.errors > 0) throw new Error(`${target.name}: ${result.errors} requests failed or were not 200`);
  if (!pids || !before) return result;
  const generator = process.cpuUsage(before.generator);
  return {
    ...result,
    cpu: {
      proxy: cpuMicros(pids.proxy) - before.proxy,
      upstream: cpuMicros(pids.upstream) - before.upstream,
      generator: generator.user + generator.system,
    },
  };
}

/**
 * Measures targets in alternating rounds (A B A B …, after one warm-up of each), so that drift on
 * a shared machine, JIT and cache warm-up, and an audit thread catching up after a run fall on
 * all alike. Throughput and CPU over all rounds; p50 and p99 of the worst round.
 */
async function alternating(targets: readonly Target[], rounds: number, roundMs: number): Promise<Measured[]> {
  for (const target of targets) await run(target, WARMUP_MS);
  const runs: Measured[][] = targets.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) runs[i]?.push(await run(target, roundMs));
  }
  return runs.map((results, i) => {
    const requests = results.reduce((sum, r) => sum + r.requests, 0);
    const cpuOf = (part: keyof CpuCost) => results.reduce((sum, r) => sum + (r.cpu?.[part] ?? 0), 0) / requests;
    const merged: Measured = {
      requests,
      errors: 0,
      perSecond: requests / ((rounds * roundMs) / 1000),
      p50: Math.max(...results.map((r) => r.p50)),
      p99: Math.max(...results.map((r) => r.p99)),
      ...(targets[i]?.pids ? { cpu: { proxy: cpuOf('proxy'), upstream: cpuOf('upstream'), generator: cpuOf('generator') } } : {}),
    };
    const cpu = merged.cpu;
    const cpuText = cpu ? `  CPU µs/req: proxy ${cpu.proxy.toFixed(0)}, upstream ${cpu.upstream.toFixed(0)}, load generator ${cpu.generator.toFixed(0)}` : '';
    const where = `${rounds > 1 ? `${rounds} alternating rounds, ` : ''}${targets[i]?.connections ?? 0} conn`;
    console.log(`  ${(targets[i]?.name ?? '').padEnd(28)} ${String(Math.round(merged.perSecond)).padStart(7)} req/s  p50 ${merged.p50.toFixed(3)} ms  p99 ${merged.p99.toFixed(3)} ms  (${where})${cpuText}`);
    return merged;
  });
}

const bench: Benchmark = {
  name: 'gateway',
  description: `req/s and latency at ${CONNECTIONS} connections (closed loop, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s) and at 1: direct, bare undici proxy, nginx, the Gateway (internal scenario and api-key provider injection); audit rows after SIGTERM`,
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

      const upstreamPid = upstream.child.pid ?? 0;
      const bareTarget = { name: 'bare undici proxy', url: bare.url + path, headers: {}, connections: CONNECTIONS, pids: { proxy: bare.child.pid ?? 0, upstream: upstreamPid } };
      const gatewayTarget = { name: 'Gateway', url: stack.gatewayUrl + path, headers: gwHeaders, connections: CONNECTIONS, pids: { proxy: stack.gatewayPid, upstream: upstreamPid }, served };
      const [direct] = await alternating([{ name: 'direct upstream', url: upstream.url + path, headers: {}, connections: CONNECTIONS }], 1, ROUND_MS);
      const [proxy, gateway] = await alternating([bareTarget, gatewayTarget], ROUNDS, ROUND_MS);
      const nginx = nginxBinary();
      if (nginx === null) console.log('  nginx                        missing (not installed): row skipped');
      const [proxy1, gateway1] = await alternating([{ ...bareTarget, name: 'bare undici proxy, 1 conn', connections: 1 }, { ...gatewayTarget, name: 'Gateway, 1 conn', connections: 1 }], ROUNDS, SINGLE_ROUND_MS);
      const [internal, injecting] = await alternating(
        [
          { name: 'Gateway, internal', url: stack.gatewayUrl + path, headers: gwHeaders, connections: CONNECTIONS, served },
          { name: 'Gateway, api-key provider', url: stack.gatewayUrl + path, headers: providerHeaders, connections: CONNECTIONS, served },
        ],
        ROUNDS,
        PAIRED_ROUND_MS,
      );
      if (!direct || !proxy || !gateway || !proxy1 || !gateway1 || !internal || !injecting) throw new Error('a measurement is missing');

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
    const [result] = await alternating([{ name: 'nginx (1 worker)', url: `http://127.0.0.1:${port}${path}`, headers: {}, connections: CONNECTIONS }], 1, ROUND_MS);
    if (result === undefined) throw new Error('nginx was not measured');
    return result;
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export default bench;
