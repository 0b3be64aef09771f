import { appendFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/**
 * The `example-summary` audit sink: one line per audit event (`at type decision status request_id`)
 * appended to a text file. A sink is an observer: Caracal hands it the events the ledger stored,
 * in batches, and a sink that throws or hangs is counted and reported, never felt by a request.
 *
 * Options (`[[audit.sinks]]` in <home>/config.toml):
 *   type = "example-summary"
 *   path = "audit-summary-{service}.txt"   # relative to CARACAL_HOME; {service} is control or gateway
 *
 * @type {import('caracal/plugin').SinkContribution}
 */
export const summarySinkType = {
  id: 'example-summary',
  description: 'appends one summary line per audit event to a text file (example plugin)',
  create(options, ctx) {
    const known = new Set(['path']);
    const unknown = Object.keys(options).filter((key) => !known.has(key));
    // Name the sink and the bad key: the service refuses to start with this message.
    if (unknown.length > 0) throw new Error(`audit sink "${ctx.name}" (type example-summary): unknown option ${unknown.join(', ')}; it takes only "path"`);
    const pattern = options.path ?? 'audit-summary-{service}.txt';
    if (typeof pattern !== 'string' || pattern === '') throw new Error(`audit sink "${ctx.name}" (type example-summary): "path" must be a file name, e.g. "audit-summary-{service}.txt"`);
    // Each service process writes its own file, so two processes never interleave writes.
    const name = pattern.replaceAll('{service}', ctx.service ?? 'cli');
    const file = isAbsolute(name) ? name : join(ctx.home, name);
    let written = 0;
    return {
      name: ctx.name,
      async write(batch) {
        const lines = batch.map((e) => `${e.at} ${e.type} ${e.decision} ${e.http?.status ?? '-'} ${e.request_id ?? '-'}\n`).join('');
        await appendFile(file, lines, { mode: 0o600 });
        written += batch.length;
      },
      health() {
        return { ok: true, detail: `${written} events written to ${file}`, dropped: 0 };
      },
    };
  },
};
