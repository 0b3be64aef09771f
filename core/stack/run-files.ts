import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `caracal up` records about a detached service in `<home>/run/<name>.json`. */
export interface RunFile {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly log: string;
  readonly started_at: string;
}

/** The run file a parsed JSON value is, or undefined (checked by hand: `status` reads these on every run, and zod is slow to load). */
function asRunFile(value: unknown): RunFile | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, pid, url, host, port, log, started_at } = value as Record<string, unknown>;
  if (typeof name !== 'string' || typeof url !== 'string' || typeof host !== 'string' || typeof log !== 'string' || typeof started_at !== 'string') return undefined;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1 || typeof port !== 'number' || !Number.isInteger(port)) return undefined;
  return { name, pid, url, host, port, log, started_at };
}

/** The run-file name of a detached demo upstream (`caracal demo-upstream --detach`). */
export const DEMO_UPSTREAM = 'demo-upstream';

/** The run file of a service. */
export function runFilePath(runDir: string, name: string): string {
  return join(runDir, `${name}.json`);
}

/** Reads a run file; undefined when absent or unreadable (a torn or foreign file counts as stale). */
export function readRunFile(runDir: string, name: string): RunFile | undefined {
  try {
    return asRunFile(JSON.parse(readFileSync(runFilePath(runDir, name), 'utf8')));
  } catch {
    return undefined;
  }
}

/** Writes a run file atomically (temp file + rename), owner-only. */
export function writeRunFile(runDir: string, file: RunFile): void {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const target = runFilePath(runDir, file.name);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, target);
}

/** Removes a run file (no error when it is already gone). */
export function removeRunFile(runDir: string, name: string): void {
  rmSync(runFilePath(runDir, name), { force: true });
}

/** Whether a process with this pid exists (signal 0 probes without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
