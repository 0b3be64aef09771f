import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinSinkPlugins, createConfiguredSinks, loadSinkTypes, sinkTypesOf } from './service-audit.js';

/** A home with one plugin package installed as `caracal plugin add` leaves it (package.json + node_modules). */
function homeWithPlugin(source: string): string {
  const home = mkdtempSync(join(tmpdir(), 'caracal-sinks-'));
  const dir = join(home, 'plugins', 'node_modules', 'caracal-plugin-tally');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(home, 'plugins', 'package.json'), JSON.stringify({ name: 'caracal-plugins', private: true, dependencies: { 'caracal-plugin-tally': 'file:../tally' } }));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'caracal-plugin-tally', version: '1.0.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), source);
  return home;
}

const TALLY = `export default {
  name: 'tally', caracal: '^1',
  sinks: [{ id: 'tally', description: 'counts events', create: (options, ctx) => ({ name: ctx.name, tag: options.tag, service: ctx.service, write: async () => {} }) }],
};
`;

describe('audit sinks from plugins', () => {
  it('offers the sink types of the built-in sink plugins and of installed plugins, through one path', async () => {
    const home = homeWithPlugin(TALLY);
    const { types, close } = await loadSinkTypes(home);
    expect(types.map((t) => t.id)).toEqual(['jsonl', 'stdout', 'webhook', 'tally']);
    expect(sinkTypesOf(builtinSinkPlugins)).toEqual(types.slice(0, 3));
    const [sink] = createConfiguredSinks([{ type: 'tally', name: 'mine', tag: 'x' }], { home, service: 'gateway', types });
    expect(sink).toMatchObject({ name: 'mine', tag: 'x', service: 'gateway' });
    await close();
  });

  it('names the known types, installed ones included, when a configured type has no plugin', async () => {
    const home = homeWithPlugin(TALLY);
    const { types, close } = await loadSinkTypes(home);
    expect(() => createConfiguredSinks([{ type: 'tallly' }], { home, service: 'control', types })).toThrow('[[audit.sinks]] #1 has type "tallly", which no plugin provides (known: ledger, jsonl, stdout, webhook, tally)');
    await close();
  });

  it('leaves out an installed plugin that fails to load, so its sink type is unknown rather than half-working', async () => {
    const home = homeWithPlugin(`throw new Error('broken');\n`);
    const { types, close } = await loadSinkTypes(home);
    expect(types.map((t) => t.id)).toEqual(['jsonl', 'stdout', 'webhook']);
    await close();
  });
});
