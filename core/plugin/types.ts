import type { Command } from 'commander';
import type { AuditSink } from '../audit/sink.js';
import type { CliContext } from '../cli/context.js';
import type { PolicyRule } from '../policy/types.js';
import type { Hooks, UpstreamRefusalReason } from './hooks.js';

/**
 * The plugin API version this Caracal provides. A plugin declares the range it works with
 * (`caracal: '^1'`); the loader refuses it when this version is outside the range. Bump the
 * minor for additions (new hooks, new optional fields), the major for anything a plugin could feel.
 */
export const PLUGIN_API_VERSION = '1.2.0';

/** A top-level CLI command contributed by a plugin (the kernel, the Gateway, the console…). */
export interface CommandContribution {
  /** The command's name as typed, e.g. `serve` or `console`. */
  readonly name: string;
  /** Adds the command (and its subcommands) to the program; heavy modules load lazily in actions. */
  register(program: Command, cli: CliContext): void;
}

/** The value a guided-setup field holds. */
export type FieldValue = string | boolean | readonly string[];

/** One question of a guided-setup step (rendered by the console, mapped to flags by `caracal setup`). */
export interface Field {
  /** Key in the scenario input, and the `--flag-name` of `caracal setup` (kebab-cased). */
  readonly name: string;
  readonly label: string;
  readonly help: string;
  /** `secret` values are masked, never echoed, and read from a file or stdin, never argv. */
  readonly kind: 'text' | 'secret' | 'choice' | 'boolean' | 'list';
  readonly required: boolean;
  readonly default?: FieldValue;
  /** The allowed values of a `choice`. */
  readonly choices?: readonly { readonly value: string; readonly label: string }[];
  /**
   * The field applies only when an earlier field of the scenario holds one of these values (e.g.
   * `{ field: 'providerKind', in: ['oauth2-client-credentials'] }`): forms hide it otherwise,
   * `caracal setup` refuses its flag, and `plan()` ignores a stale answer. `required` holds only
   * while it applies. Absent: the field always applies.
   */
  readonly when?: { readonly field: string; readonly in: readonly string[] };
  /** Returns a message saying what is wrong and how to fix it, or undefined when valid. */
  validate?(value: FieldValue): string | undefined;
}

/** Whether a field applies to these answers: its `when`, if any, is met by the named field's answer or default. */
export function fieldApplies(field: Pick<Field, 'when'>, input: ScenarioInput, steps: readonly ScenarioStep[]): boolean {
  if (field.when === undefined) return true;
  const name = field.when.field;
  const value = input[name] ?? steps.flatMap((step) => step.fields).find((f) => f.name === name)?.default;
  return typeof value === 'string' && field.when.in.includes(value);
}

/** One screen of guided setup. */
export interface ScenarioStep {
  readonly id: string;
  readonly title: string;
  readonly fields: readonly Field[];
}

/** The answers of every step, keyed by field name. */
export type ScenarioInput = Readonly<Record<string, FieldValue | undefined>>;

/** The kinds of objects a scenario plan creates (the `created` list of `caracal setup --json`). */
export type PlannedObjectKind = 'zone' | 'application' | 'resource' | 'provider' | 'policy' | 'policy_set';

/**
 * Stands, inside a planned object's `spec`, for the ID of an earlier object of the same plan
 * (`{ $ref: 'zone' }`), which only exists once `caracal setup` or the console has created it.
 */
export interface PlannedRef {
  readonly $ref: string;
}

/** One object to create; `spec` holds the admin-API fields for its kind (validated there), with PlannedRefs. */
export interface PlannedObject {
  readonly kind: PlannedObjectKind;
  /** A name local to the plan that later objects use to refer to this one (e.g. `zone`). */
  readonly ref: string;
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A credential the runtime profile lists (DESIGN.md §8). */
export interface PlannedCredential {
  readonly resource: string;
  readonly scopes: readonly string[];
  /** The environment variable `caracal run` puts the token in. */
  readonly env: string;
}

/** What a scenario will create: pure data, computed without side effects. */
export interface ScenarioPlan {
  readonly scenario: string;
  /** In creation order. */
  readonly objects: readonly PlannedObject[];
  /**
   * The starter policy the plan creates and activates, or null when the access-policy step was
   * skipped. A rule names an app that does not exist yet as `$ref:<ref>` (e.g. `$ref:application`).
   */
  readonly policy: { readonly name: string; readonly rules: readonly PolicyRule[] } | null;
  readonly credentials: readonly PlannedCredential[];
  /** The first request to try through the Gateway (the result's curl line), when the scenario has one. */
  readonly firstRequest?: { readonly resource: string; readonly method: string; readonly path: string };
}

/** A guided-setup scenario (DESIGN.md §1, §9). */
export interface ScenarioContribution {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly steps: readonly ScenarioStep[];
  /** Pure: turns the answers into the objects to create, the starter policy and the credentials. */
  plan(input: ScenarioInput): ScenarioPlan;
}

/**
 * A way to hand tokens to a child process in `caracal run` (DESIGN.md §8). The launch context
 * and result are refined by the runtime module (core/runtime), which owns their shape; method
 * syntax keeps a runtime written against the refined types assignable here.
 */
export interface RuntimeContribution {
  readonly id: string;
  readonly description: string;
  launch(ctx: unknown): Promise<unknown>;
}

/** What a sink factory gets besides its own options. */
export interface SinkContext {
  /** CARACAL_HOME, for sinks that write files. */
  readonly home: string;
  /** The configured sink's name (unique among configured sinks; becomes AuditSink.name). */
  readonly name: string;
  /** The service the sink runs in (`control`, `gateway`), so per-process files do not collide. */
  readonly service?: string;
}

/** An audit sink type (DESIGN.md §7): `create` makes one configured instance. */
export interface SinkContribution {
  readonly id: string;
  readonly description: string;
  /** Validates `options` (throwing a CaracalError naming the bad key) and creates the sink. */
  create(options: Readonly<Record<string, unknown>>, ctx: SinkContext): AuditSink;
}

/** Where and how `caracal serve <name>` runs a service in the foreground. */
export interface ServeOptions {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  /** `--workers N`, for a service that declares `workers` (validated by the service's settings). */
  readonly workers?: string | undefined;
}

/**
 * A long-running service (`control`, `gateway`): `caracal serve <name>` runs it in the foreground
 * and `caracal up` starts every service detached. `run` resolves when the service has stopped
 * (after SIGTERM/SIGINT and a graceful drain).
 */
export interface ServiceContribution {
  readonly name: string;
  readonly description: string;
  /** Whether `caracal serve <name>` takes `--workers N` (processes sharing the port). */
  readonly workers?: boolean;
  run(cli: CliContext, options: ServeOptions): Promise<void>;
}

/**
 * A provider kind whose credential the plugin injects in `prepareUpstream` (plugin API 1.1). The
 * Gateway runs that hook for a route with a provider only when a loaded plugin contributes the
 * provider's kind, and refuses the route otherwise (`provider_unavailable`).
 */
export interface ProviderContribution {
  /** The provider kind, e.g. `api-key` (the `kind` of the admin API's providers). */
  readonly kind: string;
  readonly description: string;
}

/** A Caracal plugin: a plain object of contributions and hooks (DESIGN.md §9). Order is list order. */
export interface Plugin {
  readonly name: string;
  readonly version?: string;
  /** The range of the plugin API this plugin works with, e.g. `^1`. */
  readonly caracal: string;
  readonly scenarios?: readonly ScenarioContribution[];
  readonly runtimes?: readonly RuntimeContribution[];
  readonly sinks?: readonly SinkContribution[];
  readonly commands?: readonly CommandContribution[];
  readonly services?: readonly ServiceContribution[];
  readonly providers?: readonly ProviderContribution[];
  readonly hooks?: Partial<Hooks>;
}

/** A plugin module's default export may be a factory taking the plugin's configured options. */
export type PluginFactory = (options: Readonly<Record<string, unknown>>) => Plugin | Promise<Plugin>;

/** Identity helper that types a plugin object. */
export function definePlugin<P extends Plugin>(plugin: P): P {
  return plugin;
}

/** Identity helper that types a plugin's hooks. */
export function defineHooks<H extends Partial<Hooks>>(hooks: H): H {
  return hooks;
}

/**
 * The error a `prepareUpstream` plugin throws to refuse a request with a given Gateway reason
 * (plugin API 1.1). The message is shown to the caller and recorded: it must name no secret.
 */
export function upstreamRefusal(reason: UpstreamRefusalReason, message: string, options: { cause?: unknown } = {}): Error & { readonly refusal: UpstreamRefusalReason } {
  return Object.assign(new Error(message, options), { refusal: reason });
}
