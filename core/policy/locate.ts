/**
 * Source positions for JSON pointers in policy documents, so a validation error can name the
 * line and column it is about. These scanners run only on the error path, over documents that
 * have already parsed: they find structure, they do not validate it.
 */

/** A 1-based line and column. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Finds the position of a JSON pointer (or of its nearest present ancestor). */
export type Locator = (pointer: string) => SourcePosition;

/** Escapes one JSON pointer token (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** A JSON pointer from path tokens. */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((token) => `/${pointerToken(token)}`).join('');
}

/** Converts a UTF-16 offset into a 1-based line and column. */
export function positionAt(source: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i >= 0 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function locatorFrom(source: string, offsets: Map<string, number>): Locator {
  return (pointer) => {
    let p = pointer;
    for (;;) {
      const offset = offsets.get(p);
      if (offset !== undefined) return positionAt(source, offset);
      if (p === '') return { line: 1, column: 1 };
      p = p.slice(0, p.lastIndexOf('/'));
    }
  };
}

const WS = new Set([' ', '\t', '\r', '\n']);

/** A locator for a JSON document (object members at their key, array elements at their value). */
export function jsonLocator(source: string): Locator {
  const offsets = new Map<string, number>();
  let i = 0;
  const skip = () => {
    while (i < source.length && WS.has(source[i] as string)) i++;
  };
  const readString = (): string => {
    const start = i;
    i++;
    while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
    i++;
    try {
      return JSON.parse(source.slice(start, i)) as string;
    } catch {
      return source.slice(start + 1, i - 1);
    }
  };
  const value = (pointer: string): void => {
    skip();
    const c = source[i];
    if (c === '{') {
      i++;
      for (;;) {
        skip();
        if (source[i] === '}' || i >= source.length) break;
        if (source[i] === ',') {
          i++;
          continue;
        }
        const keyAt = i;
        if (source[i] !== '"') {
          i++;
          continue;
        }
        const key = readString();
        const child = `${pointer}/${pointerToken(key)}`;
        offsets.set(child, keyAt);
        skip();
        if (source[i] === ':') i++;
        value(child);
      }
      i++;
    } else if (c === '[') {
      i++;
      for (let index = 0; ; ) {
        skip();
        if (source[i] === ']' || i >= source.length) break;
        if (source[i] === ',') {
          i++;
          continue;
        }
        const child = `${pointer}/${index++}`;
        offsets.set(child, i);
        const before = i;
        value(child);
        if (i === before) i++;
      }
      i++;
    } else if (c === '"') {
      readString();
    } else {
      while (i < source.length && !/[,\]}\s]/.test(source[i] as string)) i++;
    }
  };
  skip();
  offsets.set('', i);
  value('');
  return locatorFrom(source, offsets);
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/**
 * A locator for a TOML document: keys at their key, array and inline-table elements at their
 * value, `[[rules]]` tables at their header. Handles the forms policy documents use (tables,
 * arrays of tables, dotted and quoted keys, multi-line arrays, inline tables, comments).
 */
export function tomlLocator(source: string): Locator {
  const offsets = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let i = 0;
  const n = source.length;
  const skipInline = () => {
    while (i < n && (source[i] === ' ' || source[i] === '\t')) i++;
  };
  const skipAll = () => {
    for (;;) {
      while (i < n && WS.has(source[i] as string)) i++;
      if (source[i] === '#') {
        while (i < n && source[i] !== '\n') i++;
      } else return;
    }
  };
  const readString = (): string => {
    const quote = source[i] as string;
    const triple = source.startsWith(quote.repeat(3), i);
    const start = i;
    if (triple) {
      i += 3;
      const end = source.indexOf(quote.repeat(3), i);
      i = end < 0 ? n : end + 3;
      while (source[i] === quote) i++;
      return source.slice(start + 3, i - 3);
    }
    i++;
    while (i < n && source[i] !== quote && source[i] !== '\n') i += quote === '"' && source[i] === '\\' ? 2 : 1;
    i++;
    if (quote === '"') {
      try {
        return JSON.parse(source.slice(start, i)) as string;
      } catch {
        return source.slice(start + 1, i - 1);
      }
    }
    return source.slice(start + 1, i - 1);
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipInline();
      if (source[i] === '"' || source[i] === "'") parts.push(readString());
      else {
        const start = i;
        while (i < n && BARE_KEY.test(source[i] as string)) i++;
        parts.push(source.slice(start, i));
      }
      skipInline();
      if (source[i] !== '.') return parts;
      i++;
    }
  };
  const join = (base: string, parts: readonly string[]) => base + parts.map((p) => `/${pointerToken(p)}`).join('');
  const value = (pointer: string): void => {
    const c = source[i];
    if (c === '[') {
      i++;
      for (let index = 0; ; ) {
        skipAll();
        if (i >= n || source[i] === ']') break;
        if (source[i] === ',') {
          i++;
          continue;
        }
        const child = `${pointer}/${index++}`;
        offsets.set(child, i);
        const before = i;
        value(child);
        if (i === before) i++;
      }
      i++;
    } else if (c === '{') {
      i++;
      for (;;) {
        skipInline();
        if (i >= n || source[i] === '}') break;
        if (source[i] === ',') {
          i++;
          continue;
        }
        const before = i;
        keyValue(pointer);
        if (i === before) i++;
      }
      i++;
    } else if (c === '"' || c === "'") {
      readString();
    } else {
      while (i < n && !/[,\]}\s#]/.test(source[i] as string)) i++;
    }
  };
  const keyValue = (table: string): void => {
    const at = i;
    const parts = readKey();
    const pointer = join(table, parts);
    offsets.set(pointer, at);
    skipInline();
    if (source[i] === '=') i++;
    skipInline();
    value(pointer);
  };
  let table = '';
  for (;;) {
    skipAll();
    if (i >= n) break;
    if (source[i] === '[') {
      const at = i;
      const isArray = source[i + 1] === '[';
      i += isArray ? 2 : 1;
      const header = join('', readKey());
      i += isArray ? 2 : 1;
      if (isArray) {
        const index = arrayCounts.get(header) ?? 0;
        arrayCounts.set(header, index + 1);
        table = `${header}/${index}`;
        if (!offsets.has(header)) offsets.set(header, at);
      } else table = header;
      offsets.set(table, at);
      continue;
    }
    const before = i;
    keyValue(table);
    if (i === before) i++;
  }
  return locatorFrom(source, offsets);
}
