/**
 * Many backups in one throwaway server: one engine, one database per backup,
 * loaded a few at a time. A backup the admin named that fails to load fails
 * the run, naming it: leaving it out would silently change what a merge
 * restores (the race server's upload deletes every text it does not carry).
 * Only backups found in a folder (ManyConfig.optional) are reported and
 * skipped when they fail. Whatever was started is removed (the engine drops
 * its databases or removes its whole server).
 *
 * Separate databases rather than schemas: the loader and the query work
 * unchanged (they name tables unqualified), and one backup's rows can never
 * be read as another's.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { assertBackupPathExists, detectBackup, type BackupFile } from '../detect/index.js';
import { startEngine } from '../engine/index.js';
import { RecoverError } from '../errors.js';
import type { FilterStats } from '../filter/index.js';
import type { LoadResult } from '../load/index.js';
import { checkpoint, stopping } from '../resources.js';
import { openSql } from '../source/index.js';
import type { LoadedBackup, SessionConfig } from './config.js';
import { backupDate, backupOrder, type BackupDate } from './date.js';
import { loadNew, queryOn } from './load.js';

/**
 * At most this many backups load (or are queried) at once, whatever the
 * number of cores: each needs a connection, and a throwaway cluster allows
 * 20 (engine/cluster.ts), one of which is the admin connection.
 */
export const MAX_PARALLEL_LOADS = 16;

export interface BackupLoadEvent {
  /** Position in the list of paths given. */
  index: number;
  path: string;
  state: 'waiting' | 'loading' | 'loaded' | 'failed';
  /** Bytes of the backup read so far, of total (0 when unknown: archives). */
  done: number;
  total: number;
  date?: BackupDate;
  error?: RecoverError;
}

export interface ManyConfig extends SessionConfig {
  /** Each backup's progress: state changes and bytes read. */
  onBackup?: (e: BackupLoadEvent) => void;
  /** Backups loaded at once (default: the number of cores, at most MAX_PARALLEL_LOADS). */
  concurrency?: number;
  /**
   * Paths found in a folder rather than named: one that fails to load is
   * reported in BackupSet.failed and skipped. Any other failure fails the run.
   */
  optional?: ReadonlySet<string>;
}

/** A loaded backup, waiting in its own database. */
export interface LoadedEntry {
  path: string;
  backup: BackupFile;
  date: BackupDate;
  load: LoadResult;
  stats: FilterStats;
  /** Its database on the engine. */
  database: string;
}

export interface BackupFailure {
  path: string;
  error: RecoverError;
}

export interface BackupSet {
  /** The backups that loaded, oldest first (backupOrder). */
  readonly loaded: readonly LoadedEntry[];
  /** The backups that did not, in the order given. */
  readonly failed: readonly BackupFailure[];
  /** Run `fn` on each loaded backup (a few at a time, each with its own connection); results in `loaded` order. */
  map<R>(fn: (b: LoadedBackup, entry: LoadedEntry) => Promise<R>): Promise<R[]>;
}

/** Load every backup in `paths` into one engine and run `fn` on the set; everything started is removed afterwards. */
export async function withBackups<T>(paths: readonly string[], config: ManyConfig, fn: (set: BackupSet) => Promise<T>): Promise<T> {
  const unique = [...new Map(paths.map((p) => [resolve(p), p])).values()];
  if (!unique.length) throw new RecoverError('USAGE_NO_BACKUPS', 'usage', 'no backups given', { hint: 'name the backups, e.g. buggy_race_bk_*.sql.gz' });
  const width = Math.max(1, Math.min(config.concurrency ?? availableParallelism(), MAX_PARALLEL_LOADS, unique.length));
  const optional = new Set([...(config.optional ?? [])].map((p) => resolve(p)));
  const required = (path: string) => !optional.has(resolve(path));
  // A typo in a named file fails now, before a server starts, with the names close to it.
  config.onPhase?.('reading backup');
  for (const path of unique) if (required(path)) await assertBackupPathExists(path);
  unique.forEach((path, index) => config.onBackup?.({ index, path, state: 'waiting', done: 0, total: 0 }));

  config.onPhase?.('starting PostgreSQL');
  const engine = await startEngine(config.engine);
  try {
    const loadOne = async (path: string, index: number): Promise<LoadedEntry | BackupFailure> => {
      let read = 0;
      let total = 0;
      const emit = (state: BackupLoadEvent['state'], extra: Partial<BackupLoadEvent> = {}) =>
        config.onBackup?.({ index, path, state, done: read, total, ...extra });
      try {
        const backup = await detectBackup(path);
        const date = backupDate(backup);
        total = backup.archive ? 0 : backup.size;
        emit('loading', { date });
        const source = await openSql(backup, { pgRestore: config.pgRestore, onBytes: (n) => emit('loading', { done: (read += n) }) });
        const { database, client, load, stats } = await loadNew(engine, backup, source, config);
        try {
          emit('loaded', { date });
          return { path, backup, date, load, stats, database };
        } finally {
          await client.end().catch(() => {});
        }
      } catch (e) {
        const error = asRecoverError(e, path);
        emit('failed', { error });
        if (required(path)) throw error;
        return { path, error };
      }
    };

    config.onPhase?.('loading');
    const results = await pool(unique, width, loadOne);
    // (A slot is empty only when a signal stopped the pool: the run is ending.)
    const loaded = results.filter((r): r is LoadedEntry => !!r && 'database' in r).sort(backupOrder);
    const failed = results.filter((r): r is BackupFailure => !!r && !('database' in r));
    if (!loaded.length) throw noneLoaded(failed);
    config.onPhase?.('querying');
    await checkpoint('querying');

    const set: BackupSet = {
      loaded,
      failed,
      map: (each) =>
        pool(loaded, width, async (entry) => {
          const client = await engine.connect(entry.database);
          try {
            const query = await queryOn(client, entry.load, config.timezone);
            return await each({ backup: entry.backup, date: entry.date, load: entry.load, stats: entry.stats, query, engine, database: entry.database }, entry);
          } finally {
            await client.end().catch(() => {});
          }
        }),
    };
    return await fn(set);
  } finally {
    await engine.stop();
  }
}

/** Run `fn` over `items`, `width` at a time; results in input order. The first error stops new work and is thrown when the running ones end. */
async function pool<I, R>(items: readonly I[], width: number, fn: (item: I, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let firstError: { e: unknown } | undefined;
  const worker = async () => {
    // On a signal, whatever runs is being disposed of: start nothing new.
    while (!firstError && !stopping() && next < items.length) {
      const k = next++;
      try {
        results[k] = await fn(items[k]!, k);
      } catch (e) {
        firstError ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (firstError) throw firstError.e;
  return results;
}

/** The error as a RecoverError whose message names the backup. */
function asRecoverError(e: unknown, path: string): RecoverError {
  if (e instanceof RecoverError) {
    if (e.message.includes(path)) return e;
    return new RecoverError(e.code, e.exit, `${path}: ${e.message}`, { hint: e.hint, detail: e.detail, cause: e });
  }
  const err = e as { code?: string; message?: string };
  return new RecoverError('LOAD_FAILED', 'load', `loading ${path} failed: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ''}`, {
    hint: 'run with --debug for details',
    cause: e,
  });
}

function noneLoaded(failed: BackupFailure[]): RecoverError {
  const first = failed[0]!.error;
  if (failed.length === 1) return first;
  // One cause for all (e.g. no pg_restore for any archive) keeps its exit code.
  const same = failed.every((f) => f.error.exit === first.exit);
  return new RecoverError('NO_BACKUP_LOADED', same ? first.exit : 'load', `none of the ${failed.length} backups could be loaded; the first: ${first.message}`, {
    hint: first.hint ?? "each backup's reason is listed above; `recover-texts inspect BACKUP` looks at one",
  });
}
