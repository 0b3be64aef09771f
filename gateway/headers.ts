/**
 * Header hygiene (DESIGN.md §5). Never forwarded upstream: `Authorization` (replaced only by a
 * provider credential), every `X-Caracal-*`, hop-by-hop headers (RFC 9110 §7.6.1) and those named
 * in `Connection`, `Proxy-*`, `Forwarded`, `X-Forwarded-*`, `X-Real-IP`, `Host` (the upstream's own
 * is set by the client) and `Expect` (undici does not speak 100-continue), and the headers an
 * `identify` plugin said carried the caller's credential (`X-Api-Key`). Then `X-Forwarded-For`,
 * `-Proto`, `-Host` and `X-Request-Id` are set fresh, so no stripping can remove them.
 */

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'authorization',
  'forwarded',
  'x-real-ip',
  'x-request-id',
]);

/** Whether a request header (lower-case name) must never reach the upstream. */
export function isStrippedRequestHeader(lowerName: string): boolean {
  return (
    HOP_BY_HOP.has(lowerName) ||
    lowerName.startsWith('x-caracal-') ||
    lowerName.startsWith('proxy-') ||
    lowerName.startsWith('x-forwarded-')
  );
}

export interface ForwardingFacts {
  readonly requestId: string;
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The Host the client sent to the Gateway. */
  readonly host: string;
}

/**
 * Builds the upstream request headers as a flat [name, value, …] list from Node's rawHeaders,
 * dropping what must not travel (and `credentialHeaders`, lower-case names) and adding the
 * forwarding headers.
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[], facts: ForwardingFacts, credentialHeaders: readonly string[] | null = null): string[] {
  const named = connectionNamed(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (isStrippedRequestHeader(lower) || (named !== null && named.has(lower)) || (credentialHeaders !== null && credentialHeaders.includes(lower))) continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  out.push('x-forwarded-for', facts.clientIp, 'x-forwarded-proto', facts.proto, 'x-request-id', facts.requestId);
  if (facts.host !== '') out.push('x-forwarded-host', facts.host);
  return out;
}

/**
 * The outgoing headers as `prepareUpstream` plugins see them (`upstream.headers`): one entry per
 * lower-case name. Repeated lines are joined with ", " (RFC 9110 §5.3: a list-based field means the
 * same as one line holding its values comma-separated), Cookie lines with "; " (RFC 9113 §8.2.3),
 * as Node joins `req.headers`; like `req.headers` it has no prototype, so any header name is an
 * ordinary key. The lines themselves are kept: see {@link editedHeaderLines}.
 */
export function headerRecord(flat: readonly string[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (let i = 0; i < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase();
    const value = flat[i + 1] as string;
    out[name] = Object.hasOwn(out, name) ? `${out[name] as string}${name === 'cookie' ? '; ' : ', '}${value}` : value;
  }
  return out;
}

/**
 * The outgoing header lines after plugins edited the record {@link headerRecord} made of `flat`. A
 * header whose value they left as it was goes out as the original lines (names, order and
 * repeated lines as the client sent them: joining is only the plugins' view, and not every
 * field is a list); a changed one as one line with the new value, where its first line was; a
 * deleted one (or one set to undefined) not at all; an added one at the end, in record order.
 */
export function editedHeaderLines(flat: readonly string[], edited: Readonly<Record<string, string | undefined>>): string[] {
  const before = headerRecord(flat);
  const out: string[] = [];
  const replaced = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    const lower = name.toLowerCase();
    const value = Object.hasOwn(edited, lower) ? edited[lower] : undefined;
    if (value === undefined) continue;
    if (value === before[lower]) {
      out.push(name, flat[i + 1] as string);
    } else if (!replaced.has(lower)) {
      replaced.add(lower);
      out.push(lower, value);
    }
  }
  for (const [name, value] of Object.entries(edited)) {
    if (value !== undefined && !Object.hasOwn(before, name)) out.push(name, value);
  }
  return out;
}

const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer', 'x-request-id']);

/**
 * Builds the response headers for the client from the upstream's raw headers: hop-by-hop removed,
 * `X-Request-Id` set to the Gateway's. Redirects pass through untouched (never followed).
 */
export function clientResponseHeaders(rawHeaders: readonly (Buffer | string)[], requestId: string): string[] {
  const out: string[] = [];
  let named: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (String(rawHeaders[i]).toLowerCase() === 'connection') {
      named ??= new Set();
      for (const token of String(rawHeaders[i + 1]).split(',')) named.add(token.trim().toLowerCase());
    }
  }
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]);
    const lower = name.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    out.push(name, String(rawHeaders[i + 1]));
  }
  out.push('x-request-id', requestId);
  return out;
}

function connectionNamed(rawHeaders: readonly string[]): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    named ??= new Set();
    for (const token of (rawHeaders[i + 1] as string).split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') named.add(t);
    }
  }
  return named;
}
