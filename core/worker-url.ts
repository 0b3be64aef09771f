/**
 * The URL of a worker thread's script next to the calling module. A worker runs JavaScript, so a
 * caller running from TypeScript sources (under vitest) gets the built file in dist/ instead (the
 * test suite builds dist/ first).
 */
export function workerUrl(callerUrl: string, script: string): URL {
  const url = new URL(script, callerUrl);
  if (!callerUrl.endsWith('.ts')) return url;
  const root = new URL('../', import.meta.url);
  return new URL(`dist/${url.href.slice(root.href.length)}`, root);
}
