/**
 * The Gateway's audit writer, on its own thread: hashing the chain and SQLite commits (and their
 * WAL checkpoints, ~10 ms stalls) stay off the event loop that serves requests (DESIGN.md §13).
 * Messages in: `{type:'events', events}` and `{type:'close'}`. Messages out: `{type:'stats', …}`
 * every 500 ms and `{type:'closed', stats}` once everything is stored.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAuditLog } from '../core/audit/audit-log.js';
import type { AuditEventInput } from '../core/audit/event.js';
import { openStore } from '../core/store/open-store.js';
import { ledgerSink } from '../plugins/sink-ledger/index.js';

export interface AuditWorkerData {
  readonly home: string;
  readonly databaseUrl: string;
}

export type AuditWorkerMessage = { readonly type: 'events'; readonly events: readonly AuditEventInput[] } | { readonly type: 'close' };

const port = parentPort;
if (port === null) throw new Error('audit-worker.js runs as a worker thread');
const data = workerData as AuditWorkerData;
const store = await openStore({ home: data.home, ...(data.databaseUrl ? { databaseUrl: data.databaseUrl } : {}) });
const errors: string[] = [];
const log = createAuditLog({
  recorder: ledgerSink(store),
  onError: (error) => {
    if (errors.length < 20) errors.push(error.message);
  },
});
const stats = () => ({ ...log.stats(), errors: errors.splice(0) });
const timer = setInterval(() => port.postMessage({ type: 'stats', stats: stats() }), 500);
port.postMessage({ type: 'ready' });

port.on('message', (message: AuditWorkerMessage) => {
  if (message.type === 'events') {
    for (const event of message.events) log.append(event);
    return;
  }
  clearInterval(timer);
  void log
    .close()
    .then(() => store.close())
    .then(() => port.postMessage({ type: 'closed', stats: stats() }));
});
