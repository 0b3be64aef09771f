import { extname } from 'node:path';
import type { Command } from 'commander';
import type { PolicyDocumentInput, PolicyVersionView, PolicyView } from '../../../control/admin-client.js';
import { CaracalError } from '../../../errors.js';
import type { CommandContribution } from '../../../plugin/types.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import {
  adminClient,
  adminCommand,
  pageQuery,
  parseVersion,
  printList,
  printObject,
  readInputFile,
  withPaging,
  withZone,
  type ListOptions,
  type ZoneOptions,
} from './shared.js';

interface DocumentFlags extends ZoneOptions {
  readonly format?: string;
}

/** Reads a policy document file; the format comes from --format, else the extension, else the server guesses. */
export function readPolicyFile(file: string, format: string | undefined): PolicyDocumentInput {
  const chosen = format ?? ({ '.toml': 'toml', '.json': 'json' } as Record<string, string>)[extname(file).toLowerCase()];
  if (chosen !== undefined && chosen !== 'toml' && chosen !== 'json') {
    throw new CaracalError('CRC_USAGE', `--format must be toml or json, got "${chosen}"`);
  }
  const source = readInputFile(file, 'policy');
  return chosen === undefined ? { source } : { source, format: chosen };
}

function showPolicy(opts: ZoneOptions, policy: PolicyView, title?: string): void {
  printObject(
    opts,
    policy,
    [
      ['id', policy.id],
      ['name', policy.name],
      ['zone', policy.zone_id],
      ['description', policy.description || '-'],
      ['latest version', policy.latest_version === 0 ? 'none yet' : String(policy.latest_version)],
      ['created', policy.created_at],
    ],
    title,
  );
}

function showVersion(opts: ZoneOptions, version: PolicyVersionView, title?: string): void {
  if (opts.json === true) {
    printJson(version);
    return;
  }
  printObject(
    opts,
    version,
    [
      ['policy', version.policy_id],
      ['version', String(version.version)],
      ['format', version.format],
      ['rules', String(version.rules.length)],
      ['created', version.created_at],
    ],
    title,
  );
  process.stdout.write(`\n${version.source.endsWith('\n') ? version.source : `${version.source}\n`}`);
}

/** `caracal policies list|get|create|validate|add-version|versions`. */
export const policiesCommand: CommandContribution = {
  name: 'policies',
  register(program: Command, cli: CliContext): void {
    const policies = program.command('policies').description('manage access policies (immutable, versioned TOML or JSON documents) of a zone');

    withPaging(withZone(adminCommand(policies, 'list', 'list the policies of a zone'))).action(async (opts: ListOptions & ZoneOptions) => {
      const page = await (await adminClient(cli, opts)).policies.list(opts.zone, pageQuery(opts));
      printList(
        opts,
        page,
        ['id', 'name', 'latest version', 'description'],
        (p) => [p.id, p.name, String(p.latest_version), p.description || '-'],
        `no policies in zone ${opts.zone}`,
      );
    });

    withZone(adminCommand(policies, 'get', 'show a policy, or one of its versions (its document and rules)'))
      .argument('<policy>', 'policy ID or name')
      .argument('[version]', 'show this version')
      .action(async (ref: string, version: string | undefined, opts: ZoneOptions) => {
        const client = await adminClient(cli, opts);
        if (version === undefined) showPolicy(opts, await client.policies.get(opts.zone, ref));
        else showVersion(opts, await client.policies.getVersion(opts.zone, ref, parseVersion(version, 'VERSION')));
      });

    withZone(adminCommand(policies, 'create', 'create a policy, with its first version from --file'))
      .argument('<name>', 'policy name')
      .option('--file <path>', 'the first version: a TOML or JSON policy document (`-` reads stdin)')
      .option('--format <format>', 'toml or json (default: from the file extension)')
      .option('--description <text>', 'what the policy is for')
      .action(async (name: string, opts: DocumentFlags & { file?: string; description?: string }) => {
        const document = opts.file === undefined ? undefined : readPolicyFile(opts.file, opts.format);
        const policy = await (await adminClient(cli, opts)).policies.create(opts.zone, {
          name,
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(document === undefined ? {} : { document: document.source, ...(document.format === undefined ? {} : { format: document.format }) }),
        });
        showPolicy(opts, policy, `created policy ${policy.name}`);
      });

    withZone(adminCommand(policies, 'validate', 'check a policy document without storing it (exit 7 with line-precise problems when invalid)'))
      .argument('<file>', 'TOML or JSON policy document (`-` reads stdin)')
      .option('--format <format>', 'toml or json (default: from the file extension)')
      .action(async (file: string, opts: DocumentFlags) => {
        const result = await (await adminClient(cli, opts)).policies.validate(opts.zone, readPolicyFile(file, opts.format));
        if (opts.json === true) printJson(result);
        else process.stdout.write(`${file} is a valid policy (${result.rule_count} rule${result.rule_count === 1 ? '' : 's'})\n`);
      });

    withZone(adminCommand(policies, 'add-version', 'add an immutable version to a policy'))
      .argument('<policy>', 'policy ID or name')
      .argument('<file>', 'TOML or JSON policy document (`-` reads stdin)')
      .option('--format <format>', 'toml or json (default: from the file extension)')
      .action(async (ref: string, file: string, opts: DocumentFlags) => {
        const version = await (await adminClient(cli, opts)).policies.addVersion(opts.zone, ref, readPolicyFile(file, opts.format));
        if (opts.json === true) printJson(version);
        else {
          process.stdout.write(
            `added version ${version.version} to policy ${ref} (${version.rules.length} rule${version.rules.length === 1 ? '' : 's'})\n` +
              `to use it: caracal policy-sets add-version SET --policy ${ref}@${version.version} --zone ${opts.zone}\n`,
          );
        }
      });

    withPaging(withZone(adminCommand(policies, 'versions', 'list the versions of a policy')))
      .argument('<policy>', 'policy ID or name')
      .action(async (ref: string, opts: ListOptions & ZoneOptions) => {
        const page = await (await adminClient(cli, opts)).policies.listVersions(opts.zone, ref, pageQuery(opts));
        printList(opts, page, ['version', 'format', 'rules', 'created'], (v) => [String(v.version), v.format, String(v.rules.length), v.created_at], `policy ${ref} has no versions yet`);
      });
  },
};
