import { pluginCommand } from '../../core/cli/commands/plugin.js';
import { serveCommand } from '../../core/cli/commands/serve.js';
import { stackCommands } from '../../core/cli/commands/stack.js';
import { controlService } from '../../core/control/service.js';
import { definePlugin } from '../../core/plugin/types.js';

/** The kernel's own commands and the control-plane service, as a built-in plugin. */
export const kernelPlugin = definePlugin({
  name: 'kernel',
  caracal: '^1',
  commands: [pluginCommand, serveCommand, ...stackCommands],
  services: [controlService],
});
