/**
 * Resolves when the process gets SIGTERM or SIGINT, after `stop` has run once. A second signal
 * while stopping exits at once (an operator pressing Ctrl-C twice means it).
 */
export function untilSignal(stop: (signal: NodeJS.Signals) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      stopping = true;
      stop(signal).then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      }, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
