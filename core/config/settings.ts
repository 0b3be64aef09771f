import { readFileSync } from 'node:fs';
import { parseToml, TomlError } from '../toml.js';
import type { z } from 'zod';
import { CaracalError } from '../errors.js';
import { lazySchema, type Zod } from '../lazy-zod.js';
import { defaultHome, homePaths } from './paths.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The most Gateway worker processes `gateway.workers` accepts. */
export const MAX_GATEWAY_WORKERS = 64;

function buildSettingsSchema(z: Zod) {
  const port = z.coerce.number().int().min(0).max(65535);
  const host = z.string().min(1).max(255);

  /** One `[[audit.sinks]]` table: a sink type (a plugin's `sinks` contribution), an optional unique name, and its options. */
  const auditSinkSchema = z
    .object({
      type: z.string().min(1),
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'use lowercase letters, digits, ".", "_" or "-"').optional(),
    })
    .passthrough();

  const auditSettingsSchema = z
    .object({
      /** A signed checkpoint after this many events of a zone's chain… */
      checkpoint_events: z.number().int().min(1).default(1000),
      /** …or this many seconds after its first unsigned event. */
      checkpoint_seconds: z.number().positive().default(60),
      sinks: z.array(auditSinkSchema).default([]),
    })
    .strict();

  /** The installation's settings: flags > env `CARACAL_*` > `<home>/config.toml` > defaults (DESIGN.md §2). */
  return z
    .object({
      control: z.object({ host: host.default('127.0.0.1'), port: port.default(4700) }).strict().default({ host: '127.0.0.1', port: 4700 }),
      gateway: z
        .object({
          host: host.default('127.0.0.1'),
          port: port.default(4701),
          /** Gateway processes sharing the port (node:cluster); 1 serves from the one process. */
          workers: z.coerce.number().int().min(1).max(MAX_GATEWAY_WORKERS).default(1),
        })
        .strict()
        .default({ host: '127.0.0.1', port: 4701, workers: 1 }),
      /** `postgres://…` for the scale-out store; empty means SQLite in the home. */
      database_url: z.string().default(''),
      /** Where clients reach the control plane (defaults to http://control.host:control.port). */
      control_url: z.string().url().optional(),
      gateway_url: z.string().url().optional(),
      log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** Audit (DESIGN.md §7, docs/audit.md): signed checkpoints and the sinks beside the ledger. */
      audit: auditSettingsSchema.default({ checkpoint_events: 1000, checkpoint_seconds: 60, sinks: [] }),
    })
    .strict();
}
const settingsSchema = lazySchema(buildSettingsSchema);

export type Settings = z.infer<ReturnType<typeof buildSettingsSchema>> & { readonly home: string };

/** What the schema gives for an empty configuration (settings.test.ts holds the two equal). */
function defaultSettings(): Omit<Settings, 'home'> {
  return {
    control: { host: '127.0.0.1', port: 4700 },
    gateway: { host: '127.0.0.1', port: 4701, workers: 1 },
    database_url: '',
    log_level: 'info',
    audit: { checkpoint_events: 1000, checkpoint_seconds: 60, sinks: [] },
  };
}

/** Values given on the command line (undefined when not given). */
export interface SettingFlags {
  readonly home?: string | undefined;
  readonly controlPort?: number | string | undefined;
  readonly gatewayPort?: number | string | undefined;
  readonly controlHost?: string | undefined;
  readonly gatewayHost?: string | undefined;
  readonly gatewayWorkers?: number | string | undefined;
}

/** Resolves the settings from flags, environment, the config file and defaults, validated. */
export function loadSettings(flags: SettingFlags = {}, env: Env = process.env): Settings {
  const home = flags.home ?? defaultHome(env);
  const file = readConfigFile(homePaths(home).config);
  const control = defined({ host: flags.controlHost ?? env.CARACAL_CONTROL_HOST, port: flags.controlPort ?? env.CARACAL_CONTROL_PORT });
  const gateway = defined({
    host: flags.gatewayHost ?? env.CARACAL_GATEWAY_HOST,
    port: flags.gatewayPort ?? env.CARACAL_GATEWAY_PORT,
    workers: flags.gatewayWorkers ?? env.CARACAL_GATEWAY_WORKERS,
  });
  const top = defined({
    database_url: env.CARACAL_DATABASE_URL,
    control_url: env.CARACAL_CONTROL_URL,
    gateway_url: env.CARACAL_GATEWAY_URL,
    log_level: env.CARACAL_LOG_LEVEL,
  });
  // Nothing configured: the defaults, without loading zod (most homes have no config file).
  if ([file, control, gateway, top].every((part) => Object.keys(part).length === 0)) return { ...defaultSettings(), home };
  const merged = {
    ...file,
    control: { ...(file.control as object | undefined), ...control },
    gateway: { ...(file.gateway as object | undefined), ...gateway },
    ...top,
  };
  const parsed = settingsSchema().safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CaracalError(
      'CRC_CONFIG_INVALID',
      `invalid settings (flags, CARACAL_* environment or ${homePaths(home).config}): ${problems.join('; ')}`,
      { details: parsed.error.issues, hint: `fix the value named above; ports are 0–65535, gateway.workers 1–${MAX_GATEWAY_WORKERS}` },
    );
  }
  return { ...parsed.data, home };
}

/**
 * The control plane's configured URL (`control_url`, else host and port): what the server announces
 * as its issuer and `up` starts. Clients use `clientUrl`, which also finds a running stack.
 */
export function controlUrl(settings: Settings): string {
  return settings.control_url ?? `http://${urlHost(settings.control.host)}:${settings.control.port}`;
}

/** The Gateway's configured URL (`gateway_url`, else host and port); clients use `clientUrl`. */
export function gatewayUrl(settings: Settings): string {
  return settings.gateway_url ?? `http://${urlHost(settings.gateway.host)}:${settings.gateway.port}`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CaracalError('CRC_CONFIG_INVALID', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    throw new CaracalError('CRC_CONFIG_INVALID', `${path} is not valid TOML${where}: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
      hint: 'fix the file or remove it to use the defaults',
    });
  }
}

function defined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
}
