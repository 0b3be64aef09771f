import { setupCommand } from '../../core/cli/commands/setup.js';
import { definePlugin } from '../../core/plugin/types.js';
import { internalHttpApiScenario } from './scenario.js';

/**
 * The built-in `internal-http-api` guided-setup scenario, and the `caracal setup` command that
 * runs any installed scenario (its flags come from every scenario's fields).
 */
export const internalHttpApiPlugin = definePlugin({
  name: 'scenario-internal-http-api',
  caracal: '^1',
  scenarios: [internalHttpApiScenario],
  commands: [setupCommand],
});
