import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from './settings.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'caracal-settings-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('loadSettings', () => {
  it('gives a home with nothing configured exactly what the schema gives for its defaults', () => {
    // No file, no flags, no CARACAL_* (the fast path, without zod) vs a default value set explicitly (through the schema).
    const fast = loadSettings({ home }, {});
    const validated = loadSettings({ home }, { CARACAL_LOG_LEVEL: 'info' });
    expect(fast).toEqual(validated);
    expect(fast).toMatchObject({ home, control: { host: '127.0.0.1', port: 4700 }, gateway: { port: 4701, workers: 1 }, audit: { sinks: [] } });
  });

  it('takes flags over environment over the file, and validates the result', () => {
    writeFileSync(join(home, 'config.toml'), '[control]\nport = 5000\n[gateway]\nport = 5001\n');
    expect(loadSettings({ home }, {}).control.port).toBe(5000);
    expect(loadSettings({ home }, { CARACAL_CONTROL_PORT: '6000' }).control.port).toBe(6000);
    expect(loadSettings({ home, controlPort: 7000 }, { CARACAL_CONTROL_PORT: '6000' }).control.port).toBe(7000);
    expect(() => loadSettings({ home }, { CARACAL_GATEWAY_PORT: '70000' })).toThrow(expect.objectContaining({ code: 'CRC_CONFIG_INVALID', message: expect.stringContaining('gateway.port') as unknown }));
  });

  it('reads gateway.workers from flags, environment and the file, and refuses what is not 1 to 64', () => {
    writeFileSync(join(home, 'config.toml'), '[gateway]\nworkers = 2\n');
    expect(loadSettings({ home }, {}).gateway.workers).toBe(2);
    expect(loadSettings({ home }, { CARACAL_GATEWAY_WORKERS: '3' }).gateway.workers).toBe(3);
    expect(loadSettings({ home, gatewayWorkers: '4' }, { CARACAL_GATEWAY_WORKERS: '3' }).gateway.workers).toBe(4);
    for (const bad of ['0', '65', '1.5', 'two']) {
      expect(() => loadSettings({ home, gatewayWorkers: bad }, {})).toThrow(
        expect.objectContaining({ code: 'CRC_CONFIG_INVALID', message: expect.stringContaining('gateway.workers') as unknown }),
      );
    }
  });
});
