import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../core/audit/event.js';
import { createJsonlSink } from './index.js';

function event(n: number): AuditEvent {
  return {
    id: `evt_${String(n).padStart(6, '0')}`, seq: n, at: '2025-01-01T00:00:00.000Z', zone: 'zn_a', request_id: `req_${n}`, type: 'gateway.request',
    app: null, resource: null, scopes: [], decision: 'allow', reason: 'ok', category: null, policy: null, http: null, token: null,
    detail: { pad: 'x'.repeat(100) }, prev_hash: '0'.repeat(64), hash: '1'.repeat(64),
  };
}

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'caracal-jsonl-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('the jsonl sink', () => {
  it('appends one event per line to an owner-only file, by default logs/audit-<service>.jsonl', async () => {
    const sink = createJsonlSink({}, { home, name: 'jsonl', service: 'control' });
    await sink.write([event(1), event(2)]);
    await sink.write([event(3)]);
    await sink.close?.();
    const file = join(home, 'logs', 'audit-control.jsonl');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).seq)).toEqual([1, 2, 3]);
    expect(sink.health?.()).toMatchObject({ ok: true, dropped: 0 });
  });

  it('rotates by size, keeping max_files older files, and never splits a batch', async () => {
    const sink = createJsonlSink({ path: 'audit.jsonl', max_bytes: 2048, max_files: 2 }, { home, name: 'jsonl' });
    for (let n = 1; n <= 40; n += 4) await sink.write([event(n), event(n + 1), event(n + 2), event(n + 3)]);
    await sink.close?.();
    const file = join(home, 'audit.jsonl');
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    const seqs = (name: string) => readFileSync(name, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as AuditEvent).seq);
    const newest = seqs(file);
    const previous = seqs(`${file}.1`);
    expect(newest.at(-1)).toBe(40);
    expect(previous.at(-1)).toBe((newest[0] ?? 0) - 1);
    for (const name of [file, `${file}.1`, `${file}.2`]) expect(seqs(name).length % 4).toBe(0);
  });

  it('refuses unknown options, naming the sink', () => {
    expect(() => createJsonlSink({ max_size: 1 }, { home, name: 'archive' })).toThrow(/audit sink "archive" \(type jsonl\) has invalid options/);
  });
});
