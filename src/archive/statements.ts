/**
 * The text the reader re-emits from a TOC (the ENCODING and STDSTRINGS settings, a wanted
 * table's CREATE TABLE, its COPY statement) is data from the backup, not SQL to trust: each is
 * checked here to be exactly the statement pg_dump writes for that entry before the SQL filter
 * sees it. A hostile TOC whose COPY statement or definition carries a second statement (a COPY
 * into another table with rows of its own, a DROP) is refused, not passed on.
 *
 * What pg_dump writes (pg_dump.c, pg_backup_archiver.c):
 *  - ENCODING:   SET client_encoding = 'UTF8';
 *  - STDSTRINGS: SET standard_conforming_strings = 'on';
 *  - TABLE:      CREATE [UNLOGGED] TABLE <schema>.<name> (...) [clauses];  then possibly
 *                ALTER TABLE [ONLY] <the same table> ... ; (SET STATISTICS, SET STORAGE,
 *                REPLICA IDENTITY ...: dumpTableSchema). Ownership is not in the defn.
 *  - TABLE DATA: COPY <schema>.<name> (<columns>) FROM stdin;
 * Names are as fmtQualifiedId quotes them; pg_dump before the 2018 search_path fix wrote
 * them unqualified (the schema set by SET search_path), which is accepted too.
 */
import { isKeyword, isOp, parseStatement, readQualifiedName, tokenize, type Token } from '../filter/index.js';
import { corrupt } from './damage.js';
import type { ArchiveTocEntry } from './types.js';

/** The settings the reader passes on, and the one variable each may set. */
export const SETTING_VARIABLE: Readonly<Record<string, string>> = { ENCODING: 'client_encoding', STDSTRINGS: 'standard_conforming_strings' };

function entryName(e: ArchiveTocEntry): string {
  return `TOC entry ${e.dumpId} (${e.desc}${e.tag ? ` ${e.tag.slice(0, 60)}` : ''})`;
}

/**
 * The statements of `sql`, as token lists, each ended by its `;`. Nothing but white space may
 * follow the last one (pg_dump writes none: a comment there could swallow what comes next).
 */
function statementsOf(sql: string, e: ArchiveTocEntry, what: string, standardStrings: boolean): Token[][] {
  let tokens: Token[];
  try {
    tokens = tokenize(sql, { standardStrings });
  } catch {
    throw corrupt(`the ${what} of ${entryName(e)} has an unterminated string, name or comment`);
  }
  const statements: Token[][] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (isOp(t, ';')) {
      statements.push(current);
      current = [];
    } else current.push(t);
  }
  const tail = sql.slice(sql.lastIndexOf(';') + 1);
  if (current.length || statements.length === 0 || tail.trim() !== '') {
    throw corrupt(`the ${what} of ${entryName(e)} does not end with the ';' of its statement`);
  }
  if (statements.some((s) => s.length === 0)) throw corrupt(`the ${what} of ${entryName(e)} has an empty statement`);
  return statements;
}

/** Does the qualified name at tokens[at] name this entry's table? Returns the index after it, or -1. */
function namesTable(tokens: readonly Token[], at: number, e: ArchiveTocEntry): number {
  const r = readQualifiedName(tokens, at);
  if (!r) return -1;
  const [parts, next] = r;
  const same = (parts.length === 2 && parts[0] === e.namespace && parts[1] === e.tag) || (parts.length === 1 && parts[0] === e.tag);
  return same ? next : -1;
}

/** A setting entry's defn is one SET of its own variable to a literal. */
function checkSetting(e: ArchiveTocEntry): { name: string; value: string } {
  const variable = SETTING_VARIABLE[e.desc];
  const statements = statementsOf(e.defn ?? '', e, 'definition', true);
  const s = statements[0]!;
  const [set, name, eq, value] = s;
  const ok =
    statements.length === 1 &&
    s.length === 4 &&
    isKeyword(set, 'set') &&
    name?.kind === 'ident' &&
    name.value === variable &&
    (isOp(eq, '=') || isKeyword(eq, 'to')) &&
    (value?.kind === 'string' || value?.kind === 'ident');
  if (!ok) throw corrupt(`expected the definition of ${entryName(e)} to be one "SET ${variable} = '...';", found ${describe(statements)}`);
  return { name: variable!, value: (value as Token).value };
}

/** A wanted TABLE's defn: one CREATE TABLE of that very table, then only ALTER TABLEs of it. Its column names. */
function checkTableDefinition(e: ArchiveTocEntry, standardStrings: boolean): Set<string> | undefined {
  const statements = statementsOf(e.defn ?? '', e, 'definition', standardStrings);
  const [create, ...rest] = statements as [Token[], ...Token[][]];
  let i = 1;
  if (isKeyword(create[i], 'unlogged')) i++;
  const isCreate = isKeyword(create[0], 'create') && isKeyword(create[i], 'table') && namesTable(create, i + 1, e) > 0;
  if (!isCreate) throw corrupt(`expected the definition of ${entryName(e)} to be "CREATE TABLE ${e.namespace}.${e.tag} (...);", found ${describe(statements)}`);
  for (const s of rest) {
    const at = isKeyword(s[2], 'only') ? 3 : 2;
    if (!(isKeyword(s[0], 'alter') && isKeyword(s[1], 'table') && namesTable(s, at, e) > 0)) {
      throw corrupt(`expected the definition of ${entryName(e)} to hold only its CREATE TABLE and ALTER TABLEs of it, found ${describe(statements)}`);
    }
  }
  const st = parseStatement(create);
  return st.kind === 'create-table' ? new Set(st.columns.map((c) => c.name)) : undefined;
}

/** A wanted TABLE DATA's copyStmt: exactly "COPY <that table> (<columns>) FROM stdin;". Its tokens. */
function checkCopyStatement(e: ArchiveTocEntry, standardStrings: boolean): Token[] {
  const sql = e.copyStmt ?? '';
  const statements = statementsOf(sql, e, 'COPY statement', standardStrings);
  const s = statements[0]!;
  let i = isKeyword(s[0], 'copy') ? namesTable(s, 1, e) : -1;
  if (i > 0 && isOp(s[i], '(')) {
    i++;
    for (;;) {
      if (s[i]?.kind !== 'ident') {
        i = -1;
        break;
      }
      i++;
      if (isOp(s[i], ',')) i++;
      else if (isOp(s[i], ')')) {
        i++;
        break;
      } else {
        i = -1;
        break;
      }
    }
  }
  const ok = statements.length === 1 && i > 0 && isKeyword(s[i], 'from') && isKeyword(s[i + 1], 'stdin') && s.length === i + 2 && sql.endsWith('\n');
  if (!ok) throw corrupt(`expected the COPY statement of ${entryName(e)} to be one "COPY ${e.namespace}.${e.tag} (...) FROM stdin;" line, found ${describe(statements)}`);
  return s;
}

/** What was found, without repeating the backup's text: the statements' first words. */
function describe(statements: Token[][]): string {
  // Only plain ASCII keywords are shown: nothing from the backup that a terminal could act on.
  const word = (t: Token) => (t.kind === 'ident' && !t.quoted && /^[a-z_]{1,20}$/.test(t.value) ? t.value.toUpperCase() : t.kind);
  const heads = statements.map((s) => s.slice(0, 2).map(word).join(' '));
  const shown = heads.slice(0, 3).join('; ') + (heads.length > 3 ? '; ...' : '');
  return `${statements.length} statement${statements.length === 1 ? '' : 's'} (${shown})`;
}

/**
 * Every statement of the TOC that reading `tables` passes on (settings, the tables' definitions,
 * their COPY statements), checked before any of it is read; the STDSTRINGS setting says how
 * the others' string literals are read.
 */
export function checkTocStatements(toc: readonly ArchiveTocEntry[], wanted: (e: ArchiveTocEntry) => boolean): void {
  let standardStrings = true;
  for (const e of toc) {
    if (!(e.desc in SETTING_VARIABLE) || !e.defn) continue;
    const { name, value } = checkSetting(e);
    if (name === 'standard_conforming_strings') standardStrings = value.toLowerCase() === 'on';
  }
  const declared = new Map<string, Set<string>>();
  for (const e of toc) {
    if (!wanted(e)) continue;
    if (e.desc === 'TABLE' && e.defn) {
      const columns = checkTableDefinition(e, standardStrings);
      if (columns) declared.set(e.tag, columns);
    }
  }
  for (const e of toc) {
    if (!wanted(e) || e.desc !== 'TABLE DATA' || e.dataState === 'none' || !e.copyStmt) continue;
    checkCopyColumns(e, checkCopyStatement(e, standardStrings), declared.get(e.tag));
  }
}

/**
 * pg_dump's COPY names the table's own columns (its CREATE TABLE's, in order, less generated
 * ones): a column the table does not have means a damaged TOC, whose rows would load into the
 * wrong columns or none.
 */
function checkCopyColumns(e: ArchiveTocEntry, copy: Token[], columns: Set<string> | undefined): void {
  if (!columns) return;
  const st = parseStatement(copy);
  if (st.kind !== 'copy-from-stdin' || !st.columns) return;
  const unknown = st.columns.filter((c) => !columns.has(c));
  const twice = st.columns.length !== new Set(st.columns).size;
  if (unknown.length || twice) {
    throw corrupt(`the COPY statement of ${entryName(e)} names ${twice ? 'a column twice' : `${unknown.length} column${unknown.length === 1 ? '' : 's'} its CREATE TABLE does not have`}`);
  }
}
