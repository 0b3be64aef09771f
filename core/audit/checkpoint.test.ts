import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditKeyId, loadOrCreateAuditKey, parseAuditPublicKey } from './checkpoint-key.js';
import { createCheckpointingRecorder, isValidCheckpointSignature, readCheckpointSignature, signCheckpoint } from './checkpoint.js';
import type { AuditEventInput } from './event.js';
import { createMemoryLedger } from './test-support/memory-ledger.js';

const input = (n: number, zone: string | null = 'zn_a'): AuditEventInput => ({ type: 'gateway.request', zone, request_id: `req_${n}`, decision: 'allow', reason: 'ok' });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'caracal-checkpoint-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the audit signing key', () => {
  it('is created on first use as an owner-only PKCS#8 file, and read back the same afterwards', () => {
    const file = join(dir, 'home', 'audit-signing.key');
    const first = loadOrCreateAuditKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadOrCreateAuditKey(file);
    expect(again.keyId).toBe(first.keyId);
    expect(first.keyId).toMatch(/^ak_[0-9a-f]{16}$/);
    expect(parseAuditPublicKey(first.publicKeyPem, 'pem').keyId).toBe(first.keyId);
    expect(auditKeyId(first.publicKey)).toBe(first.keyId);
  });

  it('refuses a key file others can read', async () => {
    const file = join(dir, 'audit-signing.key');
    loadOrCreateAuditKey(file);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    expect(() => loadOrCreateAuditKey(file, 'linux')).toThrow(/accessible to group or others/);
  });

  it('signs heads that verify with the public key only, and not once altered', () => {
    const key = loadOrCreateAuditKey(join(dir, 'k'));
    const signed = signCheckpoint(key, { chain: 'zn_a', seq: 5, hash: 'a'.repeat(64), signed_at: '2025-01-01T00:00:00.000Z' });
    const publicOnly = parseAuditPublicKey(key.publicKeyPem, 'pem').publicKey;
    expect(isValidCheckpointSignature(publicOnly, signed)).toBe(true);
    expect(isValidCheckpointSignature(publicOnly, { ...signed, seq: 6 })).toBe(false);
    expect(isValidCheckpointSignature(publicOnly, { ...signed, hash: 'b'.repeat(64) })).toBe(false);
    expect(readCheckpointSignature({ ...signed, alg: 'RS256' })).toBeUndefined();
  });
});

describe('createCheckpointingRecorder', () => {
  it('appends a signed checkpoint of each chain head every N events, per chain, returned with the batch', async () => {
    const ledger = createMemoryLedger();
    const key = loadOrCreateAuditKey(join(dir, 'k'));
    const recorder = createCheckpointingRecorder(ledger, { key, everyEvents: 3, everyMs: 3_600_000 });
    const first = await recorder.record([input(1), input(2)]);
    expect(first.map((e) => e.type)).toEqual(['gateway.request', 'gateway.request']);
    const second = await recorder.record([input(3), input(4, 'zn_b')]);
    expect(second.map((e) => `${e.type}:${e.zone}`)).toEqual(['gateway.request:zn_a', 'gateway.request:zn_b', 'audit.checkpoint:zn_a']);
    const checkpoint = readCheckpointSignature(second[2]?.detail);
    expect(checkpoint).toMatchObject({ chain: 'zn_a', seq: 3, hash: second[0]?.hash, key_id: key.keyId });
    expect(isValidCheckpointSignature(key.publicKey, checkpoint ?? ({} as never))).toBe(true);
    await recorder.close();
    // close() signs what is still unsigned: zn_b's one event.
    expect(ledger.events.filter((e) => e.type === 'audit.checkpoint').map((e) => e.zone)).toEqual(['zn_a', 'zn_b']);
  });

  it('signs a quiet chain once the interval has passed, without another record call', async () => {
    const ledger = createMemoryLedger();
    const key = loadOrCreateAuditKey(join(dir, 'k'));
    const recorder = createCheckpointingRecorder(ledger, { key, everyEvents: 1000, everyMs: 100 });
    await recorder.record([input(1)]);
    expect(ledger.events).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(ledger.events.map((e) => e.type)).toEqual(['gateway.request', 'audit.checkpoint']);
    await recorder.close();
    expect(ledger.events).toHaveLength(2);
  });

  it('keeps the batch stored when a checkpoint fails, and signs it with the next one', async () => {
    const ledger = createMemoryLedger();
    const key = loadOrCreateAuditKey(join(dir, 'k'));
    const errors: unknown[] = [];
    const recorder = createCheckpointingRecorder(ledger, { key, everyEvents: 1, everyMs: 3_600_000, onError: (e) => errors.push(e) });
    ledger.failWith(new Error('disk full'), (batch) => batch.some((i) => i.type === 'audit.checkpoint'));
    const stored = await recorder.record([input(1)]);
    expect(stored).toHaveLength(1);
    expect(errors).toHaveLength(1);
    ledger.failWith(undefined);
    await recorder.record([input(2)]);
    const checkpoints = ledger.events.filter((e) => e.type === 'audit.checkpoint');
    expect(checkpoints).toHaveLength(1);
    expect(readCheckpointSignature(checkpoints[0]?.detail)?.seq).toBe(2);
    await recorder.close();
  });
});
