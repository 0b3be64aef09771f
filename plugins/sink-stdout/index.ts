import type { Logger } from 'pino';
import type { AuditEvent } from '../../core/audit/event.js';
import type { AuditSink } from '../../core/audit/sink.js';
import { sinkOptions } from '../../core/audit/sink-options.js';
import { lazySchema } from '../../core/lazy-zod.js';
import { definePlugin, type SinkContext, type SinkContribution } from '../../core/plugin/types.js';

// Built on first use: zod is slow to load, and the CLI loads this plugin on every start.
const optionsSchema = lazySchema((z) =>
  z
    .object({
      /** The pino level of audit lines. Default `info`. */
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    })
    .strict(),
);

/**
 * Creates the stdout sink: one pino JSON line per event (`{"msg":"audit","audit":{…event}}`), so a
 * container log collector picks the audit trail up with the service logs. Events are already
 * redacted by the audit log. pino loads on the first write, so the CLI does not pay for it.
 */
export function createStdoutSink(options: Readonly<Record<string, unknown>>, ctx: SinkContext, destination?: NodeJS.WritableStream): AuditSink {
  const opts = sinkOptions(optionsSchema(), options, ctx, 'stdout');
  let logger: Logger | undefined;
  let written = 0;

  async function loggerOf(): Promise<Logger> {
    if (logger !== undefined) return logger;
    const { pino } = await import('pino');
    logger = pino(
      { name: 'audit', level: opts.level, base: { sink: ctx.name, service: ctx.service ?? null }, timestamp: pino.stdTimeFunctions.isoTime },
      destination ?? pino.destination({ fd: 1, sync: false }),
    );
    return logger;
  }

  return {
    name: ctx.name,
    async write(batch: readonly AuditEvent[]) {
      const log = await loggerOf();
      for (const event of batch) log[opts.level]({ audit: event }, 'audit');
      written += batch.length;
    },
    async flush() {
      logger?.flush();
      await Promise.resolve();
    },
    health: () => ({ ok: true, detail: `logging to stdout (${written} events)`, dropped: 0 }),
  };
}

/** The `stdout` sink type. */
export const stdoutSinkType: SinkContribution = {
  id: 'stdout',
  description: 'one pino JSON line per event on stdout (options: level)',
  create: (options, ctx) => createStdoutSink(options, ctx),
};

/** The built-in `stdout` audit sink plugin (DESIGN.md §7, §9). */
export const stdoutSinkPlugin = definePlugin({ name: 'sink-stdout', caracal: '^1', sinks: [stdoutSinkType] });
