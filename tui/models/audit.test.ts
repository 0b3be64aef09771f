import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../core/audit/event.js';
import { layoutColumns } from './columns.js';
import { cleanAuditFilters } from '../prefs.js';
import { auditColumns, auditQuery, callText, createAuditPager, endsInPast, decisionColor, formatAuditFilter, parseAuditFilter, type AuditPage } from './audit.js';

function event(n: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `evt_${String(n).padStart(8, '0')}`, seq: n, at: '2026-01-02T03:04:05.678Z', zone: 'zn_1', request_id: `req_${n}`, type: 'gateway.request',
    app: 'app_1', resource: 'resource://billing-api', scopes: [], decision: 'allow', reason: 'ok', category: null, policy: null,
    http: { method: 'GET', path: '/invoices', status: 200, upstream_status: 200, latency_ms: 1 }, token: null, detail: {}, prev_hash: '', hash: '',
    ...extra,
  };
}

/** A cursor-paged list over `total` events, newest first, counting the requests it answered. */
function source(total: number) {
  let requests = 0;
  const fetchPage = (cursor: string | undefined): Promise<AuditPage> => {
    requests++;
    const start = cursor === undefined ? 0 : Number(cursor);
    const items = Array.from({ length: Math.max(0, Math.min(200, total - start)) }, (_, i) => event(total - start - i));
    return Promise.resolve({ items, next_cursor: start + 200 < total ? String(start + 200) : null });
  };
  return { fetchPage, requests: () => requests };
}

describe('audit filter line', () => {
  it('reads key:value words and bare words that can mean one thing only', () => {
    expect(parseAuditFilter('deny gateway.request req_01ABC 15m app_01X resource://billing-api')).toEqual({
      filters: { decision: 'deny', type: 'gateway.request', request_id: 'req_01ABC', since: '15m', app: 'app_01X', resource: 'resource://billing-api' },
    });
    expect(parseAuditFilter('decision:error req:my-id res:billing-api')).toEqual({ filters: { decision: 'error', request_id: 'my-id', resource: 'billing-api' } });
    expect(parseAuditFilter('')).toEqual({ filters: {} });
  });

  it.each([
    ['colour:red', /unknown filter "colour"/],
    ['decision:maybe', /decision is allow, deny or error/],
    ['type:token.minted', /type is one of/],
    ['hello', /"hello" is not a filter/],
    ['app:', /app needs a value/],
  ])('%j is refused', (line, message) => {
    const parsed = parseAuditFilter(line);
    expect('error' in parsed && parsed.error).toMatch(message);
  });

  it('formats filters back into a line that parses to the same filters', () => {
    const filters = { decision: 'deny', app: 'app_1', since: '2h' } as const;
    expect(parseAuditFilter(formatAuditFilter(filters))).toEqual({ filters });
  });

  it('reads an until time (relative or ISO), alone or with since, and it survives the round trip and the prefs', () => {
    expect(parseAuditFilter('until:1h deny')).toEqual({ filters: { until: '1h', decision: 'deny' } });
    const window = { since: '2025-01-31T12:00:00Z', until: '2025-01-31T13:00:00Z' };
    expect(parseAuditFilter(`since:${window.since} until:${window.until}`)).toEqual({ filters: window });
    expect(parseAuditFilter(formatAuditFilter({ since: '2h', until: '30m' }))).toEqual({ filters: { since: '2h', until: '30m' } });
    expect(cleanAuditFilters({ until: '30m' })).toEqual({ until: '30m' });
    expect(auditQuery('zn_1', { until: '30m' })).toEqual({ zone: 'zn_1', until: '30m' });
  });

  it.each([
    ['until:yesterday', /until must be a relative age like 15m, 2h or 7d, or an ISO-8601 time/],
    ['since:soon', /since must be a relative age/],
    ['since:1h until:2h', /since \(.*\) must be before until/],
  ])('%j is refused with the API\'s time message', (line, message) => {
    const parsed = parseAuditFilter(line);
    expect('error' in parsed && parsed.error).toMatch(message);
  });
});

describe('audit rows', () => {
  it('colors allow green, allowed-but-upstream-failed yellow, deny and error red', () => {
    expect(decisionColor({ decision: 'allow', category: null })).toBe('green');
    expect(decisionColor({ decision: 'allow', category: 'upstream' })).toBe('yellow');
    expect(decisionColor({ decision: 'deny', category: 'policy' })).toBe('red');
    expect(decisionColor({ decision: 'error', category: 'upstream' })).toBe('red');
  });

  it('keeps decision, request ID, time, call and reason at 80 columns; shows every column at 200', () => {
    const narrow = layoutColumns(auditColumns, 78);
    const shown = auditColumns.filter((_, i) => (narrow[i] ?? 0) > 0).map((c) => c.title);
    expect(shown).toEqual(['time', 'dec.', 'request id', 'call', 'reason']);
    expect(layoutColumns(auditColumns, 198).every((w) => w > 0)).toBe(true);
    expect(callText(event(1))).toBe('GET /invoices 200');
    expect(callText(event(1, { type: 'token.issued', http: null }))).toBe('token.issued');
  });
});

describe('endsInPast', () => {
  const now = Date.parse('2030-01-01T12:00:00.000Z');
  it('is true only for an until already past (a list that can take no new event)', () => {
    expect(endsInPast({}, now)).toBe(false);
    expect(endsInPast({ until: '5m' }, now)).toBe(true);
    expect(endsInPast({ until: '2030-01-01T11:00:00Z' }, now)).toBe(true);
    expect(endsInPast({ until: '2030-01-01T13:00:00Z' }, now)).toBe(false);
    expect(endsInPast({ until: 'garbage' }, now)).toBe(false);
  });
});

describe('audit pager', () => {
  it('walks 100,000 rows page by page while holding only a few pages in memory', async () => {
    const list = source(100_000);
    const pager = createAuditPager(list.fetchPage, { pageSize: 200, keep: 6 });
    await pager.ensure(0, 20);
    expect(pager.row(0)?.seq).toBe(100_000);
    // Scroll down as End/PgDn would: never past the rows known so far.
    let from = 0;
    while (pager.more() || from < pager.count() - 20) {
      await pager.ensure(from, 20);
      from = Math.min(from + 180, pager.count() - 1);
    }
    expect(pager.count()).toBe(100_000);
    expect(pager.more()).toBe(false);
    expect(pager.row(99_999)?.seq).toBe(1);
    expect(pager.resident()).toBeLessThanOrEqual(7);
    expect(pager.row(0)).toBeUndefined();
    // Going back fetches the dropped page again by its cursor.
    await pager.ensure(0, 20);
    expect(pager.row(0)?.seq).toBe(100_000);
    expect(list.requests()).toBeLessThan(1000);
  });

  it('fetches the next page once scrolling comes within half a page of the end, not at the edge', async () => {
    const list = source(1000);
    const pager = createAuditPager(list.fetchPage, { pageSize: 200 });
    await pager.ensure(0, 20);
    expect(pager.count()).toBe(200);
    expect(await pager.ensure(70, 20)).toBe(false);
    expect(pager.count()).toBe(200);
    // Rows 80…100 in view: 100 rows (half a page) before the end, the next page is fetched.
    expect(await pager.ensure(80, 20)).toBe(true);
    expect(pager.count()).toBe(400);
  });

  it('knows no more rows when the first page failed to load (so no endless "loading…" row)', async () => {
    const pager = createAuditPager(() => Promise.reject(new Error('control plane down')), { pageSize: 200 });
    expect(pager.more()).toBe(true);
    await expect(pager.ensure(0, 20)).rejects.toThrow('control plane down');
    expect(pager.more()).toBe(false);
    expect(pager.count()).toBe(0);
  });

  it('puts live events on top, newest first, once each', async () => {
    const pager = createAuditPager(source(3).fetchPage, { pageSize: 200 });
    await pager.ensure(0, 10);
    expect(pager.prepend([event(3), event(4), event(5)])).toBe(2);
    expect(pager.prepend([event(5)])).toBe(0);
    expect([0, 1, 2, 3, 4].map((i) => pager.row(i)?.seq)).toEqual([5, 4, 3, 2, 1]);
  });
});
