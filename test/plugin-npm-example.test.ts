import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PluginListEntry } from '../core/cli/commands/plugin.js';
import { hookKinds, hookNames } from '../core/plugin/hooks.js';
import { PLUGIN_API_VERSION } from '../core/plugin/types.js';
import { startConsole } from './support/console.js';
import { setFilter, viaPalette } from './support/console-flows.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, ROOT, workloadEnv, type SetupJson } from './support/workload.js';

/**
 * Plugins from npm, proven (issue #10): the example package in examples/caracal-plugin-example is
 * packed with `npm pack`, installed with `caracal plugin add <tarball>` into a temporary
 * CARACAL_HOME (offline: it has no dependencies), listed as loaded, and then used end to end in
 * a real stack: its scenario through `caracal setup --scenario acme-weather`, the Gateway
 * injecting the key its plan stored, and its audit sink receiving the events of that call.
 */

const EXAMPLE = join(ROOT, 'examples/caracal-plugin-example');
const npmEnv = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const KEY = 'acme-e2e-key-0123456789';

let work: string;
let home: string;
let stack: Stack;
let upstream: Upstream;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'caracal-npm-example-'));
  home = join(work, 'home');
  await execa('npm', ['pack', '--offline', EXAMPLE, '--pack-destination', work, '--silent'], { env: npmEnv });
  const added = await caracal(['--home', home, 'plugin', 'add', join(work, 'caracal-plugin-example-1.0.0.tgz')], { ...npmEnv, NO_COLOR: '1' }, { cwd: work });
  if (added.code !== 0) throw new Error(`caracal plugin add failed:\n${added.stderr}`);
  // Its sink type in the installation's config: both services load it from the installed plugin.
  writeFileSync(join(home, 'config.toml'), '[[audit.sinks]]\ntype = "example-summary"\nname = "summary"\n');
  [stack, upstream] = await Promise.all([startStack({ home }), startUpstream()]);
}, 120_000);

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the example plugin, packed and installed from a tarball', () => {
  it('is listed as loaded, from its tarball, after the built-ins', async () => {
    const run = await caracal(['--home', home, 'plugin', 'list', '--json'], { NO_COLOR: '1' });
    expect(run.code).toBe(0);
    const entries = JSON.parse(run.stdout) as PluginListEntry[];
    expect(entries.at(-1)).toEqual({ name: 'example', package: 'caracal-plugin-example', version: '1.0.0', source: 'tarball', status: 'loaded', error: null, hint: null });
  });

  it('adds its scenario to caracal setup', async () => {
    const help = await caracal(['--home', home, 'setup', '--help'], { NO_COLOR: '1' });
    expect(help.stdout).toContain('acme-weather (Acme Weather API (example plugin))');
  });

  it('shows up in the console: its scenario in the guided setup picker, its sink type in Plugins', async () => {
    const tty = startConsole({ env: workloadEnv(stack).env, cols: 120, rows: 40 });
    try {
      await tty.waitFor('Home');
      await viaPalette(tty, 'setup', /Acme Weather API \(example plugin\)\s+acme-weather · plugin example/);
      tty.press('esc');
      await tty.waitFor((screen) => !screen.includes('choose a scenario'));
      await viaPalette(tty, 'plugins', /example\s+1\.0\.0\s+tarball\s+loaded/);
      await setFilter(tty, 'caracal-plugin-example');
      await tty.waitFor(/audit sinks: example-summary/);
      await tty.waitFor(/scenarios: acme-weather/);
      tty.press('q');
      await tty.close();
    } finally {
      tty.dispose();
    }
  });

  it('works end to end: setup from its scenario, the key injected by the Gateway, the events in its sink', async () => {
    const { env } = workloadEnv(stack);
    const run = await caracal(['setup', '--scenario', 'acme-weather', '--zone', 'acme', '--upstream', upstream.url, '--credential-file', '-', '--json'], env, { input: `${KEY}\n` });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as SetupJson & { provider_id: string };
    expect(result).toMatchObject({ scenario: 'acme-weather', resource_id: 'resource://acme-weather', created: ['zone', 'application', 'provider', 'resource', 'policy', 'policy_set'] });
    expect(run.stdout).not.toContain(KEY);
    const provider = await stack.adminOk<{ kind: string; credential_keys: string[] }>('GET', `/v1/zones/${result.zone_id}/providers/${result.provider_id}`);
    expect(provider).toMatchObject({ kind: 'api-key', credential_keys: ['api_key'] });

    const token = await stack.mint({ appId: result.application_id, clientSecret: result.client_secret, resourceId: result.resource_id });
    const response = await fetch(`${stack.gatewayUrl}/forecast`, { headers: { ...stack.gatewayHeaders({ resourceId: result.resource_id }, token), 'x-request-id': 'req-acme-e2e-1' } });
    expect(response.status, await response.text()).toBe(200);
    expect(upstream.requests.at(-1)?.headers['x-acme-key']).toBe(KEY);

    // The Gateway's audit thread writes its own file; the control plane's holds the mint.
    const gatewayFile = join(home, 'audit-summary-gateway.txt');
    await until(() => existsSync(gatewayFile) && readFileSync(gatewayFile, 'utf8').includes(' gateway.request allow 200 req-acme-e2e-1\n'));
    await until(() => readFileSync(join(home, 'audit-summary-control.txt'), 'utf8').includes(' token.issued allow '));
    const sinks = await stack.adminOk<{ sinks: { name: string; ok: boolean; detail: string }[] }>('GET', '/v1/audit/sinks');
    expect(sinks.sinks).toContainEqual(expect.objectContaining({ name: 'summary', ok: true }));
  });
});

describe('the example plugin README (the plugin author guide)', () => {
  const readme = readFileSync(join(EXAMPLE, 'README.md'), 'utf8');

  it('documents every hook with the kind, timeout and failure rule of hookKinds', () => {
    const rows = readme
      .split('\n')
      .map((line) => /^\| `(\w+)` \| [^|]+ \| ([a-z-]+)[^|]* \| (\d+) ms \| ([a-z-]+):/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, name, kind, timeout, failure]) => ({ name, kind, timeoutMs: Number(timeout), failure }));
    expect(rows).toEqual(hookNames.map((name) => ({ name, kind: hookKinds[name].kind, timeoutMs: hookKinds[name].timeoutMs, failure: hookKinds[name].failure })));
  });

  it('states the plugin API version this Caracal provides', () => {
    expect(readme).toContain(`This Caracal provides plugin API **${PLUGIN_API_VERSION}**`);
  });

  it('covers every contribution, and docs/plugins.md links it', () => {
    for (const key of ['scenarios', 'runtimes', 'sinks', 'commands', 'services', 'providers', 'hooks']) expect(readme).toContain(`| \`${key}\` |`);
    expect(readFileSync(join(ROOT, 'docs/plugins.md'), 'utf8')).toContain('../examples/caracal-plugin-example/README.md');
  });
});

/** Waits for a condition (the audit thread writes in batches). */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (condition()) return;
    } catch {
      // Not there yet (e.g. the file does not exist).
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for the sink to write');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
