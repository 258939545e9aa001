/**
 * Reading the few statement kinds the filter keeps. Each parser takes the
 * tokens of one whole statement and returns plain data; nothing is executed.
 */
import { RecoverError } from '../errors.js';
import { isKeyword, isOp, readQualifiedName, type Token } from './tokens.js';
import { wantedTableOf, type WantedTable } from './tables.js';

export interface ColumnDef {
  name: string;
  type: string;
}

export type Statement =
  | { kind: 'create-table'; table: WantedTable; columns: ColumnDef[] }
  | { kind: 'insert'; table: WantedTable; columns: string[] | null; rows: (string | null)[][] }
  | { kind: 'copy-from-stdin'; table: WantedTable | null; columns: string[] | null }
  | { kind: 'set'; name: string; value: string }
  | { kind: 'other' };

/** Cheap look at a statement's first tokens: is it one the filter must keep whole? */
export function wantsWholeStatement(head: readonly Token[]): boolean {
  const [a, b, c, d] = head;
  if (isKeyword(a, 'copy') || isKeyword(a, 'set')) return true;
  if (isKeyword(a, 'insert') && isKeyword(b, 'into')) return nameIsWanted(head, 2);
  if (isKeyword(a, 'create')) {
    if (isKeyword(b, 'table')) return nameIsWanted(head, isKeyword(c, 'only') ? 3 : 2);
    if (isKeyword(b, 'unlogged') && isKeyword(c, 'table')) return nameIsWanted(head, isKeyword(d, 'only') ? 4 : 3);
  }
  return false;
}

function nameIsWanted(tokens: readonly Token[], at: number): boolean {
  const r = readQualifiedName(tokens, at);
  return !!r && wantedTableOf(r[0]) !== null;
}

export function parseStatement(tokens: readonly Token[]): Statement {
  const [a, b] = tokens;
  if (isKeyword(a, 'set')) return parseSet(tokens);
  if (isKeyword(a, 'copy')) return parseCopy(tokens);
  if (isKeyword(a, 'insert') && isKeyword(b, 'into')) return parseInsert(tokens);
  if (isKeyword(a, 'create')) return parseCreateTable(tokens);
  return { kind: 'other' };
}

function parseSet(tokens: readonly Token[]): Statement {
  // SET name = value | SET name TO value ; only simple forms matter here.
  const name = tokens[1];
  const eq = tokens[2];
  const value = tokens[3];
  if (!name || name.kind !== 'ident' || !(isOp(eq, '=') || isKeyword(eq, 'to')) || !value) return { kind: 'other' };
  if (value.kind === 'op') return { kind: 'other' };
  return { kind: 'set', name: name.value, value: value.value };
}

function parseCopy(tokens: readonly Token[]): Statement {
  const r = readQualifiedName(tokens, 1);
  if (!r) return { kind: 'other' }; // COPY (SELECT ...) TO ...
  const parts = r[0];
  let i = r[1];
  let columns: string[] | null = null;
  if (isOp(tokens[i], '(')) {
    const list = readIdentList(tokens, i);
    if (!list) return { kind: 'other' };
    [columns, i] = list;
  }
  if (!isKeyword(tokens[i], 'from') || !isKeyword(tokens[i + 1], 'stdin')) return { kind: 'other' };
  return { kind: 'copy-from-stdin', table: wantedTableOf(parts), columns };
}

/** `( a, "b", c )` starting at the paren; returns names and the index after `)`. */
function readIdentList(tokens: readonly Token[], at: number): [string[], number] | null {
  const names: string[] = [];
  let i = at + 1;
  for (;;) {
    const t = tokens[i];
    if (!t || t.kind !== 'ident') return null;
    names.push(t.value);
    i++;
    if (isOp(tokens[i], ',')) {
      i++;
      continue;
    }
    if (isOp(tokens[i], ')')) return [names, i + 1];
    return null;
  }
}

function parseCreateTable(tokens: readonly Token[]): Statement {
  let i = 1;
  if (isKeyword(tokens[i], 'unlogged')) i++;
  if (!isKeyword(tokens[i], 'table')) return { kind: 'other' };
  i++;
  if (isKeyword(tokens[i], 'only')) i++;
  const r = readQualifiedName(tokens, i);
  if (!r) return { kind: 'other' };
  const table = wantedTableOf(r[0]);
  if (!table) return { kind: 'other' };
  i = r[1];
  if (!isOp(tokens[i], '(')) return { kind: 'other' }; // PARTITION OF, AS SELECT, ...
  i++;
  // Split the body into top-level comma-separated elements.
  const elements: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isOp(t, '(')) depth++;
    if (isOp(t, ')')) {
      if (depth === 0) break;
      depth--;
    }
    if (depth === 0 && isOp(t, ',')) {
      elements.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length) elements.push(current);
  const TABLE_CONSTRAINT = new Set(['constraint', 'primary', 'unique', 'check', 'foreign', 'exclude', 'like']);
  const COLUMN_OPTION = new Set(['default', 'not', 'null', 'constraint', 'collate', 'generated', 'primary', 'unique', 'check', 'references', 'compression', 'storage']);
  const columns: ColumnDef[] = [];
  for (const el of elements) {
    const first = el[0];
    if (!first || first.kind !== 'ident') continue;
    if (!first.quoted && TABLE_CONSTRAINT.has(first.value)) continue;
    const typeWords: string[] = [];
    for (const t of el.slice(1)) {
      if (t.kind === 'ident' && !t.quoted && COLUMN_OPTION.has(t.value)) break;
      typeWords.push(t.value);
    }
    columns.push({ name: first.value, type: typeWords.join(' ').replace(/ ?([(),]) ?/g, '$1') });
  }
  return { kind: 'create-table', table, columns };
}

function parseInsert(tokens: readonly Token[]): Statement {
  const r = readQualifiedName(tokens, 2);
  if (!r) return { kind: 'other' };
  const table = wantedTableOf(r[0]);
  if (!table) return { kind: 'other' };
  let i = r[1];
  let columns: string[] | null = null;
  if (isOp(tokens[i], '(')) {
    const list = readIdentList(tokens, i);
    if (!list) throw unsupportedInsert(table, 'its column list');
    [columns, i] = list;
  }
  // pg_dump writes OVERRIDING SYSTEM VALUE for identity columns.
  if (isKeyword(tokens[i], 'overriding')) i += 3;
  if (!isKeyword(tokens[i], 'values')) throw unsupportedInsert(table, 'a source other than VALUES');
  i++;
  const rows: (string | null)[][] = [];
  for (;;) {
    if (!isOp(tokens[i], '(')) throw unsupportedInsert(table, 'its VALUES list');
    i++;
    const row: (string | null)[] = [];
    for (;;) {
      const [value, next] = readLiteral(tokens, i, table);
      row.push(value);
      i = next;
      if (isOp(tokens[i], ',')) {
        i++;
        continue;
      }
      if (isOp(tokens[i], ')')) {
        i++;
        break;
      }
      throw unsupportedInsert(table, 'a value that is not a plain literal');
    }
    rows.push(row);
    if (isOp(tokens[i], ',')) {
      i++;
      continue;
    }
    break;
  }
  // Anything after the rows (`ON CONFLICT DO NOTHING`, `;`) does not matter.
  return { kind: 'insert', table, columns, rows };
}

/**
 * One literal as pg_dump --inserts writes it: 'string', NULL, a number
 * (maybe signed), true/false, each optionally followed by `::type`.
 * Returns the value as its text form (null for NULL).
 */
function readLiteral(tokens: readonly Token[], at: number, table: WantedTable): [string | null, number] {
  let i = at;
  let value: string | null;
  const t = tokens[i];
  if (!t) throw unsupportedInsert(table, 'an unterminated VALUES list');
  if (t.kind === 'string' || t.kind === 'number') {
    value = t.value;
    i++;
  } else if (isOp(t, '-') || isOp(t, '+')) {
    const num = tokens[i + 1];
    if (!num || num.kind !== 'number') throw unsupportedInsert(table, 'a value that is not a plain literal');
    value = (t.value === '-' ? '-' : '') + num.value;
    i += 2;
  } else if (isKeyword(t, 'null')) {
    value = null;
    i++;
  } else if (isKeyword(t, 'true') || isKeyword(t, 'false')) {
    value = t.value;
    i++;
  } else {
    throw unsupportedInsert(table, 'a value that is not a plain literal');
  }
  if (isOp(tokens[i], '::')) {
    // Skip the type name, including parenthesised modifiers and [] suffixes.
    i++;
    let depth = 0;
    for (; i < tokens.length; i++) {
      const tk = tokens[i]!;
      if (isOp(tk, '(') || isOp(tk, '[')) depth++;
      else if (isOp(tk, ')') || isOp(tk, ']')) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && isOp(tk, ',')) break;
    }
  }
  return [value, i];
}

function unsupportedInsert(table: string, what: string): RecoverError {
  return new RecoverError('SQL_UNSUPPORTED_INSERT', `an INSERT into ${table} in the backup has ${what}, which pg_dump never writes`, {
    hint: 'the backup was edited by hand or is not a pg_dump backup; dump the database again with pg_dump',
  });
}
