import type { ConsoleExtension, PaletteCommand } from '../view.js';
import { appsView } from './apps.js';
import { auditView } from './audit.js';
import { explainCommand, explainView } from './explain.js';
import { homeView } from './home.js';
import { pluginsView } from './plugins.js';
import { policiesView } from './policies.js';
import { policyView } from './policy.js';
import { providersView } from './providers.js';
import { resourcesView } from './resources.js';
import { zonesView } from './zones.js';

/** `zone <name or ID>`: switch the current zone from the palette. */
const zoneCommand: PaletteCommand = {
  name: 'zone',
  usage: 'zone <name or ID>',
  summary: 'switch the current zone',
  arg: 'required',
  async run(ctx, arg) {
    const zone = await ctx.task(`finding zone ${arg ?? ''}`, () => ctx.client.zones.get((arg ?? '').trim()));
    if (zone === undefined) return;
    ctx.setZone({ id: zone.id, name: zone.name });
    ctx.status.ok(`current zone: ${zone.name}`);
  },
};

/** `quit`: the same as q. */
const quitCommand: PaletteCommand = {
  name: 'quit',
  aliases: ['q', 'exit'],
  usage: 'quit',
  summary: 'quit the console',
  arg: 'none',
  run: (ctx) => ctx.quit(),
};

/** The built-in views and palette commands. */
export const builtinViews: ConsoleExtension = {
  views: [homeView, zonesView, appsView, resourcesView, providersView, policiesView, policyView, auditView, explainView, pluginsView],
  commands: [zoneCommand, explainCommand, quitCommand],
};
