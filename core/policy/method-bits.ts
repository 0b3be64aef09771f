/**
 * Methods as bits, so a rule's `methods` clause is one AND. Unknown methods (WebDAV verbs and the
 * like) get a bit no rule can list: they match only rules without a `methods` clause (or `*`).
 */

/** The bit of a request method, case-insensitive. */
export function methodBit(method: string): number {
  switch (method) {
    case 'GET':
      return 1;
    case 'HEAD':
      return 2;
    case 'POST':
      return 4;
    case 'PUT':
      return 8;
    case 'PATCH':
      return 16;
    case 'DELETE':
      return 32;
    case 'OPTIONS':
      return 64;
    case 'TRACE':
      return 128;
    case 'CONNECT':
      return 256;
    default: {
      const upper = method.toUpperCase();
      return upper === method ? UNKNOWN_METHOD : methodBit(upper);
    }
  }
}

/** The bit of every method no rule can name. */
export const UNKNOWN_METHOD = 1 << 30;

/** The mask of a `methods` clause: every bit for `*` or an absent clause. */
export function methodMask(methods: readonly string[] | undefined): number {
  if (methods === undefined || methods.includes('*')) return -1;
  return methods.reduce((mask, m) => mask | methodBit(m), 0);
}
