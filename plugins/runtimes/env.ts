import { defineRuntime } from '../../core/run/runtime.js';

/**
 * `env` (the default runtime): each credential's token in the variable the profile names. The
 * child reads it once; tokens live 600 s by default, so a longer-running child should use the
 * `file` or `proxy` runtime, or the SDK, which refresh.
 */
export const envRuntime = defineRuntime({
  id: 'env',
  description: 'tokens in the environment variables the profile names (not refreshed)',
  async launch(ctx) {
    const env: Record<string, string> = {};
    for (const credential of ctx.credentials) env[credential.env] = (await ctx.token(credential)).accessToken;
    return { env, close: () => Promise.resolve() };
  },
});
