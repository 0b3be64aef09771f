import type { z } from 'zod';
import { CaracalError } from '../errors.js';
import type { SinkContext } from '../plugin/types.js';

/** Parses a sink's options with a schema, or throws a CaracalError naming the sink and the bad key. */
export function sinkOptions<T>(schema: z.ZodType<T>, options: unknown, ctx: SinkContext, type: string): T {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
  throw new CaracalError('CRC_CONFIG_INVALID', `audit sink "${ctx.name}" (type ${type}) has invalid options: ${problems}`, {
    hint: 'fix its [[audit.sinks]] table in <home>/config.toml (docs/audit.md lists the options)',
  });
}
