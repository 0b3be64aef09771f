import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../core/errors.js';
import { BIN, caracal } from './support/workload.js';

/** What a person meets at the edges of the CLI: closed pipes, busy ports, missing arguments. */

const home = mkdtempSync(join(tmpdir(), 'caracal-edges-'));
const env = { CARACAL_HOME: home, NO_COLOR: '1' };

afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs a real shell pipeline (pipefail: the exit code is caracal's, not head's). */
async function pipeline(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe('output into a closed pipe', () => {
  it.each(['setup --help', '--help'])('caracal %s | head -1 ends quietly, exit 0', async (args) => {
    const run = await pipeline(`"${process.execPath}" "${BIN}" ${args} | head -1`);
    expect(run.stdout).toMatch(/^Usage: caracal/);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('caracal demo-upstream on a busy port', () => {
  it('names the port and the --port fix, with the conflict exit code', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as { port: number }).port;
    try {
      for (const extra of [[], ['--detach']]) {
        const run = await caracal(['demo-upstream', '--port', String(port), ...extra], env);
        expect(run.stderr).toContain(`[CRC_CONFLICT] port ${port} (demo upstream) is already in use by another program`);
        expect(run.stderr).toContain('caracal demo-upstream --port N');
        expect(run.stderr).not.toContain('CRC_INTERNAL');
        expect(run.code).toBe(ExitCode.conflict);
      }
    } finally {
      busy.close();
    }
  });
});

describe('a missing argument', () => {
  it("points at the command's own help", async () => {
    const run = await caracal(['explain'], env);
    expect(run.stderr).toContain("missing required argument 'request-id'");
    expect(run.stderr).toContain('(run "caracal explain --help" for its usage)');
    expect(run.code).toBe(ExitCode.usage);
  });

  it('of a nested command points at that command', async () => {
    const run = await caracal(['zones', 'get'], env);
    expect(run.stderr).toContain('caracal zones get --help');
  });

  it('leaves the root hint on an unknown command', async () => {
    const run = await caracal(['nosuchcommand'], env);
    expect(run.stderr).toContain('(run "caracal --help" for the list of commands)');
  });
});
