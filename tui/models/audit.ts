import { auditEventTypes, type AuditEvent } from '../../core/audit/event.js';
import { parseTimePoint, parseTimeRange } from '../../core/audit/time-range.js';
import { toCaracalError } from '../../core/errors.js';
import type { AuditFilterPrefs } from '../prefs.js';
import type { Column } from './columns.js';

/**
 * The Audit view's model (pure): the filter line, the table columns with decision coloring, and a
 * pager that walks a cursor-paged list of any length while holding only a few pages in memory.
 */

export type AuditFilters = AuditFilterPrefs;

const FILTER_KEYS = ['decision', 'type', 'app', 'resource', 'request_id', 'since', 'until'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
const KEY_ALIASES: Readonly<Record<string, FilterKey>> = { req: 'request_id', request: 'request_id', 'request-id': 'request_id', id: 'request_id', res: 'resource' };

/**
 * Parses the audit filter line: `key:value` words (decision, type, app, resource, request_id,
 * since, until), or bare words that can only mean one thing (`deny`, `gateway.request`, `req_…`,
 * `15m` — a bare age is `since`). Times are checked as the API reads them, and an empty window refused.
 */
export function parseAuditFilter(line: string): { filters: AuditFilters } | { error: string } {
  const out: Record<string, string> = {};
  for (const word of line.trim().split(/\s+/).filter((w) => w !== '')) {
    const colon = word.indexOf(':');
    let key: FilterKey | undefined;
    let value = word;
    if (colon > 0 && !word.startsWith('resource://')) {
      const name = word.slice(0, colon).toLowerCase();
      key = (FILTER_KEYS as readonly string[]).includes(name) ? (name as FilterKey) : KEY_ALIASES[name];
      if (key === undefined) return { error: `unknown filter "${name}": use ${FILTER_KEYS.join(', ')}` };
      value = word.slice(colon + 1);
    } else if (/^(allow|deny|error)$/.test(word)) key = 'decision';
    else if ((auditEventTypes as readonly string[]).includes(word)) key = 'type';
    else if (/^req_/.test(word)) key = 'request_id';
    else if (/^[0-9]+[smhd]$/.test(word)) key = 'since';
    else if (/^app_/.test(word)) key = 'app';
    else if (/^resource:\/\//.test(word)) key = 'resource';
    else return { error: `"${word}" is not a filter: write key:value (${FILTER_KEYS.join(', ')})` };
    if (value === '') return { error: `${key} needs a value` };
    if (key === 'decision' && !/^(allow|deny|error)$/.test(value)) return { error: 'decision is allow, deny or error' };
    if (key === 'type' && !(auditEventTypes as readonly string[]).includes(value)) return { error: `type is one of ${auditEventTypes.join(', ')}` };
    out[key] = value;
  }
  try {
    parseTimeRange({ since: out.since, until: out.until });
  } catch (error) {
    return { error: toCaracalError(error).message.replace(/--(since|until)\b/g, '$1') };
  }
  return { filters: out };
}

/** Whether the filters end the list at an `until` that is already past (so nothing new can join it). */
export function endsInPast(filters: AuditFilters, now: number): boolean {
  if (filters.until === undefined) return false;
  try {
    return Date.parse(parseTimePoint(filters.until, 'until', now)) <= now;
  } catch {
    return false;
  }
}

/** The filter line that parses back to `filters`. */
export function formatAuditFilter(filters: AuditFilters): string {
  return FILTER_KEYS.filter((k) => filters[k] !== undefined).map((k) => `${k}:${filters[k] ?? ''}`).join(' ');
}

/** The query of `GET /v1/audit` and `/v1/audit/stream` for the filters within a zone. */
export function auditQuery(zone: string | undefined, filters: AuditFilters): Record<string, string | undefined> {
  return { zone, ...filters };
}

/** The tag color of an event's decision: green allow, yellow allowed-but-failed-upstream, red deny/error. */
export function decisionColor(event: Pick<AuditEvent, 'decision' | 'category'>): 'green' | 'yellow' | 'red' {
  if (event.decision === 'allow') return event.category === null ? 'green' : 'yellow';
  return 'red';
}

/** What was called: `GET /path 200`, or the event type when it was not an HTTP call. */
export function callText(event: AuditEvent): string {
  if (event.http === null) return event.type;
  return `${event.http.method} ${event.http.path}${event.http.status === null ? '' : ` ${event.http.status}`}`;
}

/** The audit table: at 80 columns time, decision, request ID, call and reason stay; date, app, type and resource go first. */
export const auditColumns: readonly Column<AuditEvent>[] = [
  { title: 'date', width: 10, priority: 6, text: (e) => e.at.slice(0, 10) },
  { title: 'time', width: 8, priority: 1, text: (e) => e.at.slice(11, 19) },
  { title: 'dec.', width: 6, priority: 0, text: (e) => e.decision, color: decisionColor },
  { title: 'request id', width: 30, priority: 0, text: (e) => e.request_id },
  { title: 'type', width: 16, priority: 4, text: (e) => e.type },
  { title: 'app', width: 30, priority: 5, text: (e) => e.app ?? '-' },
  { title: 'resource', width: 28, priority: 3, text: (e) => e.resource ?? '-' },
  { title: 'call', width: 40, flex: true, min: 10, priority: 2, text: callText },
  { title: 'reason', width: 18, priority: 2, text: (e) => e.reason },
];

/** One page of the audit list as the API returns it. */
export interface AuditPage {
  readonly items: readonly AuditEvent[];
  readonly next_cursor: string | null;
}

/** Rows of a cursor-paged list, newest first, with live events prepended. */
export interface AuditPager {
  /** Rows known so far (live + fetched pages). */
  count(): number;
  /** Whether the API has rows beyond `count()`. */
  more(): boolean;
  /** The row at `index`, or undefined while its page is not in memory (drawn as "loading"). */
  row(index: number): AuditEvent | undefined;
  /** Fetches what rows `from`…`from + height` need (and the next page near the end); resolves true when rows changed. */
  ensure(from: number, height: number): Promise<boolean>;
  /** Adds live events at the top (newest first after them); returns how many were new. */
  prepend(events: readonly AuditEvent[]): number;
  /** How many pages hold their rows in memory now (for tests and the bench). */
  resident(): number;
}

interface PageSlot {
  /** The cursor that fetches this page (undefined for the first). */
  readonly cursor: string | undefined;
  items: readonly AuditEvent[] | undefined;
  /** Known once fetched; stays known after the rows are dropped. */
  size: number;
  next: string | null;
}

/** Creates a pager over `fetchPage`; at most `keep` pages around the last one read stay in memory. */
export function createAuditPager(fetchPage: (cursor: string | undefined) => Promise<AuditPage>, options: { pageSize: number; keep?: number; liveMax?: number }): AuditPager {
  const keep = options.keep ?? 6;
  const liveMax = options.liveMax ?? 1000;
  const slots: PageSlot[] = [];
  let live: AuditEvent[] = [];
  const inFlight = new Map<number, Promise<void>>();
  let firstFailed = false;

  const pagedCount = () => slots.reduce((sum, s) => sum + s.size, 0);
  const locate = (index: number): { slot: number; at: number } | undefined => {
    let rest = index - live.length;
    for (let i = 0; i < slots.length; i++) {
      const size = (slots[i] as PageSlot).size;
      if (rest < size) return { slot: i, at: rest };
      rest -= size;
    }
    return undefined;
  };

  function load(slot: number): Promise<void> {
    const running = inFlight.get(slot);
    if (running !== undefined) return running;
    const cursor = slot === 0 ? undefined : slots[slot - 1]?.next ?? undefined;
    if (slot > 0 && cursor === undefined) return Promise.resolve();
    const work = fetchPage(cursor)
      .then((page) => {
        const existing = slots[slot];
        if (existing === undefined) slots[slot] = { cursor, items: page.items, size: page.items.length, next: page.next_cursor };
        else {
          existing.items = page.items;
          existing.size = page.items.length;
          existing.next = page.next_cursor;
        }
        // Drop the rows of pages far from this one; their cursors stay, so they can be fetched again.
        for (let i = 0; i < slots.length; i++) {
          const s = slots[i] as PageSlot;
          if (Math.abs(i - slot) > keep / 2 && s.items !== undefined) s.items = undefined;
        }
      })
      .catch((error: unknown) => {
        if (slot === 0) firstFailed = true;
        throw error;
      })
      .finally(() => inFlight.delete(slot));
    inFlight.set(slot, work);
    return work;
  }

  return {
    count: () => live.length + pagedCount(),
    // Before the first page: more, unless loading it failed (then nothing is known to come).
    more: () => (slots.length === 0 ? !firstFailed : (slots.at(-1) as PageSlot).next !== null),
    row(index) {
      if (index < live.length) return live[index];
      const where = locate(index);
      return where === undefined ? undefined : slots[where.slot]?.items?.[where.at];
    },
    async ensure(from, height) {
      const needed = new Set<number>();
      if (slots.length === 0) needed.add(0);
      for (let i = Math.max(0, from); i <= from + height; i++) {
        const where = locate(i);
        if (where !== undefined && slots[where.slot]?.items === undefined) needed.add(where.slot);
      }
      // Within half a page of the end of what is known, fetch the next page: it arrives before a
      // few quick PgDn reach the edge (a key pressed at the edge while the page loads does nothing).
      const ahead = height + Math.ceil(options.pageSize / 2);
      if (slots.length > 0 && from + ahead >= live.length + pagedCount() && (slots.at(-1) as PageSlot).next !== null) needed.add(slots.length);
      if (needed.size === 0) return false;
      await Promise.all([...needed].map(load));
      return true;
    },
    prepend(events) {
      const seen = new Set([...live.map((e) => e.id), ...(slots[0]?.items ?? []).map((e) => e.id)]);
      const fresh = events.filter((e) => !seen.has(e.id));
      live = [...fresh.slice().reverse(), ...live].slice(0, liveMax);
      return fresh.length;
    },
    resident: () => slots.filter((s) => s.items !== undefined).length,
  };
}
