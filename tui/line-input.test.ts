import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyKey, lineState, visibleLine, type KeyEvent, type LineState } from './line-input.js';

function type(state: LineState, keys: readonly KeyEvent[]): LineState {
  let current = state;
  for (const key of keys) {
    const result = applyKey(current, key);
    if (result.kind !== 'edit') throw new Error(`unexpected ${result.kind}`);
    current = result.state;
  }
  return current;
}
const ch = (c: string): KeyEvent => ({ full: c, ch: c });

describe('line editor', () => {
  it('inserts at the cursor, moves, deletes words and lines', () => {
    let s = type(lineState(), [...'zone prod'].map(ch));
    expect(s).toEqual({ text: 'zone prod', cursor: 9 });
    s = type(s, [{ full: 'C-w' }]);
    expect(s).toEqual({ text: 'zone ', cursor: 5 });
    s = type(s, [{ full: 'home' }, ch('x'), { full: 'right' }, { full: 'backspace' }]);
    expect(s).toEqual({ text: 'xone ', cursor: 1 });
    s = type(s, [{ full: 'C-k' }]);
    expect(s).toEqual({ text: 'x', cursor: 1 });
    s = type(s, [{ full: 'C-u' }]);
    expect(s).toEqual({ text: '', cursor: 0 });
  });

  it('submits on enter, cancels on escape, asks for completion on tab', () => {
    expect(applyKey(lineState('audit'), { full: 'enter' })).toEqual({ kind: 'submit', text: 'audit' });
    expect(applyKey(lineState('audit'), { full: 'escape' })).toEqual({ kind: 'cancel' });
    expect(applyKey(lineState('au'), { full: 'tab' }).kind).toBe('complete');
  });

  it('ignores control characters so a stray escape sequence never lands in the text', () => {
    expect(type(lineState('a'), [{ full: 'C-x', ch: '\u0018' }, { full: 'f1', ch: '\u001bOP' }])).toEqual({ text: 'a', cursor: 1 });
  });

  it('keeps the cursor inside the text whatever keys arrive', () => {
    const keys = fc.constantFrom<KeyEvent>(ch('a'), ch('é'), { full: 'left' }, { full: 'right' }, { full: 'backspace' }, { full: 'delete' }, { full: 'home' }, { full: 'end' }, { full: 'C-w' }, { full: 'C-u' }, { full: 'C-k' });
    fc.assert(
      fc.property(fc.array(keys, { maxLength: 60 }), (sequence) => {
        const s = type(lineState('start'), sequence);
        expect(s.cursor).toBeGreaterThanOrEqual(0);
        expect(s.cursor).toBeLessThanOrEqual(s.text.length);
      }),
    );
  });

  it('masks a secret and scrolls a long line so the cursor stays visible', () => {
    expect(visibleLine(lineState('cs_abc'), 20, true).text).toBe('••••••');
    const long = visibleLine(lineState('x'.repeat(100)), 10);
    expect(long.cursor).toBeLessThanOrEqual(10);
    expect(long.text.length).toBeLessThanOrEqual(10);
  });
});
