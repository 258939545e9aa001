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

export interface RecoverErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Detail that is safe to show with --debug only (never secrets). */
  detail?: string;
}

export class RecoverError extends Error {
  override readonly name = 'RecoverError';
  readonly hint: string | undefined;
  readonly detail: string | undefined;
  constructor(
    /** Stable, documented, e.g. BACKUP_TRUNCATED. */
    readonly code: string,
    readonly exit: ExitCodeName,
    message: string,
    options: RecoverErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.detail = options.detail;
  }
  get exitCode(): number {
    return ExitCode[this.exit];
  }
}

export function isRecoverError(e: unknown): e is RecoverError {
  return e instanceof RecoverError;
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
