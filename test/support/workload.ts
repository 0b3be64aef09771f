/**
 * Running the real `caracal` bin as a workload would (setup, run) for end-to-end tests: a child
 * process with a chosen environment, its output and how it ended.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from './ledger.js';
import type { Stack } from './stack.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'caracal.js');

/** How a CLI run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/caracal.js …` with exactly `env` (plus PATH and HOME) and resolves when it exits. */
export function caracal(args: readonly string[], env: Readonly<Record<string, string>>, options: { cwd?: string; input?: string; onSpawn?: (pid: number) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh config dir and the environment that points the CLI at the stack and at it. */
export function workloadEnv(stack: Stack): { configDir: string; env: Record<string, string> } {
  const configDir = mkdtempSync(join(tmpdir(), 'caracal-config-'));
  return {
    configDir,
    env: { CARACAL_HOME: stack.home, CARACAL_CONFIG_DIR: configDir, CARACAL_CONTROL_URL: stack.controlUrl, CARACAL_GATEWAY_URL: stack.gatewayUrl },
  };
}

/** The `--json` result of `caracal setup` (DESIGN.md §1). */
export interface SetupJson {
  readonly scenario: string;
  readonly zone_id: string;
  readonly application_id: string;
  readonly resource_id: string;
  readonly client_secret: string;
  readonly policy_set_id: string | null;
  readonly policy_set_version: number | null;
  readonly profile_path: string;
  readonly secret_file: string;
  readonly profile: string;
  readonly gateway_url: string;
  readonly control_url: string;
  readonly commands: { readonly run: string; readonly curl: string };
  readonly created: readonly string[];
  readonly reused: readonly string[];
}

/** `caracal setup --scenario internal-http-api … --write-profile --json`; throws with the output unless it succeeded. */
export async function setupWorkload(env: Readonly<Record<string, string>>, upstreamUrl: string, extra: readonly string[] = [], names: { zone?: string; app?: string; resource?: string; scopes?: string } = {}): Promise<SetupJson> {
  const run = await caracal(
    ['setup', '--scenario', 'internal-http-api', '--zone', names.zone ?? 'e2e', '--app', names.app ?? 'agent', '--resource', names.resource ?? 'billing-api', '--scopes', names.scopes ?? 'billing:read', '--upstream', upstreamUrl, '--write-profile', '--json', ...extra],
    env,
  );
  if (run.code !== 0) throw new Error(`caracal setup exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout) as SetupJson;
}

/** Waits until the ledger holds events of a type matching `where` (the Gateway writes in batches). */
export async function ledgerEvents(databasePath: string, type: string, where: (row: ReturnType<typeof readLedger>[number]) => boolean, atLeast = 1): Promise<ReturnType<typeof readLedger>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = readLedger(databasePath, type).filter(where);
    if (rows.length >= atLeast || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
