import type { FastifyInstance } from 'fastify';
import type { ControlContext } from '../context.js';
import { appRoutes } from './apps.js';
import { auditRoutes } from './audit.js';
import { keyRoutes } from './keys.js';
import { policyRoutes } from './policies.js';
import { policySetRoutes } from './policy-sets.js';
import { providerRoutes } from './providers.js';
import { resourceRoutes } from './resources.js';
import { revocationRoutes } from './revocations.js';
import { zoneRoutes } from './zones.js';

/** A group of control-plane routes. */
export type RouteGroup = (app: FastifyInstance, ctx: ControlContext) => void;

/** The admin API under `/v1` (docs/admin-api.md), registered in this order by createControlServer. */
export const adminRoutes: readonly RouteGroup[] = [
  zoneRoutes,
  appRoutes,
  resourceRoutes,
  providerRoutes,
  policyRoutes,
  policySetRoutes,
  revocationRoutes,
  keyRoutes,
  auditRoutes,
];
