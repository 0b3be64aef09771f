import type { AuditEvent } from '../../core/audit/event.js';
import { color, esc } from '../tags.js';
import { decisionColor } from './audit.js';

/** One entry of Home's menu: a view to open, with why it is there. */
export interface HomeAction {
  readonly viewId: string;
  readonly title: string;
  readonly summary: string;
}

/**
 * Home's menu: every listed view, with the guided setup first when it exists and the zone has no
 * app yet (or there is no zone): the first thing a new user should do.
 */
export function homeActions(views: readonly { id: string; title: string; summary: string; listed?: boolean | undefined }[], appCount: number | undefined): HomeAction[] {
  const listed = views.filter((v) => v.listed !== false && v.id !== 'home').map((v) => ({ viewId: v.id, title: v.title, summary: v.summary }));
  const setup = listed.find((a) => a.viewId === 'setup');
  if (setup === undefined) return listed;
  const rest = listed.filter((a) => a !== setup);
  return appCount === 0 || appCount === undefined ? [{ ...setup, summary: `start here: ${setup.summary}` }, ...rest] : [...rest, setup];
}

/** A count for Home with its noun (`1 app`, `3 apps`, `500+ apps` when the first page was full). */
export function countText(count: number | undefined, more: boolean, singular: string, plural = `${singular}s`): string {
  if (count === undefined) return `? ${plural}`;
  return `${more ? `${count}+` : count} ${count === 1 && !more ? singular : plural}`;
}

/** One recent decision: time, decision (colored), request ID, what was called, reason. */
export function recentLine(event: AuditEvent, width: number): string {
  const call = event.http === null ? event.type : `${event.http.method} ${event.http.path}`;
  const room = Math.max(0, width - 9 - 6 - event.request_id.length - 4);
  const tail = `${call} · ${event.reason}`;
  return `${color('gray', esc(event.at.slice(11, 19)))} ${color(decisionColor(event), esc(event.decision.padEnd(5)))} ${esc(event.request_id)}  ${esc(tail.length > room ? `${tail.slice(0, Math.max(0, room - 1))}…` : tail)}`;
}
