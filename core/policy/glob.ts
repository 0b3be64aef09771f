/**
 * Path globs of policy rules.
 *
 * A glob is an absolute path whose segments are literals, `*` (exactly one non-empty segment) or
 * `**` (any number of segments, including none). Matching works on the request path's segments,
 * each percent-decoded exactly once (so `/files/a%20b` and the glob `/files/a b` or `/files/a%20b`
 * match; `%2F` inside a segment stays part of that segment and never splits it).
 *
 * Decisions written down here (and tested in glob.test.ts):
 * - Trailing slash: one trailing slash is ignored on both sides, so `/a/*` matches `/a/x` and
 *   `/a/x/`, `/a` and `/a/` are the same path, and `/a/*` does not match `/a/` (no segment for `*`).
 * - `/a/**` matches `/a`, `/a/` and everything below `/a`; `/**` matches every valid path.
 * - A request path with a `.` or `..` segment (also when percent-encoded, e.g. `%2e%2e`), with
 *   malformed percent-encoding, or not starting with `/` matches no glob at all, not even `/**`.
 * - The query string (from the first `?`) and fragment are not part of the path.
 * - Empty segments in the middle (`/a//b`) are segments: only `**` matches them.
 */

const LITERAL = 0;
const ONE = 1;
const ANY = 2;

/** A compiled glob. */
export interface CompiledGlob {
  readonly source: string;
  /** True for `/**`: every valid path matches. */
  readonly matchesAll: boolean;
  readonly kinds: Uint8Array;
  /** Decoded literal per segment (empty string for wildcards). */
  readonly literals: readonly string[];
}

/** A request path split into decoded segments, or null when it can match nothing. */
export type PathSegments = readonly string[] | null;

/** Why a glob is not valid, or null when it is. */
export function globError(pattern: string): string | null {
  if (pattern.length === 0) return 'a path glob must not be empty; use "/**" for every path';
  if (pattern.length > 1024) return 'a path glob must be at most 1024 characters';
  if (pattern[0] !== '/') return `a path glob must start with "/" (write "/${pattern}")`;
  if (/[?#\\\t\r\n]/.test(pattern)) return 'a path glob must not contain "?", "#", "\\", tabs or line breaks';
  if (pattern === '/') return null;
  for (const raw of globBody(pattern).split('/')) {
    if (raw.length === 0) return 'a path glob must not contain an empty segment ("//")';
    if (raw.includes('*') && raw !== '*' && raw !== '**') {
      return `segment "${raw}" mixes "*" with other characters; "*" and "**" must stand alone as a whole segment`;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return `segment "${raw}" has malformed percent-encoding`;
    }
    if (decoded === '.' || decoded === '..') return 'a path glob must not contain "." or ".." segments';
  }
  return null;
}

/** The glob without its leading slash and one trailing slash. */
function globBody(pattern: string): string {
  return pattern.endsWith('/') ? pattern.slice(1, -1) : pattern.slice(1);
}

/** Compiles a glob (validate with globError first; an invalid glob throws). */
export function compileGlob(pattern: string): CompiledGlob {
  const error = globError(pattern);
  if (error !== null) throw new Error(`invalid path glob "${pattern}": ${error}`);
  const raw = pattern === '/' ? [] : globBody(pattern).split('/');
  const kinds = new Uint8Array(raw.length);
  const literals: string[] = [];
  raw.forEach((segment, i) => {
    if (segment === '**') kinds[i] = ANY;
    else if (segment === '*') kinds[i] = ONE;
    else kinds[i] = LITERAL;
    literals.push(kinds[i] === LITERAL ? decodeURIComponent(segment) : '');
  });
  return { source: pattern, matchesAll: raw.length === 1 && kinds[0] === ANY, kinds, literals };
}

/** Splits a request path into segments decoded once; null when it can match no glob. */
export function pathSegments(path: string): PathSegments {
  if (path.length === 0 || path.charCodeAt(0) !== 47 /* / */) return null;
  let end = path.length;
  const query = path.indexOf('?');
  if (query >= 0) end = query;
  const hash = path.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  if (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  if (end === 1) return [];
  const segments = path.slice(1, end).split('/');
  const encoded = path.indexOf('%') >= 0;
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i] as string;
    if (encoded && segment.indexOf('%') >= 0) {
      try {
        segment = decodeURIComponent(segment);
      } catch {
        return null;
      }
      segments[i] = segment;
    }
    if (segment === '.' || segment === '..') return null;
  }
  return segments;
}

/** Whether a request path can match globs at all, without allocating when it has no `%`. */
export function isMatchablePath(path: string): boolean {
  if (path.length === 0 || path.charCodeAt(0) !== 47) return false;
  let end = path.length;
  for (let i = 0; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
    if (c === 37 /* % */) return pathSegments(path) !== null;
  }
  // Look for a "." or ".." segment: a "/" followed by one or two dots and then "/" or the end.
  for (let i = path.indexOf('/.'); i >= 0 && i < end; i = path.indexOf('/.', i + 1)) {
    const a = i + 2 < end ? path.charCodeAt(i + 2) : 47;
    if (a === 47) return false;
    if (a === 46 /* . */ && (i + 3 >= end || path.charCodeAt(i + 3) === 47)) return false;
  }
  return true;
}

/** scanPath: the path matches no glob (dot segment, not absolute). */
export const UNMATCHABLE = -1;
/** scanPath: the path has percent-encoding; match it through pathSegments. */
export const ENCODED = -2;

/**
 * One pass over a request path for the decision's fast path: its segments' end (pathEnd) when it
 * is matchable and has no percent-encoding, else UNMATCHABLE or ENCODED. Allocates nothing.
 */
export function scanPath(path: string): number {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== 47) return UNMATCHABLE;
  let end = n;
  let segmentStart = 1;
  let dots = 0;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : 47;
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      if ((dots === 1 || dots === 2) && i - segmentStart === dots) return UNMATCHABLE;
      break;
    }
    if (c === 47) {
      if ((dots === 1 || dots === 2) && i - segmentStart === dots) return UNMATCHABLE;
      segmentStart = i + 1;
      dots = 0;
    } else if (c === 46 /* . */) dots++;
    else if (c === 37 /* % */) return ENCODED;
  }
  if (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  return end;
}

/** Where a request path's segments end: before the query or fragment and one trailing slash. */
export function pathEnd(path: string): number {
  let end = path.length;
  const query = path.indexOf('?');
  if (query >= 0) end = query;
  const hash = path.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  if (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  return end;
}

/**
 * Whether a raw request path without percent-encoding matches a compiled glob, reading segment
 * boundaries in place (no allocation). `end` is pathEnd(path); the path must be matchable
 * (isMatchablePath) and contain no `%` (otherwise use pathSegments and matchGlob).
 */
export function matchGlobRaw(glob: CompiledGlob, path: string, end: number): boolean {
  if (glob.matchesAll) return true;
  const { kinds, literals } = glob;
  const g = kinds.length;
  let gi = 0;
  // si: start of the current segment; past `end` once every segment is consumed ("/" has none).
  let si = end === 1 ? 2 : 1;
  let starG = -1;
  let starS = 0;
  while (si <= end) {
    let segEnd = path.indexOf('/', si);
    if (segEnd < 0 || segEnd > end) segEnd = end;
    if (gi < g) {
      const kind = kinds[gi];
      if (kind === ANY) {
        starG = gi++;
        starS = si;
        continue;
      }
      if (kind === ONE ? segEnd > si : segEnd - si === (literals[gi] as string).length && path.startsWith(literals[gi] as string, si)) {
        gi++;
        si = segEnd + 1;
        continue;
      }
    }
    if (starG < 0) return false;
    gi = starG + 1;
    let next = path.indexOf('/', starS);
    if (next < 0 || next > end) next = end;
    si = starS = next + 1;
  }
  while (gi < g && kinds[gi] === ANY) gi++;
  return gi === g;
}

/** Whether decoded request segments match a compiled glob. */
export function matchGlob(glob: CompiledGlob, segments: readonly string[]): boolean {
  if (glob.matchesAll) return true;
  const { kinds, literals } = glob;
  const g = kinds.length;
  const n = segments.length;
  let gi = 0;
  let si = 0;
  // Classic wildcard matching with backtracking to the last `**` (linear for one `**`).
  let starG = -1;
  let starS = 0;
  while (si < n) {
    if (gi < g) {
      const kind = kinds[gi];
      if (kind === ANY) {
        starG = gi++;
        starS = si;
        continue;
      }
      const segment = segments[si] as string;
      if (kind === ONE ? segment.length > 0 : segment === literals[gi]) {
        gi++;
        si++;
        continue;
      }
    }
    if (starG < 0) return false;
    gi = starG + 1;
    si = ++starS;
  }
  while (gi < g && kinds[gi] === ANY) gi++;
  return gi === g;
}
