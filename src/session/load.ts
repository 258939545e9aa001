/**
 * The load stage for one backup into one empty database: the scratch tables,
 * then the backup's rows streamed through the filter into them. Shared by
 * withBackup and withBackups.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { BackupFile } from '../detect/index.js';
import { NOT_WHOLE_HINT, RecoverError } from '../errors.js';
import { SqlFilterStream, type FilterEvent, type FilterOptions, type FilterStats } from '../filter/index.js';
import { createScratchTables, Loader, type LoadResult, type LoadTarget } from '../load/index.js';
import { BackupQuery, danglingTexts } from '../query/index.js';
import type { SqlSource } from '../source/index.js';
import type { SessionConfig } from './config.js';
import { chooseDatabase } from './databases.js';
import type { HeldTexts } from './held-texts.js';

/**
 * How to load: the session's encoding options and database choice, which texts to keep
 * (FilterOptions.textsOf; all when unset). The target tells the schema its client's search_path has.
 */
export type LoadConfig = Pick<SessionConfig, 'backupEncoding' | 'log' | 'database' | 'loadLimit'> & Partial<Pick<SessionConfig, 'scope'>> & FilterOptions;

/**
 * A backup's rows as the filter hands them on (its events), before any of them is loaded. With
 * `hold` (bytes; 0 for none), they are named by a digest, and a backup whose digest is another's
 * holds the same rows; they are held in memory while they come to at most `hold` bytes, so that
 * when all of them fit the digest is known before they are loaded (see sameAsLoaded). Past it,
 * or without `hold`, they stream to the load as they are read.
 */
export interface Filtered {
  /** The filter's counts: final once `events` has been read to its end (at once when `held`). */
  readonly stats: FilterStats;
  /**
   * With `hold`: a SHA-256 of every event, and of what else the load's result depends on. Known
   * at once when every event was held (`held`), else once the load has read them all.
   */
  readonly digest: string | undefined;
  /** Every event was held in memory: `digest` is known before any is loaded. */
  readonly held: boolean;
  /** The events, the held ones first, for one load to take. */
  readonly events: AsyncIterable<FilterEvent>;
}

/**
 * Read `source` through the filter: Filtered. With `aside`, the texts table's rows are held there
 * (held-texts.ts), and the events, their digest and the hold are the rest. The source is consumed,
 * or destroyed on failure.
 */
export async function filterBackup(source: SqlSource, options: FilterOptions & { hold?: number; aside?: HeldTexts } = {}): Promise<Filtered> {
  const filter = new SqlFilterStream({ textsOf: options.textsOf, rawTexts: options.rawTexts, chunksKept: source.chunksKept });
  // Done when the filter has had every byte; its events are read below, or by the load.
  const reading = pipeline([...source.streams, filter]);
  reading.catch(() => {}); // the same error reaches whoever reads the events
  const events: AsyncIterable<FilterEvent> = options.aside ? options.aside.through(filter, filter.stats) : filter;
  const pending = events[Symbol.asyncIterator]();
  const held: FilterEvent[] = [];
  const rest: AsyncIterable<FilterEvent> = { [Symbol.asyncIterator]: () => pending };
  const digest = options.hold === undefined ? undefined : new RowsDigest(filter.stats);
  const streamed = (): Filtered => ({
    stats: filter.stats,
    get digest() {
      return digest?.value;
    },
    held: false,
    events: heldThen(held, rest, source, digest),
  });
  if (!digest) return streamed();
  let size = 0;
  try {
    for (;;) {
      const next = await pending.next();
      if (next.done) break;
      held.push(next.value);
      size += digest.add(next.value);
      if (size > options.hold!) return streamed();
    }
    await reading;
  } catch (e) {
    throw source.explain(e) ?? e;
  }
  return { stats: filter.stats, digest: digest.end(), held: true, events: heldThen(held, [], source) };
}

/** What one held event costs beyond its text: the object, its fields and the array's slot (8 MiB of tiny events took 13.8 MiB of heap counted without it). */
const EVENT_BYTES = 64;

/** A SHA-256 of a backup's filtered events (Filtered.digest), taken as they come. */
class RowsDigest {
  private readonly hash = createHash('sha256');
  value: string | undefined;

  constructor(private readonly stats: FilterStats) {}

  /** Add one event, unambiguously; returns about how many bytes it holds, the event object's own included. */
  add(e: FilterEvent): number {
    if (e.type !== 'rows' && e.type !== 'bytes') {
      const text = JSON.stringify(e);
      this.hash.update(`${text.length}:${text}`);
      return EVENT_BYTES + text.length;
    }
    // The same rows as bytes or as a binary string are the same.
    this.hash.update(`rows ${e.table} ${e.count} ${e.data.length}:`);
    if (typeof e.data === 'string') this.hash.update(e.data, 'latin1');
    else this.hash.update(e.data);
    // A bytes event's newlines: a number each (8 bytes in their array).
    return EVENT_BYTES + e.data.length + (e.type === 'bytes' ? (e.ends?.length ?? 0) * 8 : 0);
  }

  /** Once every event is added: with what else decides the load's result (which part of a pg_dumpall file is the race server's). */
  end(): string {
    this.hash.update(`clusterDump=${this.stats.clusterDump}`);
    return (this.value = this.hash.digest('hex'));
  }
}

/**
 * The held events (let go of as they are taken), then the rest, added to `digest` as they come
 * (the held ones are in it already); a failure reading them is explained by the source.
 */
async function* heldThen(held: FilterEvent[], rest: AsyncIterable<FilterEvent> | Iterable<FilterEvent>, source: SqlSource, digest?: RowsDigest): AsyncGenerator<FilterEvent> {
  try {
    // Taken from the end (shift() moves every other event each time: quadratic in their number).
    held.reverse();
    while (held.length) yield held.pop()!;
    for await (const e of rest) {
      digest?.add(e);
      yield e;
    }
    digest?.end();
  } catch (e) {
    throw source.explain(e) ?? e;
  }
}

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
): Promise<LoadedRows> {
  return loadFiltered(target, backup, source, await filterBackup(source, config), config);
}

/** What a load leaves: what the backup held, its filter's counts, and the schema its rows are in. */
export interface LoadedRows {
  load: LoadResult;
  stats: FilterStats;
  schema: string;
}

/**
 * Load a backup's filtered rows into `target` (as loadInto), and check them. With `held` (the
 * filter's `aside`), its texts table's rows are held there instead, for loadHeld to load later.
 */
export async function loadFiltered(
  target: LoadTarget | Promise<LoadTarget>,
  backup: BackupFile,
  source: SqlSource,
  filtered: Filtered,
  config: LoadConfig = { log: () => {} },
  held?: HeldTexts,
): Promise<LoadedRows> {
  const made = Promise.resolve(target).then(async (t) => {
    await createScratchTables(t.client);
    return t;
  });
  const loader = new Loader(made, { backupEncoding: config.backupEncoding, loadLimit: config.loadLimit, scope: config.scope });
  await pipeline([Readable.from(filtered.events), loader]);
  const { stats } = filtered;
  checkTruncated(backup, stats);
  // A pg_dumpall file: the race server's database, loaded in a schema of its own.
  const chosen = chooseDatabase(backup, loader.databases, stats.clusterDump, config);
  checkLoaded(backup, source, stats, chosen.result);
  const { client, schema = 'public' } = await made;
  if (chosen.schema !== schema) await client.query(`SET search_path TO ${chosen.schema}`);
  // Texts held back are checked as they load (loadHeld).
  if (!held || held.loaded) await checkTextsBelong(client, backup, chosen.result);
  noteEncoding(backup, chosen.result, config);
  return { load: chosen.result, stats, schema: chosen.schema };
}

/**
 * Load texts rows held back from a backup's load (loadFiltered's `held`) into its schema, on the
 * client given (on that schema's search_path): all of them, or only `rows`, in place of what its
 * texts table held (a backup with the same other rows as the one before shares its schema). They
 * are checked as the rest were: every text loaded belongs to a user and a task of the backup.
 */
export async function loadHeld(
  target: LoadTarget,
  backup: BackupFile,
  load: LoadResult,
  held: HeldTexts,
  rows: readonly number[] | 'all',
  config: Pick<LoadConfig, 'backupEncoding' | 'loadLimit' | 'scope'>,
): Promise<void> {
  const { client } = target;
  // What an earlier backup sharing the schema left goes first, even when no row comes in its place.
  await client.query(`DELETE FROM ${held.table}`);
  if (rows !== 'all' && !rows.length) return;
  const loader = new Loader(target, { backupEncoding: config.backupEncoding, loadLimit: config.loadLimit, scope: config.scope });
  await pipeline([Readable.from(held.replay(rows)), loader]);
  // The rows may have set the backup's encoding; results come back as UTF-8 (queryOn).
  if (loader.setEncoding) await client.query('RESET client_encoding');
  await checkTextsBelong(client, backup, load, rows === 'all' ? undefined : 'that changed since the backup before');
}

/**
 * A backup whose rows are those of one loaded before (their Filtered.digest is the same), taken
 * as that one's load: the checks of its own reading are made, and the rows' are as they were.
 */
export function sameAsLoaded(backup: BackupFile, source: SqlSource, filtered: Filtered, same: LoadedRows, config: LoadConfig): LoadedRows {
  checkTruncated(backup, filtered.stats);
  checkLoaded(backup, source, filtered.stats, same.load);
  noteEncoding(backup, same.load, config);
  return { load: same.load, stats: filtered.stats, schema: same.schema };
}

/** The checks of what a backup held that need no database. */
function checkLoaded(backup: BackupFile, source: SqlSource, stats: FilterStats, load: LoadResult): void {
  checkComplete(backup, load);
  checkReadWhole(backup, source, stats);
  checkEachHasData(backup, stats, load);
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

/** Every text loaded (`which` of them, when not all) belongs to a user and a task the backup loaded (see danglingTexts). */
async function checkTextsBelong(client: pg.Client, backup: BackupFile, load: LoadResult, which?: string): Promise<void> {
  const d = await danglingTexts(client, load);
  if (!d.noUser && !d.noTask) return;
  const parts = [d.noUser && `${d.noUser} belong to no user in it`, d.noTask && `${d.noTask} to no task in it`].filter(Boolean);
  throw notWhole(backup, `of the ${d.texts} texts in ${backup.path}${which ? ` ${which}` : ''}, ${parts.join(' and ')} (the race server never stores such texts)`);
}
