import { describe, expect, it, vi } from 'vitest';
import { CaracalError } from '../errors.js';
import { createAuditLog, type AuditErrorContext } from './audit-log.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import type { AuditSink } from './sink.js';
import { createMemoryLedger } from './test-support/memory-ledger.js';
import { verifyChains } from './verify.js';

function event(n: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    type: 'gateway.request',
    zone: 'zn_a',
    request_id: `req_${n}`,
    decision: 'allow',
    reason: 'ok',
    detail: { n },
    ...overrides,
  };
}

/** A sink that keeps what it receives. */
function collectingSink(name: string): AuditSink & { received: AuditEvent[]; writes: number; closed: number } {
  const sink = {
    name,
    received: [] as AuditEvent[],
    writes: 0,
    closed: 0,
    write(batch: readonly AuditEvent[]) {
      sink.writes += 1;
      sink.received.push(...batch);
      return Promise.resolve();
    },
    close() {
      sink.closed += 1;
      return Promise.resolve();
    },
  };
  return sink;
}

function errorsOf() {
  const errors: { error: CaracalError; context: AuditErrorContext }[] = [];
  return { errors, onError: (error: CaracalError, context: AuditErrorContext) => errors.push({ error, context }) };
}

const requestIds = (events: readonly AuditEvent[]) => events.map((e) => e.request_id);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `req_${from + i}`);

describe('createAuditLog: batching', () => {
  it('never calls the recorder inside append', () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, batchSize: 10 });
    for (let i = 0; i < 100; i++) log.append(event(i));
    expect(ledger.calls).toEqual([]);
    expect(log.stats().queued).toBe(100);
  });

  it('turns N appends made in one tick into ceil(N / batchSize) recorder calls', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, batchSize: 100 });
    for (let i = 0; i < 1050; i++) log.append(event(i));
    await log.flush();
    expect(ledger.calls).toEqual([...Array<number>(10).fill(100), 50]);
    expect(requestIds(ledger.events)).toEqual(range(0, 1050));
    expect(log.stats()).toMatchObject({ queued: 0, recorded: 1050, dropped: 0 });
  });

  it('commits a partial batch by itself after flushIntervalMs', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, flushIntervalMs: 20 });
    const started = Date.now();
    log.append(event(1));
    log.append(event(2));
    await vi.waitFor(() => expect(ledger.events).toHaveLength(2), { timeout: 1000, interval: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(ledger.calls).toEqual([2]);
  });

  it('commits a full batch without waiting for the interval', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, batchSize: 5, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) log.append(event(i));
    await vi.waitFor(() => expect(ledger.events).toHaveLength(5), { timeout: 1000, interval: 2 });
  });

  it('groups the events that arrive during a commit into the next one', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, flushIntervalMs: 1 });
    ledger.hold();
    log.append(event(0));
    await vi.waitFor(() => expect(ledger.calls).toEqual([1]), { timeout: 1000, interval: 1 });
    for (let i = 1; i <= 50; i++) log.append(event(i));
    ledger.release();
    await log.flush();
    expect(ledger.calls).toEqual([1, 50]);
    expect(requestIds(ledger.events)).toEqual(range(0, 51));
  });

  it('records and delivers everything still queued on close, then closes each sink once', async () => {
    const ledger = createMemoryLedger();
    const sink = collectingSink('copy');
    const log = createAuditLog({ recorder: ledger, sinks: [sink], batchSize: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 1234; i++) log.append(event(i));
    await log.close();
    await log.close();
    expect(requestIds(ledger.events)).toEqual(range(0, 1234));
    expect(sink.received).toEqual(ledger.events);
    expect(sink.closed).toBe(1);
    expect(log.stats()).toMatchObject({ queued: 0, recorded: 1234, dropped: 0 });
  });

  it('keeps order within each zone when zones interleave', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, batchSize: 64 });
    for (let i = 0; i < 1000; i++) log.append(event(i, { zone: i % 3 === 0 ? 'zn_a' : i % 3 === 1 ? 'zn_b' : null }));
    await log.flush();
    for (const zone of ['zn_a', 'zn_b', null]) {
      const ns = ledger.events.filter((e) => e.zone === zone).map((e) => e.detail.n as number);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    expect([...verifyChains(ledger.events).values()].every((r) => r.ok)).toBe(true);
  });

  it('stamps the time at append, not at commit', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger });
    ledger.hold();
    const before = new Date().toISOString();
    log.append(event(1));
    await new Promise((resolve) => setTimeout(resolve, 30));
    ledger.release();
    await log.flush();
    const at = ledger.events[0]?.at ?? '';
    expect(at >= before).toBe(true);
    expect(Date.parse(at) - Date.parse(before)).toBeLessThan(25);
  });

  it.each([
    [{ batchSize: 0 }, /batchSize must be a positive integer/],
    [{ maxQueue: 1.5 }, /maxQueue must be a positive integer/],
    [{ flushIntervalMs: -1 }, /flushIntervalMs must be a number ≥ 0/],
  ])('refuses the option %o', (options, message) => {
    expect(() => createAuditLog({ recorder: createMemoryLedger(), ...options })).toThrow(message);
  });

  it('refuses two sinks with the same name', () => {
    expect(() => createAuditLog({ recorder: createMemoryLedger(), sinks: [collectingSink('x'), collectingSink('x')] })).toThrow(
      /two audit sinks are named "x"/,
    );
  });
});

describe('createAuditLog: redaction', () => {
  it('redacts every event before the recorder or any sink sees it', async () => {
    const seen: AuditEventInput[] = [];
    const ledger = createMemoryLedger();
    const recorder = { record: (inputs: readonly AuditEventInput[]) => (seen.push(...inputs), ledger.record(inputs)) };
    const sinks = [collectingSink('one'), collectingSink('two')];
    const log = createAuditLog({ recorder, sinks });
    log.append(
      event(1, {
        detail: { password: 'hunter2', headers: { authorization: 'Basic YWxpY2U6aHVudGVyMg==' }, note: 'used cs_AAAABBBBCCCCDDDDEEEEFFFF' },
      }),
    );
    await log.close();
    for (const observed of [seen, ledger.events, sinks[0]?.received, sinks[1]?.received]) {
      const text = JSON.stringify(observed);
      expect(text).toContain('[redacted]');
      expect(text).not.toMatch(/hunter2|YWxpY2U6aHVudGVyMg|cs_AAAA/);
    }
  });
});

describe('createAuditLog: isolation', () => {
  it('counts and reports throwing sinks while every other sink gets every event', async () => {
    const { errors, onError } = errorsOf();
    const ledger = createMemoryLedger();
    const good = collectingSink('good');
    const throwsAtOnce: AuditSink = {
      name: 'throws',
      write() {
        throw new Error('sink exploded');
      },
    };
    const rejects: AuditSink = { name: 'rejects', write: () => Promise.reject(new Error('disk full')) };
    const log = createAuditLog({ recorder: ledger, sinks: [throwsAtOnce, rejects, good], onError });
    for (let i = 0; i < 10; i++) log.append(event(i));
    await log.flush();
    expect(good.received).toEqual(ledger.events);
    expect(ledger.events).toHaveLength(10);
    expect(log.stats().sinkFailures).toEqual({ throws: 1, rejects: 1, good: 0 });
    expect(errors.map((e) => [e.error.code, e.context.sink])).toEqual([
      ['CRC_AUDIT_SINK_FAILED', 'throws'],
      ['CRC_AUDIT_SINK_FAILED', 'rejects'],
    ]);
    expect(errors[1]?.error.message).toContain('disk full');
  });

  it('gives up on a hung sink after sinkTimeoutMs, and close still finishes', async () => {
    const { errors, onError } = errorsOf();
    const ledger = createMemoryLedger();
    const good = collectingSink('good');
    let hungClosed = false;
    const hung: AuditSink = {
      name: 'hung',
      write: () => new Promise<void>(() => {}),
      close: () => ((hungClosed = true), Promise.resolve()),
    };
    const log = createAuditLog({ recorder: ledger, sinks: [hung, good], sinkTimeoutMs: 100, closeTimeoutMs: 300, onError });
    for (let i = 0; i < 20; i++) log.append(event(i));
    const started = Date.now();
    await log.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ledger.events).toHaveLength(20);
    expect(good.received).toEqual(ledger.events);
    expect(log.stats().sinkFailures.hung).toBeGreaterThanOrEqual(1);
    expect(hungClosed).toBe(true);
    expect(errors.some((e) => e.context.sink === 'hung' && /no answer within 100 ms/.test(e.error.message))).toBe(true);
  });

  it('does not let a hung sink hold back the recorder', async () => {
    const ledger = createMemoryLedger();
    const hung: AuditSink = { name: 'hung', write: () => new Promise<void>(() => {}) };
    const log = createAuditLog({ recorder: ledger, sinks: [hung], batchSize: 10, sinkTimeoutMs: 60_000 });
    for (let i = 0; i < 100; i++) log.append(event(i));
    await vi.waitFor(() => expect(ledger.events).toHaveLength(100), { timeout: 1000, interval: 2 });
    expect(log.stats().recorded).toBe(100);
  });

  it('keeps events queued in order while the recorder fails, and loses none when it recovers', async () => {
    const { errors, onError } = errorsOf();
    const ledger = createMemoryLedger();
    const sink = collectingSink('copy');
    const log = createAuditLog({ recorder: ledger, sinks: [sink], flushIntervalMs: 1, maxRetryDelayMs: 5, onError });
    ledger.failWith(new Error('database is locked'));
    for (let i = 0; i < 10; i++) log.append(event(i));
    await vi.waitFor(() => expect(log.stats().recorderFailures).toBeGreaterThanOrEqual(4), { timeout: 2000, interval: 2 });
    for (let i = 10; i < 30; i++) log.append(event(i));
    await expect(log.flush()).rejects.toMatchObject({ code: 'CRC_AUDIT_RECORD_FAILED' });
    expect(ledger.events).toHaveLength(0);
    ledger.failWith(undefined);
    await log.flush();
    expect(requestIds(ledger.events)).toEqual(range(0, 30));
    expect(sink.received).toEqual(ledger.events);
    expect(log.stats()).toMatchObject({ queued: 0, recorded: 30, dropped: 0 });
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors.every((e) => e.error.code === 'CRC_AUDIT_RECORD_FAILED' && e.context.source === 'recorder')).toBe(true);
    expect(errors[0]?.error.cause).toMatchObject({ message: 'database is locked' });
    expect([...verifyChains(ledger.events).values()]).toEqual([{ ok: true, count: 30, head: { seq: 30, hash: ledger.events[29]?.hash } }]);
  });

  it('drops only an event the recorder refuses as invalid, at once, keeping the rest in order', async () => {
    const { errors, onError } = errorsOf();
    const ledger = createMemoryLedger();
    ledger.failWith(new CaracalError('CRC_VALIDATION', 'unknown type'), (batch) => batch.some((e) => e.reason === 'poison'));
    const log = createAuditLog({ recorder: ledger, onError });
    for (let i = 0; i < 10; i++) log.append(event(i, i === 4 ? { reason: 'poison' } : {}));
    await log.flush();
    expect(requestIds(ledger.events)).toEqual(range(0, 10).filter((id) => id !== 'req_4'));
    expect(log.stats()).toMatchObject({ recorded: 9, dropped: 1, queued: 0 });
    expect(errors.map((e) => e.error.code)).toEqual(['CRC_AUDIT_RECORD_FAILED', 'CRC_AUDIT_DROPPED']);
  });

  it('after repeated failures, finds and drops an event that fails on its own while later ones succeed', async () => {
    const ledger = createMemoryLedger();
    ledger.failWith(new Error('constraint failed'), (batch) => batch.some((e) => e.reason === 'poison'));
    const log = createAuditLog({ recorder: ledger, flushIntervalMs: 1, maxRetryDelayMs: 5, onError: () => {} });
    for (let i = 0; i < 10; i++) log.append(event(i, i === 0 ? { reason: 'poison' } : {}));
    await vi.waitFor(() => expect(log.stats().recorded).toBe(9), { timeout: 2000, interval: 2 });
    expect(requestIds(ledger.events)).toEqual(range(1, 10));
    expect(log.stats().dropped).toBe(1);
  });

  it('drops new events beyond maxQueue, counts them and reports once', async () => {
    const { errors, onError } = errorsOf();
    const ledger = createMemoryLedger();
    ledger.hold();
    const log = createAuditLog({ recorder: ledger, maxQueue: 10, onError });
    for (let i = 0; i < 15; i++) log.append(event(i));
    expect(log.stats()).toMatchObject({ queued: 10, dropped: 5 });
    expect(errors.map((e) => [e.error.code, e.context.source])).toEqual([['CRC_AUDIT_DROPPED', 'queue']]);
    ledger.release();
    await log.flush();
    expect(requestIds(ledger.events)).toEqual(range(0, 10));
  });

  it('drops and counts events appended after close', async () => {
    const ledger = createMemoryLedger();
    const log = createAuditLog({ recorder: ledger, onError: () => {} });
    log.append(event(1));
    await log.close();
    log.append(event(2));
    log.append(event(3));
    expect(log.stats()).toMatchObject({ recorded: 1, dropped: 2, queued: 0 });
    expect(ledger.events).toHaveLength(1);
  });

  it('gives up on a recorder that never recovers when close times out, reporting what was lost', async () => {
    const { errors, onError } = errorsOf();
    const ledger = createMemoryLedger();
    ledger.failWith(new Error('disk I/O error'));
    const log = createAuditLog({ recorder: ledger, closeTimeoutMs: 100, maxRetryDelayMs: 10, onError });
    for (let i = 0; i < 7; i++) log.append(event(i));
    await log.close();
    expect(log.stats()).toMatchObject({ recorded: 0, dropped: 7, queued: 0 });
    expect(errors.at(-1)?.error).toMatchObject({ code: 'CRC_AUDIT_DROPPED', details: { dropped: 7 } });
  });

  it('survives an onError that throws', async () => {
    const ledger = createMemoryLedger();
    const bad: AuditSink = { name: 'bad', write: () => Promise.reject(new Error('nope')) };
    const log = createAuditLog({
      recorder: ledger,
      sinks: [bad],
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    log.append(event(1));
    await expect(log.flush()).resolves.toBeUndefined();
    expect(log.stats()).toMatchObject({ recorded: 1, sinkFailures: { bad: 1 } });
  });
});
