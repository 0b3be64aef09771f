import { normalizeResourceId } from '../domain/ids.js';
import { parsePolicyDocument } from './document.js';
import type { PolicyDocument, PolicyRule } from './types.js';

/** What guided setup knows when it creates the starter policy. */
export interface StarterPolicyInput {
  readonly app: string;
  /** A resource ID or bare slug. */
  readonly resource: string;
  readonly scopes: readonly string[];
}

/** The starter policy: its TOML text (what is stored) and the validated document. */
export interface StarterPolicy {
  readonly format: 'toml';
  readonly source: string;
  readonly document: PolicyDocument;
  readonly rules: readonly PolicyRule[];
}

/**
 * Builds the starter policy guided setup creates and activates: one allow rule `starter` giving
 * the app the scopes on the resource, for every method and every path (`/**`). The text goes
 * through the same validation as any submitted document, so a bad input fails here, before
 * anything is stored (CRC_POLICY_INVALID).
 */
export function buildStarterPolicy(input: StarterPolicyInput): StarterPolicy {
  const resource = normalizeResourceId(input.resource);
  const strings = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const source = [
    '# Starter policy created by guided setup. Narrow it (methods, paths) or add deny rules, then',
    '# activate a new policy set version.',
    'version = 1',
    `description = ${JSON.stringify(`Starter access for ${input.app} to ${resource}`)}`,
    '',
    '[[rules]]',
    'id = "starter"',
    'effect = "allow"',
    `description = ${JSON.stringify('Allows the app its scopes on the resource, every method and path')}`,
    `apps = ${strings([input.app])}`,
    `resources = ${strings([resource])}`,
    `scopes = ${strings(input.scopes)}`,
    'methods = ["*"]',
    'paths = ["/**"]',
    '',
  ].join('\n');
  const document = parsePolicyDocument(source, 'toml');
  return { format: 'toml', source, document, rules: document.rules };
}
