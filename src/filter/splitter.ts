/**
 * The streaming SQL filter's pure core: a line-driven state machine over a
 * plain SQL dump (as pg_dump writes it, or as pg_restore -f - prints it).
 *
 * It keeps only what rebuilds the wanted tables (see tables.ts) and emits it
 * as rows in COPY text format; everything else is read past, never executed,
 * never kept in memory beyond the line being read.
 *
 * Input is Buffers. Statements and kept COPY data are read line by line as
 * "binary strings" (latin1-decoded bytes), so the dump's own encoding passes
 * through byte for byte; syntax characters are all ASCII and no server
 * encoding uses ASCII bytes inside multi-byte characters. The data of skipped
 * tables, nearly all of a real backup, is never turned into strings: the
 * skip path looks for its end marker in the Buffers as read.
 *
 * States:
 *   statement  reading SQL text; tracks quotes and comments to find the `;`
 *              that ends each statement, and psql meta-commands (`\restrict`).
 *   copy-keep  inside `COPY wanted (...) FROM stdin;` data, until `\.`
 *   copy-skip  inside any other COPY data, until `\.`
 *
 * A file may hold several databases (pg_dumpall, or pg_dump --create): each
 * begins at a psql `\connect` line, which is never run but read (connect.ts)
 * and passed on as a `database` event, so that what follows is kept apart
 * from what came before. Never mixing them is the loader's and the session's
 * part (hostile-input.md).
 */
import { RecoverError } from '../errors.js';
import { connectTarget } from './connect.js';
import { tokenize, type Token } from './tokens.js';
import { parseStatement, wantsWholeStatement, type ColumnDef } from './statements.js';
import { KEPT_SETTINGS, WANTED_COLUMNS, type WantedTable } from './tables.js';

export type FilterEvent =
  /** A wanted table's definition was seen (columns as declared). */
  | { type: 'table'; table: WantedTable; columns: ColumnDef[] }
  /** Rows follow for `table`, with these (wanted, present) columns. */
  | { type: 'begin'; table: WantedTable; columns: string[] }
  /** COPY text-format lines, each ending in "\n", as a binary string. */
  | { type: 'rows'; table: WantedTable; data: string; count: number }
  | { type: 'end'; table: WantedTable }
  /** The dump's `SET client_encoding`. Comes before any row. */
  | { type: 'encoding'; name: string }
  /** A `\connect` to this database: what follows is its part of the file (until the next one). */
  | { type: 'database'; name: string };

export interface FilterStats {
  statementsKept: number;
  statementsSkipped: number;
  metaCommands: number;
  copyBlocksSkipped: number;
  /** COPY blocks of wanted tables begun (an archive read natively says how many it holds). */
  copyBlocksKept: number;
  rowsKept: number;
  /** The dump began with pg_dump's header comment. */
  sawDumpHeader: boolean;
  /** The dump ended with pg_dump's "dump complete" comment (pg_dumpall's "cluster dump complete" for a cluster dump). */
  sawDumpComplete: boolean;
  /** The file began with pg_dumpall's header: several databases, each after a `\connect`. */
  clusterDump: boolean;
}

/** How much of a statement's text is enough to decide whether to keep it. */
const HEAD_CHARS = 512;
/** Rows are handed on in batches of about this many characters. */
const BATCH_CHARS = 64 * 1024;
/** No line of a real dump comes near this; a longer one means a damaged file. */
const MAX_LINE_CHARS = 512 * 1024 * 1024;
/** The line pg_dump writes after each COPY block's data. */
const COPY_END = '\\.';
/** Statement and kept lines are read as strings in windows of about this many bytes. */
const LINE_WINDOW = 64 * 1024;
const LF = 0x0a;
const TAB = 0x09;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
/** A line that starts with COPY_END: the start of an end marker, as bytes. */
const LINE_START_MARKER = Buffer.from('\n' + COPY_END, 'latin1');
/** How far the skip path has matched the end-marker line (see skipCopyData). */
const SKIP_MID_LINE = -1;
const SKIP_LINE_START = 0;
const SKIP_BACKSLASH = 1;
const SKIP_DOT = 2;
const SKIP_CR = 3;
/** How every pg_dump plain dump begins; a file that is a prefix of it is a dump cut off at once. */
const DUMP_HEADER = '--\n-- PostgreSQL database dump\n';
/** The same for pg_dumpall (pg_dumpall.c main: "PostgreSQL database cluster dump"). */
const CLUSTER_HEADER = '--\n-- PostgreSQL database cluster dump\n';
/** pg_dump's or pg_dumpall's header line (not the "complete" one); group 1 is set for pg_dumpall's. */
const HEADER_LINE = /^-- PostgreSQL database (cluster )?dump\b(?! complete)/;
/** The last comment of a complete dump; group 1 is set for pg_dumpall's. */
const COMPLETE_LINE = /^-- PostgreSQL database (cluster )?dump complete\b/;

type Quote = 'none' | 'single' | 'single-esc' | 'double' | 'dollar' | 'comment';

interface Projection {
  table: WantedTable;
  /** For each output column, its index in the COPY's column list. */
  pick: number[];
  /** True when the COPY's columns are exactly the output columns. */
  identity: boolean;
  sourceWidth: number;
  /** The output column names: the wanted columns present in the source, in wanted order. */
  names: string[];
  /** Settings rows are filtered by key; see KEPT_SETTINGS. */
  keyIndex: number;
  /** Texts rows are filtered by author when FilterOptions.textsOf is set: the user_id column's index, else -1. */
  userIndex: number;
}

export interface FilterOptions {
  /**
   * Keep the texts (tasktexts, notes) of these user ids only, as the dump
   * writes them ("42"); every other table is kept whole. For commands that
   * follow one student: the others' texts, most of what a load costs, are
   * dropped here instead.
   */
  textsOf?: ReadonlySet<string>;
}

/** The tables whose rows FilterOptions.textsOf filters by user_id. */
const TEXT_TABLES: ReadonlySet<WantedTable> = new Set(['tasktexts', 'notes']);

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

  /** The line begun but not yet ended, as binary-string pieces: joined once, when it ends. */
  private carry: string[] = [];
  private carryLen = 0;
  private lineNo = 0;
  /** The first bytes of the input, to recognise a dump cut inside its header. */
  private head = '';
  /** Set from the first line: the whole dump had every "\n" turned into "\r\n". */
  private crlf: boolean | undefined;
  private state: 'statement' | 'copy-keep' | 'copy-skip' = 'statement';
  /** copy-skip: how much of an end-marker line has been seen (SKIP_*). A block's data starts at a line start. */
  private skipAt = SKIP_LINE_START;
  private standardStrings = true;

  // statement state
  private quote: Quote = 'none';
  private dollarTag = '';
  private commentDepth = 0;
  private atStart = true;
  private keep: 'undecided' | 'yes' | 'no' = 'undecided';
  private text: string[] = [];
  private textLen = 0;

  // copy state
  private projection: Projection | null = null;
  private batch: string[] = [];
  private batchLen = 0;
  private batchRows = 0;

  /** Column lists from CREATE TABLE, for COPY/INSERT without one. */
  private declared = new Map<WantedTable, string[]>();
  /** The open INSERT-derived block, so consecutive INSERTs share one COPY. */
  private insertBlock: { key: string; projection: Projection } | null = null;

  constructor(
    private readonly emit: (e: FilterEvent) => void,
    private readonly options: FilterOptions = {},
  ) {}

  /**
   * Feed the next chunk of the dump. A string is taken as a binary string
   * (latin1, one char per byte), as the tests write dumps.
   */
  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    if (this.head.length < CLUSTER_HEADER.length) this.head += buf.toString('latin1', 0, CLUSTER_HEADER.length);
    let pos = 0;
    while (pos < buf.length) {
      if (this.state === 'copy-skip') pos = this.skipCopyData(buf, pos);
      else if (this.focused() && !this.carryLen) pos = this.readFocusedRows(buf, pos);
      else pos = this.readLines(buf, pos);
    }
    if (this.carryLen > MAX_LINE_CHARS) {
      throw new RecoverError('BACKUP_LINE_TOO_LONG', `line ${this.lineNo + 1} of the backup is longer than ${MAX_LINE_CHARS} bytes`, {
        hint: 'this is not a SQL dump, or it is damaged',
      });
    }
  }

  /**
   * Statements and kept COPY data, line by line, as binary strings. Reads
   * whole lines from `pos` for about LINE_WINDOW bytes (less when a COPY block
   * to skip starts: its data stays in the Buffer); returns where it stopped.
   */
  private readLines(buf: Buffer, pos: number): number {
    // A chunk that ends no line only lengthens the carried one: it is kept as a piece, and
    // neither it nor the carry is scanned again (a long line in small chunks stays linear).
    if (buf.indexOf(LF, pos) < 0) {
      this.carryPiece(buf.toString('latin1', pos));
      return buf.length;
    }
    const far = buf.indexOf(LF, Math.min(pos + LINE_WINDOW, buf.length - 1));
    const stop = far < 0 ? buf.length : far + 1;
    const carry = this.takeCarry();
    const data = carry + buf.toString('latin1', pos, stop);
    // data[k] is buf[k + shift]: the carried partial line came before pos.
    const shift = pos - carry.length;
    let at = 0;
    // The carried part holds no newline.
    let from = carry.length;
    for (;;) {
      const nl = data.indexOf('\n', from);
      if (nl < 0) break;
      let end = nl;
      if (this.crlf === undefined) this.crlf = nl > 0 && data.charCodeAt(nl - 1) === 0x0d;
      if (this.crlf && end > at && data.charCodeAt(end - 1) === 0x0d) end--;
      this.lineNo++;
      this.line(data.slice(at, end));
      at = from = nl + 1;
      // That data is read from the Buffer (skipCopyData, readFocusedRows).
      if (this.state === 'copy-skip' || this.focused()) return at + shift;
    }
    this.carryPiece(data.slice(at));
    return stop;
  }

  private carryPiece(piece: string): void {
    if (!piece) return;
    this.carry.push(piece);
    this.carryLen += piece.length;
  }

  private takeCarry(): string {
    const carry = this.carry.length === 1 ? this.carry[0]! : this.carry.join('');
    this.carry = [];
    this.carryLen = 0;
    return carry;
  }

  /** The dump has ended: flush, and complain if it ended mid-way. */
  end(): void {
    if (this.carryLen) {
      let last = this.takeCarry();
      if (this.crlf && last.endsWith('\r')) last = last.slice(0, -1);
      this.lineNo++;
      // Every COPY data line ends in a newline: a last line without one is a row cut short,
      // not a row (only the end marker may lack it).
      if (this.state === 'statement' || last === COPY_END) this.line(last);
    }
    const head = this.head.replace(/\r/g, '');
    if (!this.stats.sawDumpHeader && head.length >= 2) {
      if (DUMP_HEADER.startsWith(head.slice(0, DUMP_HEADER.length))) this.stats.sawDumpHeader = true;
      else if (CLUSTER_HEADER.startsWith(head.slice(0, CLUSTER_HEADER.length))) this.stats.sawDumpHeader = this.stats.clusterDump = true;
    }
    if (this.state !== 'statement') {
      const table = this.projection?.table ?? 'a table';
      throw new RecoverError('BACKUP_TRUNCATED', `the backup ends inside the data of ${table} (line ${this.lineNo})`, {
        hint: 'the file is truncated: copy it again, or pick an older backup',
      });
    }
    if (this.quote !== 'none' || (!this.atStart && this.keep !== 'no' && this.textLen > 0)) {
      throw new RecoverError('BACKUP_TRUNCATED', `the backup ends in the middle of a statement (line ${this.lineNo})`, {
        hint: 'the file is truncated: copy it again, or pick an older backup',
      });
    }
    this.closeInsertBlock();
  }

  // ---- statement state ------------------------------------------------------

  private line(line: string): void {
    if (this.state === 'copy-keep') return this.copyLine(line);
    if (this.lineNo <= 5 && !this.stats.sawDumpHeader) {
      const header = HEADER_LINE.exec(line);
      if (header) {
        this.stats.sawDumpHeader = true;
        this.stats.clusterDump = !!header[1];
      }
    }
    const n = line.length;
    let i = 0;
    let span = 0; // start of text not yet appended
    while (i < n) {
      switch (this.quote) {
        case 'single':
        case 'single-esc': {
          const q = line.indexOf("'", i);
          if (this.quote === 'single-esc') {
            const b = line.indexOf('\\', i);
            if (b >= 0 && (q < 0 || b < q)) {
              i = b + 2;
              continue;
            }
          }
          if (q < 0) {
            i = n;
            continue;
          }
          if (line.charCodeAt(q + 1) === 0x27) {
            i = q + 2;
            continue;
          }
          this.quote = 'none';
          i = q + 1;
          continue;
        }
        case 'double': {
          const q = line.indexOf('"', i);
          if (q < 0) {
            i = n;
            continue;
          }
          if (line.charCodeAt(q + 1) === 0x22) {
            i = q + 2;
            continue;
          }
          this.quote = 'none';
          i = q + 1;
          continue;
        }
        case 'dollar': {
          const q = line.indexOf(this.dollarTag, i);
          if (q < 0) {
            i = n;
            continue;
          }
          this.quote = 'none';
          i = q + this.dollarTag.length;
          continue;
        }
        case 'comment': {
          const close = line.indexOf('*/', i);
          const open = line.indexOf('/*', i);
          if (open >= 0 && (close < 0 || open < close)) {
            this.commentDepth++;
            i = open + 2;
            continue;
          }
          if (close < 0) {
            i = n;
            span = n;
            continue;
          }
          i = close + 2;
          span = i;
          if (--this.commentDepth === 0) this.quote = 'none';
          continue;
        }
      }
      // Outside quotes and comments.
      const c = line.charCodeAt(i);
      if (this.atStart) {
        if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0c) {
          i++;
          span = i;
          continue;
        }
        if (c === 0x5c) {
          // A psql meta-command (\connect, \restrict KEY, \! ...): the rest of
          // the line. Never run; of pg_dump's own ones, only \connect matters.
          this.stats.metaCommands++;
          const database = connectTarget(i ? line.slice(i) : line);
          if (database !== undefined) this.connect(database);
          return;
        }
      }
      if (c === 0x2d && line.charCodeAt(i + 1) === 0x2d) {
        if (this.atStart) {
          const complete = COMPLETE_LINE.exec(i ? line.slice(i) : line);
          // A cluster dump is complete at pg_dumpall's last line, not at its first database's.
          if (complete && !!complete[1] === this.stats.clusterDump) this.stats.sawDumpComplete = true;
        }
        this.append(line, span, i);
        this.append(' ', 0, 1);
        span = i = n;
        continue;
      }
      if (c === 0x2f && line.charCodeAt(i + 1) === 0x2a) {
        this.append(line, span, i);
        this.append(' ', 0, 1);
        this.quote = 'comment';
        this.commentDepth = 1;
        i += 2;
        span = i;
        continue;
      }
      this.atStart = false;
      if (c === 0x27) {
        const prev = i > 0 ? line.charCodeAt(i - 1) : 0;
        const ePrefix = (prev === 0x45 || prev === 0x65) && !(i > 1 && isIdentChar(line.charCodeAt(i - 2)));
        this.quote = ePrefix || !this.standardStrings ? 'single-esc' : 'single';
        i++;
        continue;
      }
      if (c === 0x22) {
        this.quote = 'double';
        i++;
        continue;
      }
      if (c === 0x24 && !(i > 0 && isIdentChar(line.charCodeAt(i - 1)))) {
        const m = /^\$([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$/.exec(line.slice(i, i + 256));
        if (m) {
          this.quote = 'dollar';
          this.dollarTag = m[0];
          i += m[0].length;
          continue;
        }
      }
      if (c === 0x3b) {
        this.append(line, span, i + 1);
        span = i + 1;
        const copy = this.finishStatement();
        if (copy) {
          // COPY data starts on the next line; the rest of this one is ignored.
          return;
        }
      }
      i++;
    }
    this.append(line, span, n);
    if (!this.atStart || this.quote !== 'none') this.append('\n', 0, 1);
  }

  /** A `\connect`: the next database's part begins, with a new session's settings and tables. */
  private connect(database: string): void {
    this.closeInsertBlock();
    this.declared.clear();
    this.standardStrings = true;
    this.emit({ type: 'database', name: database });
  }

  private append(s: string, from: number, to: number): void {
    if (to <= from || this.keep === 'no') return;
    const piece = s.slice(from, to);
    this.text.push(piece);
    this.textLen += piece.length;
    if (this.keep === 'undecided' && this.textLen >= HEAD_CHARS) this.decide(false);
  }

  /** Decide from the statement's head whether its whole text is worth keeping. */
  private decide(complete: boolean): void {
    const head = this.text.join('');
    // The head may end inside a literal; a lenient tokenizer returns the
    // tokens before it, which is all the decision needs.
    const tokens: Token[] = tokenize(head, { standardStrings: this.standardStrings, lenient: !complete });
    this.keep = wantsWholeStatement(tokens) ? 'yes' : 'no';
    if (this.keep === 'no') {
      this.text = [];
      this.textLen = 0;
    } else {
      this.text = [head];
    }
  }

  /** A `;` ended a statement. Returns true when COPY data follows. */
  private finishStatement(): boolean {
    if (this.keep === 'undecided') this.decide(true);
    const kept = this.keep === 'yes';
    const sql = kept ? this.text.join('') : '';
    this.text = [];
    this.textLen = 0;
    this.keep = 'undecided';
    this.atStart = true;
    if (!kept) {
      this.stats.statementsSkipped++;
      return false;
    }
    const st = parseStatement(tokenize(sql, { standardStrings: this.standardStrings }));
    switch (st.kind) {
      case 'set':
        if (st.name === 'standard_conforming_strings') this.standardStrings = st.value.toLowerCase() === 'on';
        if (st.name === 'client_encoding') this.emit({ type: 'encoding', name: st.value });
        this.stats.statementsKept++;
        return false;
      case 'create-table':
        this.declared.set(st.table, st.columns.map((c) => c.name));
        this.emit({ type: 'table', table: st.table, columns: st.columns });
        this.stats.statementsKept++;
        return false;
      case 'insert':
        this.insertRows(st.table, st.columns, st.rows);
        this.stats.statementsKept++;
        return false;
      case 'copy-from-stdin':
        this.closeInsertBlock();
        if (!st.table) {
          this.stats.copyBlocksSkipped++;
          this.state = 'copy-skip';
          this.skipAt = SKIP_LINE_START;
          return true;
        }
        this.projection = this.project(st.table, st.columns ?? this.declaredColumns(st.table, 'COPY'));
        this.emit({ type: 'begin', table: st.table, columns: outputColumns(this.projection) });
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

  private project(table: WantedTable, source: readonly string[]): Projection {
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
      userIndex: this.options.textsOf && TEXT_TABLES.has(table) ? source.indexOf('user_id') : -1,
    };
  }

  // ---- copy states ----------------------------------------------------------

  private copyLine(line: string): void {
    const p = this.projection!;
    if (line === COPY_END) {
      this.flushRows();
      this.emit({ type: 'end', table: p.table });
      this.projection = null;
      this.state = 'statement';
      return;
    }
    if (p.userIndex >= 0 && !this.options.textsOf!.has(nthField(line, p.userIndex))) return;
    let fields: string[] | null = null;
    if (p.keyIndex >= 0) {
      fields = line.split('\t');
      if (!KEPT_SETTINGS.has(fields[p.keyIndex] ?? '')) return;
    }
    let row: string;
    if (p.identity) row = line;
    else {
      fields ??= line.split('\t');
      if (fields.length !== p.sourceWidth) {
        throw new RecoverError('BACKUP_BAD_ROW', `a row of ${p.table} at line ${this.lineNo} has ${fields.length} fields, expected ${p.sourceWidth}`, {
          hint: 'the backup is damaged',
        });
      }
      row = p.pick.map((k) => fields![k]).join('\t');
    }
    this.addRow(row);
  }

  private addRow(row: string): void {
    this.batch.push(row, '\n');
    this.batchLen += row.length + 1;
    this.batchRows++;
    if (this.batchLen >= BATCH_CHARS) this.flushRows();
  }

  private flushRows(): void {
    const p = this.projection ?? this.insertBlock?.projection;
    if (!this.batchRows || !p) return;
    this.emit({ type: 'rows', table: p.table, data: this.batch.join(''), count: this.batchRows });
    this.stats.rowsKept += this.batchRows;
    this.batch = [];
    this.batchLen = 0;
    this.batchRows = 0;
  }

  /**
   * The skip path through an unwanted table's COPY data, in the Buffer as
   * read: no per-line work and no conversion to strings. indexOf finds the
   * next "\n\\." and a few bytes confirm the end-marker line ("\\." then LF,
   * or CR LF in a CRLF dump); `skipAt` carries a marker cut by the chunk's
   * end into the next. In COPY text a data line never starts with "\\."
   * (copyto.c escapes every backslash), so false starts are rare, but are
   * checked all the same. Returns where to go on from.
   */
  private skipCopyData(buf: Buffer, pos: number): number {
    let i = pos;
    for (;;) {
      // Byte by byte while a marker may be in progress (at most four bytes).
      while (this.skipAt !== SKIP_MID_LINE && i < buf.length) {
        const c = buf[i++]!;
        switch (this.skipAt) {
          case SKIP_LINE_START:
            this.skipAt = c === BACKSLASH ? SKIP_BACKSLASH : c === LF ? SKIP_LINE_START : SKIP_MID_LINE;
            break;
          case SKIP_BACKSLASH:
            this.skipAt = c === DOT ? SKIP_DOT : c === LF ? SKIP_LINE_START : SKIP_MID_LINE;
            break;
          case SKIP_DOT:
          case SKIP_CR:
            if (c === LF) return this.skipped(i);
            this.skipAt = c === CR && this.skipAt === SKIP_DOT ? SKIP_CR : SKIP_MID_LINE;
            break;
        }
      }
      if (i >= buf.length) return buf.length;
      const next = buf.indexOf(LINE_START_MARKER, i);
      if (next >= 0) {
        i = next + LINE_START_MARKER.length;
        this.skipAt = SKIP_DOT;
        continue;
      }
      // The chunk may end inside "\n\\.": carry the part it holds.
      const last = buf.length - 1;
      if (last >= i && buf[last] === LF) this.skipAt = SKIP_LINE_START;
      else if (last - 1 >= i && buf[last] === BACKSLASH && buf[last - 1] === LF) this.skipAt = SKIP_BACKSLASH;
      return buf.length;
    }
  }

  /** Inside COPY data of a texts table filtered by author (FilterOptions.textsOf). */
  private focused(): boolean {
    return this.state === 'copy-keep' && this.projection!.userIndex >= 0;
  }

  /**
   * The rows of a texts table filtered by author, in the Buffer as read: a
   * line's user_id is found by its tabs and only the kept lines become
   * strings; the others' texts, nearly all of the table, never do. Starts at
   * a line start (no carry); a line cut by the chunk's end is carried as a
   * string, and readLines takes it on. Returns where to go on from.
   */
  private readFocusedRows(buf: Buffer, pos: number): number {
    const p = this.projection!;
    const wanted = this.options.textsOf!;
    let at = pos;
    while (this.state === 'copy-keep') {
      const nl = buf.indexOf(LF, at);
      if (nl < 0) {
        this.carryPiece(buf.toString('latin1', at));
        return buf.length;
      }
      const end = this.crlf && nl > at && buf[nl - 1] === CR ? nl - 1 : nl;
      this.lineNo++;
      if (end - at === 2 && buf[at] === BACKSLASH && buf[at + 1] === DOT) this.copyLine(COPY_END);
      else if (wanted.has(fieldOf(buf, at, end, p.userIndex))) this.copyLine(buf.toString('latin1', at, end));
      at = nl + 1;
    }
    return at;
  }

  /** The end marker of a skipped block ended just before `at`. */
  private skipped(at: number): number {
    this.state = 'statement';
    this.skipAt = SKIP_LINE_START;
    this.lineNo++;
    return at;
  }

  // ---- INSERT dumps ---------------------------------------------------------

  private insertRows(table: WantedTable, columns: string[] | null, rows: (string | null)[][]): void {
    const source = columns ?? this.declaredColumns(table, 'INSERT');
    const key = table + '\0' + source.join('\0');
    if (this.insertBlock?.key !== key) {
      this.closeInsertBlock();
      const projection = this.project(table, source);
      this.insertBlock = { key, projection };
      this.emit({ type: 'begin', table, columns: outputColumns(projection) });
    }
    const p = this.insertBlock.projection;
    for (const row of rows) {
      if (row.length !== p.sourceWidth) {
        throw new RecoverError('BACKUP_BAD_ROW', `an INSERT into ${table} near line ${this.lineNo} has ${row.length} values, expected ${p.sourceWidth}`, {
          hint: 'the backup is damaged',
        });
      }
      if (p.keyIndex >= 0 && !KEPT_SETTINGS.has(row[p.keyIndex] ?? '')) continue;
      if (p.userIndex >= 0 && !this.options.textsOf!.has(row[p.userIndex] ?? '')) continue;
      this.addRow(p.pick.map((k) => copyField(row[k] ?? null)).join('\t'));
    }
  }

  private closeInsertBlock(): void {
    if (!this.insertBlock) return;
    this.flushRows();
    this.emit({ type: 'end', table: this.insertBlock.projection.table });
    this.insertBlock = null;
  }
}

/** Field `n` of the COPY text line buf[start, end), as a binary string; the rest is not read. */
function fieldOf(buf: Buffer, start: number, end: number, n: number): string {
  // Byte by byte, never past the line: the field is near its start (user_id comes fourth).
  let from = start;
  for (let k = 0; k < n; k++) {
    while (from < end && buf[from] !== TAB) from++;
    if (from >= end) return '';
    from++;
  }
  let to = from;
  while (to < end && buf[to] !== TAB) to++;
  return buf.toString('latin1', from, to);
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

function outputColumns(p: Projection): string[] {
  return p.names;
}

/** A value in COPY text format: backslash escapes per PostgreSQL's copyto.c. */
export function copyField(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

function isIdentChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80 || (c >= 0x30 && c <= 0x39) || c === 0x24;
}
