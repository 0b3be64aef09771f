import { describe, expect, it } from 'vitest';
import { internalHttpApiPlugin } from '../../plugins/scenario-internal-http-api/index.js';
import { jsonlSinkPlugin } from '../../plugins/sink-jsonl/index.js';
import { contributionLines } from './plugins.js';

describe('contributionLines (the Plugins view detail)', () => {
  it('names what a plugin contributes, by kind, and its hooks', () => {
    expect(contributionLines(internalHttpApiPlugin)).toContain('scenarios: internal-http-api');
    expect(contributionLines(jsonlSinkPlugin)).toEqual(['audit sinks: jsonl']);
    expect(
      contributionLines({ name: 'x', caracal: '^1', providers: [{ kind: 'api-key', description: '' }], hooks: { onReceive: () => undefined } }),
    ).toEqual(['provider kinds: api-key', 'hooks: onReceive']);
  });

  it('says nothing for a plugin that did not load, or contributes nothing', () => {
    expect(contributionLines(undefined)).toEqual([]);
    expect(contributionLines({ name: 'empty', caracal: '^1' })).toEqual([]);
  });
});
