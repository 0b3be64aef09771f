import type { AuditEvent } from '../../core/audit/event.js';
import { followAuditStream } from '../../core/control/sse.js';
import { auditColumns, auditQuery, createAuditPager, endsInPast, formatAuditFilter, parseAuditFilter, type AuditFilters, type AuditPage, type AuditPager } from '../models/audit.js';
import type { AppContext, View, ViewFactory } from '../view.js';
import { createTable, type Table } from '../widgets/table.js';

const PAGE_SIZE = 200;

/**
 * Audit: the zone's events newest first, paged with the API cursor (only a few pages in memory,
 * so 100,000 rows scroll like 100), a live tail over `GET /v1/audit/stream` with pause/resume,
 * decision colors, the `/` filter line (decision, type, app, resource, request_id, since, until), and
 * Enter to explain the selected request.
 */
export const auditView: ViewFactory = {
  id: 'audit',
  title: 'Audit',
  summary: 'audit events: live tail, filters, Enter explains',
  aliases: ['log', 'events'],
  goKey: 'u',
  needsZone: true,
  create(ctx: AppContext): View {
    let filters: AuditFilters = ctx.prefs.auditFilters();
    let table: Table<AuditEvent> | undefined;
    let pager: AuditPager | undefined;
    let paused = false;
    let pending: AuditEvent[] = [];
    let stream: AbortController | undefined;
    let generation = 0;

    const zone = () => ctx.zone()?.id;
    // A list that ends at an `until` already past can show nothing new: it is not followed live.
    const live = () => !endsInPast(filters, Date.now());
    const fetchWindow = () => {
      const mine = generation;
      const current = pager;
      if (table === undefined || current === undefined) return;
      const { from, height } = table.window();
      void current.ensure(from, height).then(
        (changed) => {
          if (changed && mine === generation) {
            table?.setSource(pagerSource(current));
            ctx.render();
          }
        },
        (error: unknown) => ctx.status.error(error),
      );
    };
    const reload = () => {
      generation++;
      const mine = generation;
      pager = createAuditPager(
        (cursor) =>
          ctx.client.request<AuditPage>('GET', '/v1/audit', { query: { ...auditQuery(zone(), filters), limit: PAGE_SIZE, cursor } }),
        { pageSize: PAGE_SIZE },
      );
      table?.setEmpty(formatAuditFilter(filters) === '' ? 'no audit events in this zone yet' : 'no event matches the filter (/ changes it)');
      table?.setSource(pagerSource(pager));
      const current = pager;
      void ctx.task('loading audit events', () => current.ensure(0, 50)).then(() => {
        if (mine !== generation || table === undefined) return;
        table.setSource(pagerSource(current));
        ctx.render();
      });
      if (live()) startTail(mine);
      else stream?.abort();
    };

    function startTail(mine: number): void {
      stream?.abort();
      const controller = new AbortController();
      stream = controller;
      const query = { ...auditQuery(zone(), filters), backlog: 0 };
      const open = (lastEventId: string | undefined) =>
        ctx.client.stream('/v1/audit/stream', { query, accept: 'text/event-stream', signal: controller.signal, ...(lastEventId === undefined ? {} : { lastEventId }) });
      void (async () => {
        try {
          // A dropped stream resumes where it stopped, so the live list misses nothing.
          const batches = followAuditStream(open, {
            signal: controller.signal,
            onDrop: () => {
              if (mine === generation) ctx.status.info('live tail: the stream dropped; reconnecting…');
            },
            onResume: () => {
              if (mine === generation) ctx.status.info('live tail resumed');
            },
          });
          for await (const batch of batches) if (mine === generation) receive(batch);
        } catch (error) {
          if (!controller.signal.aborted && mine === generation) ctx.status.error(error);
        }
      })();
    }

    function receive(events: readonly AuditEvent[]): void {
      if (paused) {
        pending.push(...events);
        ctx.status.info(`paused: ${pending.length} new event${pending.length === 1 ? '' : 's'} waiting (p resumes)`);
        return;
      }
      if (pager === undefined || table === undefined) return;
      const added = pager.prepend(events);
      if (added > 0) {
        table.setSource(pagerSource(pager));
        ctx.render();
      }
    }

    const setFilters = (next: AuditFilters) => {
      filters = next;
      ctx.prefs.setAuditFilters(next);
      reload();
    };

    return {
      title: () => {
        const line = formatAuditFilter(filters);
        return `Audit${!live() ? '' : paused ? ' (paused)' : ' (live)'}${line === '' ? '' : ` /${line}`}`;
      },
      keys: () => [
        {
          keys: ['enter'],
          label: 'explain',
          help: 'Explain the selected request (what happened, and what to fix).',
          disabled: () => (table?.selected() === undefined ? 'no event selected' : undefined),
          run: () => {
            const event = table?.selected();
            if (event !== undefined) ctx.push('explain', { requestId: event.request_id });
          },
        },
        {
          keys: ['p'],
          label: paused ? 'resume' : 'pause',
          help: 'Pause the live tail (new events wait) or resume it (they appear on top).',
          disabled: () => (live() ? undefined : 'the list ends at "until", which is past: nothing new appears (clear until to follow it live)'),
          run: () => {
            paused = !paused;
            if (!paused && pending.length > 0) {
              const waiting = pending;
              pending = [];
              receive(waiting);
            }
            ctx.status.info(paused ? 'live tail paused' : 'live tail resumed');
            ctx.rebind();
          },
        },
        {
          keys: ['d'],
          label: 'denied only',
          help: 'Show only denied requests, or all again.',
          run: () => setFilters(filters.decision === 'deny' ? withoutKey(filters, 'decision') : { ...filters, decision: 'deny' }),
        },
        {
          keys: ['x'],
          label: 'clear filters',
          help: 'Clear every filter.',
          hint: false,
          disabled: () => (formatAuditFilter(filters) === '' ? 'no filter is set' : undefined),
          run: () => setFilters({}),
        },
        ...(table?.navigation() ?? []).map((binding) => ({ ...binding, run: () => {
          void binding.run();
          fetchWindow();
        } })),
      ],
      mount(body) {
        table = createTable<AuditEvent>(body, auditColumns, { empty: 'loading…' });
        reload();
      },
      unmount() {
        generation++;
        stream?.abort();
        table = undefined;
      },
      refresh: reload,
      resize() {
        table?.draw();
        fetchWindow();
      },
      filter(text) {
        const parsed = parseAuditFilter(text);
        if ('error' in parsed) {
          ctx.status.error(new Error(parsed.error));
          return;
        }
        setFilters(parsed.filters);
      },
      filterText: () => formatAuditFilter(filters),
    };
  },
};

/**
 * The table's rows: the events known so far and, while older pages exist, one "loading…" row
 * after them, so a key pressed at the edge while the next page loads still moves the selection.
 */
function pagerSource(pager: AuditPager): { count: () => number; row: (i: number) => AuditEvent | undefined } {
  return { count: () => pager.count() + (pager.more() ? 1 : 0), row: (i) => pager.row(i) };
}

function withoutKey(filters: AuditFilters, key: keyof AuditFilters): AuditFilters {
  const copy: Record<string, string | undefined> = { ...filters };
  delete copy[key];
  return copy;
}
