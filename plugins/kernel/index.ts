import { pluginCommand } from '../../core/cli/commands/plugin.js';
import { definePlugin } from '../../core/plugin/types.js';

/** The kernel's own commands as a built-in plugin (`caracal plugin …`). */
export const kernelPlugin = definePlugin({
  name: 'kernel',
  caracal: '^1',
  commands: [pluginCommand],
});
