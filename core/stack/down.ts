import { readdirSync } from 'node:fs';
import { homePaths } from '../config/paths.js';
import { isAlive, readRunFile, removeRunFile } from './run-files.js';

/** How long a service gets to drain and flush its audit events before SIGKILL. */
export const STOP_TIMEOUT_MS = 15_000;

export interface StopOutcome {
  readonly service: string;
  readonly pid: number;
  /** `stopped` after SIGTERM, `killed` after the timeout, `gone` when it had already exited. */
  readonly result: 'stopped' | 'killed' | 'gone';
}

/**
 * Stops every process `caracal up` (or `demo-upstream --detach`) started from this home: SIGTERM,
 * wait for the graceful drain, SIGKILL after the timeout; run files removed, data kept.
 */
export async function down(home: string, timeoutMs = STOP_TIMEOUT_MS): Promise<StopOutcome[]> {
  const runDir = homePaths(home).run;
  let names: string[];
  try {
    names = readdirSync(runDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
  // Stop the Gateway before the control plane, so no request is refused for want of a token service.
  names.sort((a, b) => order(a) - order(b));
  const outcomes: StopOutcome[] = [];
  for (const name of names) {
    const run = readRunFile(runDir, name);
    if (run === undefined) {
      removeRunFile(runDir, name);
      continue;
    }
    outcomes.push({ service: name, pid: run.pid, result: await stopProcess(run.pid, timeoutMs) });
    removeRunFile(runDir, name);
  }
  return outcomes;
}

/** Sends SIGTERM, waits for the exit, and SIGKILLs after the timeout. */
export async function stopProcess(pid: number, timeoutMs: number): Promise<StopOutcome['result']> {
  if (!isAlive(pid)) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  return 'killed';
}

function order(name: string): number {
  return name === 'gateway' ? 0 : name === 'control' ? 2 : 1;
}
