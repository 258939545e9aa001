/**
 * What the user sees on stderr: errors with hints, notes, and a progress bar
 * (only on a terminal). Data goes to stdout, never here.
 */
import { inspect } from 'node:util';
import { visibleLines } from '../terminal.js';
import { LoadProgress } from './load-progress.js';

/** One backup's loading state, for the per-backup progress lines. */
export interface BackupProgress {
  index: number;
  path: string;
  state: 'waiting' | 'loading' | 'loaded' | 'failed';
  done: number;
  total: number;
}

/**
 * Everything written here passes through visibleLines (terminal.ts): messages
 * carry usernames, task and file names from backups, and no control character
 * of theirs reaches the admin's terminal.
 */
export class Console {
  quiet = false;
  /** stderr's reader is gone (EPIPE) or its terminal closed: nothing more is written to it. */
  closed = false;

  private write(s: string): void {
    if (!this.closed) process.stderr.write(visibleLines(s));
  }

  error(message: string, hint?: string): void {
    this.write(`recover-texts: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
  }

  /** A warning: shown even with --quiet, since it says some data was left out. */
  warn(message: string): void {
    this.endProgress();
    this.write(`warning: ${message}\n`);
  }

  note(message: string): void {
    if (this.quiet) return;
    this.endProgress();
    this.write(`${message}\n`);
  }

  debug(detail: string, e?: unknown): void {
    if (detail) this.write(`${detail}\n`);
    if (e !== undefined) this.write(`${inspect(e, { depth: 4 })}\n`);
  }

  /** The progress display (load-progress.ts): drawn only on a terminal and without --quiet. */
  private readonly bars = new LoadProgress(() => !this.quiet && !this.closed);

  /** A step that takes time: reading the backup, starting PostgreSQL, querying. */
  step(label: string): void {
    this.bars.step(label);
  }

  /** One backup loading: percentage, rate and time left. */
  progress(label: string, done: number, total: number): void {
    this.bars.bytes(label, done, total);
  }

  /** Many backups loading at once: a bar each and a summary line. */
  backupProgress(p: BackupProgress): void {
    this.bars.backup(p);
  }

  /** Remove whatever progress is drawn; safe to call twice. */
  endProgress(): void {
    this.bars.stop();
  }
}
