/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface FirstRequest {
  readonly profilePath: string;
  readonly gatewayUrl: string;
  /** The variable that carries the resource's token under `caracal run`. */
  readonly env: string;
  readonly resource: string;
  readonly method: string;
  readonly path: string;
}

/**
 * The first-success commands `caracal setup` prints: a `caracal run` line for the user's own
 * command, and a curl line that works as pasted: curl runs under `caracal run`, so the token
 * variable is set; the inner shell hands the token to curl on stdin, so no argv carries it.
 */
export function firstSuccessCommands(first: FirstRequest): { run: string; curl: string } {
  const prefix = `CARACAL_CONFIG=${shellQuote(first.profilePath)} caracal run --`;
  const url = `${first.gatewayUrl.replace(/\/+$/, '')}${first.path}`;
  const method = first.method === 'GET' ? '' : ` -X ${first.method}`;
  // printf is a shell builtin: the token reaches curl on stdin (-H @-), never in a process's argv.
  const inner = `printf "Authorization: Bearer %s\\n" "$${first.env}" | curl -sS${method} -H @- -H "X-Caracal-Resource: ${first.resource}" ${shellQuote(url)}`;
  return { run: `${prefix} <command>`, curl: `${prefix} sh -c ${shellQuote(inner)}` };
}
