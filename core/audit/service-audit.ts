import type { Settings } from '../config/settings.js';
import { homePaths } from '../config/paths.js';
import { CaracalError } from '../errors.js';
import type { Plugin, SinkContribution } from '../plugin/types.js';
import type { Store } from '../store/store.js';
import { jsonlSinkPlugin } from '../../plugins/sink-jsonl/index.js';
import { ledgerSink } from '../../plugins/sink-ledger/index.js';
import { stdoutSinkPlugin } from '../../plugins/sink-stdout/index.js';
import { webhookSinkPlugin } from '../../plugins/sink-webhook/index.js';
import { createAuditLog, type AuditLog, type AuditLogOptions, type AuditLogStats } from './audit-log.js';
import { loadOrCreateAuditKey, type AuditSigningKey } from './checkpoint-key.js';
import { createCheckpointingRecorder } from './checkpoint.js';
import { publishAuditKey } from './export.js';
import type { AuditRecorder, AuditSink } from './sink.js';

/** The built-in plugins that contribute sink types (DESIGN.md §9); installed plugins may add more. */
export const builtinSinkPlugins: readonly Plugin[] = [jsonlSinkPlugin, stdoutSinkPlugin, webhookSinkPlugin];

/** The sink types the given (loaded) plugins contribute, in plugin order: built-in and installed alike. */
export function sinkTypesOf(plugins: readonly Plugin[]): SinkContribution[] {
  return plugins.flatMap((plugin) => plugin.sinks ?? []);
}

/**
 * For a process that has no CLI plugin list (the Gateway's audit thread): loads the built-in sink
 * plugins and those installed in `<home>/plugins` (running their `setup`), and returns their sink
 * types and a `close` that runs their `teardown`.
 */
export async function loadSinkTypes(home: string): Promise<{ types: SinkContribution[]; close: () => Promise<void> }> {
  const { loadPlugins } = await import('../plugin/loader.js');
  const { plugins, driver } = await loadPlugins({ builtins: builtinSinkPlugins, home, mode: 'serve' });
  return { types: sinkTypesOf(plugins.map((record) => record.plugin)), close: () => driver.runHook('teardown', { reason: 'shutdown' }) };
}

/** One sink's status, for `/readyz`, `caracal status` and `GET /v1/audit/sinks`. */
export interface SinkStatus {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly dropped: number;
  /** Writes that failed or timed out, as the audit log counted them. */
  readonly failures: number;
}

/**
 * Creates the sinks `[[audit.sinks]]` configures, in order, from the sink types of the loaded
 * plugins (built-in and installed, see sinkTypesOf). Each gets a unique name (its `name`, else its
 * type, numbered when repeated). A `ledger` entry is accepted and skipped: the ledger is always the
 * primary. An unknown type or bad options is a CRC_CONFIG_INVALID naming the sink.
 */
export function createConfiguredSinks(
  configs: Settings['audit']['sinks'],
  ctx: { readonly home: string; readonly service: string; readonly types: readonly SinkContribution[] },
): AuditSink[] {
  const types = ctx.types;
  const sinks: AuditSink[] = [];
  const names = new Set<string>();
  configs.forEach((config, index) => {
    if (config.type === 'ledger') return;
    const type = types.find((t) => t.id === config.type);
    if (type === undefined) {
      throw new CaracalError('CRC_CONFIG_INVALID', `[[audit.sinks]] #${index + 1} has type "${config.type}", which no plugin provides (known: ledger, ${types.map((t) => t.id).join(', ')})`, {
        hint: 'fix the type in <home>/config.toml, or install the plugin that provides it (caracal plugin add); `caracal plugin list` names a plugin that failed to load',
      });
    }
    let name = config.name ?? config.type;
    if (config.name === undefined) for (let n = 2; names.has(name); n++) name = `${config.type}-${n}`;
    if (names.has(name)) throw new CaracalError('CRC_CONFIG_INVALID', `two [[audit.sinks]] are named "${name}"; give each a unique name`);
    names.add(name);
    const { type: _type, name: _name, ...options } = config;
    sinks.push(type.create(options, { home: ctx.home, name, service: ctx.service }));
  });
  return sinks;
}

/** The parts of a service's audit pipeline, for callers that build the audit log themselves (the Gateway's audit thread). */
export interface AuditParts {
  /** The ledger, wrapped to write signed checkpoints. */
  readonly recorder: AuditRecorder;
  readonly sinks: readonly AuditSink[];
  readonly key: AuditSigningKey;
  /** Every configured sink's status, given the audit log's stats. */
  health(stats: AuditLogStats): SinkStatus[];
  /** Signs the chain heads still unsigned; call after the audit log is closed. */
  close(): Promise<void>;
}

/** A service's audit pipeline: the log producers append to, its sinks, and the audit key. */
export interface ServiceAudit {
  readonly log: AuditLog;
  readonly sinks: readonly AuditSink[];
  readonly key: AuditSigningKey;
  /** Every configured sink's status (empty when only the ledger is configured). */
  health(): SinkStatus[];
  /** Closes the log (flushing the ledger and the sinks), then signs the chain heads still unsigned. */
  close(): Promise<void>;
}

interface AuditPartsOptions {
  readonly store: Store;
  readonly settings: Pick<Settings, 'home' | 'audit'>;
  readonly service: string;
  readonly onError: NonNullable<AuditLogOptions['onError']>;
  /** The loaded plugins' sink types (sinkTypesOf); absent: loaded here from the home (loadSinkTypes). */
  readonly types?: readonly SinkContribution[];
}

/**
 * Opens what a service process records audit with: the ledger as the primary, wrapped to write
 * signed checkpoints with the installation's Ed25519 key (created in CARACAL_HOME on first use,
 * its public half recorded in the store), and the configured sinks as isolated observers
 * (DESIGN.md §7).
 */
export async function openAuditParts(options: AuditPartsOptions): Promise<AuditParts> {
  const { store, settings } = options;
  const key = loadOrCreateAuditKey(homePaths(settings.home).auditKey);
  await publishAuditKey(store, key);
  const loaded = options.types === undefined ? await loadSinkTypes(settings.home) : undefined;
  const sinks = createConfiguredSinks(settings.audit.sinks, { home: settings.home, service: options.service, types: options.types ?? loaded?.types ?? [] });
  const recorder = createCheckpointingRecorder(ledgerSink(store), {
    key,
    everyEvents: settings.audit.checkpoint_events,
    everyMs: settings.audit.checkpoint_seconds * 1000,
    onError: (error) =>
      options.onError(new CaracalError('CRC_AUDIT_RECORD_FAILED', `an audit checkpoint could not be stored: ${(error as Error).message}`, { cause: error }), {
        source: 'recorder',
        events: 1,
      }),
  });
  return {
    recorder,
    sinks,
    key,
    health: (stats) =>
      sinks.map((sink) => {
        const own = sink.health?.() ?? { ok: true, detail: 'no status', dropped: 0 };
        const dropped = own.dropped + (stats.sinkDropped[sink.name] ?? 0);
        return { name: sink.name, ok: own.ok, detail: own.detail, dropped, failures: stats.sinkFailures[sink.name] ?? 0 };
      }),
    async close() {
      await recorder.close();
      await loaded?.close();
    },
  };
}

/** Opens a service's audit pipeline (openAuditParts) and the audit log over it. */
export async function openServiceAudit(options: AuditPartsOptions): Promise<ServiceAudit> {
  const parts = await openAuditParts(options);
  const log = createAuditLog({ recorder: parts.recorder, sinks: parts.sinks, onError: options.onError });
  return {
    log,
    sinks: parts.sinks,
    key: parts.key,
    health: () => parts.health(log.stats()),
    async close() {
      await log.close();
      await parts.close();
    },
  };
}
