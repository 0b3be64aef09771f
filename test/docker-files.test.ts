import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSettings } from '../core/config/settings.js';

/**
 * No Docker engine runs here, so the Docker files are checked by parsing: the commands, ports,
 * healthchecks and network they name must match the CLI's defaults (DESIGN.md §2).
 */

const root = new URL('../', import.meta.url);
const compose = parse(readFileSync(new URL('docker/compose.yaml', root), 'utf8')) as {
  services: Record<string, { command?: string[]; ports?: string[]; networks?: string[]; healthcheck?: { test: string[] }; volumes?: string[]; profiles?: string[]; image?: string; build?: { dockerfile: string } }>;
  networks: Record<string, { name?: string }>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(new URL('docker/Dockerfile', root), 'utf8');
const defaults = loadSettings({ home: '/nonexistent-caracal-home' }, {});

describe('docker/compose.yaml', () => {
  it.each([
    ['control', defaults.control.port, '/readyz'],
    ['gateway', defaults.gateway.port, '/_caracal/readyz'],
  ] as const)('runs %s with the CLI command, default port, readiness healthcheck and the caracalData network', (name, port, ready) => {
    const service = compose.services[name];
    expect(service).toBeDefined();
    expect(service?.command).toEqual(['serve', name, '--host', '0.0.0.0', '--port', String(port)]);
    expect(service?.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    expect(service?.networks).toEqual(['caracalData']);
    expect(service?.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}${ready}`);
    expect(service?.volumes).toEqual(['caracal-state:/var/lib/caracal']);
  });

  it('declares the caracalData network by that name, a named state volume, and PostgreSQL as an optional profile', () => {
    expect(compose.networks.caracalData?.name).toBe('caracalData');
    expect(Object.keys(compose.volumes)).toContain('caracal-state');
    expect(compose.services.postgres?.profiles).toEqual(['postgres']);
    expect(compose.services.postgres?.networks).toEqual(['caracalData']);
  });

  it('builds from docker/Dockerfile', () => {
    expect(compose.services.control?.build?.dockerfile).toBe('docker/Dockerfile');
    expect(compose.services.gateway?.image).toBe(compose.services.control?.image);
  });
});

describe('docker/Dockerfile', () => {
  const stages = dockerfile.split('\n').filter((l) => /^FROM /.test(l));
  const instructions = (name: string) => dockerfile.split('\n').filter((l) => l.startsWith(`${name} `));

  it('is multi-stage on Node 20 and runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:20-/);
    expect(instructions('USER')).toEqual(['USER caracal']);
  });

  it('runs the built CLI, exposes the default ports and checks health', () => {
    expect(instructions('ENTRYPOINT')).toEqual(['ENTRYPOINT ["node", "/opt/caracal/bin/caracal.js"]']);
    expect(instructions('CMD')).toEqual(['CMD ["serve", "control"]']);
    expect(instructions('EXPOSE')).toEqual([`EXPOSE ${defaults.control.port} ${defaults.gateway.port}`]);
    expect(dockerfile).toMatch(/HEALTHCHECK [^\n]*\\\n\s+CMD node -e .*\/healthz/);
  });

  it('copies every source folder the build compiles, and only what exists', () => {
    const build = JSON.parse(readFileSync(new URL('tsconfig.build.json', root), 'utf8')) as { include: string[] };
    const copied = instructions('COPY')
      .filter((l) => !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const folder of build.include.filter((f) => existsSync(new URL(f, root)))) expect(copied).toContain(folder);
    for (const source of copied) expect(existsSync(new URL(source, root)), `${source} exists`).toBe(true);
  });
});
