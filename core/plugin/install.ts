/**
 * `caracal plugin add` / `remove`: npm, run through execa, manages the private prefix
 * `CARACAL_HOME/plugins` (its package.json lists the installed plugins).
 *
 * Decisions:
 * - `--ignore-scripts` by default: install scripts of the plugin and of every transitive
 *   dependency would run with the operator's rights before Caracal has checked anything. A plugin
 *   that needs a native build opts in with `caracal plugin add --allow-scripts`.
 * - `--no-audit --no-fund`: no extra registry round trips or banners in an operator tool.
 * - Validation is a real load (import, shape, API range, unique name, setup in `check` mode). If
 *   npm or the validation fails, the prefix is put back as it was: package.json and
 *   package-lock.json are restored byte for byte, a newly added package is uninstalled, and a
 *   prefix that did not exist before is removed.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CaracalError } from '../errors.js';
import { listInstalled, pluginsPrefix, readDependencies } from './installed.js';
import { loadPlugins, type LoadedPlugin } from './loader.js';
import type { Plugin } from './types.js';

/** Options of {@link addPlugin} and {@link removePlugin}. */
export interface PluginInstallOptions {
  /** CARACAL_HOME; plugins go to `<home>/plugins`. */
  readonly home: string;
  /** Built-in plugins (names they take, and they may not be removed). */
  readonly builtins: readonly Plugin[];
  /** Let npm run install scripts (off by default; see the module comment). */
  readonly allowScripts?: boolean;
  /** Base for a relative tarball or folder path; the process's cwd by default. */
  readonly cwd?: string;
  /** The version shown for built-ins. */
  readonly builtinVersion?: string;
}

/** What the user asked to install. */
type Target = { readonly kind: 'npm'; readonly spec: string; readonly name: string } | { readonly kind: 'path'; readonly path: string };

const NPM_FLAGS = ['--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'] as const;
const NPM_TIMEOUT_MS = 5 * 60_000;
const STDERR_LINES = 12;

/** Installs a plugin from the registry, a tarball or a folder, validates it, and returns its record. */
export async function addPlugin(target: string, options: PluginInstallOptions): Promise<LoadedPlugin> {
  const wanted = parseTarget(target, options.cwd ?? process.cwd());
  const prefix = pluginsPrefix(join(options.home, 'plugins'));
  const snapshot = takeSnapshot(prefix);
  if (!existsSync(prefix.manifest)) {
    mkdirSync(prefix.dir, { recursive: true });
    writeFileSync(prefix.manifest, `${JSON.stringify(PREFIX_MANIFEST, null, 2)}\n`);
  }

  const installed = await npm(prefix.dir, ['install', '--save', ...scriptsFlag(options), wanted.kind === 'npm' ? wanted.spec : wanted.path]);
  if (!installed.ok) {
    const restored = await rollback(prefix, snapshot, undefined);
    throw new CaracalError('CRC_PLUGIN_INSTALL', `npm could not install ${target}: ${installed.reason}`, {
      hint: `${hintFor(wanted)}${restored}`,
      details: { target, exitCode: installed.exitCode },
    });
  }

  const name = installedName(prefix.dir, wanted, snapshot);
  let record: LoadedPlugin | undefined;
  let problem: string | undefined;
  try {
    const result = await loadPlugins({
      builtins: options.builtins,
      home: options.home,
      mode: 'check',
      ...(options.builtinVersion === undefined ? {} : { builtinVersion: options.builtinVersion }),
    });
    await result.driver.runHook('teardown', { reason: 'shutdown' });
    const found = result.records.find((r) => r.package === name);
    if (found?.status === 'loaded') record = found;
    else if (found) problem = found.error;
    else problem = `npm reported success but no package could be matched to ${target}`;
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  if (record === undefined) {
    const restored = await rollback(prefix, snapshot, name);
    throw new CaracalError('CRC_PLUGIN_INSTALL', `${target} is not a usable Caracal plugin: ${problem ?? 'unknown problem'}`, {
      hint: `nothing was installed: the plugins folder is as it was${restored}`,
      details: { target, package: name },
    });
  }
  return record;
}

/** Uninstalls a plugin by plugin or package name; built-ins are refused. */
export async function removePlugin(name: string, options: PluginInstallOptions): Promise<{ readonly package: string }> {
  if (options.builtins.some((p) => p.name === name)) {
    throw new CaracalError('CRC_USAGE', `plugin ${name} is built in to Caracal and cannot be removed`, {
      hint: 'built-in plugins ship with Caracal; `caracal plugin list` shows which plugins are installed (source npm, tarball or dir)',
    });
  }
  const prefix = pluginsPrefix(join(options.home, 'plugins'));
  const installed = listInstalled(prefix.dir);
  let pkg = installed.find((p) => p.name === name)?.name;
  if (pkg === undefined && installed.length > 0) {
    // Maybe a plugin name: map it to its package through a load.
    const result = await loadPlugins({ builtins: [], home: options.home, mode: 'check' });
    await result.driver.runHook('teardown', { reason: 'shutdown' });
    pkg = result.records.find((r) => r.name === name)?.package ?? undefined;
  }
  if (pkg === undefined) {
    const names = installed.map((p) => p.name);
    throw new CaracalError('CRC_NOT_FOUND', `no installed plugin is named ${name}`, {
      hint: names.length === 0 ? 'no plugins are installed' : `installed plugin packages: ${names.join(', ')}`,
    });
  }
  const removed = await npm(prefix.dir, ['uninstall', '--save', '--ignore-scripts', pkg]);
  if (!removed.ok) {
    throw new CaracalError('CRC_PLUGIN_INSTALL', `npm could not remove ${pkg}: ${removed.reason}`, { details: { exitCode: removed.exitCode } });
  }
  return { package: pkg };
}

const PREFIX_MANIFEST = {
  name: 'caracal-plugins',
  private: true,
  description: 'Plugins installed with `caracal plugin add` (managed by Caracal; edit with the caracal plugin commands).',
  dependencies: {},
};

function parseTarget(target: string, cwd: string): Target {
  const text = target.trim();
  if (text === '' || text.startsWith('-')) {
    throw new CaracalError('CRC_USAGE', `"${target}" is not a plugin to install`, { hint: 'give an npm package name, a .tgz file or a folder' });
  }
  const pathLike = /^(\.{1,2}([/\\]|$)|[/\\~]|[A-Za-z]:[/\\])/.test(text) || /\.(tgz|tar\.gz|tar)$/i.test(text) || (!text.startsWith('@') && /[/\\]/.test(text));
  if (pathLike) {
    const path = resolve(cwd, text.replace(/^~(?=$|[/\\])/, process.env.HOME ?? '~'));
    if (!existsSync(path)) {
      throw new CaracalError('CRC_PLUGIN_INSTALL', `cannot install ${target}: no such file or folder (${path})`, {
        hint: 'give the path of a package tarball (npm pack makes one) or of a package folder, or an npm package name',
      });
    }
    if (statSync(path).isDirectory() && !existsSync(join(path, 'package.json'))) {
      throw new CaracalError('CRC_PLUGIN_INSTALL', `cannot install ${target}: the folder ${path} has no package.json`, {
        hint: 'a plugin folder is an npm package: package.json with "name", "version" and "main"',
      });
    }
    return { kind: 'path', path };
  }
  const m = /^((?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*)(?:@([^\s]+))?$/.exec(text);
  if (!m?.[1]) {
    throw new CaracalError('CRC_USAGE', `"${target}" is neither an npm package name nor a path`, {
      hint: 'e.g. caracal plugin add caracal-plugin-hello, caracal plugin add ./hello-1.0.0.tgz, caracal plugin add ./my-plugin/',
    });
  }
  return { kind: 'npm', spec: text, name: m[1] };
}

/** The package the target ended up as: by name or path in the prefix's dependencies, else the one new dependency. */
function installedName(prefixDir: string, wanted: Target, before: Snapshot): string | undefined {
  const deps = readDependencies(pluginsPrefix(prefixDir).manifest);
  if (wanted.kind === 'npm' && wanted.name in deps) return wanted.name;
  if (wanted.kind === 'path') {
    const target = realPath(wanted.path);
    const byPath = Object.entries(deps).find(([, spec]) => spec.startsWith('file:') && realPath(resolve(prefixDir, spec.slice(5))) === target);
    if (byPath) return byPath[0];
  }
  const added = Object.keys(deps).filter((name) => !(name in before.dependencies));
  return added.length === 1 ? added[0] : undefined;
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

interface Snapshot {
  readonly existed: boolean;
  readonly manifest: string | null;
  readonly lock: string | null;
  readonly dependencies: Readonly<Record<string, string>>;
}

function takeSnapshot(prefix: ReturnType<typeof pluginsPrefix>): Snapshot {
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null);
  const manifest = read(prefix.manifest);
  return {
    existed: existsSync(prefix.dir),
    manifest,
    lock: read(prefix.lock),
    dependencies: manifest === null ? {} : readDependencies(prefix.manifest),
  };
}

/** Puts the prefix back as the snapshot found it; returns a note for the hint when that was incomplete. */
async function rollback(prefix: ReturnType<typeof pluginsPrefix>, snapshot: Snapshot, name: string | undefined): Promise<string> {
  if (!snapshot.existed) {
    rmSync(prefix.dir, { recursive: true, force: true });
    return '';
  }
  if (name !== undefined && !(name in snapshot.dependencies)) await npm(prefix.dir, ['uninstall', '--save', '--ignore-scripts', name]);
  restoreFile(prefix.manifest, snapshot.manifest);
  restoreFile(prefix.lock, snapshot.lock);
  if (name !== undefined && name in snapshot.dependencies) {
    // An upgrade that failed validation: bring node_modules back to the restored lock.
    const back = await npm(prefix.dir, ['install', '--ignore-scripts']);
    if (!back.ok) return `; the previous version of ${name} could not be reinstalled (${back.reason}): run caracal plugin add again for it`;
  }
  return '';
}

function restoreFile(path: string, content: string | null): void {
  if (content === null) {
    if (existsSync(path)) unlinkSync(path);
  } else {
    writeFileSync(path, content);
  }
}

interface NpmOutcome {
  readonly ok: boolean;
  readonly exitCode: number | null;
  /** The tail of npm's stderr, redacted. */
  readonly reason: string;
}

async function npm(prefixDir: string, args: readonly string[]): Promise<NpmOutcome> {
  const { execa } = await import('execa');
  const result = await execa('npm', [...args, '--prefix', prefixDir, ...NPM_FLAGS], {
    cwd: prefixDir,
    reject: false,
    stdin: 'ignore',
    timeout: NPM_TIMEOUT_MS,
    env: { npm_config_update_notifier: 'false' },
  });
  if (!result.failed) return { ok: true, exitCode: 0, reason: '' };
  if (result.exitCode === undefined) {
    const why = result.timedOut ? `npm did not finish within ${NPM_TIMEOUT_MS / 60_000} minutes` : `cannot run npm (${result.shortMessage})`;
    return { ok: false, exitCode: null, reason: why };
  }
  return { ok: false, exitCode: result.exitCode, reason: stderrTail(String(result.stderr)) || `npm exited with code ${result.exitCode}` };
}

/** The last lines of npm's stderr, without color codes or anything that looks like a credential. */
export function stderrTail(stderr: string): string {
  const lines = stderr
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
  return lines.slice(-STDERR_LINES).map(redact).join('\n');
}

function redact(line: string): string {
  return line
    .replace(/(\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1***@')
    .replace(/(_auth(?:Token)?|_password|token|password)(\s*[=:]\s*)\S+/gi, '$1$2***')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 ***')
    .replace(/\bnpm_[A-Za-z0-9]{20,}\b/g, 'npm_***');
}

function scriptsFlag(options: PluginInstallOptions): string[] {
  return options.allowScripts === true ? [] : ['--ignore-scripts'];
}

function hintFor(target: Target): string {
  return target.kind === 'npm'
    ? 'check the package name and version, your network and npm registry settings (npm config get registry)'
    : 'check that the file is a package tarball made by npm pack, or a folder with a valid package.json';
}
