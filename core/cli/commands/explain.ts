import type { Command } from 'commander';
import type { Explanation } from '../../audit/explain.js';
import type { CommandContribution } from '../../plugin/types.js';
import type { CliContext } from '../context.js';
import { canColor, painter, printJson } from '../output.js';
import { adminClient, adminCommand, type AdminOptions } from './admin/shared.js';

/** Fetches the explanation of a request ID from the control plane (DESIGN.md §7). */
export async function fetchExplanation(cli: CliContext, opts: AdminOptions, requestId: string): Promise<Explanation> {
  const client = await adminClient(cli, opts);
  return client.request<Explanation>('GET', `/v1/requests/${encodeURIComponent(requestId)}/explain`);
}

/**
 * `caracal explain <request-id> [--json]`: what happened to one request, in plain words, and — when
 * it failed — which of runtime config, policy, resource routing or upstream to fix, and how.
 * `--json` prints the stable contract of DESIGN.md §7 (docs/audit.md).
 */
export const explainCommand: CommandContribution = {
  name: 'explain',
  register(program: Command, cli: CliContext): void {
    adminCommand(program, 'explain', 'explain one request by its request ID (X-Request-Id): what happened, why, and what to fix')
      .argument('<request-id>', 'the request ID (from the X-Request-Id header, an error body, or caracal audit list)')
      .action(async (requestId: string, opts: AdminOptions) => {
        const { renderExplanation } = await import('../../audit/explain-render.js');
        const explanation = await fetchExplanation(cli, opts, requestId);
        if (opts.json === true) printJson(explanation);
        else process.stdout.write(renderExplanation(explanation, painter(canColor(process.stdout))));
      });
  },
};
