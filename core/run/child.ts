import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Signals `caracal run` passes on to the child (it keeps running until the child has exited). */
export const forwardedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The exit code for a child that ended: its own code, or 128 + N when signal N ended it. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/**
 * Runs the command with inherited stdio and the given environment, forwards SIGINT, SIGTERM and
 * SIGHUP to it, and resolves with its exit code (DESIGN.md §8): the child's code, 127 when the
 * command was not found, 126 when it is not executable, 128 + N when signal N ended it.
 */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv, report: (message: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: 'inherit', env });
    const handlers = forwardedSignals.map((signal) => {
      const handler = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const done = (code: number) => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      // 'error' without a pid means the command never started (spawn failed).
      if (child.pid !== undefined) return;
      if (error.code === 'ENOENT') {
        report(`command not found: ${command} (not on PATH, or the file does not exist)`);
        done(127);
      } else if (error.code === 'EACCES') {
        report(`command not executable: ${command} (make it executable: chmod +x, or run it through its interpreter)`);
        done(126);
      } else {
        report(`cannot start ${command}: ${error.code ?? error.message}`);
        done(126);
      }
    });
    child.once('exit', (code, signal) => done(exitCodeOf(code, signal)));
  });
}
