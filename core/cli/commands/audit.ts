import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { AuditEvent } from '../../audit/event.js';
import type { ChainReport } from '../../audit/checkpoint-verify.js';
import type { AuditKeysView, AuditPageView, AuditVerifyView } from '../../control/routes/audit.js';
import { CaracalError } from '../../errors.js';
import type { CommandContribution } from '../../plugin/types.js';
import type { CliContext } from '../context.js';
import { canColor, formatTable, painter, printJson } from '../output.js';
import { adminClient, adminCommand, type AdminOptions } from './admin/shared.js';

interface FilterOptions extends AdminOptions {
  readonly zone?: string;
  readonly type?: string;
  readonly decision?: string;
  readonly app?: string;
  readonly resource?: string;
  readonly requestId?: string;
  readonly since?: string;
  readonly until?: string;
}

interface ListFlags extends FilterOptions {
  readonly limit?: string;
  readonly cursor?: string;
}

/** Adds the audit filters of DESIGN.md §7 to a command. */
function withFilters(command: Command): Command {
  return command
    .option('--zone <zone>', 'zone ID or name (`global` for events of no zone)')
    .option('--type <type>', 'event type: gateway.request, token.issued, token.denied, admin.change, run.launch, audit.checkpoint')
    .option('--decision <decision>', 'allow, deny or error')
    .option('--app <app>', 'app ID (or name, with --zone)')
    .option('--resource <resource>', 'resource ID (resource://slug or slug)')
    .option('--request-id <id>', 'one request ID')
    .option('--since <when>', 'from this time: 15m, 2h, 7d or ISO-8601')
    .option('--until <when>', 'before this time: 15m, 2h, 7d or ISO-8601');
}

function filterQuery(opts: FilterOptions): Record<string, string | undefined> {
  return {
    zone: opts.zone,
    type: opts.type,
    decision: opts.decision,
    app: opts.app,
    resource: opts.resource,
    request_id: opts.requestId,
    since: opts.since,
    until: opts.until,
  };
}

type Paint = ReturnType<typeof painter>;

function decisionCell(event: AuditEvent, paint: Paint): string {
  if (event.decision === 'allow') return event.category === null ? paint('green', 'allow') : paint('yellow', 'allow');
  return paint('red', event.decision);
}

function callCell(event: AuditEvent): string {
  if (event.http === null) return event.type === 'gateway.request' ? '-' : event.type;
  const status = event.http.status === null ? '' : ` ${event.http.status}`;
  return `${event.http.method} ${event.http.path}${status}`;
}

/** One event as a table row: time, decision, request ID, app, resource, call, reason. */
function eventRow(event: AuditEvent, paint: Paint): string[] {
  return [event.at.replace('T', ' ').replace('Z', ''), decisionCell(event, paint), event.request_id, event.app ?? '-', event.resource ?? '-', callCell(event), event.reason];
}

const HEADER = ['at', 'decision', 'request id', 'app', 'resource', 'call', 'reason'];

/** Prints chain reports; returns whether all verified. */
function printReports(chains: readonly ChainReport[], paint: Paint, prefix: string): boolean {
  for (const c of chains) {
    if (c.ok) {
      const signed = c.signed_through === null ? 'no signed checkpoint yet' : `signed through seq ${c.signed_through}`;
      const tail = c.unsigned > 0 ? paint('gray', ` (${c.unsigned} newer event${c.unsigned === 1 ? '' : 's'} covered by hash links only)`) : '';
      process.stdout.write(`${paint('green', '✔')} ${prefix}${c.chain}: ${c.events} events, ${c.checkpoints} valid signature${c.checkpoints === 1 ? '' : 's'}, ${signed}${tail}\n`);
    } else {
      const bad = c.first_bad;
      process.stdout.write(`${paint('red', '✖')} ${prefix}${c.chain}: first bad event ${bad?.id ?? '?'} (seq ${bad?.seq ?? '?'}): ${bad?.reason ?? '?'}\n    ${bad?.message ?? ''}\n`);
    }
  }
  return chains.every((c) => c.ok);
}

function brokenError(chains: readonly ChainReport[], problems: readonly string[]): CaracalError {
  const bad = chains.find((c) => !c.ok)?.first_bad;
  const message = bad ? `the audit log does not verify: ${bad.message}` : `the audit export does not verify: ${problems[0] ?? 'unknown problem'}`;
  return new CaracalError('CRC_AUDIT_CHAIN_BROKEN', message, {
    details: { chains, problems },
    hint: 'the event named above was edited, deleted, reordered or inserted after it was recorded (or signed by another key)',
  });
}

/** `caracal audit list|tail|verify|export|key|sinks` (DESIGN.md §2a, §7). */
export const auditCommand: CommandContribution = {
  name: 'audit',
  register(program: Command, cli: CliContext): void {
    const audit = program.command('audit').description('inspect, stream, export and verify the audit log');

    withFilters(adminCommand(audit, 'list', 'list audit events, newest first'))
      .option('--limit <n>', 'at most this many events (1–500, default 50)')
      .option('--cursor <cursor>', 'continue from a previous page')
      .action(async (opts: ListFlags) => {
        const client = await adminClient(cli, opts);
        const page = await client.request<AuditPageView>('GET', '/v1/audit', { query: { ...filterQuery(opts), limit: opts.limit, cursor: opts.cursor } });
        if (opts.json === true) printJson(page.items);
        else if (page.items.length === 0) process.stdout.write(`no audit events match${opts.since === undefined ? '; try a wider --since (e.g. --since 7d)' : ''}\n`);
        else {
          const paint = painter(canColor(process.stdout));
          process.stdout.write(`${formatTable(HEADER, page.items.map((e) => eventRow(e, paint)))}\n`);
          process.stderr.write('explain one with: caracal explain <request id>\n');
        }
        if (page.next_cursor !== null) process.stderr.write(`more events: add --cursor ${page.next_cursor}\n`);
      });

    withFilters(adminCommand(audit, 'tail', 'follow new audit events as they are recorded (Ctrl-C stops)'))
      .option('--backlog <n>', 'first show this many recent events', '10')
      .action(async (opts: FilterOptions & { backlog: string }) => {
        const client = await adminClient(cli, opts);
        const query = { ...filterQuery(opts), backlog: opts.backlog };
        const paint = painter(canColor(process.stdout));
        const { followAuditStream } = await import('../../control/sse.js');
        // A dropped stream (the control plane restarted) resumes where it stopped: nothing is missed.
        const batches = followAuditStream((lastEventId) => client.stream('/v1/audit/stream', { query, accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { lastEventId }) }), {
          onDrop: (error) => process.stderr.write(`the audit stream dropped (${error instanceof Error ? error.message : String(error)}); reconnecting…\n`),
          onResume: () => process.stderr.write('the audit stream resumed\n'),
        });
        for await (const batch of batches) {
          for (const event of batch) {
            if (opts.json === true) process.stdout.write(`${JSON.stringify(event)}\n`);
            else process.stdout.write(`${eventRow(event, paint).join('  ')}\n`);
          }
        }
      });

    adminCommand(audit, 'verify', 'verify the ledger (or, offline, an export FILE): hash chains and signed checkpoints; names the first bad event')
      .argument('[file]', 'an export written by `caracal audit export` (verified offline, no stack needed)')
      .option('--public-key <pem-file>', 'the audit public key to trust (from `caracal audit key`); default: the keys the export carries')
      .option('--zone <zone>', 'only this zone (ledger only)')
      .action(async (file: string | undefined, opts: AdminOptions & { publicKey?: string; zone?: string }) => {
        const paint = painter(canColor(process.stdout));
        if (file === undefined) {
          const client = await adminClient(cli, opts);
          const result = await client.request<AuditVerifyView>('GET', '/v1/audit/verify', { query: { zone: opts.zone } });
          if (opts.json === true) printJson(result);
          else if (result.chains.length === 0) process.stdout.write('the ledger holds no events yet\n');
          else printReports(result.chains, paint, 'chain ');
          if (!result.ok) throw brokenError(result.chains, []);
          return;
        }
        const { exportReadError, verifyExport } = await import('../../audit/export.js');
        const { parseAuditPublicKey } = await import('../../audit/checkpoint-key.js');
        let publicKey;
        if (opts.publicKey !== undefined) {
          let pem: string;
          try {
            pem = await readFile(opts.publicKey, 'utf8');
          } catch (error) {
            throw new CaracalError('CRC_USAGE', `cannot read the public key file ${opts.publicKey}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
          }
          publicKey = parseAuditPublicKey(pem, opts.publicKey);
        }
        const stream = createReadStream(file, 'utf8');
        const opened = new Promise<void>((resolve, reject) => {
          stream.once('open', () => resolve());
          stream.once('error', reject);
        });
        try {
          await opened;
        } catch (error) {
          throw exportReadError(file, error);
        }
        const result = await verifyExport(createInterface({ input: stream, crlfDelay: Infinity }), publicKey === undefined ? {} : { publicKey });
        if (opts.json === true) printJson(result);
        else {
          const source = result.key_source === 'given' ? `the given key ${result.keys.join(', ')}` : `the key${result.keys.length === 1 ? '' : 's'} in the file (${result.keys.join(', ') || 'none'}; compare with \`caracal audit key\`)`;
          process.stdout.write(`${file}: exported ${result.exported_at ?? '?'}, checked against ${source}\n`);
          printReports(result.chains, paint, 'chain ');
          for (const problem of result.problems) process.stdout.write(`${paint('red', '✖')} ${problem}\n`);
        }
        if (!result.ok) throw brokenError(result.chains, result.problems);
      });

    adminCommand(audit, 'export', 'write the whole audit log (events, signed checkpoints, a signed head per chain, the public key) as JSON lines')
      .option('--zone <zone>', 'only this zone')
      .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
      .action(async (opts: AdminOptions & { zone?: string; output?: string }) => {
        const client = await adminClient(cli, opts);
        const response = await client.stream('/v1/audit/export', { query: { zone: opts.zone }, accept: 'application/x-ndjson' });
        const out = opts.output === undefined ? process.stdout : createWriteStream(opts.output, { mode: 0o600, flags: 'w' });
        let events = 0;
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const text = decoder.decode(chunk, { stream: true });
          for (let i = text.indexOf('"kind":"event"'); i !== -1; i = text.indexOf('"kind":"event"', i + 1)) events += 1;
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        }
        if (opts.output !== undefined) {
          await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
          process.stderr.write(`exported ${events} events to ${opts.output}; verify it anywhere with: caracal audit verify ${opts.output}\n`);
        }
      });

    adminCommand(audit, 'key', 'print the audit public key (PEM) that verifies signed checkpoints and exports')
      .action(async (opts: AdminOptions) => {
        const client = await adminClient(cli, opts);
        const keys = await client.request<AuditKeysView>('GET', '/v1/audit/public-key');
        if (opts.json === true) printJson(keys);
        else {
          const current = keys.keys.find((k) => k.key_id === keys.current) ?? keys.keys[0];
          if (current === undefined) throw new CaracalError('CRC_NOT_FOUND', 'the control plane has no audit key yet');
          process.stdout.write(current.pem.endsWith('\n') ? current.pem : `${current.pem}\n`);
          process.stderr.write(`key ID ${current.key_id}${keys.keys.length > 1 ? ` (${keys.keys.length - 1} older key(s): --json lists them)` : ''}\n`);
        }
      });

    adminCommand(audit, 'sinks', 'show the configured audit sinks and whether they deliver')
      .action(async (opts: AdminOptions) => {
        const client = await adminClient(cli, opts);
        const { sinks } = await client.request<{ sinks: { name: string; ok: boolean; detail: string; dropped: number; failures: number }[] }>('GET', '/v1/audit/sinks');
        if (opts.json === true) printJson(sinks);
        else if (sinks.length === 0) process.stdout.write('only the ledger (configure more with [[audit.sinks]] in <home>/config.toml)\n');
        else {
          const paint = painter(canColor(process.stdout));
          process.stdout.write(`${formatTable(['sink', 'state', 'dropped', 'failures', 'detail'], sinks.map((s) => [s.name, s.ok ? paint('green', 'ok') : paint('red', 'failing'), String(s.dropped), String(s.failures), s.detail]))}\n`);
        }
      });
  },
};
