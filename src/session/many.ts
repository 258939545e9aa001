/**
 * Many backups in one throwaway server: one engine, one database, a schema
 * per backup, loaded a few at a time. A backup the admin named that fails to load fails
 * the run, naming it: leaving it out would silently change what a merge
 * restores (the race server's upload deletes every text it does not carry).
 * Only backups found in a folder (ManyConfig.optional) are reported and
 * skipped when they fail. Whatever was started is removed (the engine drops
 * its databases or removes its whole server).
 *
 * A schema per backup rather than a database: the loader and the query work
 * unchanged (they name tables unqualified, and each backup's connections
 * have only its schema on their search_path), and a schema costs nothing to
 * make or remove, where a database is 300 files to copy, a first connection
 * that reads its catalogs afresh, and 300 files to remove.
 */
import { availableParallelism, freemem } from 'node:os';
import { resolve } from 'node:path';
import { assertBackupPathExists, detectBackup, type BackupFile } from '../detect/index.js';
import { startEngine } from '../engine/index.js';
import { RecoverError } from '../errors.js';
import { namingBackup } from './naming.js';
import { PART_SCHEMA_INFIX } from '../load/index.js';
import { openSql, type SqlSource } from '../source/index.js';
import { pathOf, type BackupInput, type BackupLoad, type LoadedBackup, type SessionConfig } from './config.js';
import { backupDate, backupOrder, type BackupDate } from './date.js';
import { Connections } from './connections.js';
import { pool } from '../pool.js';
import { filterBackup, loadFiltered, loadHeld, queryOn, sameAsLoaded, type Filtered, type LoadedRows } from './load.js';
import { HeldTexts, HOLD_TEXT_BYTES, TextSlabs } from './held-texts.js';
import { SameRows } from './same-rows.js';

/**
 * At most this many backups load (or are queried) at once, whatever the
 * number of cores: each needs a connection, and a throwaway cluster allows
 * 20 (engine/cluster.ts), one of which is the admin connection.
 */
const MAX_PARALLEL_LOADS = 16;

/**
 * Backups loaded at once by default: the number of cores, at least 4. A load
 * also waits (on the file, on PostgreSQL); with 2 cores, 4 at once keep them
 * busier (history of 30 nightly backups: 3.04 s against 3.32 s with 2, peak
 * RSS 133 MB).
 */
const LOADS_PER_MACHINE = (cores: number) => Math.max(4, cores);

/**
 * Memory one load in flight may hold: its 1 MiB reads and inflated pieces in
 * the pipeline, the filter's window of lines and a line carried across
 * pieces (one text may be megabytes), the rows queued for COPY, and the
 * garbage they leave until collected.
 */
export const LOAD_MEMORY = 32 * 2 ** 20;

/**
 * Rows a backup's load holds in memory to tell whether an earlier backup's were the same
 * (SameRows), within its LOAD_MEMORY: a student's history holds the class's users and tasks and
 * the student's texts, tens of kB a night. Past this, the rows go to PostgreSQL as they come.
 */
const HOLD_BYTES = 8 * 2 ** 20;

/** The share of the memory available at the start that loads in flight may take together. */
const LOADS_MEMORY_SHARE = 0.25;

/**
 * Backups loaded at once: `requested` (--jobs), else as many as the cores
 * keep busy while their share of `memory` (bytes available: free memory, or
 * a container's limit) holds `perLoad` each (LOAD_MEMORY; streamed, with the
 * texts a backup holds too); never more than the backups, MAX_PARALLEL_LOADS,
 * and never less than one.
 */
export function loadsInFlight(opts: { requested?: number; backups: number; cores?: number; memory?: number; perLoad?: number }): number {
  const byMemory = Math.floor(((opts.memory ?? availableMemory()) * LOADS_MEMORY_SHARE) / (opts.perLoad ?? LOAD_MEMORY));
  const wanted = opts.requested ?? Math.min(LOADS_PER_MACHINE(opts.cores ?? availableParallelism()), byMemory);
  return Math.max(1, Math.min(wanted, MAX_PARALLEL_LOADS, opts.backups));
}

/** Memory free now, or the process's limit (a container's cgroup) when that is less. */
function availableMemory(): number {
  const limit = process.constrainedMemory();
  return limit > 0 ? Math.min(limit, freemem()) : freemem();
}

/** The bytes a load reads, as its progress counts them: unknown (0) for an archive, whose SQL pg_restore or the reader makes. */
const sizeToRead = (b: BackupFile): number => (b.archive ? 0 : b.size);

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
  /** Backups loaded at once (default: loadsInFlight's, by cores and memory; at most MAX_PARALLEL_LOADS). */
  concurrency?: number;
  /**
   * Paths found in a folder rather than named: one that fails to load is
   * reported in BackupSet.failed and skipped. Any other failure fails the run.
   */
  optional?: ReadonlySet<string>;
  /**
   * For commands that follow one student (history, merge): given the newest
   * backup, loaded first and whole, the user ids whose texts are needed
   * from the others (null: everyone's). The other backups then load only
   * those texts (every other table whole): the rest of the texts are most
   * of what loading a nightly backup costs.
   */
  textsOf?: (newest: LoadedBackup) => Promise<readonly number[] | null>;
}

/** A loaded backup, waiting in its own schema of the one database that holds every backup's. */
interface LoadedEntry extends BackupLoad {
  /** As given. */
  path: string;
  /** Streamed: its texts rows, held back from the load (held-texts.ts). */
  held?: HeldTexts;
  /** The position (in the list given) of the backup whose schema it is in: its own, or an earlier one's with the same rows. */
  owner: number;
}

/** A backup read through the filter, its rows held where they fit (filterBackup), and not yet loaded. */
interface ReadBackup {
  path: string;
  /** Position in the list given. */
  index: number;
  backup: BackupFile;
  date: BackupDate;
  source: SqlSource;
  filtered: Filtered;
  held: HeldTexts | undefined;
  textsOf: ReadonlySet<string> | undefined;
  /** Its progress: a state change, with what else changed. */
  emit: (state: BackupLoadEvent['state'], extra?: Partial<BackupLoadEvent>) => void;
}

interface BackupFailure {
  path: string;
  error: RecoverError;
}

export interface BackupSet {
  /** The backups that loaded, oldest first (backupOrder). */
  readonly loaded: readonly LoadedEntry[];
  /** The backups that did not, in the order given. */
  readonly failed: readonly BackupFailure[];
  /**
   * Run `fn` on the loaded backups (a few at a time, each with its own connection); results in
   * `loaded` order. It runs once for the backups whose rows are the same (SameRows: they share a
   * schema), on one of them, and its result is given to each: `fn` reads the rows only, never
   * which backup it was handed (its path or date: `loaded` has them).
   */
  mapRows<R>(fn: (b: LoadedBackup) => Promise<R>): Promise<R[]>;
  /**
   * Each loaded backup in turn, oldest first, for callers that keep only what changed: `read`
   * queries it (on a connection of its own), `use` takes what was read; the next backup is read
   * while `use` handles this one, so at most two backups' reads are held at once.
   */
  each<R>(read: (b: LoadedBackup, entry: LoadedEntry) => Promise<R>, use: (read: R, entry: LoadedEntry) => void): Promise<void>;
  /** Run `fn` on one loaded backup, with its own connection. */
  on<R>(entry: LoadedEntry, fn: (b: LoadedBackup, entry: LoadedEntry) => Promise<R>): Promise<R>;
}

/**
 * The backups as a stream, for a command that visits each once, oldest first (scan): they are
 * read as `each` goes, in date order, a few ahead of it, and loaded at their turn (into the
 * schema of the one before when all their rows but their texts are the same; the texts wait in
 * memory, LoadedBackup.texts); a schema is dropped once a backup that does not share it is read,
 * so only one or two backups are ever in the server at once, however many there are.
 */
export interface BackupStream {
  /** BackupSet's each; every backup given loads through it, so call it once. */
  each: BackupSet['each'];
  /** What BackupSet's are, once `each` has resolved. */
  readonly loaded: readonly LoadedEntry[];
  readonly failed: readonly BackupFailure[];
}

/** Load every backup given into one engine and run `fn` on the set; everything started is removed afterwards. */
export function withBackups<T>(backups: readonly BackupInput[], config: ManyConfig, fn: (set: BackupSet) => Promise<T>): Promise<T> {
  return inEngine(backups, config, { all: fn });
}

/** As withBackups, the backups loading as `fn`'s stream's `each` reads them (BackupStream). */
export function streamBackups<T>(backups: readonly BackupInput[], config: ManyConfig, fn: (stream: BackupStream) => Promise<T>): Promise<T> {
  return inEngine(backups, config, { streamed: fn });
}

/** The backups given, in one engine, to `use` loaded all at once (withBackups) or as a stream (streamBackups). */
async function inEngine<T>(
  backups: readonly BackupInput[],
  config: ManyConfig,
  use: { all: (set: BackupSet) => Promise<T> } | { streamed: (stream: BackupStream) => Promise<T> },
): Promise<T> {
  const unique = [...new Map(backups.map((b) => [resolve(pathOf(b)), b])).values()];
  if (!unique.length) throw new RecoverError('USAGE_NO_BACKUPS', 'no backups given', { hint: 'name the backups, e.g. buggy_race_bk_*.sql.gz' });
  // Streamed, each backup read ahead holds its texts until its turn (held-texts.ts).
  const width = loadsInFlight({ requested: config.concurrency, backups: unique.length, perLoad: 'streamed' in use ? LOAD_MEMORY + HOLD_TEXT_BYTES : LOAD_MEMORY });
  const optional = new Set([...(config.optional ?? [])].map((p) => resolve(p)));
  const required = (path: string) => !optional.has(resolve(path));
  // A typo in a named file fails now, before a server starts, with the names close to it.
  config.onPhase?.('reading backup');
  for (const b of unique) if (typeof b === 'string' && required(b)) await assertBackupPathExists(b);
  // A backup already read (a folder's) has its size known while it waits: the run's time left counts it.
  unique.forEach((b, index) => config.onBackup?.({ index, path: pathOf(b), state: 'waiting', done: 0, total: typeof b === 'string' ? 0 : sizeToRead(b) }));

  config.onPhase?.('starting PostgreSQL');
  const engine = await startEngine(config.engine, config.scope);
  const { signal } = config.scope;
  let connections: Connections | undefined;
  try {
    const database = await engine.database();
    // Kept from one backup to the next (connections.ts): a new one is a new PostgreSQL process.
    connections = new Connections(() => engine.connect(database));
    const pooled = connections;
    // Named by position in the list given: ours, and a valid identifier whatever the path.
    const schemaOf = (index: number) => engine.schema(`backup_${index}`);
    // Loaded all at once, backups with the same rows share a schema (SameRows); streamed, a backup shares the one
    // before's when all its rows but its texts are the same (loadRead), and a schema is dropped once none uses it.
    const sameRows = 'all' in use ? new SameRows() : undefined;
    /** Streamed: the memory every backup's held texts are copied into, reused (held-texts.ts). */
    const slabs = new TextSlabs();
    /** A backup failed (`e`): reported, and skipped where it was found in a folder; a named one fails the run. */
    const failing = (read: Pick<ReadBackup, 'path' | 'emit'>, e: unknown): BackupFailure => {
      const error = asRecoverError(e, read.path);
      read.emit('failed', { error });
      if (required(read.path)) throw error;
      return { path: read.path, error };
    };
    /** Backup `index` read through the filter, its rows held where they fit (its texts, streamed: held-texts.ts). */
    const readOne = async (input: BackupInput, index: number, textsOf?: ReadonlySet<string>): Promise<ReadBackup | BackupFailure> => {
      const path = pathOf(input);
      let read = 0;
      let total = 0;
      const emit: ReadBackup['emit'] = (state, extra = {}) => config.onBackup?.({ index, path, state, done: read, total, ...extra });
      let source: SqlSource | undefined;
      try {
        const backup = typeof input === 'string' ? await detectBackup(input) : input;
        const date = backupDate(backup);
        total = sizeToRead(backup);
        emit('loading', { date });
        source = await openSql(backup, { pgRestore: config.pgRestore === undefined ? undefined : { path: config.pgRestore, scope: config.scope }, onBytes: (n) => emit('loading', { done: (read += n) }) });
        // Loaded all at once, a backup's rows are named by a digest (SameRows); streamed, its texts are held back
        // from the load, for the reader to load those that changed since the backup before (held-texts.ts), and
        // the rest by a digest, for a backup whose other rows are the one before's to share its schema.
        const held = sameRows ? undefined : new HeldTexts(slabs);
        const filtered = await filterBackup(source, { textsOf, hold: HOLD_BYTES, rawTexts: !sameRows, aside: held });
        return { path, index, backup, date, source, filtered, held, textsOf, emit };
      } catch (e) {
        source?.streams.forEach((s) => s.destroy());
        return failing({ path, emit }, e);
      }
    };
    /**
     * A backup read (readOne) loaded into its own schema; or, with the same rows as an earlier one's
     * (SameRows; streamed: `before`, the one read just before), checked as itself and given that one's.
     */
    const loadRead = async (r: ReadBackup, before?: LoadedEntry): Promise<LoadedEntry | BackupFailure> => {
      const { backup, source, filtered, held } = r;
      const loadConfig = { ...config, textsOf: r.textsOf };
      const schema = schemaOf(r.index);
      try {
        // A pg_dumpall file's race server database is in a schema of its own beside this one.
        const load = () => pooled.use(schema, (client) => loadFiltered({ client, scratch: engine.scratch, schema }, backup, source, filtered, loadConfig, held), true);
        const same = (earlier: LoadedRows) => sameAsLoaded(backup, source, filtered, earlier, loadConfig);
        const shared = before && filtered.held && filtered.digest !== undefined && filtered.digest === before.digest;
        const loaded = sameRows ? await sameRows.rows(filtered, load, same) : shared ? same(before) : await load();
        r.emit('loaded', { date: r.date });
        return { path: r.path, backup, date: r.date, load: loaded.load, stats: loaded.stats, database, schema: loaded.schema, digest: filtered.digest, held, owner: shared ? before.owner : r.index };
      } catch (e) {
        source.streams.forEach((s) => s.destroy());
        return failing(r, e);
      }
    };
    const loadOne = async (input: BackupInput, index: number, textsOf?: ReadonlySet<string>): Promise<LoadedEntry | BackupFailure> => {
      const read = await readOne(input, index, textsOf);
      return 'error' in read ? read : loadRead(read);
    };

    /** A loaded backup as a command sees it, on a connection that sees its schema alone for the call. */
    const onEntry = <R>(entry: LoadedEntry, each: (b: LoadedBackup, entry: LoadedEntry) => Promise<R>): Promise<R> =>
      pooled.use(entry.schema, async (client) => {
        const query = await queryOn(client, entry.load, config.timezone);
        const { held } = entry;
        const texts = held && {
          held,
          load: (rows: readonly number[] | 'all') =>
            loadHeld({ client, scratch: engine.scratch }, entry.backup, entry.load, held, rows, config).catch((e: unknown) => {
              // The backup's own fault (the load explains those); a lost connection is the run's.
              throw e instanceof RecoverError ? new HeldLoadFailed(e) : e;
            }),
        };
        return each({ backup: entry.backup, date: entry.date, load: entry.load, stats: entry.stats, query, engine, database: entry.database, schema: entry.schema, digest: entry.digest, texts }, entry);
      });

    /** Drop backup `index`'s schemas: its own, and a pg_dumpall file's others (`..._db1`, ...: load/loader.ts partSchema). */
    const drop = (index: number) => {
      const schema = schemaOf(index);
      return pooled.use(schema, async (client) => {
        const { rows } = await client.query<{ n: string }>(
          'SELECT quote_ident(nspname) AS n FROM pg_namespace WHERE nspname = $1 OR left(nspname, length($1) + length($2)) = $1 || $2',
          [schema, PART_SCHEMA_INFIX],
        );
        if (rows.length) await client.query(`DROP SCHEMA ${rows.map((r) => r.n).join(', ')} CASCADE`);
      });
    };

    config.onPhase?.('loading');
    // Streamed, the run is querying from the first backup read on, as the others load.
    const querying = () => config.scope.checkpoint('querying');
    if ('streamed' in use) return await use.streamed(streamed(unique, width, signal, { readOne, loadRead, onEntry, drop, querying, failing }));
    const results = config.textsOf && unique.length > 1 ? await loadNewestFirst(unique, width, signal, loadOne, onEntry, config.textsOf) : await pool(unique, width, signal, (p, k) => loadOne(p, k));
    // (A slot is empty only when a signal stopped the pool: the run is ending.)
    const loaded = results.filter((r): r is LoadedEntry => !!r && 'database' in r).sort(backupOrder);
    const failed = results.filter((r): r is BackupFailure => !!r && !('database' in r));
    if (!loaded.length) throw noneLoaded(failed);
    config.onPhase?.('querying');
    await config.scope.checkpoint('querying');

    const set: BackupSet = {
      loaded,
      failed,
      mapRows: async (each) => {
        const first = [...new Map(loaded.map((entry) => [entry.schema, entry])).values()];
        // Queries wait on round trips more than on the cores: more at once than loads.
        const results = await pool(first, MAX_PARALLEL_LOADS, signal, (entry) => onEntry(entry, each));
        const bySchema = new Map(first.map((entry, k) => [entry.schema, results[k]!]));
        return loaded.map((entry) => bySchema.get(entry.schema)!);
      },
      each: async (read, use) => {
        const readAt = (k: number) => {
          const reading = onEntry(loaded[k]!, read);
          reading.catch(() => {}); // awaited below; a run ending meanwhile must not leave it unhandled
          return reading;
        };
        let ahead = readAt(0);
        for (let k = 0; k < loaded.length && !signal.aborted; k++) {
          const got = await ahead;
          if (k + 1 < loaded.length) ahead = readAt(k + 1);
          use(got, loaded[k]!);
        }
      },
      on: onEntry,
    };
    return await use.all(set);
  } finally {
    await connections?.close();
    await engine.stop();
  }
}

/**
 * streamBackups' stream: the backups are read in date order (each one's head read first for its
 * date; one that cannot be read goes first, for readOne to report), at most `width` ahead of the
 * one `each` reads next, each through the filter with its rows held in memory. Each is loaded at
 * its turn: into the schema of the one read before it when its rows (all but its texts, which
 * wait in memory) are the same, else into its own; and a schema is dropped once a backup that
 * does not share it has been read. `querying` is awaited before the first is read.
 */
function streamed(
  backups: readonly BackupInput[],
  width: number,
  signal: AbortSignal,
  { readOne, loadRead, onEntry, drop, querying, failing }: {
    readOne: (backup: BackupInput, index: number) => Promise<ReadBackup | BackupFailure>;
    loadRead: (read: ReadBackup, before?: LoadedEntry) => Promise<LoadedEntry | BackupFailure>;
    onEntry: <R>(entry: LoadedEntry, each: (b: LoadedBackup, entry: LoadedEntry) => Promise<R>) => Promise<R>;
    drop: (index: number) => Promise<void>;
    querying: () => Promise<void>;
    failing: (read: ReadBackup, e: unknown) => BackupFailure;
  },
): BackupStream {
  const loaded: LoadedEntry[] = [];
  const failed: BackupFailure[] = [];
  const failedAt = new Map<BackupFailure, number>();
  return {
    loaded,
    failed,
    each: async (read, use) => {
      const detected = await detectAll(backups, width, signal);
      const order = backups
        .map((b, k) => ({ path: pathOf(b), k, input: detected[k] ?? b, date: detected[k] && backupDate(detected[k]) }))
        .sort((a, b) => (a.date && b.date ? backupOrder({ ...a, date: a.date }, { ...b, date: b.date }) : Number(!!a.date) - Number(!!b.date)));
      // By position in `order`, until taken (a read backup's held texts must not stay reachable from here).
      const reads = new Map<number, Promise<ReadBackup | BackupFailure>>();
      let started = 0;
      let stopped = false;
      /** Start the reads up to `width` past position `next` of `order` (the next to be loaded). */
      const startFrom = (next: number) => {
        while (started < order.length && started < next + width && !stopped && !signal.aborted) {
          const { input, k } = order[started]!;
          const reading = readOne(input, k);
          reading.catch(() => {}); // awaited in turn, or at the end
          reads.set(started++, reading);
        }
      };
      /** The first backup from position `at` of `order` on that loaded, read by `read`; undefined past the last. `before`: the one read before it. */
      const readFrom = async (at: number, before: LoadedEntry | undefined) => {
        for (; at < order.length && !stopped && !signal.aborted; at++) {
          startFrom(at);
          const reading = reads.get(at)!;
          reads.delete(at);
          const got = await reading;
          let result: LoadedEntry | BackupFailure = 'error' in got ? got : await loadRead(got, before);
          if ('database' in result) {
            if (!loaded.length) await querying();
            try {
              return { at, entry: result, got: await onEntry(result, read) };
            } catch (e) {
              // Its held texts failed to load at its turn: it fails as its load would have.
              if (!(e instanceof HeldLoadFailed)) throw e;
              if (result.owner === order[at]!.k) await drop(result.owner);
              result = failing(got as ReadBackup, e.cause);
            }
          } else if (!('error' in got)) await drop(order[at]!.k); // what its load left
          failed.push(result);
          failedAt.set(result, order[at]!.k);
        }
        return undefined;
      };
      let ahead = readFrom(0, undefined);
      try {
        let previous: LoadedEntry | undefined;
        for (let current = await ahead; current; current = await ahead) {
          // The one before is read and used: its schema goes, unless this one shares it.
          if (previous && previous.owner !== current.entry.owner) await drop(previous.owner);
          previous = current.entry;
          loaded.push({ ...current.entry, held: undefined });
          ahead = readFrom(current.at + 1, current.entry);
          ahead.catch(() => {}); // awaited next turn
          use(current.got, current.entry);
        }
        // As BackupSet's: in the order given.
        failed.sort((a, b) => failedAt.get(a)! - failedAt.get(b)!);
        if (!loaded.length && !signal.aborted) throw noneLoaded(failed);
      } finally {
        // A failure stops new reads; those running end before the server goes.
        stopped = true;
        const left = await Promise.allSettled([ahead, ...reads.values()]);
        // Read and never loaded: their files are let go.
        for (const r of left) if (r.status === 'fulfilled' && r.value && 'source' in r.value) r.value.source.streams.forEach((s) => s.destroy());
      }
    },
  };
}

/** Every backup's head read, for its date (a path's detected, once; what selection detected is used as it is): undefined where it cannot be read. */
function detectAll(backups: readonly BackupInput[], width: number, signal: AbortSignal): Promise<(BackupFile | undefined)[]> {
  return pool(backups, width, signal, async (b) => (typeof b === 'string' ? detectBackup(b).catch(() => undefined) : b));
}

/**
 * ManyConfig.textsOf: every backup's date is read first (its head only), the
 * newest is loaded whole and asked which texts the others need, then the
 * others load with only those. A backup that cannot be read is left to
 * loadOne, which reports it; when the newest fails, all load whole.
 */
async function loadNewestFirst(
  backups: readonly BackupInput[],
  width: number,
  signal: AbortSignal,
  loadOne: (backup: BackupInput, index: number, textsOf?: ReadonlySet<string>) => Promise<LoadedEntry | BackupFailure>,
  onEntry: <R>(entry: LoadedEntry, each: (b: LoadedBackup, entry: LoadedEntry) => Promise<R>) => Promise<R>,
  textsOf: NonNullable<ManyConfig['textsOf']>,
): Promise<(LoadedEntry | BackupFailure)[]> {
  const detected = await detectAll(backups, width, signal);
  const dated = backups.flatMap((b, k) => (detected[k] ? [{ path: pathOf(b), k, date: backupDate(detected[k]) }] : []));
  const newest = dated.sort(backupOrder).at(-1);
  if (!newest) return pool(backups, width, signal, (b, k) => loadOne(b, k));
  const first = await loadOne(detected[newest.k]!, newest.k);
  const ids = 'database' in first ? await onEntry(first, (b) => textsOf(b)) : null;
  const focus = ids ? new Set(ids.map(String)) : undefined;
  return pool(backups, width, signal, (b, k) => (k === newest.k ? Promise.resolve(first) : loadOne(detected[k] ?? b, k, focus)));
}

/** Held texts (streamBackups) that failed to load at their backup's turn: `cause` says why. */
class HeldLoadFailed extends Error {
  constructor(cause: unknown) {
    super('the held texts could not be loaded', { cause });
  }
}

/** The error as a RecoverError whose message names the backup (naming.ts). */
function asRecoverError(e: unknown, path: string): RecoverError {
  if (e instanceof RecoverError) return namingBackup(e, path);
  const err = e as { code?: string; message?: string };
  return new RecoverError('LOAD_FAILED', `loading ${path} failed: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ''}`, {
    hint: 'run with --debug for details',
    cause: e,
  });
}

function noneLoaded(failed: BackupFailure[]): RecoverError {
  const first = failed[0]!.error;
  if (failed.length === 1) return first;
  // One cause for all (e.g. no pg_restore for any archive) keeps its exit code.
  const same = failed.every((f) => f.error.exit === first.exit);
  return new RecoverError('NO_BACKUP_LOADED', `none of the ${failed.length} backups could be loaded; the first: ${first.message}`, {
    exit: same ? first.exit : 'load',
    hint: first.hint ?? "each backup's reason is listed above; `recover-texts inspect BACKUP` looks at one",
  });
}
