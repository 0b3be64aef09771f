import { runCommand } from '../../core/cli/commands/run.js';
import { definePlugin } from '../../core/plugin/types.js';
import { envRuntime } from './env.js';
import { fileRuntime } from './file.js';
import { proxyRuntime } from './proxy.js';

/** `caracal run` and its built-in runtimes (DESIGN.md §8): `env` (default), `file`, `proxy`. */
export const runtimesPlugin = definePlugin({
  name: 'runtimes',
  caracal: '^1',
  runtimes: [envRuntime, fileRuntime, proxyRuntime],
  commands: [runCommand],
});
