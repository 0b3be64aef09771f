import { Worker } from 'node:worker_threads';
import type { Database as Db } from 'better-sqlite3';
import { workerUrl } from '../../worker-url.js';
import type { CheckpointWorkerData } from './wal-checkpoint-worker.js';

/** How often the thread checkpoints (a checkpoint with nothing to copy costs a few µs). */
const INTERVAL_MS = 50;
/**
 * The writer's own automatic checkpoint while the thread does the work: a fallback that bounds the
 * WAL at about 32 MiB if the thread falls behind or never catches up under continuous writes. SQLite
 * counts it in pages, so it is set from the database's page size (2,048 pages of 16 KiB, 8,192 of
 * 4 KiB). SQLite's default of 1,000 pages is restored when the thread stops.
 */
const FALLBACK_WAL_BYTES = 32 * 1024 * 1024;
const DEFAULT_PAGES = 1000;

/**
 * Moves WAL checkpoints off a busy writer's thread (DESIGN.md §13: the Gateway's audit writer and
 * the control plane). A checkpoint copies pages into the database file and syncs both files, a
 * stall of milliseconds (about a fifth of an append's time in bench/ledger.ts); a thread of its
 * own, with its own connection, does it in parallel. When the thread cannot start or dies, the
 * writer checkpoints itself again, as SQLite does by default.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #db: Db;
  #running = true;

  private constructor(worker: Worker, db: Db, onError: (error: Error) => void) {
    this.#worker = worker;
    this.#db = db;
    worker.unref();
    worker.once('exit', () => this.#stopped());
    // A failure in the thread leaves the writer checkpointing itself, as without one; it is reported.
    worker.on('error', (error) => {
      this.#stopped();
      onError(error);
    });
  }

  /** Starts the thread for the database file `db` has open; `onError` hears of a thread that failed. */
  static start(db: Db, file: string, onError: (error: Error) => void): WalCheckpointer {
    const data: CheckpointWorkerData = { file, intervalMs: INTERVAL_MS };
    const worker = new Worker(workerUrl(import.meta.url, './wal-checkpoint-worker.js'), { workerData: data });
    db.pragma(`wal_autocheckpoint = ${fallbackPages(db)}`);
    return new WalCheckpointer(worker, db, onError);
  }

  /** Stops the thread (after its current checkpoint) and gives checkpoints back to the writer. Never rejects. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    // Resolves on exit, whether the thread ended cleanly or failed ('error' is handled above).
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Unreferenced, the thread would not keep the process alive until it has stopped.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await exited;
  }

  #stopped(): void {
    if (!this.#running) return;
    this.#running = false;
    if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${DEFAULT_PAGES}`);
  }
}

/** The fallback checkpoint threshold in pages of this database (never below SQLite's default). */
function fallbackPages(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return Math.max(DEFAULT_PAGES, Math.ceil(FALLBACK_WAL_BYTES / pageSize));
}
