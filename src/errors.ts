/**
 * The one error type of recover-texts. Every failure a user can meet is a
 * RecoverError with a stable code, a process exit code, a one-line message
 * (what was expected, what was found) and a hint (what to do next).
 * Only the CLI's main() turns it into output and an exit status.
 */

/** Exit codes, one per family of failure, so scripts can tell them apart. */
export const ExitCode = {
  usage: 2,
  badBackup: 3,
  unsupported: 4,
  notFound: 5,
  engine: 6,
  output: 7,
  load: 8,
  tool: 9,
  interrupted: 130,
  internal: 70,
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
