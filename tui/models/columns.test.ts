import { describe, expect, it } from 'vitest';
import { headerLine, layoutColumns, rowLine, type Column } from './columns.js';

interface Row { readonly name: string; readonly id: string; readonly note: string }
const columns: Column<Row>[] = [
  { title: 'name', width: 20, flex: true, min: 8, priority: 0, text: (r) => r.name },
  { title: 'id', width: 30, priority: 1, text: (r) => r.id, color: () => 'gray' },
  { title: 'note', width: 40, priority: 2, text: (r) => r.note },
];

describe('table columns', () => {
  it('uses the room on a wide screen and hides the least important columns first on a narrow one', () => {
    expect(layoutColumns(columns, 200)).toEqual([128, 30, 40]);
    expect(layoutColumns(columns, 78)).toEqual([47, 30, 0]);
    expect(layoutColumns(columns, 30)).toEqual([30, 0, 0]);
    expect(layoutColumns(columns, 5)).toEqual([8, 0, 0]);
  });

  it('never shows more than the width when something is hidden', () => {
    for (let width = 20; width <= 120; width++) {
      const widths = layoutColumns(columns, width);
      const used = widths.filter((w) => w > 0).reduce((sum, w) => sum + w + 1, 0) - 1;
      expect(used).toBeLessThanOrEqual(width);
    }
  });

  it('escapes, cuts and colors cells', () => {
    const widths = [20, 30, 0];
    expect(headerLine(columns, widths)).toBe(`${'NAME'.padEnd(20)} ${'ID'.padEnd(30)}`);
    const line = rowLine(columns, widths, { name: 'a {bold} name that is far too long', id: 'app_1', note: 'x' });
    expect(line).toBe(`a {open}bold{close} name that … {gray-fg}${'app_1'.padEnd(30)}{/gray-fg}`);
  });
});
