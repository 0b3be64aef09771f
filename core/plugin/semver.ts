/**
 * A small semver range check for the plugin API version (`caracal: '^1'`), following npm's
 * range grammar: `^`, `~`, comparators (`>=`, `>`, `<=`, `<`, `=`), x-ranges (`1`, `1.x`, `1.2.*`,
 * `*`), hyphen ranges (`1.2 - 2`), space for "and" and `||` for "or". Prerelease versions match
 * only a comparator on the same major.minor.patch that has a prerelease (npm's rule). Written by
 * hand because `semver` is not a direct dependency and this is all the loader needs.
 */

interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

type Operator = '<' | '<=' | '>' | '>=' | '=';

interface Comparator {
  readonly op: Operator;
  readonly version: Version;
}

/** A parsed range: alternatives (`||`) of comparator sets that must all hold. */
export type SemverRange = readonly (readonly Comparator[])[];

const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;
// A partial version: each missing or x/X/* part is a wildcard.
const PARTIAL = /^v?(\d+|[xX*])(?:\.(\d+|[xX*])(?:\.(\d+|[xX*])(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?)?)?$/;

/** Parses a full version (`1.2.3`, `1.2.3-beta.1`), or returns undefined. */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: parsePrerelease(m[4]) };
}

/** Compares two versions: negative, zero or positive (precedence per semver.org §11). */
export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Parses a range, or returns undefined when it is not one. */
export function parseRange(text: string): SemverRange | undefined {
  const sets: Comparator[][] = [];
  for (const alternative of text.split('||')) {
    const set = parseSet(alternative.trim());
    if (set === undefined) return undefined;
    sets.push(set);
  }
  return sets;
}

/** Whether a version satisfies a range; false when either does not parse. */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  const r = parseRange(range);
  if (v === undefined || r === undefined) return false;
  return r.some((set) => set.every((c) => test(c, v)) && prereleaseAllowed(set, v));
}

function parseSet(text: string): Comparator[] | undefined {
  if (text === '') return [];
  const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
  if (hyphen) {
    const from = parsePartial(hyphen[1] ?? '');
    const to = parsePartial(hyphen[2] ?? '');
    if (from === undefined || to === undefined) return undefined;
    return [...desugar('>=', from), ...desugar('<=', to)];
  }
  // `>= 1.2` is written with a space by some; join operators to their operand first.
  const tokens = text.replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1').split(/\s+/);
  const set: Comparator[] = [];
  for (const token of tokens) {
    const m = /^(\^|~>?|>=|<=|>|<|=)?(.*)$/.exec(token);
    const partial = parsePartial(m?.[2] ?? '');
    if (partial === undefined) return undefined;
    const op = m?.[1] ?? '';
    set.push(...desugar(op === '~>' ? '~' : op, partial));
  }
  return set;
}

interface PartialVersion {
  readonly major?: number;
  readonly minor?: number;
  readonly patch?: number;
  readonly prerelease: readonly (string | number)[];
}

function parsePartial(text: string): PartialVersion | undefined {
  const m = PARTIAL.exec(text);
  if (!m) return undefined;
  const num = (part: string | undefined) => (part === undefined || /^[xX*]$/.test(part) ? undefined : Number(part));
  const major = num(m[1]);
  const minor = major === undefined ? undefined : num(m[2]);
  const patch = minor === undefined ? undefined : num(m[3]);
  return {
    ...(major === undefined ? {} : { major }),
    ...(minor === undefined ? {} : { minor }),
    ...(patch === undefined ? {} : { patch }),
    prerelease: patch === undefined ? [] : parsePrerelease(m[4]),
  };
}

const ANY: Comparator[] = [];

/** Turns one operator and a partial version into plain comparators, as npm does. */
function desugar(op: string, p: PartialVersion): Comparator[] {
  const v = (major: number, minor: number, patch: number, prerelease: readonly (string | number)[] = []): Version => ({
    major,
    minor,
    patch,
    prerelease,
  });
  // The exclusive upper bound `<X.Y.Z-0` keeps prereleases of the next version out.
  const below = (major: number, minor: number, patch: number): Comparator => ({ op: '<', version: v(major, minor, patch, [0]) });
  const { major, minor, patch, prerelease } = p;
  if (major === undefined) return op === '<' || op === '>' ? [{ op: '<', version: v(0, 0, 0, [0]) }] : ANY;
  const lower = v(major, minor ?? 0, patch ?? 0, prerelease);
  const next = minor === undefined ? below(major + 1, 0, 0) : patch === undefined ? below(major, minor + 1, 0) : undefined;
  switch (op) {
    case '^': {
      if (major > 0 || minor === undefined) return [{ op: '>=', version: lower }, below(major + 1, 0, 0)];
      if (minor > 0 || patch === undefined) return [{ op: '>=', version: lower }, below(0, minor + 1, 0)];
      return [{ op: '>=', version: lower }, below(0, 0, patch + 1)];
    }
    case '~':
      return [{ op: '>=', version: lower }, minor === undefined ? below(major + 1, 0, 0) : below(major, minor + 1, 0)];
    case '>=':
      return [{ op: '>=', version: lower }];
    case '<':
      return [{ op: '<', version: next === undefined ? lower : v(major, minor ?? 0, 0, [0]) }];
    case '>':
      if (next === undefined) return [{ op: '>', version: lower }];
      // `>1.2` means "above every 1.2.x": at least 1.3.0.
      return [{ op: '>=', version: v(next.version.major, next.version.minor, 0) }];
    case '<=':
      return [next ?? { op: '<=', version: lower }];
    default:
      return next === undefined ? [{ op: '=', version: lower }] : [{ op: '>=', version: lower }, next];
  }
}

function test(c: Comparator, v: Version): boolean {
  const cmp = compareVersions(v, c.version);
  switch (c.op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '=':
      return cmp === 0;
  }
}

function prereleaseAllowed(set: readonly Comparator[], v: Version): boolean {
  if (v.prerelease.length === 0) return true;
  return set.some(
    (c) =>
      c.version.prerelease.length > 0 &&
      c.version.major === v.major &&
      c.version.minor === v.minor &&
      c.version.patch === v.patch,
  );
}

function parsePrerelease(text: string | undefined): (string | number)[] {
  if (text === undefined) return [];
  return text.split('.').map((id) => (/^(0|[1-9]\d*)$/.test(id) ? Number(id) : id));
}
