import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { AuditEvent } from '../../core/audit/event.js';
import type { AuditSink } from '../../core/audit/sink.js';
import { sinkOptions } from '../../core/audit/sink-options.js';
import { lazySchema } from '../../core/lazy-zod.js';
import { CaracalError } from '../../core/errors.js';
import { definePlugin, type SinkContext, type SinkContribution } from '../../core/plugin/types.js';

// Built on first use: zod is slow to load, and the CLI loads this plugin on every start.
const optionsSchema = lazySchema((z) =>
  z
    .object({
      /** The file; relative paths are inside CARACAL_HOME. Default `logs/audit-<service>.jsonl`. */
      path: z.string().min(1).optional(),
      /** Rotate once the file would grow past this many bytes. Default 64 MiB. */
      max_bytes: z.number().int().min(1024).default(64 * 1024 * 1024),
      /** Rotated files kept (`.1` newest … `.N` oldest). Default 5. */
      max_files: z.number().int().min(1).max(100).default(5),
    })
    .strict(),
);

/**
 * Creates a JSON-lines file sink: one event per line, appended (file mode 0600: the audit trail is
 * sensitive), rotated by size (`audit.jsonl` → `audit.jsonl.1` → … → `.max_files`, oldest removed).
 * Each batch is one write, so a line is never split between two processes or two rotations.
 */
export function createJsonlSink(options: Readonly<Record<string, unknown>>, ctx: SinkContext): AuditSink {
  const opts = sinkOptions(optionsSchema(), options, ctx, 'jsonl');
  const relative = opts.path ?? join('logs', `audit-${ctx.service ?? 'caracal'}.jsonl`);
  const file = isAbsolute(relative) ? relative : join(ctx.home, relative);
  let handle: FileHandle | undefined;
  let size = 0;
  let lastError: string | null = null;
  let written = 0;

  async function openFile(): Promise<FileHandle> {
    if (handle !== undefined) return handle;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    handle = await open(file, 'a', 0o600);
    size = (await stat(file)).size;
    return handle;
  }

  async function rotate(): Promise<void> {
    await handle?.close();
    handle = undefined;
    rmSync(`${file}.${opts.max_files}`, { force: true });
    for (let i = opts.max_files - 1; i >= 1; i--) {
      try {
        renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    renameSync(file, `${file}.1`);
  }

  return {
    name: ctx.name,
    async write(batch: readonly AuditEvent[]) {
      let text = '';
      for (const event of batch) text += `${JSON.stringify(event)}\n`;
      const bytes = Buffer.byteLength(text);
      try {
        await openFile();
        if (size > 0 && size + bytes > opts.max_bytes) await rotate();
        const out = await openFile();
        await out.write(text);
        size += bytes;
        written += batch.length;
        lastError = null;
      } catch (error) {
        lastError = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new CaracalError('CRC_AUDIT_SINK_FAILED', `cannot write audit events to ${file}: ${lastError}`, { cause: error });
      }
    },
    async flush() {
      await handle?.datasync();
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
    health: () => ({
      ok: lastError === null,
      detail: lastError === null ? `writing ${file} (${written} events)` : `cannot write ${file}: ${lastError}`,
      dropped: 0,
    }),
  };
}

/** The `jsonl` sink type. */
export const jsonlSinkType: SinkContribution = {
  id: 'jsonl',
  description: 'JSON lines file, rotated by size (options: path, max_bytes, max_files)',
  create: createJsonlSink,
};

/** The built-in `jsonl` audit sink plugin (DESIGN.md §7, §9). */
export const jsonlSinkPlugin = definePlugin({ name: 'sink-jsonl', caracal: '^1', sinks: [jsonlSinkType] });
