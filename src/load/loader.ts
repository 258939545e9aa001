/** The scratch tables, and the Loader that streams filtered rows into them with COPY. */
import { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { RecoverError, sqlstateOf } from '../errors.js';
import { checkpoint } from '../resources.js';
import { scratchFullHint } from '../tempdir.js';
import { WANTED_COLUMNS, WANTED_TABLES, type ColumnDef, type FilterEvent, type WantedTable } from '../filter/index.js';
import { Utf8Check, type NotUtf8Field } from './encoding.js';

export interface TableLoad {
  /** The backup defined or filled this table. */
  present: boolean;
  rows: number;
  /** Wanted columns the backup had for it. */
  columns: Set<string>;
  /** Its CREATE TABLE columns and types, when the backup had one. */
  declared?: ColumnDef[];
}

export interface LoadResult {
  tables: Record<WantedTable, TableLoad>;
  /** The backup's client_encoding, when it set one. */
  encoding?: string;
  /** SQL_ASCII backups: fields that were not UTF-8, loaded with U+FFFD (see encoding.ts). */
  notUtf8: NotUtf8Field[];
  /** SQL_ASCII backups read with --backup-encoding: that encoding, and how many fields it decoded. */
  decodedAs?: { encoding: string; fields: number };
}

export interface LoaderOptions {
  /** --backup-encoding: what a SQL_ASCII backup's non-UTF-8 bytes are (a resolved PostgreSQL name). */
  backupEncoding?: string;
}

/** Create the scratch tables: every wanted column, all of type text, in one round trip. */
export async function createScratchTables(client: pg.Client): Promise<void> {
  const sql = WANTED_TABLES.map((table) => `CREATE UNLOGGED TABLE ${table} (${(WANTED_COLUMNS[table] as readonly string[]).map((c) => `${c} text`).join(', ')})`);
  await client.query(sql.join('; '));
}

export function emptyLoadResult(): LoadResult {
  const tables = {} as Record<WantedTable, TableLoad>;
  for (const t of WANTED_TABLES) tables[t] = { present: false, rows: 0, columns: new Set() };
  return { tables, notUtf8: [] };
}

/** Encoding names as PostgreSQL spells them (pg_wchar.h); anything else is refused. */
const ENCODING_NAME = /^[A-Za-z][A-Za-z0-9_]{1,30}$/;

/** A Writable of FilterEvents that COPYs rows into the scratch tables. */
export class Loader extends Writable {
  readonly result: LoadResult = emptyLoadResult();
  private copy: Writable | null = null;
  private copyTable: WantedTable | null = null;
  /** The open COPY's error, kept until someone waits on it. */
  private copyError: Error | null = null;
  private copyColumns: string[] = [];
  /** Set when the backup says SQL_ASCII: its bytes are checked before PostgreSQL sees them. */
  private utf8: Utf8Check | null = null;

  /**
   * `client` may still be on its way (the engine starting): the backup is
   * read meanwhile, and the first event that needs the database waits for it.
   * Skipping the other tables' data, which comes first in a dump, needs none.
   */
  constructor(
    private readonly client: pg.Client | Promise<pg.Client>,
    private readonly options: LoaderOptions = {},
  ) {
    super({ objectMode: true, highWaterMark: 16 });
    // Its failure is reported by the first write (or the final flush) that waits on it.
    if (client instanceof Promise) client.catch(() => {});
  }

  override _write(e: FilterEvent, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.handle(e).then(() => done(), (err: Error) => done(explainLoadError(err, this.copyTable)));
  }

  override _final(done: (err?: Error | null) => void): void {
    // Even with nothing loaded, the database must have been ready (its tables made).
    Promise.resolve(this.client)
      .then(() => this.finishCopy())
      .then(() => done(), (err: Error) => done(explainLoadError(err, this.copyTable)));
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
          throw new RecoverError('BACKUP_BAD_ENCODING', 'badBackup', `the backup sets an unknown client_encoding ${JSON.stringify(e.name.slice(0, 40))}`, {
            hint: 'the backup is damaged or not from pg_dump',
          });
        }
        this.result.encoding = e.name;
        if (e.name.toUpperCase() === 'SQL_ASCII') {
          this.utf8 = new Utf8Check(this.options.backupEncoding);
          this.result.notUtf8 = this.utf8.notUtf8;
        }
        await (await this.client).query(`SET client_encoding TO '${e.name}'`);
        return;
      case 'table':
        this.result.tables[e.table].present = true;
        this.result.tables[e.table].declared = e.columns;
        return;
      case 'begin': {
        const t = this.result.tables[e.table];
        t.present = true;
        e.columns.forEach((c) => t.columns.add(c));
        if (!e.columns.length) return; // none of the columns we need: nothing to load
        this.copyTable = e.table;
        this.copyColumns = e.columns;
        this.copyError = null;
        this.copy = (await this.client).query(copyFrom(`COPY ${e.table} (${e.columns.join(', ')}) FROM STDIN`));
        this.copy.on('error', (err: Error) => (this.copyError = err));
        return;
      }
      case 'rows': {
        if (!this.copy) return;
        this.result.tables[e.table].rows += e.count;
        await checkpoint('loading');
        if (this.copyError) throw this.copyError;
        const copy = this.copy;
        let data = e.data;
        if (this.utf8) {
          data = this.utf8.rows(e.table, this.copyColumns, data);
          if (this.utf8.backupEncoding) this.result.decodedAs = { encoding: this.utf8.backupEncoding, fields: this.utf8.converted };
        }
        if (!copy.write(Buffer.from(data, 'latin1'))) {
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

  private async finishCopy(): Promise<void> {
    const copy = this.copy;
    if (!copy) return;
    if (this.copyError) throw this.copyError;
    await new Promise<void>((resolve, reject) => {
      copy.once('error', reject);
      copy.once('finish', resolve);
      copy.end();
    });
    this.copy = null;
    this.copyTable = null;
  }
}

function explainLoadError(err: Error, table: string | null): Error {
  if (err instanceof RecoverError) return err;
  const pgErr = err as Error & { code?: string; where?: string };
  if (pgErr.code === '22021' || pgErr.code === '22P05') {
    return new RecoverError('BACKUP_ENCODING', 'load', `the backup's ${table ?? ''} data is not valid in its declared encoding: ${pgErr.message}`, {
      hint: 'the source database was probably SQL_ASCII holding mixed encodings; see the README section on encodings',
      cause: err,
    });
  }
  if (pgErr.code === '53100') {
    // disk_full: the scratch database's folder (see tempdir.ts) for the embedded and system engines.
    return new RecoverError('LOAD_DISK_FULL', 'load', `the throwaway database ran out of disk space while loading ${table ?? 'the backup'}: ${pgErr.message}`, {
      hint: `${scratchFullHint()}; with --database-url, free space on that server`,
      cause: err,
    });
  }
  // Only PostgreSQL's own errors are the backup's: a local file-system error (errno) passes on as it is.
  const state = sqlstateOf(err);
  if (state) {
    return new RecoverError('LOAD_FAILED', 'load', `loading ${table ?? 'the backup'} failed: ${pgErr.message} (SQLSTATE ${state})`, {
      hint: 'the backup may be damaged; run with --debug for details',
      cause: err,
    });
  }
  return err;
}
