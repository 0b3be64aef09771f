import { createHash } from 'node:crypto';
import { open } from '../core/crypto/seal.js';
import type { Provider } from '../core/domain/types.js';
import type { UpstreamProvider } from '../core/plugin/hooks.js';

/**
 * The providers the Gateway injects credentials for (DESIGN.md §3, §9). Credentials are sealed at
 * rest; each provider version (config plus sealed credentials) is unsealed once, when the snapshot
 * first sees it, and the plaintext lives only in this process's memory: never logged, never part
 * of JSON or `util.inspect` output of the provider object (it sits behind a getter).
 */

/** A provider ready for `prepareUpstream`, or why it is not. */
export type ProviderEntry = { readonly ok: true; readonly provider: UpstreamProvider } | { readonly ok: false; readonly message: string };

class LoadedProvider implements UpstreamProvider {
  readonly #credentials: Readonly<Record<string, string>>;

  constructor(
    readonly id: string,
    readonly zoneId: string,
    readonly name: string,
    readonly kind: string,
    readonly revision: string,
    readonly config: Readonly<Record<string, unknown>>,
    credentials: Readonly<Record<string, string>>,
  ) {
    this.#credentials = Object.freeze({ ...credentials });
  }

  get credentials(): Readonly<Record<string, string>> {
    return this.#credentials;
  }
}

/** Unseals each provider version once and forgets providers that are gone. */
export interface ProviderCache {
  /** The entries of every provider of a snapshot build, reusing those whose version is unchanged. */
  load(providers: readonly Provider[]): ReadonlyMap<string, ProviderEntry>;
}

/** Creates the cache over the installation's sealing key (core/crypto/master-key.ts subkeys.seal). */
export function createProviderCache(sealKey: Buffer): ProviderCache {
  let known = new Map<string, { revision: string; entry: ProviderEntry }>();
  return {
    load(providers) {
      const next = new Map<string, { revision: string; entry: ProviderEntry }>();
      const entries = new Map<string, ProviderEntry>();
      for (const provider of providers) {
        const revision = revisionOf(provider);
        const previous = known.get(provider.id);
        const entry = previous?.revision === revision ? previous.entry : unseal(provider, revision, sealKey);
        next.set(provider.id, { revision, entry });
        entries.set(provider.id, entry);
      }
      known = next;
      return entries;
    },
  };
}

/** A short digest of what a provider version is made of (the sealed text changes at every rotation). */
function revisionOf(provider: Provider): string {
  return createHash('sha256').update(JSON.stringify(provider.config)).update('\n').update(provider.credentialsSealed).digest('base64url').slice(0, 16);
}

function unseal(provider: Provider, revision: string, sealKey: Buffer): ProviderEntry {
  let credentials: unknown;
  try {
    credentials = JSON.parse(open(provider.credentialsSealed, sealKey).toString('utf8'));
  } catch {
    // Never the cause's text: say what to check, nothing about the material.
    return {
      ok: false,
      message: `the Gateway cannot unseal the credentials of provider ${provider.name}: its master key differs from the control plane's (CARACAL_MASTER_KEY or master.key), or the stored value was altered`,
    };
  }
  if (typeof credentials !== 'object' || credentials === null || Object.values(credentials).some((v) => typeof v !== 'string')) {
    return { ok: false, message: `the stored credentials of provider ${provider.name} are not in the expected shape; replace them (caracal providers set-credentials)` };
  }
  return {
    ok: true,
    provider: new LoadedProvider(provider.id, provider.zoneId, provider.name, provider.kind, revision, provider.config, credentials as Record<string, string>),
  };
}
