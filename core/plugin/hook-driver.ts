import { CaracalError, isCaracalError } from '../errors.js';
import {
  hookKinds,
  hookNames,
  type AuthorizeContext,
  type AuthorizeDecision,
  type HookArgs,
  type HookContext,
  type HookName,
  type HookResults,
  type HookSpec,
} from './hooks.js';
import type { Plugin } from './types.js';

/** Options of {@link createHookDriver}. */
export interface HookDriverOptions {
  /**
   * Sees every hook failure exactly once, whatever the hook's failure rule (a CRC_PLUGIN_HOOK_FAILED
   * or CRC_PLUGIN_HOOK_TIMEOUT naming plugin and hook). Fail-closed hooks additionally throw (or,
   * for `authorize`, deny), so callers map that to their outcome without reporting it again.
   */
  readonly onHookError?: (error: CaracalError) => void;
  /** Clock for the elapsed time in error details (ms). */
  readonly now?: () => number;
  /** Per-hook timeout overrides in ms (configuration, tests); the table's values otherwise. */
  readonly timeouts?: Partial<Record<HookName, number>>;
}

/** The one way in to plugin hooks (STYLE.md "The shape"; Rollup's PluginDriver). */
export interface HookDriver {
  /** Runs every enabled plugin's implementation of a hook with the kind, timeout and failure rule of `hookKinds`. */
  readonly runHook: <N extends HookName>(name: N, ...args: HookArgs<N>) => Promise<HookResults[N]>;
  /** Whether any enabled plugin implements the hook (lets a hot path skip building a context). */
  readonly has: (name: HookName) => boolean;
  /** Disables a plugin for the rest of the process; its hooks are no longer called. */
  readonly disable: (plugin: string, reason: CaracalError) => void;
  /** Plugins disabled so far (by an aborting hook such as `setup`, or by `disable`), with why. */
  readonly disabled: ReadonlyMap<string, CaracalError>;
}

type HookFn = (...args: unknown[]) => unknown;

interface Entry {
  readonly plugin: string;
  readonly fn: HookFn;
}

const RESOLVED_UNDEFINED: Promise<undefined> = Promise.resolve(undefined);
const MAX_MESSAGE = 500;

/**
 * Creates the hook driver over plugins in load order. Per-hook plugin lists are computed once,
 * so a hook no plugin implements costs one array-length check and an already-resolved promise.
 */
export function createHookDriver(plugins: readonly Plugin[], options: HookDriverOptions = {}): HookDriver {
  const now = options.now ?? Date.now;
  const onHookError = options.onHookError ?? (() => undefined);
  const disabled = new Map<string, CaracalError>();
  const lists = {} as Record<HookName, readonly Entry[]>;

  const rebuild = (): void => {
    for (const name of hookNames) {
      const entries: Entry[] = [];
      for (const plugin of plugins) {
        const fn = plugin.hooks?.[name] as HookFn | undefined;
        if (typeof fn === 'function' && !disabled.has(plugin.name)) entries.push({ plugin: plugin.name, fn });
      }
      const spec: HookSpec = hookKinds[name];
      lists[name] = spec.order === 'reverse' ? entries.reverse() : entries;
    }
  };
  rebuild();

  const timeoutOf = (name: HookName): number => options.timeouts?.[name] ?? hookKinds[name].timeoutMs;

  /** Calls one plugin's implementation with its own HookContext, under the hook's timeout. */
  const invoke = async (entry: Entry, name: HookName, args: readonly unknown[]): Promise<unknown> => {
    const call = new PluginCall(entry.plugin, name);
    const started = now();
    let result: unknown;
    try {
      result = entry.fn(...args, call);
    } catch (error) {
      throw hookFailed(entry.plugin, name, error, now() - started);
    }
    if (!isThenable(result)) return result;
    const timeoutMs = timeoutOf(name);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = hookTimedOut(entry.plugin, name, timeoutMs);
        call.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([result, expired]);
    } catch (error) {
      if (call.timedOut) throw error;
      throw hookFailed(entry.plugin, name, error, now() - started);
    } finally {
      clearTimeout(timer);
    }
  };

  /** Reports a failure, applies `abort`, and says whether the caller must fail closed. */
  const fail = (name: HookName, spec: HookSpec, entry: Entry, error: unknown): CaracalError => {
    const err = isCaracalError(error) ? error : hookFailed(entry.plugin, name, error, 0);
    onHookError(err);
    if (spec.failure === 'abort') disable(entry.plugin, err);
    return err;
  };

  const disable = (plugin: string, reason: CaracalError): void => {
    if (disabled.has(plugin)) return;
    disabled.set(plugin, reason);
    rebuild();
  };

  const runSequential = async (name: HookName, spec: HookSpec, entries: readonly Entry[], args: readonly unknown[]) => {
    for (const entry of entries) {
      try {
        await invoke(entry, name, args);
      } catch (error) {
        const err = fail(name, spec, entry, error);
        if (spec.failure === 'fail-closed') throw err;
      }
    }
    return undefined;
  };

  const runFirstWins = async (name: HookName, spec: HookSpec, entries: readonly Entry[], args: readonly unknown[]) => {
    for (const entry of entries) {
      try {
        const result = await invoke(entry, name, args);
        if (result === undefined) continue;
        // Checked here, where the answering plugin is known, so its failure names it.
        const problem = spec.check?.(result);
        if (problem !== undefined) throw answerUnusable(entry.plugin, name, problem);
        return result;
      } catch (error) {
        const err = fail(name, spec, entry, error);
        if (spec.failure === 'fail-closed') throw err;
      }
    }
    return undefined;
  };

  const runDenyWins = async (name: HookName, spec: HookSpec, entries: readonly Entry[], args: readonly unknown[]) => {
    // Plugins may only narrow: start from the policy's decision and never move toward allow.
    const policy = (args[0] as AuthorizeContext).policy;
    if (policy.effect === 'deny') return policy;
    for (const entry of entries) {
      let verdict: Verdict | undefined;
      try {
        const result = await invoke(entry, name, args);
        if (result !== undefined && !isVerdict(result)) {
          throw hookFailed(entry.plugin, name, new Error(`returned ${describe(result)}; expected {effect: 'allow'|'deny', reason?} or undefined`), 0);
        }
        verdict = result;
      } catch (error) {
        const err = fail(name, spec, entry, error);
        if (spec.failure !== 'fail-closed') continue;
        const reason = err.code === 'CRC_PLUGIN_HOOK_TIMEOUT' ? 'plugin_timeout' : 'plugin_error';
        return { effect: 'deny', reason, plugin: entry.plugin } satisfies AuthorizeDecision;
      }
      if (verdict?.effect === 'deny') {
        return { effect: 'deny', reason: verdict.reason ?? 'plugin_deny', plugin: entry.plugin } satisfies AuthorizeDecision;
      }
    }
    return policy;
  };

  const runReduce = async (name: HookName, spec: HookSpec, entries: readonly Entry[], args: readonly unknown[]) => {
    let acc = args[0];
    const rest = args.slice(1);
    for (const entry of entries) {
      try {
        const next = await invoke(entry, name, [acc, ...rest]);
        if (next === undefined) continue;
        if (!sameShape(acc, next)) {
          throw hookFailed(entry.plugin, name, new Error(`returned ${describe(next)}; expected ${describe(acc)} or undefined`), 0);
        }
        acc = next;
      } catch (error) {
        const err = fail(name, spec, entry, error);
        if (spec.failure === 'fail-closed') throw err;
      }
    }
    return acc;
  };

  const runParallel = async (name: HookName, spec: HookSpec, entries: readonly Entry[], args: readonly unknown[]) => {
    const errors = await Promise.all(
      entries.map((entry) =>
        invoke(entry, name, args).then(
          () => undefined,
          (error: unknown) => fail(name, spec, entry, error),
        ),
      ),
    );
    const first = errors.find((e) => e !== undefined);
    if (first !== undefined && spec.failure === 'fail-closed') throw first;
    return undefined;
  };

  const runners = {
    sequential: runSequential,
    'first-wins': runFirstWins,
    'deny-wins': runDenyWins,
    reduce: runReduce,
    parallel: runParallel,
  } as const;

  const runHook = (name: HookName, ...args: unknown[]): Promise<unknown> => {
    const spec: HookSpec = hookKinds[name];
    const entries = lists[name];
    if (entries.length === 0) {
      // The neutral result, without an async frame: the Gateway calls this on every request.
      if (spec.kind === 'deny-wins') return Promise.resolve((args[0] as AuthorizeContext).policy);
      if (spec.kind === 'reduce') return Promise.resolve(args[0]);
      return RESOLVED_UNDEFINED;
    }
    return runners[spec.kind](name, spec, entries, args);
  };

  return {
    runHook: runHook as HookDriver['runHook'],
    has: (name) => lists[name].length > 0,
    disable,
    disabled,
  };
}

/** The per-call HookContext; its AbortController is created only if the plugin asks for the signal. */
class PluginCall implements HookContext {
  #controller: AbortController | undefined;
  #reason: CaracalError | undefined;

  constructor(
    readonly plugin: string,
    readonly hook: HookName,
  ) {}

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#reason !== undefined && !this.#controller.signal.aborted) this.#controller.abort(this.#reason);
    return this.#controller.signal;
  }

  get timedOut(): boolean {
    return this.#reason !== undefined;
  }

  abort(reason: CaracalError): void {
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

function hookFailed(plugin: string, hook: HookName, error: unknown, elapsedMs: number): CaracalError {
  if (isCaracalError(error, 'CRC_PLUGIN_HOOK_FAILED') && isAbout(error, plugin, hook)) return error;
  const text = error instanceof Error ? error.message : String(error);
  const message = text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
  return new CaracalError('CRC_PLUGIN_HOOK_FAILED', `plugin "${plugin}" failed in hook ${hook}: ${message}`, {
    cause: error,
    details: { plugin, hook, elapsedMs },
    hint: `fix or update the plugin, or remove it (caracal plugin remove ${plugin})`,
  });
}

/**
 * A first-wins answer the hook's `check` refused. `details.problem` says what is wrong in the
 * check's own words, which quote nothing of the answer, so a caller may show it.
 */
function answerUnusable(plugin: string, hook: HookName, problem: string): CaracalError {
  return new CaracalError('CRC_PLUGIN_HOOK_FAILED', `plugin "${plugin}" returned an unusable answer from hook ${hook}: ${problem}`, {
    details: { plugin, hook, problem },
    hint: `fix or update the plugin, or remove it (caracal plugin remove ${plugin})`,
  });
}

function hookTimedOut(plugin: string, hook: HookName, timeoutMs: number): CaracalError {
  return new CaracalError('CRC_PLUGIN_HOOK_TIMEOUT', `plugin "${plugin}" did not finish hook ${hook} within ${timeoutMs} ms`, {
    details: { plugin, hook, timeoutMs },
    hint: `the plugin must settle within ${timeoutMs} ms and stop work when its AbortSignal fires; fix or remove it (caracal plugin remove ${plugin})`,
  });
}

function isAbout(error: CaracalError, plugin: string, hook: HookName): boolean {
  const details = error.details as { plugin?: unknown; hook?: unknown } | undefined;
  return details?.plugin === plugin && details.hook === hook;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

interface Verdict {
  readonly effect: 'allow' | 'deny';
  readonly reason?: string | undefined;
}

function isVerdict(value: unknown): value is Verdict {
  if (typeof value !== 'object' || value === null) return false;
  const { effect, reason } = value as { effect?: unknown; reason?: unknown };
  return (effect === 'allow' || effect === 'deny') && (reason === undefined || typeof reason === 'string');
}

function sameShape(previous: unknown, next: unknown): boolean {
  if (typeof previous !== typeof next) return false;
  if (typeof previous !== 'object' || previous === null) return true;
  return next !== null && Array.isArray(previous) === Array.isArray(next);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
