import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeRunFile } from '../stack/run-files.js';
import { clientUrl } from './client-url.js';
import { homePaths } from './paths.js';
import { loadSettings } from './settings.js';

/** A pid that existed a moment ago and is gone now (a finished child). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

describe('clientUrl: where clients reach the stack', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'caracal-client-url-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const record = (name: 'control' | 'gateway', port: number, pid: number) =>
    writeRunFile(homePaths(home).run, { name, pid, url: `http://127.0.0.1:${port}`, host: '127.0.0.1', port, log: join(home, 'logs', `${name}.log`), started_at: new Date().toISOString() });

  it.each([
    ['the flag wins over everything', { CARACAL_CONTROL_URL: 'http://env:1', CARACAL_CONTROL_PORT: '4900' }, true, 'http://flag:9', 'http://flag:9'],
    ['trailing slashes are dropped (paths are appended)', {}, true, 'http://flag:9//', 'http://flag:9'],
    ['CARACAL_CONTROL_URL wins over the running stack', { CARACAL_CONTROL_URL: 'http://env:1' }, true, undefined, 'http://env:1'],
    ['the running stack wins over the configured port', { CARACAL_CONTROL_PORT: '4900' }, true, undefined, 'http://127.0.0.1:4810'],
    ['the configured port without a running stack', { CARACAL_CONTROL_PORT: '4900' }, false, undefined, 'http://127.0.0.1:4900'],
    ['the default without anything', {}, false, undefined, 'http://127.0.0.1:4700'],
  ] as const)('%s', (_name, env, running, flag, expected) => {
    if (running) record('control', 4810, process.pid);
    expect(clientUrl(loadSettings({ home }, env), 'control', flag)).toBe(expected);
  });

  it('finds the Gateway of the running stack the same way', () => {
    record('gateway', 4811, process.pid);
    expect(clientUrl(loadSettings({ home }, {}), 'gateway')).toBe('http://127.0.0.1:4811');
    expect(clientUrl(loadSettings({ home }, { CARACAL_GATEWAY_URL: 'http://gw:2' }), 'gateway')).toBe('http://gw:2');
  });

  it('ignores a run file whose process is gone (a crashed stack does not pin clients to its port)', () => {
    record('control', 4810, deadPid());
    expect(clientUrl(loadSettings({ home }, { CARACAL_CONTROL_PORT: '4900' }), 'control')).toBe('http://127.0.0.1:4900');
  });
});
