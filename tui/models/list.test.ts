import { describe, expect, it } from 'vitest';
import { filterItems, navigate, selectIndex, START } from './list.js';

describe('list selection', () => {
  it('scrolls so the selection stays visible and clamps at both ends', () => {
    let c = START;
    for (let i = 0; i < 12; i++) c = navigate(c, 'down', 100, 10) ?? c;
    expect(c).toEqual({ selected: 12, offset: 3 });
    c = navigate(c, 'pagedown', 100, 10) ?? c;
    expect(c).toEqual({ selected: 21, offset: 12 });
    expect(navigate(c, 'end', 100, 10)).toEqual({ selected: 99, offset: 90 });
    expect(navigate(c, 'home', 100, 10)).toEqual({ selected: 0, offset: 0 });
    expect(navigate(START, 'up', 100, 10)).toEqual(START);
    expect(navigate(START, 'x', 100, 10)).toBeUndefined();
  });

  it('stays inside a list that shrank', () => {
    expect(selectIndex({ selected: 50, offset: 45 }, 50, 5, 10)).toEqual({ selected: 4, offset: 0 });
    expect(selectIndex({ selected: 3, offset: 0 }, 3, 0, 10)).toEqual(START);
  });

  it('filters by every word, case-insensitively', () => {
    const items = ['billing-api read', 'Billing write', 'weather'];
    expect(filterItems(items, 'BILL  write', (s) => s)).toEqual(['Billing write']);
    expect(filterItems(items, '  ', (s) => s)).toBe(items);
  });
});
