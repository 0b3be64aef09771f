/**
 * The Gateway's audit writer, on its own thread: hashing the chain and SQLite commits stay off the
 * event loop that serves requests (DESIGN.md §13), and WAL checkpoints (~10 ms stalls) run on a
 * thread of their own (core/store/sqlite/wal-checkpointer.ts).
 * Messages in: `{type:'events', json}` and `{type:'close'}`. Messages out: `{type:'stats', …}`
 * every 500 ms and `{type:'closed', stats}` once everything is stored.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAuditLog } from '../core/audit/audit-log.js';
import type { AuditEventInput } from '../core/audit/event.js';
import { openStore } from '../core/store/open-store.js';
import { openAuditParts } from '../core/audit/service-audit.js';
import { loadSettings } from '../core/config/settings.js';

export interface AuditWorkerData {
  readonly home: string;
  readonly databaseUrl: string;
  /** The group commit (audit-channel.ts AUDIT_WRITER_BATCH). */
  readonly batchSize: number;
  readonly flushIntervalMs: number;
}

/** `json`: a JSON array of events (audit-channel.ts). */
export type AuditWorkerMessage = { readonly type: 'events'; readonly json: string } | { readonly type: 'close' };

const port = parentPort;
if (port === null) throw new Error('audit-worker.js runs as a worker thread');
const data = workerData as AuditWorkerData;
const errors: string[] = [];
const report = (error: Error) => {
  if (errors.length < 20) errors.push(error.message);
};
const store = await openStore({ home: data.home, backgroundCheckpoints: { onError: report }, ...(data.databaseUrl ? { databaseUrl: data.databaseUrl } : {}) });
// The ledger with signed checkpoints, and the sinks <home>/config.toml configures (docs/audit.md).
const audit = await openAuditParts({
  store,
  settings: loadSettings({ home: data.home }),
  service: 'gateway',
  onError: report,
});
const log = createAuditLog({
  recorder: audit.recorder,
  sinks: audit.sinks,
  flushIntervalMs: data.flushIntervalMs,
  batchSize: data.batchSize,
  onError: report,
});
const stats = () => {
  const current = log.stats();
  return { ...current, errors: errors.splice(0), sinks: audit.health(current) };
};
const timer = setInterval(() => port.postMessage({ type: 'stats', stats: stats() }), 500);
port.postMessage({ type: 'ready' });

port.on('message', (message: AuditWorkerMessage) => {
  if (message.type === 'events') {
    for (const event of JSON.parse(message.json) as AuditEventInput[]) log.append(event);
    return;
  }
  clearInterval(timer);
  void log
    .close()
    .then(() => audit.close())
    .then(() => store.close())
    .then(() => port.postMessage({ type: 'closed', stats: stats() }));
});
