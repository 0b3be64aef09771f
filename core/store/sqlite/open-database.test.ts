import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from './migrations.js';
import { PAGE_SIZE } from './open-database.js';
import { SqliteStore } from './sqlite-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'caracal-open-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Opens a store and reports the CaracalError it throws (or fails the test if it opens). */
function openError(file: string): { code: string; message: string; hint: string } {
  try {
    SqliteStore.open(file);
  } catch (error) {
    return error as { code: string; message: string; hint: string };
  }
  throw new Error(`expected ${file} to be refused`);
}

describe('opening a database', () => {
  it('creates a missing home folder (0700) and the database file (0600), at the latest schema version', () => {
    const file = join(dir, 'new-home', 'nested', 'caracal.db');
    const store = SqliteStore.open(file);
    void store.close();
    expect(statSync(join(dir, 'new-home', 'nested')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const raw = new Database(file, { readonly: true });
    const versions = raw.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all() as {
      version: number;
      applied_at: string;
    }[];
    expect(versions.map((v) => v.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(Date.parse(versions[0]?.applied_at ?? '')).not.toBeNaN();
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    raw.close();
  });

  it('keeps data across re-opening and does not migrate again', async () => {
    const file = join(dir, 'caracal.db');
    const first = SqliteStore.open(file);
    const zone = await first.createZone({ name: 'eval', kind: 'evaluation' });
    await first.appendAudit([{ type: 'admin.change', zone: zone.id, request_id: 'req_1', decision: 'allow', reason: 'ok' }]);
    await first.close();
    const second = SqliteStore.open(file);
    expect(await second.getZone('eval')).toEqual(zone);
    expect(await second.readAuditChain(zone.id)).toHaveLength(1);
    await second.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(migrations.length);
    raw.close();
  });

  it('refuses a file that is not SQLite, naming it and suggesting to move it aside, without touching it', () => {
    const file = join(dir, 'caracal.db');
    writeFileSync(file, 'this is a text file, not a database\n'.repeat(20));
    const before = digest(file);
    const error = openError(file);
    expect(error.code).toBe('CRC_STORE_CORRUPT');
    expect(error.message).toContain(file);
    expect(error.hint).toContain(`mv ${file}`);
    expect(digest(file)).toBe(before);
    expect(readdirSync(dir)).toEqual(['caracal.db']);
  });

  it('refuses an SQLite database of another application as "not a Caracal database", without touching it', () => {
    const file = join(dir, 'caracal.db');
    const other = new Database(file);
    other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');");
    other.close();
    const before = digest(file);
    const error = openError(file);
    expect(error).toMatchObject({ code: 'CRC_STORE_CORRUPT' });
    expect(error.message).toMatch(/not a Caracal database.*users/);
    expect(digest(file)).toBe(before);
  });

  it('refuses a Caracal database that holds unknown tables', async () => {
    const file = join(dir, 'caracal.db');
    await SqliteStore.open(file).close();
    const raw = new Database(file);
    raw.exec('CREATE TABLE intruder (x)');
    raw.close();
    expect(openError(file)).toMatchObject({ code: 'CRC_STORE_CORRUPT', message: expect.stringContaining('intruder') as unknown });
  });

  it('refuses a database written by a newer Caracal, saying so, without touching it', async () => {
    const file = join(dir, 'caracal.db');
    await SqliteStore.open(file).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migrations.length + 1, new Date().toISOString());
    raw.close();
    const before = digest(file);
    const error = openError(file);
    expect(error.code).toBe('CRC_STORE_MIGRATION');
    expect(error.message).toContain(`schema version ${migrations.length + 1}`);
    expect(error.hint).toMatch(/Upgrade Caracal/);
    expect(digest(file)).toBe(before);
  });

  it('enforces immutability of policy versions and the append-only ledger in the schema itself', async () => {
    const file = join(dir, 'caracal.db');
    const store = SqliteStore.open(file);
    const zone = await store.createZone({ name: 'eval', kind: 'evaluation' });
    await store.createPolicy({ zoneId: zone.id, name: 'p' }, { format: 'json', source: '{}', rules: [] });
    await store.appendAudit([{ type: 'admin.change', zone: zone.id, request_id: 'req_1', decision: 'allow', reason: 'ok' }]);
    const raw = new Database(file);
    expect(() => raw.exec("UPDATE policy_versions SET source = 'changed'")).toThrow(/immutable/);
    expect(() => raw.exec("UPDATE audit_events SET decision = 'deny'")).toThrow(/append-only/);
    raw.close();
    await store.close();
  });
});

/**
 * Read-only homes. Tests here usually run as root, for whom permission bits do not stop writes;
 * so, as root, the refusal is exercised for real by switching this process's effective user to
 * `nobody` (seteuid, restored right after), which makes the kernel enforce the modes. Only if
 * even that is impossible (no setuid capability) are these cases skipped.
 */
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const canDropPrivileges = (() => {
  if (!isRoot || process.seteuid === undefined) return false;
  try {
    process.seteuid(NOBODY);
    process.seteuid(0);
    return true;
  } catch {
    return false;
  }
})();
const canTestReadOnly = process.platform !== 'win32' && (!isRoot || canDropPrivileges);

/** Runs `action` with file permissions enforced (as `nobody` when we are root). */
function asUnprivileged<T>(action: () => T): T {
  if (!isRoot) return action();
  process.setegid?.(NOBODY);
  process.seteuid?.(NOBODY);
  try {
    return action();
  } finally {
    process.seteuid?.(0);
    process.setegid?.(0);
  }
}

/** A home folder owned by the user `asUnprivileged` runs as. */
function ownedHome(): string {
  chmodSync(dir, 0o755);
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  if (isRoot) chownSync(home, NOBODY, NOBODY);
  return home;
}

function createDatabaseIn(home: string): string {
  const file = join(home, 'caracal.db');
  const store = asUnprivileged(() => SqliteStore.open(file));
  void store.close();
  return file;
}

describe('several processes opening one new database at once', () => {
  it('all open it, new or existing (caracal up starts control and gateway together)', async () => {
    // The built module (the test suite builds dist/ first), in real processes started together.
    const openStore = new URL('../../../dist/core/store/open-store.js', import.meta.url).href;
    const script = `const { openStore } = await import(${JSON.stringify(openStore)}); const s = await openStore({ home: process.argv[1] }); await s.close(); console.log('ok');`;
    const run = promisify(execFile);
    for (let round = 0; round < 6; round++) {
      const home = join(dir, `race-${round}`);
      // Even rounds: a new database; odd rounds: one that exists and is closed (WAL recovery on open).
      if (round % 2 === 1) await SqliteStore.open(join(home, 'caracal.db')).close();
      const opened = await Promise.all(Array.from({ length: 6 }, () => run(process.execPath, ['--input-type=module', '-e', script, home])));
      expect(opened.map((child) => child.stdout.trim())).toEqual(Array(6).fill('ok'));
    }
  }, 60_000);
});

describe.skipIf(!canTestReadOnly)('read-only homes', () => {
  it('refuses a read-only home folder with no database yet, with the fix', () => {
    const home = ownedHome();
    chmodSync(home, 0o500);
    const error = asUnprivileged(() => openError(join(home, 'caracal.db')));
    expect(error.code).toBe('CRC_STORE_READONLY');
    expect(error.hint).toMatch(/writable/);
  });

  it('refuses a read-only home folder holding a database, without changing the database', () => {
    const home = ownedHome();
    const file = createDatabaseIn(home);
    const before = digest(file);
    chmodSync(home, 0o500);
    const error = asUnprivileged(() => openError(file));
    expect(error.code).toBe('CRC_STORE_READONLY');
    expect(error.message).toContain(file);
    expect(digest(file)).toBe(before);
  });

  it('refuses a read-only database file in a writable folder', () => {
    const home = ownedHome();
    const file = createDatabaseIn(home);
    chmodSync(file, 0o400);
    const error = asUnprivileged(() => openError(file));
    expect(error.code).toBe('CRC_STORE_READONLY');
    expect(error.hint).toContain('chmod u+rw');
  });

  it('refuses a home that cannot be created because its parent is read-only', () => {
    const home = ownedHome();
    chmodSync(home, 0o500);
    const error = asUnprivileged(() => openError(join(home, 'sub', 'caracal.db')));
    expect(error.code).toBe('CRC_STORE_READONLY');
  });
});
