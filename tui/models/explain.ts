import type { Explanation } from '../../core/audit/explain.js';
import { renderExplanation } from '../../core/audit/explain-render.js';
import { color, esc } from '../tags.js';
import { callText, decisionColor } from './audit.js';

/**
 * The Explain view's content: the same narrative `caracal explain` prints (core/audit/explain-render.ts,
 * so the two never disagree), colored with blessed tags, then — where the screen is wide enough to
 * read them on one line each — the request's audit events as a timeline.
 */

const OPEN = '\u0001';
const MID = '\u0002';
const CLOSE = '\u0003';

/** renderExplanation's painter, as markers that survive escaping and then become tags. */
export function marker(name: string, text: string): string {
  return `${OPEN}${name}${MID}${text}${CLOSE}`;
}

/** Turns the painter's markers into blessed tags, everything else escaped. */
export function markersToTags(text: string): string {
  return esc(text).replace(new RegExp(`${OPEN}(\\w+)${MID}([^${CLOSE}]*)${CLOSE}`, 'g'), (_all, name: string, inner: string) =>
    name === 'bold' ? `{bold}${inner}{/bold}` : `{${name}-fg}${inner}{/${name}-fg}`,
  );
}

/** The explanation as tagged lines for a screen `width` columns wide. */
export function explainScreen(explanation: Explanation, width: number): string {
  const lines = [markersToTags(renderExplanation(explanation, marker).trimEnd())];
  if (explanation.events.length > 0 && width >= 60) {
    lines.push('', `  {bold}events of this request{/bold} ${color('gray', '(oldest first)')}`);
    for (const event of explanation.events) {
      const at = event.at.slice(11, 23);
      lines.push(`  ${color('gray', at)}  ${color(decisionColor(event), esc(event.decision.padEnd(5)))}  ${esc(event.type.padEnd(15))}  ${esc(callText(event))}  ${color('gray', esc(event.reason))}`);
    }
  }
  return lines.join('\n');
}
