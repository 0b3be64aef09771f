/**
 * Environment variable names a profile may ask `caracal run` to set. A token variable must never
 * change how the child starts (loader and interpreter variables) nor shadow Caracal's own settings.
 */

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const MAX_ENV_NAME = 128;

/** Names that change how programs load or behave, whatever value they hold. */
const UNSAFE_NAMES = new Set([
  'PATH',
  'HOME',
  'SHELL',
  'IFS',
  'ENV',
  'BASH_ENV',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'TMPDIR',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'HOSTALIASES',
  'LOCPATH',
  'MALLOC_CHECK_',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  // Caracal's own settings: the child must see the real ones.
  'CARACAL_GATEWAY_URL',
  'CARACAL_CONTROL_URL',
  'CARACAL_CONFIG',
  'CARACAL_CONFIG_DIR',
  'CARACAL_HOME',
  'CARACAL_ADMIN_TOKEN',
  'CARACAL_MASTER_KEY',
  'CARACAL_DATABASE_URL',
  'CARACAL_DEBUG',
]);

/** Prefixes of dynamic-loader variables (glibc `LD_*`, macOS `DYLD_*`). */
const UNSAFE_PREFIXES = ['LD_', 'DYLD_'];

/** Says why a name cannot carry a credential, or returns undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name) || name.length > MAX_ENV_NAME) {
    return `"${name.slice(0, 80)}" is not a usable variable name: use upper-case letters, digits and "_" (matching [A-Z_][A-Z0-9_]*, at most ${MAX_ENV_NAME} characters)`;
  }
  if (UNSAFE_NAMES.has(name) || UNSAFE_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    return `"${name}" is an unsafe variable name: it changes how programs start or how Caracal works; choose a name of your own such as CARACAL_BILLING_API_TOKEN`;
  }
  return undefined;
}

/** Whether a name may carry a credential (see envNameProblem). */
export function isSafeEnvName(name: string): boolean {
  return envNameProblem(name) === undefined;
}

/** The variable a resource's token goes in by default: `resource://billing-api` → `CARACAL_BILLING_API_TOKEN`. */
export function credentialEnvName(resourceId: string): string {
  const slug = resourceId.replace(/^resource:\/\//, '');
  return `CARACAL_${slug.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_TOKEN`;
}
