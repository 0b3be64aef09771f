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
