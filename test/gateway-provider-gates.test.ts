import { describe, expect, it } from 'vitest';
import type { Plugin } from '../core/plugin/types.js';
import { prepareGates } from '../gateway/run-gateway.js';
import { builtinPlugins } from '../plugins/builtin.js';

/**
 * Which routes run `prepareUpstream` (gateway/pipeline.ts): the built-in provider plugin makes
 * provider routes run it for its four kinds, and must not make every route pay a hook call.
 */
describe('prepareGates', () => {
  it('built in: every provider kind is injected, and routes without a provider skip the hook', () => {
    const gates = prepareGates(builtinPlugins);
    expect([...gates.providerKinds].sort()).toEqual(['api-key', 'basic', 'bearer', 'oauth2-client-credentials']);
    expect(gates.everyRoute).toBe(false);
  });

  it('a plugin that edits upstream requests without contributing providers makes the hook run for every route', () => {
    const tracing: Plugin = { name: 'tracing', caracal: '^1', hooks: { prepareUpstream: ({ upstream }) => void (upstream.headers.traceparent = '00-x') } };
    expect(prepareGates([...builtinPlugins, tracing]).everyRoute).toBe(true);
  });

  it('a kind is injected only by a plugin that also implements the hook', () => {
    const claims: Plugin = { name: 'claims', caracal: '^1', providers: [{ kind: 'saas-token', description: 'says so' }] };
    expect(prepareGates([claims]).providerKinds.has('saas-token')).toBe(false);
  });
});
