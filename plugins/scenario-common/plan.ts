import { normalizeResourceId } from '../../core/domain/ids.js';
import { CaracalError } from '../../core/errors.js';
import { fieldApplies, type Field, type FieldValue, type PlannedObject, type ScenarioInput, type ScenarioPlan, type ScenarioStep } from '../../core/plugin/types.js';
import { credentialEnvName } from '../../core/profile/env-name.js';
import { commonFields, list, text } from './fields.js';

/** Reads a scenario's answers field by field: checked by each field's validator, defaults applied. */
export interface AnswerReader {
  /** The answer (or default) parsed by `read`; throws naming the field when it is missing or invalid. */
  required<T>(field: Field, read: (value: FieldValue | undefined) => T | undefined): T;
  /** Like `required`, but undefined when not given or when the field does not apply (its `when` is not met). */
  optional<T>(field: Field, read: (value: FieldValue | undefined) => T | undefined): T | undefined;
}

/** An {@link AnswerReader} over one scenario's input; errors name the scenario and the field. */
export function answerReader(scenario: string, input: ScenarioInput, steps: readonly ScenarioStep[]): AnswerReader {
  const read = <T>(field: Field, parse: (value: FieldValue | undefined) => T | undefined, needed: boolean): T | undefined => {
    // A hidden field's answer may be stale (a form kept it when another kind was chosen): ignore it.
    if (!fieldApplies(field, input, steps)) return undefined;
    const raw = input[field.name] ?? field.default;
    const parsed = parse(raw);
    if (parsed === undefined) {
      if (!needed) return undefined;
      const when = field.when === undefined ? '' : ` when ${field.when.field} is ${field.when.in.join(' or ')}`;
      throw new CaracalError('CRC_USAGE', `the ${scenario} scenario needs "${field.name}"${when}: ${field.help}`);
    }
    const problem = field.validate?.(raw as FieldValue);
    if (problem !== undefined) throw new CaracalError('CRC_VALIDATION', `${field.label}: ${problem}`);
    return parsed;
  };
  return {
    required: (field, parse) => read(field, parse, true) as NonNullable<ReturnType<typeof parse>>,
    optional: (field, parse) => read(field, parse, false),
  };
}

/** The answers every one-resource scenario shares (zone, app, resource, policy). */
export interface CommonAnswers {
  readonly zone: string;
  readonly app: string;
  /** `resource://<slug>` */
  readonly resource: string;
  readonly slug: string;
  readonly scopes: readonly string[];
  /** Without trailing slashes. */
  readonly upstream: string;
  readonly firstPath: string;
  readonly withPolicy: boolean;
}

/** Reads the {@link commonFields} answers. */
export function readCommonAnswers(answers: AnswerReader, input: ScenarioInput): CommonAnswers {
  const zone = answers.required(commonFields.zone, text);
  const app = answers.required(commonFields.app, text);
  const resource = normalizeResourceId(answers.required(commonFields.resource, text));
  return {
    zone,
    app,
    resource,
    slug: resource.slice('resource://'.length),
    scopes: [...new Set(answers.required(commonFields.scopes, list))],
    upstream: answers.required(commonFields.upstream, text).replace(/\/+$/, ''),
    firstPath: answers.required(commonFields.firstPath, text),
    withPolicy: (input.policy ?? commonFields.policy.default) !== false,
  };
}

/**
 * The plan of a one-resource scenario: zone, app, then `provider` when given (the resource names
 * it, so it comes first), the resource, and — unless skipped — the starter policy and the policy
 * set that activates it. Later objects refer to earlier ones with `{ $ref }`.
 */
export function planOneResource(scenario: string, common: CommonAnswers, provider?: PlannedObject): ScenarioPlan {
  const { zone, app, resource, slug, scopes, upstream, firstPath, withPolicy } = common;
  const policyName = `starter-${app}-${slug}`.slice(0, 128);
  const zoneRef = { $ref: 'zone' };
  const rules = [
    { id: 'starter', effect: 'allow' as const, apps: ['$ref:application'], resources: [resource], scopes, methods: ['*'], paths: ['/**'] },
  ];
  return {
    scenario,
    objects: [
      { kind: 'zone', ref: 'zone', spec: { name: zone, kind: 'evaluation' } },
      { kind: 'application', ref: 'application', spec: { zone: zoneRef, name: app } },
      ...(provider === undefined ? [] : [provider]),
      {
        kind: 'resource',
        ref: 'resource',
        spec: { zone: zoneRef, id: resource, name: slug, scopes, upstream_url: upstream, ...(provider === undefined ? {} : { provider: { $ref: provider.ref } }) },
      },
      ...(withPolicy
        ? [
            { kind: 'policy' as const, ref: 'policy', spec: { zone: zoneRef, name: policyName, starter: { app: { $ref: 'application' }, resource, scopes } } },
            // Activating a set that held only this policy would drop every other grant of the zone,
            // so an active set is extended with a new version instead (see core/setup/execute.ts).
            { kind: 'policy_set' as const, ref: 'policy_set', spec: { zone: zoneRef, name: 'starter', policies: [{ $ref: 'policy' }], extend_active: true, activate: true } },
          ]
        : []),
    ],
    policy: withPolicy ? { name: policyName, rules } : null,
    credentials: [{ resource, scopes, env: credentialEnvName(resource) }],
    firstRequest: { resource, method: 'GET', path: firstPath },
  };
}
