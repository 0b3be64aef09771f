/**
 * Request-target checks (DESIGN.md §5): only origin-form paths are proxied; dot segments, encoded
 * dot segments, encoded separators (%2F, %5C), malformed escapes and backslashes are refused rather than normalised,
 * so the Gateway's policy view of a path is always the upstream's view of it.
 */

export interface SplitTarget {
  /** The path as sent (still percent-encoded). */
  readonly path: string;
  /** The query string including `?`, or ''. */
  readonly search: string;
}

// Encoded dot, slash, backslash, NUL, and malformed escapes ("%zz", a trailing "%"; escapes that
// are not UTF-8 are caught by decodesAsUtf8): the policy engine decodes each segment once and
// would deny those as path_not_allowed, blaming the policy for what is a malformed request.
const ENCODED_FORBIDDEN = /%(?:2e|2f|5c|00|(?![0-9a-f]{2}))/i;

/** Splits and checks a request target; returns undefined when it must be refused. */
export function checkTarget(target: string): SplitTarget | undefined {
  if (target.length === 0 || target.charCodeAt(0) !== 47 /* / */) return undefined;
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const search = q === -1 ? '' : target.slice(q);
  if (path.includes('\\') || ENCODED_FORBIDDEN.test(path)) return undefined;
  // Escapes must spell UTF-8 ("%a0" alone does not): the policy engine could not decode them either.
  if (path.includes('%') && !decodesAsUtf8(path)) return undefined;
  // Fast scan for "." or ".." segments.
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      const len = i - start;
      if ((len === 1 && path.charCodeAt(start) === 46) || (len === 2 && path.charCodeAt(start) === 46 && path.charCodeAt(start + 1) === 46)) {
        return undefined;
      }
      start = i + 1;
    }
  }
  return { path, search };
}

/** Joins an upstream base path (`/`, `/api`, `/api/`) with a checked request path. */
export function joinUpstreamPath(basePath: string, path: string, search: string): string {
  if (basePath === '' || basePath === '/') return path + search;
  const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  return base + path + search;
}

function decodesAsUtf8(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
