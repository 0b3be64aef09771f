// An example Caracal plugin (see README.md, the plugin author's guide). It imports nothing from
// Caracal and has no dependencies, so `npm pack` and `caracal plugin add` work without a network.
import { acmeWeatherScenario } from './scenario.js';
import { summarySinkType } from './sink.js';

/**
 * The plugin factory: Caracal calls it with the options configured for this package (none are
 * needed here) and checks the object it returns before anything runs.
 *
 * @param {Readonly<Record<string, unknown>>} [_options]
 * @returns {import('caracal/plugin').Plugin}
 */
export default function examplePlugin(_options = {}) {
  return {
    name: 'example',
    version: '1.0.0',
    // The plugin API versions this plugin works with (npm range syntax), checked at load.
    caracal: '^1',
    scenarios: [acmeWeatherScenario],
    sinks: [summarySinkType],
  };
}
