/**
 * SqlFilter, the filter's pure core: a state machine over a plain SQL dump
 * (as pg_dump writes it, or as pg_restore -f - prints it) that keeps only
 * what rebuilds the wanted tables (tables.ts) and emits it as rows in COPY
 * text format; everything else is read past, never executed, never kept in
 * memory beyond the line being read. It routes the bytes to its pieces:
 *
 *   statement  lines (lines.ts) into statements (statement-reader.ts, over
 *              the lexer), the kept ones parsed (statements.ts)
 *   copy-keep  a wanted table's COPY data, line by line, projected
 *              (projection.ts); with textsOf, a texts table's data is read
 *              in the Buffer (texts-of.ts), and so are the rows of a
 *              projection that drops columns (copy-project.ts), and with
 *              rawTexts a texts table's rows kept as they are (readRaw)
 *   copy-skip  any other COPY data, passed over in the Buffer (copy-skip.ts)
 *
 * INSERT rows become COPY rows (inserts.ts); all rows go out in batches
 * (batches.ts). Lines and kept data are "binary strings" (latin1-decoded
 * bytes), so the dump's own encoding passes through byte for byte: syntax
 * characters are all ASCII and no server encoding uses ASCII bytes inside
 * multi-byte characters.
 *
 * A file may hold several databases (pg_dumpall, or pg_dump --create): each
 * begins at a psql `\connect` line, which is never run but read (connect.ts)
 * and passed on as a `database` event, so that what follows is kept apart
 * from what came before. Never mixing them is the loader's and the session's
 * part (hostile-input.md).
 */
import { RecoverError } from '../errors.js';
import { RowBatches } from './batches.js';
import { connectTarget } from './connect.js';
import { ProjectedRows, projectsInBuffer, TabSearch } from './copy-project.js';
import { CopySkipper } from './copy-skip.js';
import { InsertRows } from './inserts.js';
import { LineReader } from './lines.js';
import { asIs, project, projectCopyLine, type Projection } from './projection.js';
import { StatementReader } from './statement-reader.js';
import { parseStatement } from './statements.js';
import type { WantedTable } from './tables.js';
import { isCopyEnd, readTextsOf } from './texts-of.js';
import { tokenize } from './tokens.js';
import type { FilterEvent, FilterOptions, FilterStats } from './types.js';

const LF = 0x0a;
/** The line pg_dump writes after each COPY block's data. */
const COPY_END = '\\.';
/** How every pg_dump plain dump begins; a file that is a prefix of it is a dump cut off at once. */
const DUMP_HEADER = '--\n-- PostgreSQL database dump\n';
/** The same for pg_dumpall (pg_dumpall.c main: "PostgreSQL database cluster dump"). */
const CLUSTER_HEADER = '--\n-- PostgreSQL database cluster dump\n';
/** pg_dump's or pg_dumpall's header line (not the "complete" one); group 1 is set for pg_dumpall's. */
const HEADER_LINE = /^-- PostgreSQL database (cluster )?dump\b(?! complete)/;
/** The last comment of a complete dump; group 1 is set for pg_dumpall's. */
const COMPLETE_LINE = /^-- PostgreSQL database (cluster )?dump complete\b/;

export class SqlFilter {
  readonly stats: FilterStats = {
    statementsKept: 0,
    statementsSkipped: 0,
    metaCommands: 0,
    copyBlocksSkipped: 0,
    copyBlocksKept: 0,
    rowsKept: 0,
    sawDumpHeader: false,
    sawDumpComplete: false,
    clusterDump: false,
  };

  private state: 'statement' | 'copy-keep' | 'copy-skip' = 'statement';
  /** copy-keep: the block being read. */
  private copy: Projection | null = null;
  /** copy-keep, for a projection that drops columns: its rows, read in the Buffer. */
  private projected: ProjectedRows | null = null;
  /** copy-keep, for FilterOptions.rawTexts: the rows are handed on as the dump has them (readRaw). */
  private raw = false;
  /** The first bytes of the input, to recognise a dump cut inside its header. */
  private head = '';
  /** Column lists from CREATE TABLE, for COPY/INSERT without one. */
  private declared = new Map<WantedTable, string[]>();

  private readonly lines = new LineReader();
  private readonly statements = new StatementReader({
    meta: (command) => this.meta(command),
    comment: (text) => this.comment(text),
    statement: (sql) => this.statement(sql),
  });
  private readonly skipper = new CopySkipper();
  /** Where the next tab of the chunk is, for the projections read in the Buffer (ProjectedRows). */
  private readonly tabs = new TabSearch();
  private readonly rows: RowBatches;
  private readonly inserts: InsertRows;

  constructor(
    private readonly emit: (e: FilterEvent) => void,
    private readonly options: FilterOptions = {},
  ) {
    this.rows = new RowBatches(emit, this.stats);
    this.inserts = new InsertRows(this.rows, options.textsOf);
  }

  /**
   * Feed the next chunk of the dump. A string is taken as a binary string
   * (latin1, one char per byte), as the tests write dumps.
   */
  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    this.tabs.chunk();
    if (this.head.length < CLUSTER_HEADER.length) this.head += buf.toString('latin1', 0, CLUSTER_HEADER.length);
    let pos = 0;
    while (pos < buf.length) {
      const copy = this.copy;
      if (this.state === 'copy-skip') pos = this.skipCopy(buf, pos);
      else if (this.raw && !this.lines.carrying) pos = this.readRaw(buf, pos);
      else if (copy && copy.userIndex >= 0 && !this.lines.carrying) pos = readTextsOf(buf, pos, copy.userIndex, copy.authors!, this.lines, this.copyLine);
      else if (this.projected) pos = this.projected.read(buf, pos, this.addRow, this.endCopy);
      else pos = this.lines.read(buf, pos, this.onLine);
    }
  }

  /** The dump has ended: flush, and complain if it ended mid-way. */
  end(): void {
    const last = this.lines.takeLast();
    // Every COPY data line ends in a newline: a last line without one is a row cut short,
    // not a row (only the end marker may lack it).
    if (last !== null && (this.state === 'statement' || last === COPY_END)) this.onLine(last);
    if (this.projected?.takeLast()) this.endCopy();
    const head = this.head.replace(/\r/g, '');
    if (!this.stats.sawDumpHeader && head.length >= 2) {
      if (DUMP_HEADER.startsWith(head.slice(0, DUMP_HEADER.length))) this.stats.sawDumpHeader = true;
      else if (CLUSTER_HEADER.startsWith(head.slice(0, CLUSTER_HEADER.length))) this.stats.sawDumpHeader = this.stats.clusterDump = true;
    }
    if (this.state !== 'statement') {
      const table = this.copy?.table ?? 'a table';
      throw new RecoverError('BACKUP_TRUNCATED', `the backup ends inside the data of ${table} (line ${this.lines.lineNo})`, {
        hint: 'the file is truncated: copy it again, or pick an older backup',
      });
    }
    if (this.statements.unfinished) {
      throw new RecoverError('BACKUP_TRUNCATED', `the backup ends in the middle of a statement (line ${this.lines.lineNo})`, {
        hint: 'the file is truncated: copy it again, or pick an older backup',
      });
    }
    this.inserts.close();
  }

  /** A whole line; returns true when what follows is to be read from the Buffer (skipped or textsOf data). */
  private readonly onLine = (line: string): boolean => {
    if (this.state === 'copy-keep') this.copyLine(line);
    else {
      if (this.lines.lineNo <= 5 && !this.stats.sawDumpHeader) {
        const header = HEADER_LINE.exec(line);
        if (header) {
          this.stats.sawDumpHeader = true;
          this.stats.clusterDump = !!header[1];
        }
      }
      this.statements.line(line);
    }
    return this.state === 'copy-skip' || (this.copy !== null && (this.copy.userIndex >= 0 || this.projected !== null || this.raw));
  };

  // ---- statements -----------------------------------------------------------

  private meta(command: string): void {
    // Of pg_dump's own meta-commands only \connect matters.
    this.stats.metaCommands++;
    const database = connectTarget(command);
    if (database !== undefined) this.connect(database);
  }

  /** A `\connect`: the next database's part begins, with a new session's settings and tables. */
  private connect(database: string): void {
    this.inserts.close();
    this.declared.clear();
    this.statements.reset();
    this.emit({ type: 'database', name: database });
  }

  private comment(text: string): void {
    const complete = COMPLETE_LINE.exec(text);
    // A cluster dump is complete at pg_dumpall's last line, not at its first database's.
    if (complete && !!complete[1] === this.stats.clusterDump) this.stats.sawDumpComplete = true;
  }

  /** A statement ended (its text when kept). Returns true when COPY data follows. */
  private statement(sql: string | null): boolean {
    if (sql === null) {
      this.stats.statementsSkipped++;
      return false;
    }
    const lexer = this.statements.lexer;
    const st = parseStatement(tokenize(sql, { standardStrings: lexer.standardStrings }));
    switch (st.kind) {
      case 'set':
        if (st.name === 'standard_conforming_strings') lexer.standardStrings = st.value.toLowerCase() === 'on';
        if (st.name === 'client_encoding') this.emit({ type: 'encoding', name: st.value });
        this.stats.statementsKept++;
        return false;
      case 'create-table':
        this.declared.set(st.table, st.columns.map((c) => c.name));
        this.emit({ type: 'table', table: st.table, columns: st.columns });
        this.stats.statementsKept++;
        return false;
      case 'insert':
        this.inserts.add(st.table, st.columns ?? this.declaredColumns(st.table, 'INSERT'), st.rows, this.lines.lineNo);
        this.stats.statementsKept++;
        return false;
      case 'copy-from-stdin':
        this.inserts.close();
        if (!st.table) {
          this.stats.copyBlocksSkipped++;
          this.state = 'copy-skip';
          this.skipper.start();
          return true;
        }
        {
          const columns = st.columns ?? this.declaredColumns(st.table, 'COPY');
          const raw = this.options.rawTexts && !this.options.textsOf && this.lines.crlf === false ? asIs(st.table, columns) : null;
          this.copy = raw ?? project(st.table, columns, this.options.textsOf);
          this.raw = raw !== null;
        }
        this.projected = !this.raw && projectsInBuffer(this.copy) ? new ProjectedRows(this.copy, this.lines, this.tabs) : null;
        this.rows.begin(st.table, this.copy.names);
        this.stats.statementsKept++;
        this.stats.copyBlocksKept++;
        this.state = 'copy-keep';
        return true;
      case 'other':
        this.stats.statementsSkipped++;
        return false;
    }
  }

  private declaredColumns(table: WantedTable, what: string): string[] {
    const cols = this.declared.get(table);
    if (cols) return cols;
    throw new RecoverError('BACKUP_NO_COLUMNS', `the backup has a ${what} for ${table} without a column list and no CREATE TABLE for it`, {
      hint: 'dump the data with column names: pg_dump --column-inserts, or include the schema',
    });
  }

  // ---- COPY data ------------------------------------------------------------

  /** A line of a wanted table's COPY data. */
  private readonly copyLine = (line: string): void => {
    if (line === COPY_END) return this.endCopy();
    const row = projectCopyLine(this.copy!, line, this.lines.lineNo);
    if (row !== null) this.rows.add(row);
  };

  /** A projected row (ProjectedRows). */
  private readonly addRow = (row: string): void => this.rows.add(row);

  /** The wanted table's data has ended. */
  private readonly endCopy = (): void => {
    this.rows.end();
    this.copy = null;
    this.projected = null;
    this.raw = false;
    this.state = 'statement';
  };

  /**
   * FilterOptions.rawTexts' rows, from buf[pos] (a line's start): handed on as they are, up to the
   * block's end marker (the index just past it is returned) or the chunk's last whole line (a line
   * it cuts is carried in the line reader, and buf.length returned).
   */
  private readRaw(buf: Buffer, pos: number): number {
    const kept = this.options.chunksKept === true;
    const ends: number[] = [];
    let at = pos;
    let count = 0;
    for (;;) {
      const nl = buf.indexOf(LF, at);
      if (nl < 0) break;
      if (isCopyEnd(buf, at, nl)) {
        this.rows.bytes(buf, pos, at, count, ends, kept);
        this.lines.lineNo += count + 1;
        this.endCopy();
        return nl + 1;
      }
      ends.push(nl - pos);
      count++;
      at = nl + 1;
    }
    this.rows.bytes(buf, pos, at, count, ends, kept);
    this.lines.lineNo += count;
    if (at < buf.length) this.lines.carryPiece(buf.toString('latin1', at));
    return buf.length;
  }

  /** Unwanted COPY data, from buf[pos]; returns where to go on from. */
  private skipCopy(buf: Buffer, pos: number): number {
    const after = this.skipper.skip(buf, pos);
    if (after < 0) return buf.length;
    this.state = 'statement';
    this.lines.lineNo++;
    return after;
  }
}
