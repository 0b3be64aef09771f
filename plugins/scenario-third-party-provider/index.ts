import type { ProviderKind } from '../../core/domain/types.js';
import { defineHooks, definePlugin } from '../../core/plugin/types.js';
import { injectCredential } from './inject.js';
import { createTokenCache } from './oauth-tokens.js';
import { thirdPartyProviderScenario } from './scenario.js';

/** What the Gateway does with each provider kind's credential (docs/providers.md). */
const INJECTS = {
  'api-key': 'the API key in the configured header (with an optional scheme) or query parameter',
  bearer: 'the token as "<scheme> <token>" in Authorization (or the configured header)',
  basic: 'Authorization: Basic with the user name and password',
  'oauth2-client-credentials': 'a bearer token fetched from the token endpoint, cached and refreshed before it expires',
} as const satisfies Record<ProviderKind, string>;

/** Upstream OAuth tokens of this process, per provider. */
const tokens = createTokenCache();

/**
 * The built-in `third-party-provider` scenario (DESIGN.md §1, §9) and the Gateway side of it: its
 * `prepareUpstream` hook injects the route's provider credential (inject.ts), with one OAuth token
 * cache per process (oauth-tokens.ts). The Gateway calls the hook only for routes whose provider
 * kind a plugin contributes, so routes without a provider never pay for it.
 */
export const thirdPartyProviderPlugin = definePlugin({
  name: 'scenario-third-party-provider',
  caracal: '^1.1',
  scenarios: [thirdPartyProviderScenario],
  providers: Object.entries(INJECTS).map(([kind, injects]) => ({ kind, description: `injects ${injects}` })),
  hooks: defineHooks({ prepareUpstream: (ctx) => injectCredential(ctx, tokens) }),
});
