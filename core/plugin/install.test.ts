import { describe, expect, it } from 'vitest';
import { stderrTail } from './install.js';

describe('stderrTail (what the user sees of a failed npm run)', () => {
  it('keeps the last twelve non-empty lines without color codes', () => {
    const stderr = Array.from({ length: 20 }, (_, i) => `\u001b[31mnpm error\u001b[0m line ${i + 1}\n`).join('\n');
    const tail = stderrTail(stderr).split('\n');
    expect(tail).toHaveLength(12);
    expect(tail[0]).toBe('npm error line 9');
    expect(tail[11]).toBe('npm error line 20');
  });

  it.each([
    ['a URL with credentials', 'npm error 401 https://alice:s3cret@registry.example.com/x', 'npm error 401 https://***@registry.example.com/x'],
    ['an npmrc auth token', 'npm error //registry.example.com/:_authToken=abcdef123', 'npm error //registry.example.com/:_authToken=***'],
    ['a bearer token', 'npm error Authorization: Bearer eyJhbGciOi.payload.sig', 'npm error Authorization: Bearer ***'],
    ['an npm access token', 'npm error token npm_abcdefghijklmnopqrstuvwxyz0123456789 rejected', 'npm error token npm_*** rejected'],
  ])('redacts %s', (_what, line, expected) => {
    expect(stderrTail(line)).toBe(expected);
    expect(stderrTail(line)).not.toMatch(/s3cret|abcdef123|payload\.sig|npm_abcdefghij/);
  });
});
