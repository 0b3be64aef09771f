import type { Command } from 'commander';
import { CONTROL_URL_HELP, GATEWAY_URL_HELP } from '../../config/client-url.js';
import { CaracalError } from '../../errors.js';
import type { CommandContribution, Field, ScenarioContribution } from '../../plugin/types.js';
import { fieldFlag, flagKey } from '../../setup/inputs.js';
import type { CliContext } from '../context.js';

type SetupFlags = Record<string, unknown> & {
  scenario?: string;
  profilePath?: string;
  overwrite?: boolean;
  rotateSecret?: boolean;
  runtime?: string;
  json?: boolean;
  controlUrl?: string;
  gatewayUrl?: string;
  adminTokenFile?: string;
};

const DEFAULT_SCENARIO = 'internal-http-api';

/**
 * `caracal setup --scenario ID …` (DESIGN.md §1, §2a): runs a guided-setup scenario without the
 * console. Every scenario field is a flag (`writeProfile` → `--write-profile`, a secret field
 * `credential` → `--credential-file`), so plugin scenarios get their flags without code here.
 */
export const setupCommand: CommandContribution = {
  name: 'setup',
  register(program: Command, cli: CliContext) {
    const command = program
      .command('setup')
      .description('create a zone, app, resource and starter policy for a scenario, and print (or write) the runtime profile')
      .option('--scenario <id>', `the scenario (default ${DEFAULT_SCENARIO}; see the list below)`)
      .option('--profile-path <path>', 'where --write-profile writes the profile (default <config dir>/caracal.toml)')
      .option('--overwrite', 'replace an existing profile or secret file')
      .option('--rotate-secret', 'reuse an existing app by giving it a new secret (the old one stops working)')
      .option('--runtime <id>', 'the runtime the profile names: env (default), file or proxy')
      .option('--control-url <url>', CONTROL_URL_HELP)
      .option('--gateway-url <url>', GATEWAY_URL_HELP)
      .option('--admin-token-file <path>', 'file holding the admin token (default: CARACAL_ADMIN_TOKEN, else CARACAL_HOME/admin-token)')
      .option('--json', 'print the result as JSON (a stable contract; the client secret is in it)');
    const seen = new Set(['scenario', 'profile-path', 'overwrite', 'rotate-secret', 'runtime', 'control-url', 'gateway-url', 'admin-token-file', 'json']);
    const scenarios = cli.plugins.flatMap((plugin) => plugin.scenarios ?? []);
    for (const scenario of scenarios) {
      for (const field of scenario.steps.flatMap((step) => step.fields)) addFieldOption(command, field, seen, scenario.id);
    }
    command.addHelpText('after', `\nScenarios: ${scenarios.map((s) => `${s.id} (${s.title})`).join(', ') || 'none installed'}`);
    command.action(async (flags: SetupFlags) => {
      const scenario = findScenario(scenarios, flags.scenario ?? DEFAULT_SCENARIO);
      refuseForeignFlags(scenarios, scenario, flags);
      const { runSetupCommand } = await import('../../setup/command.js');
      await runSetupCommand(cli, scenario, flags);
    });
  },
};

function findScenario(scenarios: readonly ScenarioContribution[], id: string): ScenarioContribution {
  const scenario = scenarios.find((s) => s.id === id);
  if (scenario === undefined) {
    throw new CaracalError('CRC_USAGE', `no scenario "${id}"`, { hint: `installed scenarios: ${scenarios.map((s) => s.id).join(', ') || 'none'}` });
  }
  return scenario;
}

/** A flag of another scenario's field would be silently ignored: refuse it, naming its scenario. */
function refuseForeignFlags(scenarios: readonly ScenarioContribution[], scenario: ScenarioContribution, flags: SetupFlags): void {
  const own = new Set(scenario.steps.flatMap((step) => step.fields).map((field) => fieldFlag(field)));
  for (const other of scenarios) {
    for (const flag of other.steps.flatMap((step) => step.fields).map((field) => fieldFlag(field))) {
      if (own.has(flag) || flags[flagKey(flag)] === undefined) continue;
      throw new CaracalError('CRC_USAGE', `--${flag} is not a flag of scenario ${scenario.id} (it belongs to ${other.id})`, {
        hint: `drop --${flag}, or run --scenario ${other.id}`,
      });
    }
  }
}

function addFieldOption(command: Command, field: Field, seen: Set<string>, scenario: string): void {
  const flag = fieldFlag(field);
  if (seen.has(flag)) return;
  seen.add(flag);
  const help = `${field.help}${field.default === undefined ? '' : ` (default ${Array.isArray(field.default) ? field.default.join(',') : String(field.default)})`} [${scenario}]`;
  if (field.kind === 'boolean') {
    command.option(`--${flag}`, help);
    command.option(`--no-${flag}`, `do not: ${field.label.toLowerCase()}`);
  } else if (field.kind === 'secret') {
    command.option(`--${flag} <path>`, `${help}; a file holding it, or - for stdin (never the secret itself)`);
  } else if (field.kind === 'list') {
    command.option(`--${flag} <a,b>`, help);
  } else {
    command.option(`--${flag} <value>`, help);
  }
}
