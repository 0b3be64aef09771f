import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * End-to-end tests run the built `caracal` bin (dist/). Build once before the suite so a test never
 * exercises stale JavaScript. Type errors do not stop the build (tsc still emits; `npm run
 * typecheck` is the gate for them), so one unfinished module does not block every other test.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) process.stderr.write(`warning: tsc reported type errors (run npm run typecheck):\n${result.stdout.slice(0, 2000)}\n`);
  if (!existsSync(`${root}dist/core/cli/main.js`)) throw new Error(`build produced no dist/core/cli/main.js:\n${result.stdout}${result.stderr}`);
}
