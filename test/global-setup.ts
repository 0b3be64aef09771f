import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * End-to-end tests run the built `caracal` bin (dist/). Build once before the suite so a test
 * never exercises stale JavaScript; tsc is incremental enough to be cheap when nothing changed.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`], {
    cwd: root,
    stdio: 'inherit',
  });
  if (!existsSync(`${root}dist/core/cli/main.js`) || !statSync(`${root}dist/core/cli/main.js`).isFile()) {
    throw new Error('build produced no dist/core/cli/main.js');
  }
}
