import { describe, expect, it } from 'vitest';
import { parseRunArgs } from './fast-run.js';

describe('parseRunArgs: the fast path takes what the run command takes, and leaves the rest to the full CLI', () => {
  it.each([
    [['run', '--', 'node', 'client.mjs'], { command: 'node', args: ['client.mjs'] }],
    [['run', '--profile', 'p.toml', '--', 'node', '--inspect', 'x'], { profile: 'p.toml', command: 'node', args: ['--inspect', 'x'] }],
    [['run', '--runtime=proxy', '--profile=p.toml', 'sh', '-c', 'exit 3'], { profile: 'p.toml', runtime: 'proxy', command: 'sh', args: ['-c', 'exit 3'] }],
    [['run', 'true'], { command: 'true', args: [] }],
    [['run', '--', '--weird-name'], { command: '--weird-name', args: [] }],
  ])('%j', (argv, expected) => {
    expect(parseRunArgs(argv)).toEqual(expected);
  });

  it.each([[['run']], [['run', '--']], [['run', '--help']], [['run', '--profile']], [['run', '--verbose', '--', 'x']], [['setup', '--', 'x']]])('%j → the full CLI', (argv) => {
    expect(parseRunArgs(argv)).toBeUndefined();
  });
});
