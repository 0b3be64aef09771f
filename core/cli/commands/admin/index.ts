import type { CommandContribution } from '../../../plugin/types.js';
import { appsCommand } from './apps.js';
import { keysCommand } from './keys.js';
import { policiesCommand } from './policies.js';
import { policySetsCommand } from './policy-sets.js';
import { providersCommand } from './providers.js';
import { resourcesCommand } from './resources.js';
import { revocationsCommand, revokeCommand } from './revoke.js';
import { zonesCommand } from './zones.js';

/** The admin commands (DESIGN.md §2a): each talks to the control plane over the admin API. */
export const adminCommands: readonly CommandContribution[] = [
  zonesCommand,
  appsCommand,
  resourcesCommand,
  providersCommand,
  policiesCommand,
  policySetsCommand,
  revokeCommand,
  revocationsCommand,
  keysCommand,
];
