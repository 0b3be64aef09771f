import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './support/workload.js';

/**
 * What the CLI loads to start. zod is about a hundred modules (the largest part of a start), so
 * commands that validate nothing must not load it (core/lazy-zod.ts); docs/benchmarks.md has the
 * timings. Read through Node's module hooks, which print every module as it loads.
 */
const REGISTER = fileURLToPath(new URL('./fixtures/trace-loads/register.mjs', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'caracal-startup-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function loadedBy(args: readonly string[], inHome = home): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env, CARACAL_HOME: inHome, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('CARACAL_') && name !== 'CARACAL_HOME') delete env[name];
  const run = spawnSync(process.execPath, ['--import', REGISTER, BIN, ...args], { env, encoding: 'utf8' });
  return run.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
}

describe('CLI start-up', () => {
  it.each([[['--version']], [['status']], [['audit', '--help']]])('caracal %j does not load zod', (args) => {
    const loaded = loadedBy(args);
    expect(loaded.some((url) => url.includes('/dist/core/cli/main.js'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/zod/'))).toEqual([]);
  });

  it('loads zod when there is something to validate (a config file), and the trace would see it', () => {
    const configured = mkdtempSync(join(tmpdir(), 'caracal-startup-'));
    try {
      writeFileSync(join(configured, 'config.toml'), '[control]\nport = 4700\n');
      expect(loadedBy(['status'], configured).some((url) => url.includes('/node_modules/zod/'))).toBe(true);
    } finally {
      rmSync(configured, { recursive: true, force: true });
    }
  });
});
