/**
 * Property: whatever the texts (any Unicode, backslashes, CR, tabs, `\.`
 * lines, `\N`), whatever the dump style (COPY, --inserts, --column-inserts,
 * E'' literals with escapes, CRLF) and wherever the chunks break, the
 * filter's COPY rows decode (by PostgreSQL's COPY FROM rules) back to
 * exactly the values the dump was made from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SqlFilter, WANTED_TABLES, type FilterEvent, type FilterOptions, type WantedTable } from '../src/filter/index.js';
import { chunk, cutsArb, decodeCopy, expectedRows, modelArb, optionsArb, writeDump, type Value } from './dump-gen.js';

function filtered(chunks: string[], options: FilterOptions = {}): Map<WantedTable, { columns: string[]; rows: Value[][] }> {
  const out = new Map<WantedTable, { columns: string[]; data: string }>();
  const f = new SqlFilter((e: FilterEvent) => {
    if (e.type === 'begin') {
      const seen = out.get(e.table);
      if (seen && seen.columns.join() !== e.columns.join()) throw new Error(`${e.table} began twice with different columns`);
      if (!seen) out.set(e.table, { columns: e.columns, data: '' });
    } else if (e.type === 'rows') out.get(e.table)!.data += e.data;
  }, options);
  for (const c of chunks) f.push(c);
  f.end();
  if (!f.stats.sawDumpHeader || !f.stats.sawDumpComplete) throw new Error('header or trailer not seen');
  return new Map([...out].map(([t, v]) => [t, { columns: v.columns, rows: decodeCopy(v.data) }]));
}

describe('SqlFilter, property-based', () => {
  it('round-trips every value of every wanted table, for any texts, style and chunking', () => {
    fc.assert(
      fc.property(modelArb, optionsArb, cutsArb, (model, options, cuts) => {
        const dump = writeDump(model, options);
        const got = filtered(chunk(dump, cuts));
        for (const table of WANTED_TABLES) {
          const want = expectedRows(model, options, table);
          const have = got.get(table) ?? { columns: [], rows: [] };
          expect(have.columns).toEqual(want.columns);
          expect(have.rows).toEqual(want.rows);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('with textsOf, keeps exactly those users\' texts and every other table whole, for any texts, style and chunking', () => {
    fc.assert(
      fc.property(modelArb, optionsArb, cutsArb, fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }), (model, options, cuts, ids) => {
        const textsOf = new Set(ids.map(String));
        const got = filtered(chunk(writeDump(model, options), cuts), { textsOf });
        for (const table of WANTED_TABLES) {
          const want = expectedRows(model, options, table);
          const author = table === 'tasktexts' || table === 'notes' ? want.columns.indexOf('user_id') : -1;
          const have = got.get(table) ?? { columns: [], rows: [] };
          expect(have.columns).toEqual(want.columns);
          expect(have.rows).toEqual(author < 0 ? want.rows : want.rows.filter((r) => textsOf.has(String(r[author]))));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same rows one byte at a time as in one piece', () => {
    fc.assert(
      fc.property(modelArb, optionsArb, (model, options) => {
        const dump = writeDump(model, options);
        expect(filtered([...dump])).toEqual(filtered([dump]));
      }),
      { numRuns: 25 },
    );
  });

  it('decodes COPY text by PostgreSQL rules (the decoder itself)', () => {
    expect(decodeCopy('a\\tb\t\\N\t\\\\N\t\\101\\x41\\q\t\n')).toEqual([['a\tb', null, '\\N', 'AAq', '']]);
    expect(decodeCopy('\\\\.\t\\r\\n\n')).toEqual([['\\.', '\r\n']]);
    expect(decodeCopy(Buffer.from('é\\303\\251', 'utf8').toString('latin1') + '\n')).toEqual([['éé']]);
  });
});
