import { newId } from './ids.js';

const PRINTABLE_ID = /^[\x21-\x7e]{1,128}$/;

/** Keeps a client's X-Request-Id when it is printable ASCII of at most 128 chars (DESIGN.md §5). */
export function acceptRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && PRINTABLE_ID.test(value) ? value : undefined;
}

/** The request ID to use: the client's when acceptable, else a new `req_…`. */
export function requestIdFor(value: string | string[] | undefined): string {
  return acceptRequestId(value) ?? newId('request');
}
