/**
 * The WAL checkpointer's thread (wal-checkpointer.ts): its own connection to the database, which
 * copies committed pages from the WAL into the database file every few milliseconds (PASSIVE: it
 * never waits for, nor blocks, readers and writers). Message in: 'stop'; the thread then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  readonly file: string;
  readonly intervalMs: number;
}

const port = parentPort;
if (port === null) throw new Error('wal-checkpoint-worker.js runs as a worker thread');
const data = workerData as CheckpointWorkerData;
/**
 * An SQLite error as a plain Error: the thread's 'error' event reaches the parent as a structured
 * clone, which keeps a plain Error's message but not that of better-sqlite3's SqliteError.
 */
function plain(error: unknown): Error {
  const { code, message } = error as { code?: string; message?: string };
  return new Error(`${message ?? 'failed'}${code === undefined ? '' : ` (${code})`}`);
}

let db: Database.Database;
try {
  db = new Database(data.file, { fileMustExist: true });
  db.pragma('synchronous = NORMAL');
} catch (error) {
  throw plain(error);
}
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another connection holds a lock a checkpoint needs: the next tick tries again.
    if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw plain(error);
  }
}, data.intervalMs);
port.once('message', () => {
  clearInterval(timer);
  db.close();
  port.close();
});
