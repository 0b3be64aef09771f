import { createPolicyService, type PolicyService } from '../../policy/policy-service.js';
import type { ControlContext } from '../context.js';

const services = new WeakMap<ControlContext, PolicyService>();

/** The one policy service of a control context, shared by its route groups (one compiled-set cache). */
export function policyServiceFor(ctx: ControlContext): PolicyService {
  let service = services.get(ctx);
  if (service === undefined) {
    service = createPolicyService(ctx.store);
    services.set(ctx, service);
  }
  return service;
}
