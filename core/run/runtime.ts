import type { RuntimeContribution } from '../plugin/types.js';
import type { Profile, ProfileCredential } from '../profile/profile.js';
import type { IssuedToken } from './token-client.js';

/**
 * The contract between `caracal run` and a runtime plugin (DESIGN.md §8, §9). `caracal run` has
 * loaded the profile, fetched the first token of every credential and recorded the launch; the
 * runtime decides how the child reaches those tokens, and undoes what it set up once the child
 * has exited. It never prints a token.
 */
export interface RuntimeContext {
  readonly profile: Profile;
  /** The Gateway's base URL (no trailing slash). */
  readonly gatewayUrl: string;
  readonly credentials: readonly ProfileCredential[];
  /** The current token of a credential: cached, replaced before expiry, one fetch at a time. */
  token(credential: ProfileCredential): Promise<IssuedToken>;
  /** Reports a problem on stderr (never with a token in it). */
  warn(message: string): void;
}

/** What a runtime hands back: variables for the child and the clean-up to run after it exits. */
export interface RuntimeHandle {
  /** Added to the child's environment (after CARACAL_GATEWAY_URL, so a runtime may not replace it). */
  readonly env: Readonly<Record<string, string>>;
  /** Stops refreshing, closes listeners, removes files. Called once, after the child exited. */
  close(): Promise<void>;
}

/** A runtime plugin contribution with the launch context typed. */
export interface Runtime extends RuntimeContribution {
  launch(ctx: RuntimeContext): Promise<RuntimeHandle>;
}

/** Identity helper that types a runtime contribution. */
export function defineRuntime(runtime: Runtime): Runtime {
  return runtime;
}
