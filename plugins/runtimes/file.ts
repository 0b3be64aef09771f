import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProfileCredential } from '../../core/profile/profile.js';
import { defineRuntime } from '../../core/run/runtime.js';
import type { IssuedToken } from '../../core/run/token-client.js';

/** How soon a failed refresh is tried again. */
const RETRY_MS = 5000;

/**
 * `file`: each token in an owner-only file (0600) in a private folder (0700) under the system temp
 * dir; `<ENV>_FILE` names it. Each file is replaced before its token expires (written beside it,
 * then renamed over it, so a reader sees the old or the new token, never half of one). The folder
 * is removed when the child exits.
 */
export const fileRuntime = defineRuntime({
  id: 'file',
  description: 'tokens in owner-only files named by <ENV>_FILE, refreshed before expiry',
  async launch(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'caracal-run-'));
    if (process.platform !== 'win32') chmodSync(dir, 0o700);
    const timers = new Set<NodeJS.Timeout>();
    let closed = false;
    const env: Record<string, string> = {};
    try {
      for (const credential of ctx.credentials) {
        const path = join(dir, credential.env.toLowerCase());
        const token = await ctx.token(credential);
        writeToken(path, token);
        env[`${credential.env}_FILE`] = path;
        schedule(credential, path, token);
      }
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }

    function schedule(credential: ProfileCredential, path: string, token: Pick<IssuedToken, 'refreshAt'>, delay = token.refreshAt - Date.now()): void {
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void ctx.token(credential).then(
          (next) => {
            if (closed) return;
            writeToken(path, next);
            schedule(credential, path, next);
          },
          (error: unknown) => {
            ctx.warn(`could not refresh the token of ${credential.resource}: ${(error as Error).message}; retrying in ${RETRY_MS / 1000} s`);
            schedule(credential, path, token, RETRY_MS);
          },
        );
      }, Math.max(1000, delay));
      timer.unref();
      timers.add(timer);
    }

    return {
      env,
      close() {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  },
});

function writeToken(path: string, token: IssuedToken): void {
  const temporary = `${path}.next`;
  writeFileSync(temporary, token.accessToken, { mode: 0o600 });
  renameSync(temporary, path);
}
