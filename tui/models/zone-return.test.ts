import { describe, expect, it } from 'vitest';
import { returnParams, returnTarget } from './zone-return.js';

describe('return after picking a zone', () => {
  it('carries the view asked for and its own params through Zones', () => {
    const params = returnParams('explain', { requestId: 'req_01', then: 'x' });
    expect(returnTarget(params)).toEqual({ viewId: 'explain', params: { requestId: 'req_01', then: 'x' } });
    expect(returnTarget(returnParams('providers', {}))).toEqual({ viewId: 'providers', params: {} });
  });

  it('has no target when Zones was opened on its own (z, g z, :zones)', () => {
    expect(returnTarget({})).toBeUndefined();
    expect(returnTarget({ then: '' })).toBeUndefined();
    expect(returnTarget({ then: 'zones' })).toBeUndefined();
  });
});
