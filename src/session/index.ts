/**
 * session: one backup, loaded into a throwaway database, for as long as a
 * command needs it. The whole pipeline in one place:
 *   detect -> source -> filter -> load (into an engine's scratch db) -> query
 * and the guarantee that whatever was started is stopped and removed.
 * withBackups (many.ts) does the same for many backups in one engine.
 */
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { backupDate, detectBackup, type BackupDate, type BackupFile } from '../detect/index.js';
import { startEngine, type EngineConfig, type Scratch } from '../engine/index.js';
import { RecoverError } from '../errors.js';
import { SqlFilterStream, type FilterStats } from '../filter/index.js';
import { createScratchTables, Loader, type LoadResult } from '../load/index.js';
import { BackupQuery } from '../query/index.js';
import { checkpoint } from '../resources.js';
import { openSql, type SqlSource } from '../source/index.js';

export { backupDate, type BackupDate } from '../detect/index.js';

export interface SessionConfig {
  engine: EngineConfig;
  /** The race server's database session zone. */
  timezone: string;
  /** --pg-restore: the pg_restore to use for archives. */
  pgRestore?: string;
  /** --backup-encoding: what a SQL_ASCII backup's non-UTF-8 bytes are (a resolved PostgreSQL name). */
  backupEncoding?: string;
  /** Bytes of the backup read so far, of total. */
  onProgress?: (done: number, total: number) => void;
  /** Each step as it starts, so a progress display shows something from the first moment. */
  onPhase?: (phase: SessionPhase) => void;
  /** Notes for the user (stderr). */
  log: (message: string) => void;
}

/** The steps of a run that take time, in order. */
export type SessionPhase = 'reading backup' | 'starting PostgreSQL' | 'loading' | 'querying';

export interface LoadedBackup {
  backup: BackupFile;
  date: BackupDate;
  load: LoadResult;
  stats: FilterStats;
  query: BackupQuery;
  scratch: Scratch;
}

/** Load `path` and run `fn` on it; everything started is removed afterwards, whatever happens. */
export async function withBackup<T>(path: string, config: SessionConfig, fn: (b: LoadedBackup) => Promise<T>): Promise<T> {
  config.onPhase?.('reading backup');
  const backup = await detectBackup(path);
  let read = 0;
  // Archives: pg_restore's output size is unknown, so progress shows bytes only.
  const total = backup.archive ? 0 : backup.size;
  const source = await openSql(backup, { pgRestore: config.pgRestore, onBytes: (n) => config.onProgress?.((read += n), total) });
  config.onPhase?.('starting PostgreSQL');
  const scratch = await startEngine(config.engine).catch((e) => {
    source.streams.forEach((s) => s.destroy());
    throw e;
  });
  const client = new pg.Client(scratch.config);
  // A server stopped under the client (on a signal) is reported through the
  // failing query, if any; the client's own 'error' event must not crash the run.
  client.on('error', () => {});
  try {
    await client.connect();
    config.onPhase?.('loading');
    const { load, stats } = await loadInto(client, backup, source, config);
    config.onPhase?.('querying');
    const query = await queryOn(client, load, config.timezone);
    await checkpoint('querying');
    return await fn({ backup, date: backupDate(backup), load, stats, query, scratch });
  } finally {
    await client.end().catch(() => {});
    await scratch.stop();
  }
}

/**
 * The load stage for one backup: the scratch tables, then the backup's rows
 * streamed through the filter into them, over `client` (connected to an empty
 * database). The source is consumed or destroyed. Shared by withBackup and
 * withBackups (many.ts).
 */
export async function loadInto(
  client: pg.Client,
  backup: BackupFile,
  source: SqlSource,
  config: Pick<SessionConfig, 'backupEncoding' | 'log'> = { log: () => {} },
): Promise<{ load: LoadResult; stats: FilterStats }> {
  try {
    await createScratchTables(client);
  } catch (e) {
    source.streams.forEach((s) => s.destroy());
    throw e;
  }
  const filter = new SqlFilterStream();
  const loader = new Loader(client, { backupEncoding: config.backupEncoding });
  try {
    await pipeline([...source.streams, filter, loader]);
  } catch (e) {
    throw source.explain(e) ?? e;
  }
  checkComplete(backup, filter.stats, loader.result);
  noteEncoding(backup, loader.result, config);
  return { load: loader.result, stats: filter.stats };
}

/** A query over a loaded database, in the race server's session zone. */
export async function queryOn(client: pg.Client, load: LoadResult, timezone: string): Promise<BackupQuery> {
  // The loader may have switched to the backup's encoding; results must come back as UTF-8.
  await client.query('RESET client_encoding');
  const query = new BackupQuery(client, load);
  await query.setTimezone(timezone);
  return query;
}

function noteEncoding(backup: BackupFile, load: LoadResult, config: Pick<SessionConfig, 'backupEncoding' | 'log'>): void {
  const declared = load.encoding ?? 'none';
  if (config.backupEncoding && declared.toUpperCase() !== 'SQL_ASCII') {
    config.log(`--backup-encoding is for SQL_ASCII backups; ${backup.path} declares ${declared}, which PostgreSQL converts itself, so it was not used`);
  }
  if (load.decodedAs?.fields) config.log(`${load.decodedAs.fields} field${load.decodedAs.fields === 1 ? '' : 's'} of ${backup.path} (SQL_ASCII) that were not UTF-8 were read as ${load.decodedAs.encoding}`);
  const bad = load.notUtf8.length;
  if (bad) {
    config.log(
      `${bad} field${bad === 1 ? '' : 's'} of ${backup.path} (SQL_ASCII) ${bad === 1 ? 'is' : 'are'} not valid UTF-8 (shown as \uFFFD); texts that need ${bad === 1 ? 'it' : 'them'} are not exported without --backup-encoding`,
    );
  }
}

function checkComplete(backup: BackupFile, stats: FilterStats, load: LoadResult): void {
  // First: a dump cut off early also lacks tables, and "truncated" is the real news.
  if (stats.sawDumpHeader && !stats.sawDumpComplete) {
    throw new RecoverError('BACKUP_TRUNCATED', 'damaged', `${backup.path} ends before pg_dump's "dump complete" line, so it is truncated`, {
      hint: 'copy the backup again, or pick an older one',
    });
  }
  const t = load.tables;
  if (!t.users.present && !t.tasks.present && !t.tasktexts.present && !t.notes.present) {
    throw new RecoverError('BACKUP_NO_RACE_TABLES', 'noRaceTables', `${backup.path} holds no race server tables (users, tasks, tasktexts or notes)`, {
      hint: 'is this a backup of the race server\'s database? `recover-texts inspect` shows what it holds',
    });
  }
  for (const needed of ['users', 'tasks'] as const) {
    if (!t[needed].present) {
      throw new RecoverError('BACKUP_MISSING_TABLE', 'noRaceTables', `${backup.path} has no ${needed} table`, {
        hint: 'a backup of only some tables cannot be used; pick a full backup',
      });
    }
  }
  if (!t.tasktexts.present && !t.notes.present) {
    throw new RecoverError('BACKUP_MISSING_TABLE', 'noRaceTables', `${backup.path} has no tasktexts (or older notes) table`, {
      hint: 'a backup of only some tables cannot be used; pick a full backup',
    });
  }
}

export { withBackups, backupOrder, type BackupSet, type BackupFailure, type ManyConfig, type BackupLoadEvent, type LoadedEntry } from './many.js';
