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
const db = new Database(data.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another connection holds a lock a checkpoint needs: the next tick tries again.
    if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw error;
  }
}, data.intervalMs);
port.once('message', () => {
  clearInterval(timer);
  db.close();
  port.close();
});
