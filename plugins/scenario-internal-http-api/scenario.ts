import type { ScenarioContribution, ScenarioInput, ScenarioPlan } from '../../core/plugin/types.js';
import { commonSteps } from '../scenario-common/fields.js';
import { answerReader, planOneResource, readCommonAnswers } from '../scenario-common/plan.js';

const steps = [commonSteps.zone, commonSteps.app, commonSteps.resource, commonSteps.policy, commonSteps.review];

/** The `internal-http-api` scenario (DESIGN.md §1): a zone, an app, a resource behind the Gateway, a starter policy. */
export const internalHttpApiScenario: ScenarioContribution = {
  id: 'internal-http-api',
  title: 'Internal HTTP API',
  description: 'Put an HTTP API you run behind the Gateway: the app calls it with short-lived tokens; no upstream credentials are injected',
  steps,
  plan: planInternalHttpApi,
};

/** The pure plan: objects in dependency order, the starter policy, the profile credential, the first request. */
export function planInternalHttpApi(input: ScenarioInput): ScenarioPlan {
  return planOneResource('internal-http-api', readCommonAnswers(answerReader('internal-http-api', input, steps), input));
}
