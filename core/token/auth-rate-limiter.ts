export interface AuthRateLimiterOptions {
  /** Failures allowed within the window before further attempts are refused (default 10). */
  readonly maxFailures?: number;
  /** Sliding window length in milliseconds (default 60 s). */
  readonly windowMs?: number;
  /** Most client IDs and addresses tracked at once; the least recent go first (default 100,000). */
  readonly maxKeys?: number;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
}

export type RateLimitDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface AuthRateLimiter {
  /** Whether an attempt by this client ID from this address may proceed (checked before the secret). */
  check(clientId: string, address: string): RateLimitDecision;
  /** Counts a failed authentication against both the client ID and the address. */
  recordFailure(clientId: string, address: string): void;
  /** How many keys are tracked (for tests and metrics). */
  readonly size: number;
}

const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true });
// Attacker-chosen client IDs become map keys: bound their length.
const MAX_KEY_CHARS = 128;

/**
 * Failed client authentications per client ID and per address, in memory, over a sliding window
 * (each key keeps the times of its last `maxFailures` failures). An attempt is refused while
 * either key has `maxFailures` failures inside the window; Retry-After is when the oldest of them
 * leaves it. Successes do not reset the count: otherwise a guesser could interleave them.
 * Per node: behind a load balancer each node counts alone, which still bounds guessing.
 */
export function createAuthRateLimiter(options: AuthRateLimiterOptions = {}): AuthRateLimiter {
  const maxFailures = Math.max(1, options.maxFailures ?? 10);
  const windowMs = Math.max(1, options.windowMs ?? 60_000);
  const maxKeys = Math.max(2, options.maxKeys ?? 100_000);
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();

  function retryAfter(key: string, at: number): number {
    const times = failures.get(key);
    if (times === undefined) return 0;
    while (times.length > 0 && (times[0] ?? 0) <= at - windowMs) times.shift();
    if (times.length === 0) {
      failures.delete(key);
      return 0;
    }
    if (times.length < maxFailures) return 0;
    return Math.max(1, Math.ceil(((times[0] ?? at) + windowMs - at) / 1000));
  }

  function record(key: string, at: number): void {
    let times = failures.get(key);
    if (times === undefined) {
      times = [];
    } else {
      failures.delete(key); // re-inserted below: the map stays ordered by last failure
    }
    times.push(at);
    if (times.length > maxFailures) times.shift();
    failures.set(key, times);
  }

  // The map is ordered by last failure, so the first keys are the stalest. Drop the ones whose
  // failures have all left the window (amortised O(1) per call), and while full, the stalest.
  function sweep(at: number): void {
    for (const [key, times] of failures) {
      const stale = (times[times.length - 1] ?? 0) <= at - windowMs;
      if (!stale && failures.size + 2 <= maxKeys) return; // room for a failure's two keys
      failures.delete(key);
    }
  }

  return {
    check(clientId, address) {
      const at = now();
      sweep(at);
      const wait = Math.max(retryAfter(clientKey(clientId), at), retryAfter(addressKey(address), at));
      return wait === 0 ? ALLOWED : { allowed: false, retryAfterSeconds: wait };
    },
    recordFailure(clientId, address) {
      const at = now();
      sweep(at);
      record(clientKey(clientId), at);
      record(addressKey(address), at);
    },
    get size() {
      return failures.size;
    },
  };
}

function clientKey(clientId: string): string {
  return `c:${clientId.slice(0, MAX_KEY_CHARS)}`;
}

function addressKey(address: string): string {
  return `a:${address.slice(0, MAX_KEY_CHARS)}`;
}
