/**
 * Tables align by display width: CJK and emoji take two columns, combining
 * accents none, so names in any script keep the columns straight.
 */
import { describe, expect, it } from 'vitest';
import { displayWidths, table as textTable } from '../src/table.js';

describe('textTable', () => {
  it('measures display width, not string length', async () => {
    const displayWidth = await displayWidths();
    expect(displayWidth('漢字')).toBe(4);
    expect(displayWidth('🙂')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
  });

  it('aligns every column by display width', async () => {
    const displayWidth = await displayWidths();
    const out = await textTable(['USERNAME', 'NAME', 'TEXTS'], [
      ['alice', 'Alice Liddell', '6'],
      ['wang', '王小明', '3'],
      ['emoji', 'Sam 🙂 Lee', '2'],
      ['zoe', 'Zoe\u0301', '1'],
    ]);
    const lines = out.trimEnd().split('\n');
    // The third column starts at the same display column on every line.
    const starts = lines.map((l) => displayWidth(l.slice(0, l.search(/\S+$/))));
    expect(new Set(starts).size).toBe(1);
    expect(lines[2]).toBe('wang      王小明         3');
  });
});
