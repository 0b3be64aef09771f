/** The policy engine's public surface (DESIGN.md §6). */
export { compilePolicySet, createMatcher, inactiveMatcher, type CompileOptions, type PolicyMatcher } from './compile.js';
export {
  detectPolicyFormat,
  formatPolicyProblem,
  maxPolicySourceBytes,
  parsePolicyDocument,
  validatePolicyRules,
  type PolicyProblem,
} from './document.js';
export { globError } from './glob.js';
export {
  createPolicyService,
  type Activation,
  type NewPolicyWithSource,
  type PolicyService,
  type PolicySource,
} from './policy-service.js';
export { buildStarterPolicy, type StarterPolicy, type StarterPolicyInput } from './starter.js';
export * from './types.js';
