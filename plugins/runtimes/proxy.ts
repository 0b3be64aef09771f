import { defineRuntime } from '../../core/run/runtime.js';

/**
 * `proxy`: one listener on 127.0.0.1 per credential; the child calls `<ENV>_URL` + path as it
 * would call the Gateway, and the listener adds `Authorization: Bearer <token>` and
 * `X-Caracal-Resource`, forwards to the Gateway and streams the answer back. The child never holds
 * a token (any Authorization or X-Caracal-* header it sends is dropped); tokens are refreshed here.
 */
export const proxyRuntime = defineRuntime({
  id: 'proxy',
  description: 'a 127.0.0.1 listener per credential (<ENV>_URL) that adds the token; the child never sees one',
  // node:http and node:https load only when this runtime is used.
  launch: async (ctx) => (await import('./proxy-server.js')).launchProxy(ctx),
});
