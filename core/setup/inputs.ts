import { readFileSync } from 'node:fs';
import { CaracalError } from '../errors.js';
import type { Field, FieldValue, ScenarioContribution, ScenarioInput } from '../plugin/types.js';

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
 * by flag. Every value given is checked by the field's own validator. A secret field is read
 * from the file its flag names (`-` for stdin), never from argv.
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

function toValue(field: Field, given: unknown, readStdin: () => string): FieldValue | undefined {
  if (given === undefined || given === null || given === '') return undefined;
  if (field.kind === 'boolean') return given === true || given === 'true' || given === 'yes' || given === 'y';
  // Commander gives strings (and booleans for switches); anything else is not a field value.
  const raw: string | readonly string[] = Array.isArray(given) ? given.map((v) => String(v)) : typeof given === 'string' ? given : JSON.stringify(given);
  if (field.kind === 'list') {
    const items = (typeof raw === 'string' ? raw.split(',') : raw).map((s) => s.trim()).filter((s) => s !== '');
    return items.length === 0 ? undefined : items;
  }
  if (field.kind === 'secret') {
    const path = typeof raw === 'string' ? raw : raw.join(',');
    let text: string;
    try {
      text = path === '-' ? readStdin() : readFileSync(path, 'utf8');
    } catch (error) {
      throw new CaracalError('CRC_USAGE', `--${fieldFlag(field)}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
    const secret = text.trim();
    return secret === '' ? undefined : secret;
  }
  const text = (typeof raw === 'string' ? raw : raw.join(',')).trim();
  return text === '' ? undefined : text;
}
