/**
 * The TypeScript SDK (`import { Caracal } from 'caracal/sdk'`, DESIGN.md §8). No dependency
 * beyond Caracal's own profile parser: HTTP goes through the global fetch.
 */
export { Caracal, type CaracalOptions } from './caracal.js';
export { CaracalGatewayError, type GatewayRefusalBody } from './errors.js';
export { CaracalError } from '../core/errors.js';
export { TokenRequestError } from '../core/run/token-client.js';
export type { Profile, ProfileCredential } from '../core/profile/profile.js';
