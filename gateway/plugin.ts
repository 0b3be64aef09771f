import { definePlugin } from '../core/plugin/types.js';

/**
 * The Gateway as a built-in plugin: the `gateway` service (`caracal serve gateway`, started by
 * `caracal up`). Its modules load only when it runs.
 */
export const gatewayPlugin = definePlugin({
  name: 'gateway',
  caracal: '^1',
  services: [
    {
      name: 'gateway',
      description: 'the Gateway: verifies tokens, evaluates policy, forwards and audits each call (default 127.0.0.1:4701)',
      workers: true,
      run: async (cli, options) => (await import('./run-gateway.js')).runGateway(cli, options),
    },
  ],
});
