import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from './wal-checkpointer.js';

let dir: string;
let file: string;
let db: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'caracal-wal-'));
  file = join(dir, 'test.db');
  db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x BLOB)');
});

afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Commits about 1.2 MB (300 pages): fewer than SQLite's own checkpoint threshold of 1,000 pages. */
function write(): void {
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 300; i++) insert.run(Buffer.alloc(4000, i));
  })();
}

/** Pages reach the database file only when checkpointed (until then they are in the WAL). */
const databaseBytes = () => statSync(file).size;

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('WalCheckpointer', () => {
  it('copies committed pages into the database file from its own thread', async () => {
    const errors: Error[] = [];
    const checkpointer = WalCheckpointer.start(db, file, (error) => errors.push(error));
    // 32 MiB of WAL in this database's 4 KiB pages.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(8192);
    const before = databaseBytes();
    write();
    expect(await waitFor(() => databaseBytes() >= before + 1_000_000, 5000)).toBe(true);
    await checkpointer.stop();
    // Checkpoints are the writer's own again, at SQLite's default threshold.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(errors).toEqual([]);
  });

  it('reports a thread that fails, and the writer checkpoints itself again', async () => {
    const errors: Error[] = [];
    const checkpointer = WalCheckpointer.start(db, join(dir, 'missing.db'), (error) => errors.push(error));
    expect(await waitFor(() => errors.length > 0, 5000)).toBe(true);
    expect(errors[0]?.message).toMatch(/unable to open database file|does not exist/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.stop();
  });

  it('sizes the fallback checkpoint in bytes: 32 MiB of WAL in 16 KiB pages too', async () => {
    const largeFile = join(dir, 'large.db');
    const large = new Database(largeFile);
    try {
      large.pragma('page_size = 16384');
      large.pragma('journal_mode = WAL');
      const checkpointer = WalCheckpointer.start(large, largeFile, (error) => {
        throw error;
      });
      expect(large.pragma('wal_autocheckpoint', { simple: true })).toBe(2048);
      await checkpointer.stop();
    } finally {
      large.close();
    }
  });

  // The control for the first test: the database file grows because of the thread, not the commit.
  it('is what checkpoints: without it, the same commit stays in the WAL', async () => {
    db.pragma('wal_autocheckpoint = 8000');
    const before = databaseBytes();
    write();
    expect(await waitFor(() => databaseBytes() > before, 300)).toBe(false);
  });

  it('stops at once when asked twice, and the database closes cleanly after it', async () => {
    const checkpointer = WalCheckpointer.start(db, file, (error) => {
      throw error;
    });
    write();
    await Promise.all([checkpointer.stop(), checkpointer.stop()]);
    db.close();
    const reopened = new Database(file, { readonly: true });
    expect(reopened.prepare('SELECT count(*) FROM t').pluck().get()).toBe(300);
    reopened.close();
  });
});
