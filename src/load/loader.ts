/** The scratch tables, and the Loader that streams filtered rows into them with COPY. */
import { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { NOT_WHOLE_HINT, pgDiagnostics, RecoverError, sqlstateOf } from '../errors.js';
import type { Scope } from '../scope.js';
import { LOAD_LIMIT_ENV, loadBudget, scratchFullHint, type LoadBudget, type ScratchRoot } from '../tempdir.js';
import { WANTED_COLUMNS, WANTED_TABLES, type ColumnDef, type FilterEvent, type WantedTable } from '../filter/index.js';
import { Utf8Check, type NotUtf8Field } from './encoding.js';

interface TableLoad {
  /** The backup defined or filled this table. */
  present: boolean;
  rows: number;
  /** Wanted columns the backup had for it. */
  columns: Set<string>;
  /** Its CREATE TABLE columns and types, when the backup had one. */
  declared?: ColumnDef[];
  /** COPY (or INSERT) blocks of its data the backup had: pg_dump writes one even for an empty table. */
  dataBlocks: number;
}

export interface LoadResult {
  tables: Record<WantedTable, TableLoad>;
  /** The backup's client_encoding, when it set one. */
  encoding?: string;
  /** SQL_ASCII backups: fields that were not UTF-8, loaded with U+FFFD (see encoding.ts). */
  notUtf8: NotUtf8Field[];
  /** SQL_ASCII backups read with --backup-encoding: that encoding, and how many fields it decoded. */
  decodedAs?: { encoding: string; fields: number };
  /** A backup of several databases (pg_dumpall): the one this is, and all of them in the file's order. */
  database?: { name: string; all: string[] };
}

export interface LoaderOptions {
  /** --backup-encoding: what a SQL_ASCII backup's non-UTF-8 bytes are (a resolved PostgreSQL name). */
  backupEncoding?: string;
  /** RECOVER_TEXTS_LOAD_LIMIT, when set: the bytes of rows one backup may load (see loadBudget). */
  loadLimit?: number;
  /** The run's scope, for its 'loading' checkpoint. */
  scope?: Scope;
}

/** What a file's other database parts' schemas add to the first's name, before their number. */
export const PART_SCHEMA_INFIX = '_db';

/** The schema of a file's `k`th database part: ours, and a valid identifier whatever the database is called. */
function partSchema(first: string, k: number): string {
  return `${first}${PART_SCHEMA_INFIX}${k}`;
}

/** Where a backup's rows go: a connection to the scratch database, and the engine's scratch folder (Engine.scratch). */
export interface LoadTarget {
  client: pg.Client;
  scratch?: ScratchRoot;
  /**
   * The schema on the client's search_path, which the scratch tables go in (`public` when unset).
   * Each database of a file that holds several gets its own beside it, named after it.
   */
  schema?: string;
}

/**
 * One database's part of the backup, loaded into its own schema. A backup of
 * one database has one; a pg_dumpall file one per `\connect`, after the part
 * before the first (roles, and `CREATE DATABASE`), whose name is null.
 */
export interface DatabaseLoad {
  /** As the `\connect` names it; null for what comes before any. */
  name: string | null;
  /** The schema its scratch tables are in. */
  schema: string;
  result: LoadResult;
}

/** Create the scratch tables: every wanted column, all of type text, in one round trip (after `prefix`, e.g. a CREATE SCHEMA). */
export async function createScratchTables(client: pg.Client, prefix = ''): Promise<void> {
  const sql = WANTED_TABLES.map((table) => `CREATE UNLOGGED TABLE ${table} (${(WANTED_COLUMNS[table] as readonly string[]).map((c) => `${c} text`).join(', ')})`);
  await client.query(prefix + sql.join('; '));
}

function emptyLoadResult(): LoadResult {
  const tables = {} as Record<WantedTable, TableLoad>;
  for (const t of WANTED_TABLES) tables[t] = { present: false, rows: 0, columns: new Set(), dataBlocks: 0 };
  return { tables, notUtf8: [] };
}

/** An encoding's name as PostgreSQL compares them: case, '-' and '_' aside (UTF8, utf-8). */
const encodingKey = (name: string) => name.toUpperCase().replace(/[-_]/g, '');

/** Encoding names as PostgreSQL spells them (pg_wchar.h); anything else is refused. */
const ENCODING_NAME = /^[A-Za-z][A-Za-z0-9_]{1,30}$/;

/** A Writable of FilterEvents that COPYs rows into the scratch tables. */
export class Loader extends Writable {
  /** The database part being loaded (the only one, in a backup of one database). */
  result: LoadResult = emptyLoadResult();
  /** Every database part, in the order the backup has them; the first is what came before any `\connect`. */
  readonly databases: DatabaseLoad[];
  /** The part rows go to, and the schema the connection's search_path has (the first part's until a table of another is met). */
  private section: DatabaseLoad;
  private onConnection: string;
  /** The schemas made so far (the first part's is made before loading). */
  private readonly made = new Set<string>();
  private copy: Writable | null = null;
  private copyTable: WantedTable | null = null;
  /** The open COPY's error, kept until someone waits on it. */
  private copyError: Error | null = null;
  private copyColumns: string[] = [];
  /** Rows sent to the open COPY, checked against what PostgreSQL says it stored. */
  private copyRows = 0;
  /** Bytes of rows sent to the database, and what it may take (measured once the engine is up). */
  private loaded = 0;
  private budget: LoadBudget | undefined | null = null;
  /**
   * The connection's client_encoding (encodingKey): node-pg connects with UTF8, and a connection
   * kept from one backup to the next is reset before each use (session/connections.ts).
   */
  private clientEncoding = encodingKey('UTF8');
  /** Set when the backup says SQL_ASCII: its bytes are checked before PostgreSQL sees them. */
  private utf8: Utf8Check | null = null;

  private readonly client: Promise<pg.Client>;
  /** The engine's scratch folder, once the target is known. */
  private scratch: ScratchRoot | undefined;

  /**
   * `target` may still be on its way (the engine starting): the backup is
   * read meanwhile, and the first event that needs the database waits for it.
   * Skipping the other tables' data, which comes first in a dump, needs none.
   */
  constructor(
    target: LoadTarget | Promise<LoadTarget>,
    private readonly options: LoaderOptions = {},
  ) {
    super({ objectMode: true, highWaterMark: 16 });
    this.client = Promise.resolve(target).then((t) => {
      this.scratch = t.scratch;
      if (t.schema) this.nameSchemas(t.schema);
      return t.client;
    });
    this.section = { name: null, schema: 'public', result: this.result };
    this.databases = [this.section];
    this.onConnection = this.section.schema;
    this.made.add(this.section.schema);
    // Its failure is reported by the first write (or the final flush) that waits on it.
    this.client.catch(() => {});
  }

  /** It set the connection's client_encoding to another than UTF8 (the backup's). */
  get setEncoding(): boolean {
    return this.clientEncoding !== encodingKey('UTF8');
  }

  override _write(e: FilterEvent, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.handle(e).then(() => done(), (err: Error) => done(explainLoadError(err, this.copyTable, this.scratch)));
  }

  override _final(done: (err?: Error | null) => void): void {
    // Even with nothing loaded, the database must have been ready (its tables made).
    this.client
      .then(() => this.finishCopy())
      .then(() => done(), (err: Error) => done(explainLoadError(err, this.copyTable, this.scratch)));
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.copy?.destroy();
    this.copy = null;
    done(err);
  }

  private async handle(e: FilterEvent): Promise<void> {
    switch (e.type) {
      case 'encoding':
        if (!ENCODING_NAME.test(e.name)) {
          throw new RecoverError('BACKUP_BAD_ENCODING', `the backup sets an unknown client_encoding ${JSON.stringify(e.name.slice(0, 40))}`, {
            hint: 'the backup is damaged or not from pg_dump',
          });
        }
        this.result.encoding = e.name;
        if (e.name.toUpperCase() === 'SQL_ASCII') {
          this.utf8 = new Utf8Check(this.options.backupEncoding);
          this.result.notUtf8 = this.utf8.notUtf8;
        }
        // A round trip saved for nearly every backup: the connection's is UTF8 already.
        if (encodingKey(e.name) === this.clientEncoding) return;
        await (await this.client).query(`SET client_encoding TO '${e.name}'`);
        this.clientEncoding = encodingKey(e.name);
        return;
      case 'database':
        await this.finishCopy();
        this.switchTo(e.name);
        return;
      case 'table':
        await this.useSection();
        this.result.tables[e.table].present = true;
        this.result.tables[e.table].declared = e.columns;
        return;
      case 'begin': {
        await this.useSection();
        const t = this.result.tables[e.table];
        t.present = true;
        t.dataBlocks++;
        e.columns.forEach((c) => t.columns.add(c));
        if (!e.columns.length) return; // none of the columns we need: nothing to load
        // The COPY starts with the first rows: an empty block (a held texts table's) costs no round trip.
        this.copyTable = e.table;
        this.copyColumns = e.columns;
        this.copyRows = 0;
        this.copyError = null;
        return;
      }
      case 'rows':
      case 'bytes': {
        if (!this.copyTable) return;
        if (!this.copy) {
          this.copy = (await this.client).query(copyFrom(`COPY ${this.copyTable} (${this.copyColumns.join(', ')}) FROM STDIN`));
          this.copy.on('error', (err: Error) => (this.copyError = err));
        }
        this.result.tables[e.table].rows += e.count;
        this.copyRows += e.count;
        await this.options.scope?.checkpoint('loading');
        if (this.copyError) throw this.copyError;
        const copy = this.copy;
        let data = e.data;
        if (this.utf8) {
          data = this.utf8.rows(e.table, this.copyColumns, typeof data === 'string' ? data : data.toString('latin1'));
          if (this.utf8.backupEncoding) this.result.decodedAs = { encoding: this.utf8.backupEncoding, fields: this.utf8.converted };
        }
        await this.spend(e.table, data.length);
        if (!copy.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)) {
          await new Promise<void>((resolve, reject) => {
            const onError = (err: Error) => {
              copy.off('drain', onDrain);
              reject(err);
            };
            const onDrain = () => {
              copy.off('error', onError);
              resolve();
            };
            copy.once('drain', onDrain);
            copy.once('error', onError);
          });
        }
        return;
      }
      case 'end':
        await this.finishCopy();
        return;
    }
  }

  /** Rows from here on belong to `name`'s part (one part per name, however often it is connected to). */
  private switchTo(name: string): void {
    let section = this.databases.find((d) => d.name === name);
    if (!section) {
      section = { name, schema: partSchema(this.databases[0]!.schema, this.databases.length), result: emptyLoadResult() };
      this.databases.push(section);
    }
    this.section = section;
    this.result = section.result;
    // Each database part sets its own encoding; a part without one has none.
    this.utf8 = null;
  }

  /** The target's schema, known when it comes: the first part's, and the others' named after it (nothing is made before). */
  private nameSchemas(first: string): void {
    this.databases.forEach((d, k) => (d.schema = k ? partSchema(first, k) : first));
    this.made.clear();
    this.made.add(first);
    this.onConnection = first;
  }

  /** Put the connection in the current part's schema, making it on its first table (most parts of a pg_dumpall file have none). */
  private async useSection(): Promise<void> {
    // The first part needs no database yet (the engine may still be starting); another waits for it, which names the schemas.
    if (this.onConnection === this.section.schema) return;
    const client = await this.client;
    const { schema } = this.section;
    if (this.made.has(schema)) await client.query(`SET search_path TO ${schema}`);
    else await createScratchTables(client, `CREATE SCHEMA ${schema}; SET search_path TO ${schema}; `);
    this.made.add(schema);
    this.onConnection = schema;
  }

  /** Count rows' bytes against the load budget; past it, stop before the scratch place fills. */
  private async spend(table: WantedTable, bytes: number): Promise<void> {
    if (this.budget === null) this.budget = await loadBudget(this.scratch, this.options.loadLimit);
    this.loaded += bytes;
    const budget = this.budget;
    if (budget === undefined || this.loaded <= budget.bytes) return;
    const inMemory = this.scratch?.inMemory === true;
    throw new RecoverError('LOAD_TOO_LARGE', `the backup's rows passed ${megabytes(budget.bytes)} while loading ${table} into the throwaway database (its limit: ${budget.why}); a table this large is probably a compression bomb, or the backup is not a race server's`,
      {
        hint: `to load it anyway, set TMPDIR to a folder on a disk with room, so the scratch server goes there${inMemory ? ' instead of memory' : ''}, or set ${LOAD_LIMIT_ENV} to a number of bytes`,
      },
    );
  }

  private async finishCopy(): Promise<void> {
    const copy = this.copy;
    if (!copy) {
      this.copyTable = null;
      return;
    }
    if (this.copyError) throw this.copyError;
    await new Promise<void>((resolve, reject) => {
      copy.once('error', reject);
      copy.once('finish', resolve);
      copy.end();
    });
    // PostgreSQL before 18 takes a "\." at a row's end as the end of the data, and drops the rest
    // without a word: every row sent must have been stored.
    const stored = (copy as Writable & { rowCount?: number }).rowCount;
    if (typeof stored === 'number' && stored !== this.copyRows) {
      throw new RecoverError('BACKUP_NOT_WHOLE', `the backup could not be read whole: PostgreSQL stored ${stored} of the ${this.copyRows} rows of ${this.copyTable} it was sent (a row ends the data early)`, { hint: NOT_WHOLE_HINT });
    }
    this.copy = null;
    this.copyTable = null;
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function explainLoadError(err: Error, table: string | null, scratch: ScratchRoot | undefined): Error {
  if (err instanceof RecoverError) return err;
  const pgErr = err as Error & { code?: string; where?: string };
  if (pgErr.code === '22021' || pgErr.code === '22P05') {
    return new RecoverError('BACKUP_ENCODING', `the backup's ${table ?? ''} data is not valid in its declared encoding: ${pgErr.message}`, {
      hint: 'the source database was probably SQL_ASCII holding mixed encodings; see the README section on encodings',
      pg: pgDiagnostics(err),
      cause: err,
    });
  }
  if (pgErr.code === '53100') {
    // disk_full: the engine's scratch folder (see tempdir.ts) for the embedded and system engines.
    return new RecoverError('LOAD_DISK_FULL', `the throwaway database ran out of disk space while loading ${table ?? 'the backup'}: ${pgErr.message}`, {
      hint: scratch ? scratchFullHint(scratch) : "free space on the server that holds the throwaway database (Docker's disk, or the --database-url server)",
      pg: pgDiagnostics(err),
      cause: err,
    });
  }
  // Only PostgreSQL's own errors are the backup's: a local file-system error (errno) passes on as it is.
  const state = sqlstateOf(err);
  if (state) {
    return new RecoverError('LOAD_FAILED', `loading ${table ?? 'the backup'} failed: ${pgErr.message} (SQLSTATE ${state})`, {
      hint: 'the backup may be damaged; run with --debug for details',
      pg: pgDiagnostics(err),
      cause: err,
    });
  }
  return err;
}
