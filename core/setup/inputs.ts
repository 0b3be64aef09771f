import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { CaracalError } from '../errors.js';
import { fieldApplies, type Field, type FieldValue, type ScenarioContribution, type ScenarioInput } from '../plugin/types.js';

/** The `caracal setup` flag of a field: `writeProfile` → `--write-profile`; a secret is read from `--<name>-file`. */
export function fieldFlag(field: Pick<Field, 'name' | 'kind'>): string {
  const kebab = field.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-');
  return field.kind === 'secret' ? `${kebab}-file` : kebab;
}

/** The key commander stores a flag's value under (`--write-profile` → `writeProfile`). */
export function flagKey(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Asks for one field's value on a terminal; returns the raw text. */
export type Prompt = (field: Field) => Promise<string>;

/**
 * Turns `caracal setup` flags into the scenario's input: each field from its flag, else asked on a
 * terminal (`prompt`) when it is required and has no default, else reported missing, all at once,
 * by flag. Every value given is checked by the field's own validator. A field whose `when` is not
 * met (e.g. --token-url for an api-key provider) is neither asked nor accepted. A secret field is
 * read from the file its flag names (`-` for stdin), never from argv.
 */
export async function collectInput(
  scenario: ScenarioContribution,
  flags: Readonly<Record<string, unknown>>,
  prompt: Prompt | undefined,
  readStdin: () => string = () => readFileSync(0, 'utf8'),
): Promise<ScenarioInput> {
  const input: Record<string, FieldValue> = {};
  const missing: Field[] = [];
  for (const step of scenario.steps) {
    for (const field of step.fields) {
      const flag = fieldFlag(field);
      if (!fieldApplies(field, input, scenario.steps)) {
        const refusal = given(flags[flagKey(flag)]) ? notApplicable(field, flag, scenario, input) : undefined;
        if (refusal !== undefined) throw refusal;
        continue;
      }
      let value = toValue(field, flags[flagKey(flag)], readStdin);
      if (value === undefined && field.required && field.default === undefined) {
        if (prompt === undefined || field.kind === 'secret') {
          missing.push(field);
          continue;
        }
        value = toValue(field, await prompt(field), readStdin);
        if (value === undefined) {
          missing.push(field);
          continue;
        }
      }
      if (value === undefined) continue;
      const problem = field.validate?.(value);
      if (problem !== undefined) throw new CaracalError('CRC_USAGE', `--${flag}: ${problem}`, { hint: field.help });
      input[field.name] = value;
    }
  }
  if (missing.length > 0) {
    const names = missing.map((f) => `--${fieldFlag(f)}`).join(', ');
    throw new CaracalError('CRC_USAGE', `caracal setup --scenario ${scenario.id} is missing ${names}`, {
      hint: missing.map((f) => `--${fieldFlag(f)}: ${f.help}`).join('\n'),
    });
  }
  return input;
}

const given = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/** The refusal of a flag whose field does not apply; none while the field it depends on is still unanswered (that one is reported missing). */
function notApplicable(field: Field, flag: string, scenario: ScenarioContribution, input: ScenarioInput): CaracalError | undefined {
  const when = field.when as NonNullable<Field['when']>;
  const on = scenario.steps.flatMap((step) => step.fields).find((f) => f.name === when.field);
  if ((input[when.field] ?? on?.default) === undefined) return undefined;
  const onFlag = on === undefined ? when.field : `--${fieldFlag(on)}`;
  return new CaracalError('CRC_USAGE', `--${flag} applies only when ${onFlag} is ${when.in.join(' or ')}`, { hint: `drop --${flag}, or choose ${onFlag} ${when.in[0] ?? ''}` });
}

function toValue(field: Field, value: unknown, readStdin: () => string): FieldValue | undefined {
  if (!given(value)) return undefined;
  if (field.kind === 'boolean') return value === true || value === 'true' || value === 'yes' || value === 'y';
  // Commander gives strings (and booleans for switches); anything else is not a field value.
  const raw: string | readonly string[] = Array.isArray(value) ? value.map((v) => String(v)) : typeof value === 'string' ? value : JSON.stringify(value);
  if (field.kind === 'list') {
    const items = (typeof raw === 'string' ? raw.split(',') : raw).map((s) => s.trim()).filter((s) => s !== '');
    return items.length === 0 ? undefined : items;
  }
  if (field.kind === 'secret') {
    const path = typeof raw === 'string' ? raw : raw.join(',');
    // One line: the line end an editor or `echo` adds is not part of the secret; other spaces are.
    const secret = (path === '-' ? readStdin() : readSecretInput(`--${fieldFlag(field)}`, path)).replace(/(?:\r?\n)+$/, '');
    return secret === '' ? undefined : secret;
  }
  const text = (typeof raw === 'string' ? raw : raw.join(',')).trim();
  return text === '' ? undefined : text;
}

/**
 * Reads a file holding a secret, refusing (on POSIX) a regular file that other users may read or
 * write: its secret is exposed already, and the fix (chmod 600, or stdin) is one command. Pipes
 * and other non-regular files (`--credential-file <(pass show key)`) are read as they are. The
 * file is checked through the descriptor it is read from, so it cannot be swapped in between.
 */
export function readSecretInput(flag: string, path: string, platform: NodeJS.Platform = process.platform): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (error) {
    throw new CaracalError('CRC_USAGE', `${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error, hint: `give a readable file, or - to read the secret from stdin` });
  }
  try {
    const stat = fstatSync(fd);
    const mode = stat.mode & 0o777;
    if (platform !== 'win32' && stat.isFile() && (mode & 0o077) !== 0) {
      throw new CaracalError('CRC_USAGE', `${flag}: ${path} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); refusing to read a secret from it`, {
        hint: `make it owner-only (chmod 600 '${path}'), or pipe the secret in with ${flag} -; other users could read it, so consider replacing the credential at the third party too`,
      });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
