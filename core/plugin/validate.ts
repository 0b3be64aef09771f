import { z } from 'zod';
import { CaracalError } from '../errors.js';
import { hookNames, type HookName } from './hooks.js';
import { parseRange, parseVersion, satisfies } from './semver.js';
import { PLUGIN_API_VERSION, type Plugin } from './types.js';

const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', { message: 'must be a function' });
const id = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lower-case letters, digits, ".", "_" or "-" (at most 63)');
const text = z.string().min(1, 'must not be empty');
const fieldValue = z.union([z.string(), z.boolean(), z.array(z.string())]);

const field = z.strictObject({
  name: z.string().regex(/^[a-z][a-zA-Z0-9_-]*$/, 'must start with a lower-case letter'),
  label: text,
  help: z.string(),
  kind: z.enum(['text', 'secret', 'choice', 'boolean', 'list']),
  required: z.boolean(),
  default: fieldValue.optional(),
  choices: z.array(z.strictObject({ value: z.string(), label: z.string() })).optional(),
  when: z.strictObject({ field: z.string().min(1), in: z.array(z.string()).min(1) }).optional(),
  validate: fn.optional(),
});

const scenario = z
  .strictObject({
    id,
    title: text,
    description: z.string(),
    steps: z.array(z.strictObject({ id, title: text, fields: z.array(field) })),
    plan: fn,
  })
  .superRefine((s, ctx) => {
    // A `when` is decided by an answer given before it: it must name an earlier field.
    const before = new Set<string>();
    s.steps.forEach((step, i) =>
      step.fields.forEach((f, j) => {
        if (f.when !== undefined && !before.has(f.when.field)) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'fields', j, 'when', 'field'], message: `"${f.when.field}" is not a field before "${f.name}"` });
        }
        before.add(f.name);
      }),
    );
  });

const hooksShape = Object.fromEntries(hookNames.map((name) => [name, fn.optional()])) as Record<HookName, z.ZodOptional<typeof fn>>;

/** The shape every plugin object must have (DESIGN.md §9); unknown keys are refused, so typos surface. */
export const pluginSchema = z.strictObject({
  name: z.string().regex(/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/, 'must be a lower-case npm-style name').max(214),
  version: z.string().optional(),
  caracal: z.string({ message: 'must be a string: the plugin API range, e.g. "^1"' }),
  scenarios: z.array(scenario).optional(),
  runtimes: z.array(z.strictObject({ id, description: z.string(), launch: fn })).optional(),
  sinks: z.array(z.strictObject({ id, description: z.string(), create: fn })).optional(),
  commands: z.array(z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case command name'), register: fn })).optional(),
  services: z.array(z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case service name'), description: z.string(), workers: z.boolean().optional(), run: fn })).optional(),
  providers: z.array(z.strictObject({ kind: id, description: z.string() })).optional(),
  hooks: z.strictObject(hooksShape).optional(),
});

/**
 * Checks a plugin before it runs: its shape, then its API range against PLUGIN_API_VERSION.
 * `subject` names it in messages (the package name before its own name is known).
 */
export function validatePlugin(value: unknown, subject: string): Plugin {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CaracalError('CRC_PLUGIN_INVALID', `plugin ${subject} exports ${value === null ? 'null' : typeof value}, not a plugin object or a factory`, {
      hint: 'export default { name, caracal: "^1", … } or a function (options) => plugin',
    });
  }
  const parsed = pluginSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(plugin)'}: ${issue.message}`);
    const badHook = parsed.error.issues.some((i) => i.code === 'unrecognized_keys' && i.path.join('.') === 'hooks');
    throw new CaracalError('CRC_PLUGIN_INVALID', `plugin ${subject} has an invalid shape: ${problems.join('; ')}`, {
      details: parsed.error.issues,
      hint: badHook ? `hooks are ${hookNames.join(', ')}` : 'see docs/plugins.md for the plugin shape',
    });
  }
  const plugin = value as Plugin;
  checkApiRange(plugin.name, plugin.caracal);
  return plugin;
}

/** Throws CRC_PLUGIN_VERSION unless the declared range admits this Caracal's plugin API version. */
export function checkApiRange(name: string, range: string): void {
  if (parseRange(range) === undefined) {
    throw new CaracalError('CRC_PLUGIN_VERSION', `plugin ${name} declares caracal: "${range}", which is not a semver range`, {
      hint: `declare the plugin API versions it supports, e.g. caracal: "^${parseVersion(PLUGIN_API_VERSION)?.major ?? 1}"`,
    });
  }
  if (!satisfies(PLUGIN_API_VERSION, range)) {
    throw new CaracalError(
      'CRC_PLUGIN_VERSION',
      `plugin ${name} needs plugin API ${range}, but this Caracal provides plugin API ${PLUGIN_API_VERSION}`,
      { hint: `install a version of ${name} made for plugin API ${PLUGIN_API_VERSION}, or a Caracal that provides ${range}` },
    );
  }
}
