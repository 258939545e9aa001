import type { EngineConfig, Log } from '../engine/index.js';
import type { FilterStats } from '../filter/index.js';
import type { LoadResult } from '../load/index.js';
import type { BackupFile } from '../detect/index.js';
import type { Engine } from '../engine/index.js';
import type { BackupQuery } from '../query/index.js';
import type { Scope } from '../scope.js';
import type { BackupDate } from './date.js';
import type { HeldTexts } from './held-texts.js';

/** Everything a session needs, resolved once at the command line's boundary (cli/options.ts). */
export interface SessionConfig {
  engine: EngineConfig;
  /** The run's scope: what it starts is registered there, and its signal says when to stop. */
  scope: Scope;
  /** The race server's database session zone. */
  timezone: string;
  /** --pg-restore: read archives with this pg_restore instead of natively. */
  pgRestore?: string;
  /** --backup-encoding: what a SQL_ASCII backup's non-UTF-8 bytes are (a resolved PostgreSQL name). */
  backupEncoding?: string;
  /** --database: in a backup of several databases (pg_dumpall), the one to read. */
  database?: string;
  /** RECOVER_TEXTS_LOAD_LIMIT: the bytes of rows one backup may load (else half the scratch folder's free space). */
  loadLimit?: number;
  /** Bytes of the backup read so far, of total (0 when unknown). */
  onProgress?: (done: number, total: number) => void;
  /** Each step as it starts, so a progress display shows something from the first moment. */
  onPhase?: (phase: SessionPhase) => void;
  /** Notes for the user (stderr). */
  log: Log;
}

/** The steps of a run that take time, in order. */
type SessionPhase = 'reading backup' | 'starting PostgreSQL' | 'loading' | 'querying';

/**
 * A backup as a session takes it: as detected (what the commands pass, from
 * their selection of backups, so nothing is detected twice), or a path, which
 * the session detects, once.
 */
export type BackupInput = BackupFile | string;

/** The path a backup was given as. */
export function pathOf(b: BackupInput): string {
  return typeof b === 'string' ? b : b.path;
}

/** One backup's load: what it is, what it held, and where its rows wait. */
export interface BackupLoad {
  backup: BackupFile;
  date: BackupDate;
  load: LoadResult;
  stats: FilterStats;
  /** Its database on the engine. */
  database: string;
  /** Its schema there (many backups share a database), on its connections' search_path. */
  schema: string;
  /**
   * Loaded among many at once (withBackups): a SHA-256 of its rows as loaded (session/load.ts
   * Filtered.digest). Two backups with the same digest hold the same rows, whatever their files' bytes.
   */
  digest?: string;
}

/** One backup, loaded and ready to query. */
export interface LoadedBackup extends BackupLoad {
  query: BackupQuery;
  engine: Engine;
  /**
   * Streamed (streamBackups): its texts rows, held back from the load (held-texts.ts), and how
   * to load all of them or some into its schema before querying them.
   */
  texts?: { held: HeldTexts; load(rows: readonly number[] | 'all'): Promise<void> };
}
