#!/usr/bin/env node
// Runs the built CLI; `npm install` builds dist/ through the `prepare` script. `caracal run` is
// tried first without the CLI frame, since a workload pays the start-up on every launch.
const fast = process.argv[2] === 'run' ? await (await import('../dist/plugins/runtimes/fast-run.js')).fastRun(process.argv) : undefined;
if (fast !== undefined) {
  process.exitCode = fast;
} else {
  const { main } = await import('../dist/core/cli/main.js');
  const { builtinPlugins } = await import('../dist/plugins/builtin.js');
  process.exitCode = await main(process.argv, builtinPlugins);
}
