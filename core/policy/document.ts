import { parseToml, TomlError } from '../toml.js';
import type { z } from 'zod';
import { isId, isResourceId, normalizeResourceId } from '../domain/ids.js';
import type { PolicyFormat } from '../domain/types.js';
import { CaracalError } from '../errors.js';
import { lazySchema, type Zod } from '../lazy-zod.js';
import { globError } from './glob.js';
import { jsonLocator, positionAt, toPointer, tomlLocator, type Locator } from './locate.js';
import { httpMethods, type PolicyDocument, type PolicyRule } from './types.js';
import { closestWord } from '../domain/closest.js';

/**
 * Policy documents (DESIGN.md §6): TOML with `[[rules]]` tables (and optional top-level
 * `version = 1` and `description`), or JSON `{"rules": […]}`. Validation reports every problem
 * at once, each with its JSON pointer and its line and column in the source.
 */

/** One problem in a policy document; line and column are null only when there is no source. */
export interface PolicyProblem {
  readonly line: number | null;
  readonly column: number | null;
  readonly pointer: string;
  readonly message: string;
}

/** The largest document accepted (a 10,000-rule policy is about 2 MB of TOML). */
export const maxPolicySourceBytes = 8 * 1024 * 1024;

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
const METHODS: ReadonlySet<string> = new Set(httpMethods);

const ruleKeys = ['id', 'effect', 'apps', 'resources', 'scopes', 'methods', 'paths', 'description'] as const;
const documentKeys = ['version', 'description', 'rules'] as const;

/** The policy document schema (zod is loaded on first use: the CLI and the console start without it). */
function buildDocumentSchema(z: Zod) {
  function list(key: string, item: z.ZodType<string>, empty: string, wildcard: boolean) {
    return z
      .array(item, { error: `"${key}" must be a list of strings, e.g. ${key} = ["…"]` })
      .min(1, { error: `"${key}" must not be empty: ${empty}` })
      .superRefine((values, ctx) => {
        const star = values.indexOf('*');
        if (wildcard && star >= 0 && values.length > 1) {
          ctx.addIssue({
            code: 'custom',
            path: [star],
            message: `"*" already covers every entry of "${key}": write ${key} = ["*"] alone, or list the entries`,
          });
        }
        const seen = new Set<string>();
        values.forEach((value, index) => {
          if (seen.has(value)) {
            ctx.addIssue({ code: 'custom', path: [index], message: `"${value}" is listed twice in "${key}"` });
          }
          seen.add(value);
        });
      });
  }

  const text = (key: string) => z.string({ error: `"${key}" must be a string` }).max(2000, { error: `"${key}" must be at most 2000 characters` });

  const appEntry = z.string({ error: 'an app must be given as a string' }).refine((v) => v === '*' || isId('app', v), {
    error: (issue) => `"${String(issue.input)}" is not an app ID: use an ID such as app_01J… (see \`caracal apps\`), or "*" for every app`,
  });

  const resourceEntry = z
    .string({ error: 'a resource must be given as a string' })
    .refine((v) => v === '*' || isResourceId(v), {
      error: (issue) =>
        `"${String(issue.input).slice(0, 80)}" is not a resource ID: use resource://<slug> or a bare slug ` +
        '(lowercase letters, digits, ".", "_", "-"; 1–63 characters), or "*" for every resource',
    })
    .transform((v) => (v === '*' ? v : normalizeResourceId(v)));

  const scopeEntry = z.string({ error: 'a scope must be given as a string' }).refine((v) => SCOPE.test(v), {
    error: (issue) =>
      `"${String(issue.input).slice(0, 80)}" is not a valid scope: use printable ASCII without spaces, quotes or backslashes (e.g. "billing:read"), or "*" for every scope`,
  });

  const methodEntry = z
    .string({ error: 'a method must be given as a string' })
    .refine((v) => v === '*' || METHODS.has(v.toUpperCase()), {
      error: (issue) => `unknown method "${String(issue.input).slice(0, 40)}": use ${httpMethods.join(', ')} or "*"`,
    })
    .transform((v) => v.toUpperCase());

  const pathEntry = z.string({ error: 'a path must be given as a string' }).superRefine((v, ctx) => {
    const error = globError(v);
    if (error !== null) ctx.addIssue({ code: 'custom', message: `bad path glob "${v.slice(0, 80)}": ${error}` });
  });

  const ruleSchema = z.strictObject(
    {
      id: z
        .string({ error: '"id" must be a string' })
        .regex(RULE_ID, {
          error: '"id" must be 1–128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
        }),
      effect: z.enum(['allow', 'deny'], { error: '"effect" must be "allow" or "deny"' }),
      apps: list('apps', appEntry, 'list app IDs, or "*" for every app', true),
      resources: list('resources', resourceEntry, 'list resource IDs, or "*" for every resource', true),
      scopes: list('scopes', scopeEntry, 'list scopes, or "*" for every scope', true),
      methods: list('methods', methodEntry, 'list methods, or leave "methods" out for every method', true).optional(),
      paths: list('paths', pathEntry, 'list path globs, or leave "paths" out for every path', false).optional(),
      description: text('description').optional(),
    },
    { error: 'each rule must be a table ([[rules]] in TOML, an object in JSON)' },
  );

  return z.strictObject(
    {
      version: z.literal(1, { error: '"version" must be 1 (or left out)' }).optional(),
      description: text('description').optional(),
      rules: z
        .array(ruleSchema, { error: '"rules" must be a list of rules ([[rules]] tables in TOML)' })
        .min(1, { error: 'a policy needs at least one rule: add a [[rules]] table (TOML) or an entry in "rules" (JSON)' }),
    },
    { error: 'a policy document must be a table (TOML) or an object (JSON)' },
  );
}
const documentSchema = lazySchema(buildDocumentSchema);

interface RawIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Duplicate rule ids, found on the raw data so they are reported alongside every other problem. */
function duplicateIds(data: unknown): RawIssue[] {
  const rules = valueAt(data, ['rules']);
  if (!Array.isArray(rules)) return [];
  const first = new Map<string, number>();
  const issues: RawIssue[] = [];
  rules.forEach((rule: unknown, index) => {
    const id = valueAt(rule, ['id']);
    if (typeof id !== 'string') return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else {
      issues.push({
        path: ['rules', index, 'id'],
        message: `duplicate rule id "${id}" (rule ${earlier + 1} already uses it): rule ids must be unique in a policy`,
      });
    }
  });
  return issues;
}

/** Guesses a document's format: JSON when it starts with `{`, TOML otherwise. */
export function detectPolicyFormat(source: string): PolicyFormat {
  return /^\s*\{/.test(source) ? 'json' : 'toml';
}

/**
 * Parses and validates a policy document. Throws CRC_POLICY_INVALID listing every problem with
 * its line, column and JSON pointer (details: PolicyProblem[]).
 */
export function parsePolicyDocument(source: string, format: PolicyFormat = detectPolicyFormat(source)): PolicyDocument {
  if (Buffer.byteLength(source) > maxPolicySourceBytes) {
    throw invalid([{ line: 1, column: 1, pointer: '', message: `the document is larger than ${maxPolicySourceBytes} bytes: split it into several policies` }], format);
  }
  let data: unknown;
  try {
    data = format === 'toml' ? parseToml(source) : JSON.parse(source);
  } catch (error) {
    throw invalid([syntaxProblem(source, error)], format, error);
  }
  const result = documentSchema().safeParse(data);
  const duplicates = duplicateIds(data);
  if (!result.success || duplicates.length > 0) {
    const locate = format === 'toml' ? tomlLocator(source) : jsonLocator(source);
    throw invalid(problems([...(result.error?.issues ?? []), ...duplicates], data, locate), format);
  }
  return toDocument(result.data);
}

/** Validates rules read back from storage (no source, so problems carry pointers only). */
export function validatePolicyRules(rules: unknown): readonly PolicyRule[] {
  const data = { rules };
  const result = documentSchema().safeParse(data);
  const duplicates = duplicateIds(data);
  if (!result.success || duplicates.length > 0) {
    throw invalid(problems([...(result.error?.issues ?? []), ...duplicates], data, undefined), 'json');
  }
  return toDocument(result.data).rules;
}

/** A one-line rendering of a problem: `line 3, column 7 (/rules/0/methods/1): unknown method "FOO"…`. */
export function formatPolicyProblem(problem: PolicyProblem): string {
  const where = problem.line === null ? '' : `line ${problem.line}, column ${problem.column ?? 1} `;
  return `${where}(${problem.pointer || '/'}): ${problem.message}`;
}

type ParsedDocument = z.output<ReturnType<typeof buildDocumentSchema>>;

function toDocument(parsed: ParsedDocument): PolicyDocument {
  const rules = parsed.rules.map((r): PolicyRule => {
    const rule: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = {
      id: r.id,
      effect: r.effect,
      apps: r.apps,
      resources: r.resources,
      scopes: r.scopes,
    };
    if (r.methods !== undefined) rule.methods = r.methods;
    if (r.paths !== undefined) rule.paths = r.paths;
    if (r.description !== undefined) rule.description = r.description;
    return rule;
  });
  return parsed.description === undefined ? { version: 1, rules } : { version: 1, description: parsed.description, rules };
}

function invalid(list: readonly PolicyProblem[], format: PolicyFormat, cause?: unknown): CaracalError {
  const sorted = [...list].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
  const message = `the ${format.toUpperCase()} policy document is invalid (${count}):\n${sorted.map((p) => `  ${formatPolicyProblem(p)}`).join('\n')}`;
  return new CaracalError('CRC_POLICY_INVALID', message, {
    details: sorted,
    hint: 'fix the listed lines and submit the document again; nothing was stored',
    ...(cause === undefined ? {} : { cause }),
  });
}

function syntaxProblem(source: string, error: unknown): PolicyProblem {
  if (error instanceof TomlError) {
    const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'syntax error';
    return { line: error.line, column: error.column, pointer: '', message: `TOML syntax error: ${reason}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Number(at[1]) : source.length;
  const { line, column } = positionAt(source, offset);
  const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');
  return { line, column, pointer: '', message: `JSON syntax error: ${reason}` };
}

function problems(issues: readonly (z.core.$ZodIssue | RawIssue)[], data: unknown, locate: Locator | undefined): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const pointer = toPointer(path.map((p) => (typeof p === 'number' ? p : String(p))));
    const position = locate?.(pointer);
    out.push({ line: position?.line ?? null, column: position?.column ?? null, pointer, message });
  };
  for (const issue of issues) {
    const last = issue.path[issue.path.length - 1];
    if ('code' in issue && issue.code === 'unrecognized_keys') {
      const allowed = issue.path.length === 0 ? documentKeys : ruleKeys;
      for (const key of issue.keys) {
        const suggestion = closestWord(key, allowed);
        add([...issue.path, key], `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}: allowed keys are ${allowed.join(', ')}`);
      }
    } else if (typeof last === 'string' && valueAt(data, issue.path) === undefined) {
      add(issue.path, `missing required key "${last}"`);
    } else {
      add(issue.path, issue.message);
    }
  }
  return out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
