/**
 * The load stage for one backup into one empty database: the scratch tables,
 * then the backup's rows streamed through the filter into them. Shared by
 * withBackup and withBackups.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { BackupFile } from '../detect/index.js';
import { NOT_WHOLE_HINT, RecoverError } from '../errors.js';
import { SqlFilterStream, type FilterOptions, type FilterStats } from '../filter/index.js';
import { createScratchTables, Loader, type LoadResult, type LoadTarget } from '../load/index.js';
import { BackupQuery, danglingTexts } from '../query/index.js';
import type { SqlSource } from '../source/index.js';
import type { SessionConfig } from './config.js';
import { chooseDatabase } from './databases.js';

/**
 * How to load: the session's encoding options and database choice, which texts to keep
 * (FilterOptions.textsOf; all when unset). The target tells the schema its client's search_path has.
 */
export type LoadConfig = Pick<SessionConfig, 'backupEncoding' | 'log' | 'database' | 'loadLimit'> & Partial<Pick<SessionConfig, 'scope'>> & FilterOptions;

/**
 * Load `source` into `target`; the source is consumed or destroyed. The target
 * may still be coming (withBackup starts the engine meanwhile): the loader
 * waits for it, the reading does not.
 */
export async function loadInto(
  target: LoadTarget | Promise<LoadTarget>,
  backup: BackupFile,
  source: SqlSource,
  config: LoadConfig = { log: () => {} },
): Promise<{ load: LoadResult; stats: FilterStats; schema: string }> {
  const made = Promise.resolve(target).then(async (t) => {
    await createScratchTables(t.client);
    return t;
  });
  const filter = new SqlFilterStream({ textsOf: config.textsOf });
  const loader = new Loader(made, { backupEncoding: config.backupEncoding, loadLimit: config.loadLimit, scope: config.scope });
  try {
    await pipeline([...source.streams, filter, loader]);
  } catch (e) {
    throw source.explain(e) ?? e;
  }
  checkTruncated(backup, filter.stats);
  // A pg_dumpall file: the race server's database, loaded in a schema of its own.
  const chosen = chooseDatabase(backup, loader.databases, filter.stats.clusterDump, config);
  checkComplete(backup, chosen.result);
  checkReadWhole(backup, source, filter.stats);
  checkEachHasData(backup, filter.stats, chosen.result);
  const { client, schema = 'public' } = await made;
  if (chosen.schema !== schema) await client.query(`SET search_path TO ${chosen.schema}`);
  await checkTextsBelong(client, backup, chosen.result);
  noteEncoding(backup, chosen.result, config);
  return { load: chosen.result, stats: filter.stats, schema: chosen.schema };
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

/** First: a dump cut off early also lacks tables, and "truncated" is the real news. */
function checkTruncated(backup: BackupFile, stats: FilterStats): void {
  if (stats.sawDumpHeader && !stats.sawDumpComplete) {
    const tool = stats.clusterDump ? 'pg_dumpall\'s "cluster dump complete"' : 'pg_dump\'s "dump complete"';
    throw new RecoverError('BACKUP_TRUNCATED', `${backup.path} ends before ${tool} line, so it is truncated`, {
      hint: 'copy the backup again, or pick an older one',
    });
  }
}

function checkComplete(backup: BackupFile, load: LoadResult): void {
  const t = load.tables;
  const where = load.database && load.database.all.length > 1 ? `database ${JSON.stringify(load.database.name)} of ${backup.path}` : backup.path;
  if (!t.users.present && !t.tasks.present && !t.tasktexts.present && !t.notes.present) {
    throw new RecoverError('BACKUP_NO_RACE_TABLES', `${where} holds no race server tables (users, tasks, tasktexts or notes)`, {
      hint: 'is this a backup of the race server\'s database? `recover-texts inspect` shows what it holds',
    });
  }
  for (const needed of ['users', 'tasks'] as const) {
    if (!t[needed].present) {
      throw new RecoverError('BACKUP_MISSING_TABLE', `${where} has no ${needed} table`, {
        hint: 'a backup of only some tables cannot be used; pick a full backup',
      });
    }
  }
  if (!t.tasktexts.present && !t.notes.present) {
    throw new RecoverError('BACKUP_MISSING_TABLE', `${where} has no tasktexts (or older notes) table`, {
      hint: 'a backup of only some tables cannot be used; pick a full backup',
    });
  }
}

/**
 * A COPY-style dump (pg_dump's default, and every archive read natively) writes a COPY block for
 * each table's data, an empty table's too: a wanted table defined without one lost its data
 * (a damaged TOC entry, a block cut out), and would export as empty.
 */
function checkEachHasData(backup: BackupFile, stats: FilterStats, load: LoadResult): void {
  if (stats.copyBlocksKept + stats.copyBlocksSkipped === 0) return; // INSERT-style: an empty table has no INSERT at all
  const missing = Object.entries(load.tables).filter(([, t]) => t.declared && t.dataBlocks === 0).map(([name]) => name);
  if (missing.length) throw notWhole(backup, `${backup.path} defines ${missing.join(', ')} but holds no data block for ${missing.length === 1 ? 'it' : 'them'}, which pg_dump writes even for an empty table`);
}

/** The words every "could not be read whole" error starts with: the upload deletes first, so a partial export is never written. */
function notWhole(backup: BackupFile, what: string): RecoverError {
  return new RecoverError('BACKUP_NOT_WHOLE', `the backup could not be read whole: ${what}`, {
    hint: NOT_WHOLE_HINT,
  });
}

/** An archive read natively says how many tables' COPY data it holds: exactly those must have been read. */
function checkReadWhole(backup: BackupFile, source: SqlSource, stats: FilterStats): void {
  if (source.copyBlocks === undefined || stats.copyBlocksKept === source.copyBlocks) return;
  const why = stats.copyBlocksKept < source.copyBlocks ? "one table's data ran into the next" : "a table's data holds more than its rows";
  throw notWhole(backup, `${backup.path} holds the data of ${source.copyBlocks} wanted tables, but ${stats.copyBlocksKept} were read (${why})`);
}

/** Every text belongs to a user and a task the backup loaded (see danglingTexts). */
async function checkTextsBelong(client: pg.Client, backup: BackupFile, load: LoadResult): Promise<void> {
  const d = await danglingTexts(client, load);
  if (!d.noUser && !d.noTask) return;
  const parts = [d.noUser && `${d.noUser} belong to no user in it`, d.noTask && `${d.noTask} to no task in it`].filter(Boolean);
  throw notWhole(backup, `of the ${d.texts} texts in ${backup.path}, ${parts.join(' and ')} (the race server never stores such texts)`);
}
