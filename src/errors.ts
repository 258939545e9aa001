/**
 * The one error type of recover-texts. Every failure a user can meet is a
 * RecoverError with a stable code, a process exit code, a one-line message
 * (what was expected, what was found) and a hint (what to do next).
 * Only the CLI's main() turns it into output and an exit status.
 */

/** Exit codes, one per family of failure, so scripts can tell them apart. */
export const ExitCode = {
  /** A bad option or argument. */
  usage: 2,
  /** The file is not a PostgreSQL backup. */
  badBackup: 3,
  /** A kind of backup this tool does not read (e.g. zstd-compressed). */
  unsupported: 4,
  /** The backup file does not exist. */
  notFound: 5,
  /** The throwaway PostgreSQL could not be started. */
  engine: 6,
  /** The output could not be written. */
  output: 7,
  /** Loading the backup's rows failed. */
  load: 8,
  /** A needed tool (pg_restore) is missing or too old. */
  tool: 9,
  /** The backup is empty, truncated or damaged. */
  damaged: 10,
  /** The backup holds no race server tables. */
  noRaceTables: 11,
  /** No such student in the backup (or several match). */
  noStudent: 12,
  /** The temp folder (TMPDIR, else /tmp) is missing or not writable. */
  tempDir: 13,
  /** The PostgreSQL template cache is someone else's or cannot be read (`recover-texts cache`). */
  cache: 14,
  internal: 70,
  /** The terminal was closed or the session dropped (SIGHUP), after cleaning up. */
  hangup: 129,
  /** Ctrl-C (SIGINT), after cleaning up. */
  interrupted: 130,
  /** Ctrl-\\ (SIGQUIT), after cleaning up. */
  quit: 131,
  /** stdout or stderr was closed by its reader (EPIPE: `| head`, quitting `less`), after cleaning up. */
  outputClosed: 141,
  /** SIGTERM, after cleaning up. */
  terminated: 143,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

/**
 * Every error a user can meet: its stable code, the exit status it gives, and what it means and
 * what to do. The README's table of error codes is this list (a test keeps the two the same).
 */
export const ERROR_CODES = {
  USAGE_BAD_DATE: { exit: 'usage', meaning: '`--since`/`--until`/`--before` is not a date: give YYYY-MM-DD.' },
  USAGE_BAD_ENCODING: { exit: 'usage', meaning: '`--backup-encoding` names no encoding the tool reads: use a PostgreSQL name such as LATIN1 or WIN1252.' },
  USAGE_BAD_IMAGE: { exit: 'usage', meaning: '`--image` is not a Docker image name.' },
  USAGE_BAD_NUMBER: { exit: 'usage', meaning: 'an option that takes a number got something else.' },
  USAGE_BAD_TAKE: { exit: 'usage', meaning: '`--take` is not TASK@DATE.' },
  USAGE_BAD_TIMEZONE: { exit: 'usage', meaning: '`--timezone` is not an IANA zone name such as Europe/London.' },
  USAGE_CONFLICT: { exit: 'usage', meaning: 'two options that cannot go together were given.' },
  USAGE_NOTHING_TO_TAKE: { exit: 'usage', meaning: '`merge` needs `--auto` or a `--take`: run `history` first to choose.' },
  USAGE_NO_BACKUPS: { exit: 'usage', meaning: 'no backup was named.' },
  USAGE_NO_OUT: { exit: 'usage', meaning: '`--format files` writes a folder: give `--out DIR` (or an output option names nothing).' },
  USAGE_NO_URL: { exit: 'usage', meaning: '`--engine url` needs `--database-url` (or RECOVER_TEXTS_DATABASE_URL).' },
  USAGE_TAKE_AMBIGUOUS: { exit: 'usage', meaning: 'a `--take` matches several tasks or dates: use the name the task has now, or a full date and time.' },
  USAGE_TAKE_NO_TEXT: { exit: 'usage', meaning: 'the student has no text for that task in the backup `--take` names: the hint lists the dates that have one.' },
  USAGE_TAKE_UNKNOWN_DATE: { exit: 'usage', meaning: 'no backup has the date `--take` names.' },
  USAGE_TAKE_UNKNOWN_TASK: { exit: 'usage', meaning: 'the student has no text for a task of that name in these backups.' },
  USAGE_UNKNOWN_TASK: { exit: 'usage', meaning: '`--task` names a task the backup does not have: the hint lists its tasks.' },
  BACKUP_ORDER_UNKNOWN: { exit: 'usage', meaning: 'the newest backup, which `scan --restore` makes the uploads against, shares its date with others: which is newest is unknown.' },
  NO_BACKUPS_IN_RANGE: { exit: 'usage', meaning: 'no backup in the folder is within `--since`/`--until`: the hint lists their dates.' },
  CURRENT_JSON_INVALID: { exit: 'usage', meaning: '`--current` is a JSON file, but not the race server\'s texts download.' },
  DATABASE_AMBIGUOUS: { exit: 'usage', meaning: 'a pg_dumpall file holds several race server databases: choose one with `--database`.' },
  DATABASE_NOT_FOUND: { exit: 'usage', meaning: '`--database` names no database of the backup.' },
  DOCKER_HOST_INVALID: { exit: 'usage', meaning: 'DOCKER_HOST is not a URL.' },
  ENGINE_PG_BIN_INVALID: { exit: 'usage', meaning: '`--pg-bin` does not hold initdb and postgres.' },
  ENGINE_URL_INVALID: { exit: 'usage', meaning: '`--database-url` is not a PostgreSQL URL.' },
  LOAD_LIMIT_INVALID: { exit: 'usage', meaning: 'RECOVER_TEXTS_LOAD_LIMIT is not a number of bytes.' },
  TRANSPORT_INVALID: { exit: 'usage', meaning: 'RECOVER_TEXTS_TRANSPORT is neither `tcp` nor `auto`.' },
  S3_URL_INVALID: { exit: 'usage', meaning: 'an `s3://` argument names no bucket: write s3://BUCKET/KEY, or s3://BUCKET/PREFIX/ for a folder.' },
  S3_ENDPOINT_INVALID: { exit: 'usage', meaning: '`--endpoint-url` (or AWS_ENDPOINT_URL) is not an http(s) URL.' },
  S3_NO_CREDENTIALS: { exit: 'usage', meaning: 'no AWS credentials for an `s3://` backup: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE.' },
  PG_RESTORE_INVALID: { exit: 'usage', meaning: '`--pg-restore` is not a working pg_restore.' },
  BACKUP_UNRECOGNISED: { exit: 'badBackup', meaning: 'the file is not a PostgreSQL backup (plain or gzipped SQL, or a pg_dump archive).' },
  BACKUP_UNREADABLE: { exit: 'badBackup', meaning: 'the backup cannot be read by this user: check its permissions.' },
  S3_ACCESS_DENIED: { exit: 'badBackup', meaning: 'S3 refused the credentials in use (access denied, a wrong or expired key): check AWS_PROFILE or the keys.' },
  BACKUP_BAD_ENCODING: { exit: 'badBackup', meaning: 'the backup sets a client_encoding PostgreSQL does not know: it is damaged or not from pg_dump.' },
  BACKUP_NO_COLUMNS: { exit: 'badBackup', meaning: 'a data-only dump without column names: dump with `--column-inserts`, or include the schema.' },
  SQL_UNSUPPORTED_INSERT: { exit: 'badBackup', meaning: 'an INSERT the tool cannot read (not pg_dump\'s form).' },
  FOLDER_NO_BACKUPS: { exit: 'badBackup', meaning: 'the folder holds no file recognised as a backup.' },
  BACKUP_COMPRESSED: { exit: 'unsupported', meaning: 'the backup is zip/bzip2/xz/zstd-compressed as a whole: decompress it first.' },
  BACKUP_GZIPPED_ARCHIVE: { exit: 'unsupported', meaning: 'a gzipped pg_dump archive: gunzip it first.' },
  BACKUP_READ_ONCE: { exit: 'unsupported', meaning: 'standard input or a pipe is read once, start to end: one `-` at most, and `--pg-restore` needs a file.' },
  S3_DIRECTORY_ARCHIVE: { exit: 'unsupported', meaning: 'an S3 prefix holding a pg_dump directory archive (toc.dat): copy it down and pass the folder.' },
  ARCHIVE_TOC_COMPRESSED: { exit: 'unsupported', meaning: 'a directory archive whose toc.dat was compressed afterwards: decompress it.' },
  ARCHIVE_VERSION_TOO_OLD: { exit: 'unsupported', meaning: 'an archive older than pg_dump 9.0 (archive version 1.12).' },
  ARCHIVE_VERSION_UNKNOWN: { exit: 'unsupported', meaning: 'an archive newer than the tool knows: `--pg-restore PATH` reads it with a pg_restore that does.' },
  BACKUP_NOT_FOUND: { exit: 'notFound', meaning: 'nothing at the backup\'s path (or a symbolic link to nothing): check it; a did-you-mean lists near names.' },
  S3_NO_SUCH_BUCKET: { exit: 'notFound', meaning: 'no such S3 bucket (at `--endpoint-url`, when given).' },
  S3_NO_SUCH_KEY: { exit: 'notFound', meaning: 'no such object in the S3 bucket (a folder needs its trailing slash).' },
  S3_UNREACHABLE: { exit: 'notFound', meaning: 'the S3 store cannot be reached, or a read dropped too often: check `--endpoint-url` and the network.' },
  S3_FAILED: { exit: 'notFound', meaning: 'S3 answered another error (or the object changed while it was read): `--debug` shows it.' },
  S3_SDK_MISSING: { exit: 'tool', meaning: 'the AWS SDK is not installed: run `npm install` in the tool\'s folder.' },
  BACKUP_URL_FORBIDDEN: { exit: 'notFound', meaning: 'the web server refused the backup URL (401/403): a presigned or Heroku backup URL has expired: get a fresh one (`heroku pg:backups:url`).' },
  BACKUP_URL_FAILED: { exit: 'notFound', meaning: 'the backup URL could not be read (no such host, refused, dropped too often, a server error, or changed while read): try again, or download it.' },
  CURRENT_NOT_FOUND: { exit: 'notFound', meaning: 'nothing at `--current`\'s path.' },
  ENGINE_START_FAILED: { exit: 'engine', meaning: 'the throwaway PostgreSQL did not start: the message says why; try `--engine system` or `--database-url`.' },
  ENGINE_BINARY_FAILED: { exit: 'engine', meaning: 'a PostgreSQL program could not be run (as root: by the account the server runs as).' },
  ENGINE_CONNECT: { exit: 'engine', meaning: 'the PostgreSQL server cannot be reached.' },
  ENGINE_REFUSED: { exit: 'engine', meaning: 'the PostgreSQL server refused (with `--database-url`: the user needs CREATEDB, or CREATE on its own database).' },
  ENGINE_EMBEDDED_MISSING: { exit: 'engine', meaning: 'the embedded PostgreSQL for this platform is not installed: run `npm install` in the tool\'s folder.' },
  ENGINE_EMBEDDED_LINKS: { exit: 'engine', meaning: 'the embedded PostgreSQL lacks its library links and this user cannot make them (installed by another user): run the tool once as that user.' },
  ENGINE_NO_USER: { exit: 'engine', meaning: 'run as root with no unprivileged account to run PostgreSQL as: set RECOVER_TEXTS_RUN_AS.' },
  ENGINE_LOCAL_FILES: { exit: 'engine', meaning: 'the throwaway PostgreSQL\'s files could not be set up in the scratch folder (a local file-system error, not the backup\'s).' },
  ENGINE_SYSTEM_MISSING: { exit: 'engine', meaning: '`--engine system` found no PostgreSQL server programs: install them or give `--pg-bin`.' },
  DOCKER_IMAGE_MISSING: { exit: 'engine', meaning: 'the PostgreSQL image is not on the machine and could not be pulled.' },
  DOCKER_NOT_LOCAL: { exit: 'engine', meaning: 'the Docker engine runs on another machine.' },
  DOCKER_NOT_READY: { exit: 'engine', meaning: 'the PostgreSQL container did not become ready.' },
  DOCKER_PERMISSION: { exit: 'engine', meaning: 'no permission on the Docker socket: join the docker group.' },
  DOCKER_UNREACHABLE: { exit: 'engine', meaning: 'no Docker engine answers.' },
  OUTPUT_EXISTS: { exit: 'output', meaning: '`--out` already exists: choose another, or add `--force`.' },
  OUTPUT_FAILED: { exit: 'output', meaning: '`--out` cannot be written (permissions, a full disk); nothing was written.' },
  OUTPUT_PROTECTED: { exit: 'output', meaning: 'the output is something no output may replace, even with `--force`: anything recover-texts did not write (a backup, another file, a folder of another kind or holding files it did not write), a backup being read, a folder that holds one, or the current folder.' },
  LOAD_FAILED: { exit: 'load', meaning: 'PostgreSQL refused a row of the backup: run with `--debug`.' },
  LOAD_DISK_FULL: { exit: 'load', meaning: 'the scratch place filled while loading: set TMPDIR to a disk with room.' },
  LOAD_TOO_LARGE: { exit: 'load', meaning: 'the backup\'s rows passed the load budget (half the scratch place\'s free space): probably a compression bomb; TMPDIR or RECOVER_TEXTS_LOAD_LIMIT to go on.' },
  BACKUP_ENCODING: { exit: 'load', meaning: 'the backup\'s data is not valid in its declared encoding.' },
  TEXT_NOT_UTF8: { exit: 'load', meaning: 'a text of a SQL_ASCII backup is not UTF-8: export with `--backup-encoding ENC`.' },
  TEXT_NOT_UTF8_SKIPPED: { exit: 'load', meaning: '`export-all` or `scan --restore` skipped students whose texts are not UTF-8 (the others were written).' },
  NO_BACKUP_LOADED: { exit: 'load', meaning: 'none of the backups could be loaded (exit: the first failure\'s, when all failed alike): each reason is listed.' },
  PG_RESTORE_TOO_OLD: { exit: 'tool', meaning: '`--pg-restore` (or the pg_restore found) is older than the archive.' },
  PG_RESTORE_FAILED: { exit: 'tool', meaning: 'pg_restore failed on the archive: run with `--debug`.' },
  BACKUP_EMPTY: { exit: 'damaged', meaning: 'the backup is 0 bytes: the backup job failed that night.' },
  BACKUP_TRUNCATED: { exit: 'damaged', meaning: 'the backup ends early (no "dump complete" line, or cut inside data): copy it again, or pick an older one.' },
  BACKUP_CORRUPT: { exit: 'damaged', meaning: 'a gzip file whose data is damaged.' },
  BACKUP_BAD_ROW: { exit: 'damaged', meaning: 'an INSERT with the wrong number of values.' },
  BACKUP_LINE_TOO_LONG: { exit: 'damaged', meaning: 'a line longer than any dump writes (512 MiB): not a dump, or damaged.' },
  BACKUP_NOT_WHOLE: { exit: 'damaged', meaning: 'the backup could not be read whole (texts of users or tasks that did not load, or tables\' data ran together): nothing is exported, since the upload deletes first.' },
  SQL_UNTERMINATED: { exit: 'damaged', meaning: 'the backup ends inside a statement.' },
  ARCHIVE_CORRUPT: { exit: 'damaged', meaning: 'a pg_dump archive whose header, TOC, data or statements are damaged or hostile.' },
  ARCHIVE_TRUNCATED: { exit: 'damaged', meaning: 'a pg_dump archive cut short (or a directory archive missing a data file).' },
  BACKUP_NO_RACE_TABLES: { exit: 'noRaceTables', meaning: 'the backup holds none of the race server\'s tables: is it the race server\'s database?' },
  BACKUP_MISSING_TABLE: { exit: 'noRaceTables', meaning: 'the backup lacks users, tasks or the texts table: a backup of only some tables.' },
  USER_NOT_FOUND: { exit: 'noStudent', meaning: 'no such user: the message lists near names; `users --search PART` finds one by any part of their name.' },
  USER_AMBIGUOUS: { exit: 'noStudent', meaning: 'several users match: give the exact username.' },
  TEMP_DIR_UNUSABLE: { exit: 'tempDir', meaning: 'the temp folder (TMPDIR, else /tmp) is missing, not writable or full: set TMPDIR to a folder of yours with room.' },
  CACHE_UNUSABLE: { exit: 'cache', meaning: '`recover-texts cache` found the template cache someone else\'s, not a folder, or unreadable: remove that path yourself, or set XDG_CACHE_HOME.' },
  ARCHIVE_FORMAT_INVALID: { exit: 'internal', meaning: 'the archive reader met a format it had accepted as known: please report it.' },
  MERGE_INVALID: { exit: 'internal', meaning: 'the merged JSON failed the upload\'s own checks: please report it.' },
} as const satisfies Record<string, { exit: ExitCodeName; meaning: string }>;
export type ErrorCode = keyof typeof ERROR_CODES;

/** The hint of every BACKUP_NOT_WHOLE: the upload deletes first, so nothing partial is ever written. */
export const NOT_WHOLE_HINT = 'nothing was exported: pick another backup (or read an archive with --pg-restore PATH), and please report this with the --debug output';

/** What PostgreSQL said, when an error came from it: kept apart from the message, shown with --debug. */
export interface PgDiagnostics {
  sqlstate?: string;
  detail?: string;
  hint?: string;
}

export interface RecoverErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Detail that is safe to show with --debug only (never secrets). */
  detail?: string;
  /** PostgreSQL's own SQLSTATE, detail and hint, when it raised the error. */
  pg?: PgDiagnostics;
  /** An error re-worded keeps the exit it had; NO_BACKUP_LOADED takes the one every backup failed with alike. */
  exit?: ExitCodeName;
}

export class RecoverError extends Error {
  override readonly name = 'RecoverError';
  readonly hint: string | undefined;
  readonly detail: string | undefined;
  readonly pg: PgDiagnostics | undefined;
  /** The family of failure, from the code (see ERROR_CODES). */
  readonly exit: ExitCodeName;
  constructor(
    /** Stable and documented (ERROR_CODES, the README's table), e.g. BACKUP_TRUNCATED. */
    readonly code: ErrorCode,
    message: string,
    options: RecoverErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.detail = options.detail;
    this.pg = options.pg;
    this.exit = options.exit ?? ERROR_CODES[code].exit;
  }
  get exitCode(): number {
    return ExitCode[this.exit];
  }
}

/** PostgreSQL's diagnostics from an error pg raised (its fields), or undefined for any other error. */
export function pgDiagnostics(e: unknown): PgDiagnostics | undefined {
  const sqlstate = sqlstateOf(e);
  if (!sqlstate) return undefined;
  const err = e as { detail?: unknown; hint?: unknown };
  return { sqlstate, detail: typeof err.detail === 'string' ? err.detail : undefined, hint: typeof err.hint === 'string' ? err.hint : undefined };
}

/**
 * The SQLSTATE of a PostgreSQL error: its five-character code. Node's errno
 * names (EACCES, ECONNREFUSED) are not SQLSTATEs and never shown as one.
 */
export function sqlstateOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^E[A-Z]{4}$/.test(code) ? code : undefined;
}

/** A local file-system error (errno, with a syscall and usually a path), not the backup's or the server's. */
export function isLocalFileError(e: unknown): e is NodeJS.ErrnoException {
  const err = e as NodeJS.ErrnoException;
  return typeof err?.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && typeof err.syscall === 'string';
}
