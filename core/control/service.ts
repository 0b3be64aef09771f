import type { ServiceContribution } from '../plugin/types.js';

/**
 * The `control` service contribution (`caracal serve control`, started by `caracal up`). The
 * server's modules (fastify, pino, the store) load only when it runs, so other commands start fast.
 */
export const controlService: ServiceContribution = {
  name: 'control',
  description: 'the control plane: admin API, token service, JWKS, audit and explain (default 127.0.0.1:4700)',
  run: async (cli, options) => (await import('./run-control.js')).runControl(cli, options),
};
