/**
 * A wanted table's rows cut down to the columns we keep: which source
 * columns to pick, in wanted order, and which rows to drop (settings other
 * than KEPT_SETTINGS; with FilterOptions.textsOf, other students' texts).
 * COPY data lines are projected here; INSERT rows use the same Projection.
 */
import { RecoverError } from '../errors.js';
import { KEPT_SETTINGS, WANTED_COLUMNS, type WantedTable } from './tables.js';

/** The tables whose rows FilterOptions.textsOf filters by user_id. */
const TEXT_TABLES: ReadonlySet<WantedTable> = new Set(['tasktexts', 'notes']);

export interface Projection {
  table: WantedTable;
  /** For each output column, its index in the source's column list. */
  pick: number[];
  /** True when the source's columns are exactly the output columns. */
  identity: boolean;
  sourceWidth: number;
  /** The output column names: the wanted columns present in the source, in wanted order. */
  names: string[];
  /** Settings rows are filtered by key; see KEPT_SETTINGS. */
  keyIndex: number;
  /** Texts rows are filtered by author when `authors` is set: the user_id column's index, else -1. */
  userIndex: number;
  /** The user ids whose texts are kept (FilterOptions.textsOf), when userIndex >= 0. */
  authors: ReadonlySet<string> | undefined;
}

/** The projection of `table`'s rows whose columns are `source`; `textsOf` as in FilterOptions. */
export function project(table: WantedTable, source: readonly string[], textsOf?: ReadonlySet<string>): Projection {
  const wanted = WANTED_COLUMNS[table] as readonly string[];
  const pick: number[] = [];
  const names: string[] = [];
  for (const name of wanted) {
    const at = source.indexOf(name);
    if (at >= 0) {
      pick.push(at);
      names.push(name);
    }
  }
  const identity = pick.length === source.length && pick.every((p, k) => p === k);
  return {
    table,
    pick,
    names,
    identity,
    sourceWidth: source.length,
    keyIndex: table === 'settings' ? source.indexOf('id') : -1,
    userIndex: textsOf && TEXT_TABLES.has(table) ? source.indexOf('user_id') : -1,
    authors: textsOf,
  };
}

/**
 * FilterOptions.rawTexts' projection of a texts table: its rows as they are, when every column
 * of `source` is wanted (once each): the dump's column order is kept. Else null.
 */
export function asIs(table: WantedTable, source: readonly string[]): Projection | null {
  const wanted = WANTED_COLUMNS[table] as readonly string[];
  if (!TEXT_TABLES.has(table) || !source.length || new Set(source).size !== source.length || !source.every((c) => wanted.includes(c))) return null;
  return { table, pick: source.map((_, k) => k), names: [...source], identity: true, sourceWidth: source.length, keyIndex: -1, userIndex: -1, authors: undefined };
}

/** One COPY text data line (no newline) projected, or null when the row is dropped. `lineNo` is for messages. */
export function projectCopyLine(p: Projection, line: string, lineNo: number): string | null {
  if (p.userIndex >= 0 && !p.authors!.has(nthField(line, p.userIndex))) return null;
  let fields: string[] | null = null;
  if (p.keyIndex >= 0) {
    fields = line.split('\t');
    if (!KEPT_SETTINGS.has(fields[p.keyIndex] ?? '')) return null;
  }
  if (p.identity) return line;
  fields ??= line.split('\t');
  if (fields.length !== p.sourceWidth) {
    throw new RecoverError('BACKUP_BAD_ROW', `a row of ${p.table} at line ${lineNo} has ${fields.length} fields, expected ${p.sourceWidth}`, {
      hint: 'the backup is damaged',
    });
  }
  return p.pick.map((k) => fields[k]).join('\t');
}

/** Field `n` of a COPY text line, without splitting the rest (a text after it may be long). */
function nthField(line: string, n: number): string {
  let start = 0;
  for (let k = 0; k < n; k++) {
    const tab = line.indexOf('\t', start);
    if (tab < 0) return '';
    start = tab + 1;
  }
  const end = line.indexOf('\t', start);
  return end < 0 ? line.slice(start) : line.slice(start, end);
}
