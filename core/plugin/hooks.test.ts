import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hookKinds, hookNames } from './hooks.js';

describe('docs/plugins.md', () => {
  it('documents every hook with the kind, timeout and failure rule the table declares', () => {
    const doc = readFileSync(new URL('../../docs/plugins.md', import.meta.url), 'utf8');
    const rows = doc
      .split('\n')
      .map((line) => /^\| `(\w+)` \| [^|]+ \| ([a-z-]+)[^|]* \| (\d+) ms \| ([a-z-]+):/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, name, kind, timeout, failure]) => ({ name, kind, timeoutMs: Number(timeout), failure }));
    expect(rows).toEqual(
      hookNames.map((name) => ({ name, kind: hookKinds[name].kind, timeoutMs: hookKinds[name].timeoutMs, failure: hookKinds[name].failure })),
    );
  });
});
