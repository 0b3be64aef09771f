import { clientUrl } from '../config/client-url.js';
import { canColor, painter, printJson } from '../cli/output.js';
import type { CliContext } from '../cli/context.js';
import { connectAdminClient } from '../control/admin-client.js';
import { CaracalError } from '../errors.js';
import type { Field, ScenarioContribution } from '../plugin/types.js';
import { formatSetupResult } from './format.js';
import { collectInput, fieldFlag, type Prompt } from './inputs.js';
import { ProfileWriteError, runSetup } from './setup.js';

/** The flags `caracal setup` passes on (field flags included, keyed as commander stores them). */
export type SetupCommandFlags = Readonly<Record<string, unknown>> & {
  readonly profilePath?: string;
  readonly overwrite?: boolean;
  readonly rotateSecret?: boolean;
  readonly runtime?: string;
  readonly json?: boolean;
  readonly controlUrl?: string;
  readonly gatewayUrl?: string;
  readonly adminTokenFile?: string;
};

/** The body of `caracal setup`: collect the answers, run the scenario, print the result once. */
export async function runSetupCommand(cli: CliContext, scenario: ScenarioContribution, flags: SetupCommandFlags): Promise<void> {
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const runtimes = cli.plugins.flatMap((plugin) => plugin.runtimes ?? []).map((r) => r.id);
  if (flags.runtime !== undefined && !runtimes.includes(flags.runtime)) {
    throw new CaracalError('CRC_USAGE', `--runtime ${flags.runtime}: no such runtime`, { hint: `installed runtimes: ${runtimes.join(', ') || 'none'}` });
  }
  const input = await collectInput(scenario, flags, interactive ? terminalPrompt : undefined);
  const settings = cli.settings();
  const client = connectAdminClient({ settings, paths: cli.paths(), controlUrl: flags.controlUrl, adminTokenFile: flags.adminTokenFile });
  const gatewayUrl = clientUrl(settings, 'gateway', flags.gatewayUrl);
  try {
    new URL(gatewayUrl);
  } catch {
    throw new CaracalError('CRC_USAGE', `--gateway-url: "${gatewayUrl.slice(0, 200)}" is not a URL`, { hint: 'e.g. --gateway-url http://127.0.0.1:4701' });
  }
  const paint = painter(canColor(process.stderr));
  const print = (result: Parameters<typeof formatSetupResult>[0]) => {
    if (flags.json) printJson(result);
    else process.stdout.write(formatSetupResult(result, painter(canColor())));
  };
  try {
    const result = await runSetup({
      scenario,
      input,
      client,
      controlUrl: client.controlUrl,
      gatewayUrl,
      rotateSecret: flags.rotateSecret === true,
      writeProfile: input.writeProfile === true,
      profilePath: flags.profilePath,
      overwrite: flags.overwrite === true,
      runtime: flags.runtime,
      onObject: flags.json ? undefined : (o) => process.stderr.write(paint('gray', `${o.action} ${o.kind} ${o.name} (${o.id})\n`)),
    });
    print(result);
  } catch (error) {
    // The objects exist and the secret will never be shown again: print the result, then fail.
    if (error instanceof ProfileWriteError) print(error.result);
    throw error;
  }
}

/** Asks for a field on the terminal (stderr), showing its help. */
const terminalPrompt: Prompt = async (field: Field) => {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(`${field.label} (--${fieldFlag(field)}; ${field.help}): `);
  } finally {
    rl.close();
  }
};
