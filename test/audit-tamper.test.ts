/**
 * Tampering with the audit trail (DESIGN.md §7): an edited, deleted, reordered or inserted event in
 * the ledger (the SQLite file, as someone with access to it would change it) or in an export file
 * makes `verify` fail and name the first bad event; a history rewritten and re-hashed end to end is
 * caught by the signed checkpoints; a valid export verifies offline with only the public key.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashEvent } from '../core/audit/chain.js';
import { loadOrCreateAuditKey, type AuditSigningKey } from '../core/audit/checkpoint-key.js';
import { createCheckpointingRecorder } from '../core/audit/checkpoint.js';
import type { AuditEvent, AuditEventInput } from '../core/audit/event.js';
import { exportAudit, verifyExport, verifyLedger } from '../core/audit/export.js';
import { homePaths } from '../core/config/paths.js';
import { openStore } from '../core/store/open-store.js';
import type { Store } from '../core/store/store.js';
import { ledgerSink } from '../plugins/sink-ledger/index.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const ZONE = 'zn_tamper';
/** Finds a ledger row by its event ID, which lives in the row's JSON body. */
const BY_ID = "body ->> '$.id' = ?";

function input(n: number): AuditEventInput {
  return { type: 'gateway.request', zone: ZONE, request_id: `req_${n}`, app: 'app_x', decision: 'allow', reason: 'ok', detail: { n } };
}

/** Raw access to the ledger table, with the append-only trigger dropped as an intruder would. */
function intruder(home: string): Database.Database {
  const db = new Database(homePaths(home).database);
  db.exec('DROP TRIGGER IF EXISTS audit_events_no_update');
  return db;
}

interface Row {
  id: string;
  seq: number;
}

describe('the ledger, tampered with in the SQLite file', () => {
  let home: string;
  let store: Store;
  let key: AuditSigningKey;
  /** Events of the zone chain, in seq order, as recorded: 30 events plus a checkpoint after every 5. */
  let events: AuditEvent[];

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'caracal-tamper-'));
    store = await openStore({ home });
    key = loadOrCreateAuditKey(homePaths(home).auditKey);
    const recorder = createCheckpointingRecorder(ledgerSink(store), { key, everyEvents: 5, everyMs: 3_600_000 });
    for (let n = 1; n <= 30; n += 3) await recorder.record([input(n), input(n + 1), input(n + 2)]);
    await recorder.close();
    events = [...(await store.readAuditChain(ZONE, 1, 1000))];
  });

  afterEach(async () => {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });

  const verify = async () => {
    const [report] = await verifyLedger(store, [key]);
    if (!report) throw new Error('no chain');
    return report;
  };
  const eventAt = (seq: number): AuditEvent => {
    const event = events.find((e) => e.seq === seq);
    if (!event) throw new Error(`no seq ${seq}`);
    return event;
  };

  it('verifies when intact: every link, and checkpoints signed by the audit key', async () => {
    const report = await verify();
    expect(report).toMatchObject({ chain: ZONE, ok: true, first_bad: null });
    // 30 events in batches of 3, a checkpoint after every 6 (the first batch reaching 5): seq 7, 14, … 35.
    expect(events).toHaveLength(35);
    expect(report.events).toBe(events.length);
    expect(report.checkpoints).toBe(events.filter((e) => e.type === 'audit.checkpoint').length);
    expect(report.checkpoints).toBe(5);
    // close() signed the last head, so nothing is left unsigned but the final checkpoint itself.
    expect(report.unsigned).toBe(1);
  });

  it.each([
    {
      name: 'an edited event',
      tamper: (db: Database.Database, e: (s: number) => AuditEvent) => db.prepare(`UPDATE audit_events SET body = json_set(body, '$.reason', 'forged') WHERE ${BY_ID}`).run(e(9).id),
      seq: 9,
      reason: 'hash_mismatch',
    },
    {
      name: 'a deleted event',
      tamper: (db: Database.Database, e: (s: number) => AuditEvent) => db.prepare(`DELETE FROM audit_events WHERE ${BY_ID}`).run(e(9).id),
      seq: 10,
      reason: 'seq_gap',
    },
    {
      name: 'two events swapped (reordered)',
      tamper: (db: Database.Database, e: (s: number) => AuditEvent) => {
        db.prepare(`UPDATE audit_events SET seq = -1 WHERE ${BY_ID}`).run(e(9).id);
        db.prepare(`UPDATE audit_events SET seq = 9 WHERE ${BY_ID}`).run(e(10).id);
        db.prepare(`UPDATE audit_events SET seq = 10 WHERE ${BY_ID}`).run(e(9).id);
      },
      seq: 9,
      reason: 'hash_mismatch',
    },
    {
      name: 'an inserted event',
      tamper: (db: Database.Database, e: (s: number) => AuditEvent) => {
        // Make room at seq 9, then put a copy of another request there.
        db.prepare('UPDATE audit_events SET seq = seq + 100000 WHERE chain = ? AND seq >= 9').run(ZONE);
        db.prepare('UPDATE audit_events SET seq = seq - 99999 WHERE chain = ? AND seq >= 100000').run(ZONE);
        const { n: _n, ...source } = db.prepare(`SELECT * FROM audit_events WHERE ${BY_ID}`).get(e(3).id) as { n: number; body: string };
        const row = { ...source, body: JSON.stringify({ ...JSON.parse(source.body), id: 'evt_FORGED' }), seq: 9, request_id: 'req_forged' };
        const columns = Object.keys(row);
        db.prepare(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => row[c as keyof typeof row]));
      },
      seq: 9,
      reason: 'hash_mismatch',
    },
  ])('$name: verify fails and names the first bad event', async ({ tamper, seq, reason }) => {
    const db = intruder(home);
    tamper(db, eventAt);
    db.close();
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.first_bad).toMatchObject({ seq, reason });
    const expectedId = reason === 'hash_mismatch' && seq === 9 ? (await store.readAuditChain(ZONE, 9, 1))[0]?.id : eventAt(seq).id;
    expect(report.first_bad?.id).toBe(expectedId);
    expect(report.first_bad?.message).toContain(`seq ${seq}`);
  });

  it('a history edited and re-hashed end to end (every link valid) is caught by the next signed checkpoint', async () => {
    const db = intruder(home);
    // A forger who knows the hash algorithm but not the audit key: edit seq 8, re-hash it and every later event.
    let prev = eventAt(7).hash;
    const update = db.prepare(`UPDATE audit_events SET body = json_set(body, '$.reason', ?, '$.prev_hash', ?), hash = ? WHERE ${BY_ID}`);
    for (const event of events.filter((e) => e.seq >= 8)) {
      const { hash: _hash, ...body } = { ...event, reason: event.seq === 8 ? 'forged' : event.reason, prev_hash: prev };
      const hash = hashEvent(body);
      update.run(body.reason, prev, hash, event.id);
      prev = hash;
    }
    db.close();
    const report = await verify();
    expect(report.ok).toBe(false);
    const checkpoint = events.find((e) => e.type === 'audit.checkpoint' && e.seq > 8);
    expect(report.first_bad).toMatchObject({ reason: 'checkpoint_mismatch', id: checkpoint?.id });
    expect(report.first_bad?.message).toMatch(/events after seq \d+ up to seq \d+ were rewritten/);
  });

  it('a checkpoint signed by another key is refused', async () => {
    const stranger = loadOrCreateAuditKey(join(home, 'other.key'));
    const [report] = await verifyLedger(store, [stranger]);
    expect(report?.ok).toBe(false);
    expect(report?.first_bad?.reason).toBe('checkpoint_key_unknown');
  });

  describe('an export', () => {
    let dir: string;
    let file: string;
    let lines: string[];

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'caracal-export-'));
      file = join(dir, 'audit.jsonl');
      let text = '';
      for await (const chunk of exportAudit(store, key)) text += chunk;
      writeFileSync(file, text);
      lines = text.trimEnd().split('\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const verifyLines = (edited: readonly string[]) => verifyExport(edited, { publicKey: key });
    /** The index of the line holding the event at `seq`. */
    const lineOf = (seq: number) => lines.findIndex((l) => l.includes(`"seq":${seq},`) && l.startsWith('{"kind":"event"'));

    it('verifies with the public key alone, and ends each chain with a signed head', async () => {
      const result = await verifyLines(lines);
      expect(result.ok).toBe(true);
      expect(result.problems).toEqual([]);
      expect(result.chains).toEqual([expect.objectContaining({ chain: ZONE, ok: true, events: events.length, unsigned: 0, signed_through: events.length })]);
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ kind: 'header', format: 'caracal-audit-export', public_keys: [{ key_id: key.keyId }] });
      expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ kind: 'head', head: { chain: ZONE, seq: events.length, alg: 'Ed25519', key_id: key.keyId } });
    });

    it.each([
      { name: 'an edited event', edit: (l: string[]) => (l[lineOf(9)] = (l[lineOf(9)] ?? '').replace('"reason":"ok"', '"reason":"forged"')), seq: 9, reason: 'hash_mismatch' },
      { name: 'a deleted event', edit: (l: string[]) => l.splice(lineOf(9), 1), seq: 10, reason: 'seq_gap' },
      {
        name: 'two events swapped',
        edit: (l: string[]) => {
          const i = lineOf(9);
          [l[i], l[i + 1]] = [l[i + 1] ?? '', l[i] ?? ''];
        },
        seq: 10,
        reason: 'seq_out_of_order',
      },
      { name: 'an inserted (duplicated) event', edit: (l: string[]) => l.splice(lineOf(9) + 1, 0, l[lineOf(9)] ?? ''), seq: 9, reason: 'duplicate_seq' },
      { name: 'the last events cut off', edit: (l: string[]) => l.splice(lineOf(34), 2), seq: 34, reason: 'truncated' },
    ])('$name: verify fails and names the first bad event', async ({ edit, seq, reason }) => {
      const edited = [...lines];
      edit(edited);
      const result = await verifyLines(edited);
      expect(result.ok).toBe(false);
      expect(result.chains[0]?.first_bad).toMatchObject({ seq, reason });
      if (reason !== 'truncated') expect(result.chains[0]?.first_bad?.id).toBe(eventAt(seq).id);
    });

    it('refuses a signed head or checkpoint that does not verify with the given key', async () => {
      const stranger = loadOrCreateAuditKey(join(dir, 'stranger.key'));
      const result = await verifyExport(lines, { publicKey: stranger });
      expect(result.ok).toBe(false);
      expect(result.chains[0]?.first_bad?.reason).toBe('checkpoint_key_unknown');
    });
  });
});

describe('caracal audit export / verify / key through the real stack', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const BIN = join(ROOT, 'bin', 'caracal.js');
  let stack: Stack;
  let upstream: Upstream;
  let elsewhere: string;

  function cli(args: readonly string[], options: { home?: string; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      delete env.CARACAL_HOME;
      delete env.CARACAL_ADMIN_TOKEN;
      const homeArgs = options.home === undefined ? [] : ['--home', options.home];
      const child = spawn(process.execPath, [BIN, ...homeArgs, ...args], { cwd: options.cwd ?? ROOT, env: options.home === undefined ? { ...env, HOME: elsewhere, XDG_DATA_HOME: elsewhere } : env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    elsewhere = mkdtempSync(join(tmpdir(), 'caracal-auditor-'));
    upstream = await startUpstream();
    stack = await startStack();
    const seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
    const token = await stack.mint(seeded);
    for (let i = 0; i < 20; i++) await fetch(`${stack.gatewayUrl}/v1/items/${i}`, { headers: stack.gatewayHeaders(seeded, token) }).then((r) => r.arrayBuffer());
    // Stopping the Gateway flushes its events and signs its chain heads.
    await stack.stopGateway();
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await upstream?.close();
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const controlArgs = () => ['--control-url', stack.controlUrl];

  it('exports, and the copy verifies elsewhere with only the public key (no home, no stack)', async () => {
    const exported = join(stack.home, 'export.jsonl');
    const run = await cli(['audit', 'export', '-o', exported, ...controlArgs()], { home: stack.home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/exported \d+ events to/);
    const key = await cli(['audit', 'key', ...controlArgs()], { home: stack.home });
    expect(key.stdout).toContain('-----BEGIN PUBLIC KEY-----');
    copyFileSync(exported, join(elsewhere, 'audit.jsonl'));
    writeFileSync(join(elsewhere, 'audit.pub'), key.stdout);

    const ok = await cli(['audit', 'verify', 'audit.jsonl', '--public-key', 'audit.pub'], { cwd: elsewhere });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('checked against the given key ak_');
    expect(ok.stdout).toMatch(/✔ chain zn_\S+: \d+ events, \d+ valid signatures/);

    const lines = readFileSync(join(elsewhere, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
    const index = lines.findIndex((l) => l.includes('"type":"gateway.request"'));
    const victim = JSON.parse(lines[index] ?? '{}') as { event: AuditEvent };
    lines[index] = JSON.stringify({ kind: 'event', event: { ...victim.event, http: { ...victim.event.http, status: 201 } } });
    writeFileSync(join(elsewhere, 'edited.jsonl'), `${lines.join('\n')}\n`);
    const bad = await cli(['audit', 'verify', 'edited.jsonl', '--public-key', 'audit.pub'], { cwd: elsewhere });
    expect(bad.code).toBe(7);
    expect(bad.stdout).toContain(`first bad event ${victim.event.id} (seq ${victim.event.seq}): hash_mismatch`);
    expect(bad.stderr).toContain('CRC_AUDIT_CHAIN_BROKEN');
  });

  it('verifies the ledger, and names the first bad event once a row is edited', async () => {
    const ok = await cli(['audit', 'verify', '--json', ...controlArgs()], { home: stack.home });
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { ok: boolean; chains: { chain: string; checkpoints: number }[] };
    expect(report.ok).toBe(true);
    expect(report.chains.some((c) => c.checkpoints > 0)).toBe(true);

    const db = intruder(stack.home);
    const row = db.prepare("SELECT body ->> '$.id' AS id, seq FROM audit_events WHERE type = 'gateway.request' ORDER BY n LIMIT 1 OFFSET 3").get() as Row;
    db.prepare(`UPDATE audit_events SET body = json_set(body, '$.http.status', 200, '$.reason', ?) WHERE ${BY_ID}`).run('ok-forged', row.id);
    db.close();
    const bad = await cli(['audit', 'verify', ...controlArgs()], { home: stack.home });
    expect(bad.code).toBe(7);
    expect(bad.stdout).toContain(`first bad event ${row.id} (seq ${row.seq}): hash_mismatch`);
  });
});
