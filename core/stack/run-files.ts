import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** What `caracal up` records about a detached service in `<home>/run/<name>.json`. */
export const runFileSchema = z.object({
  name: z.string(),
  pid: z.number().int().positive(),
  url: z.string(),
  host: z.string(),
  port: z.number().int(),
  log: z.string(),
  started_at: z.string(),
});
export type RunFile = z.infer<typeof runFileSchema>;

/** The run file of a service. */
export function runFilePath(runDir: string, name: string): string {
  return join(runDir, `${name}.json`);
}

/** Reads a run file; undefined when absent or unreadable (a torn or foreign file counts as stale). */
export function readRunFile(runDir: string, name: string): RunFile | undefined {
  try {
    const parsed = runFileSchema.safeParse(JSON.parse(readFileSync(runFilePath(runDir, name), 'utf8')));
    return parsed.success ? parsed.data : undefined;
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
