import type { ViewParams } from '../view.js';

/**
 * Where the console goes once a zone is picked, when Zones was opened on the way to a view that
 * needs one (DESIGN.md §10): the shell opens Zones with these params instead of the view asked
 * for, and Zones opens that view (with its own params) in its place once a zone is chosen.
 */

const VIEW = 'then';
const PARAM = 'then.';

/** The params Zones is opened with on the way to `viewId` (opened with `params`). */
export function returnParams(viewId: string, params: ViewParams): ViewParams {
  return { [VIEW]: viewId, ...Object.fromEntries(Object.entries(params).map(([key, value]) => [`${PARAM}${key}`, value])) };
}

/** The view (and its params) Zones should open once a zone is chosen, if it was opened on the way to one. */
export function returnTarget(params: ViewParams): { readonly viewId: string; readonly params: ViewParams } | undefined {
  const viewId = params[VIEW];
  if (viewId === undefined || viewId === '' || viewId === 'zones') return undefined;
  const own = Object.entries(params).filter(([key]) => key.startsWith(PARAM)).map(([key, value]) => [key.slice(PARAM.length), value]);
  return { viewId, params: Object.fromEntries(own) as ViewParams };
}
