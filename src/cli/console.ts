/**
 * What the user sees on stderr: errors with hints, notes, and a progress bar
 * (only on a terminal). Data goes to stdout, never here.
 */
import { basename } from 'node:path';
import { inspect } from 'node:util';

/** One backup's loading state, for the per-backup progress lines. */
export interface BackupProgress {
  index: number;
  path: string;
  state: 'waiting' | 'loading' | 'loaded' | 'failed';
  done: number;
  total: number;
}

export class Console {
  quiet = false;
  private lastDraw = 0;
  private drawn = false;
  private readonly tty = !!process.stderr.isTTY;

  error(message: string, hint?: string): void {
    process.stderr.write(`recover-texts: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
  }

  /** A warning: shown even with --quiet, since it says some data was left out. */
  warn(message: string): void {
    this.endProgress();
    process.stderr.write(`warning: ${message}\n`);
  }

  note(message: string): void {
    if (this.quiet) return;
    this.endProgress();
    process.stderr.write(`${message}\n`);
  }

  debug(detail: string, e: unknown): void {
    if (detail) process.stderr.write(`${detail}\n`);
    process.stderr.write(`${inspect(e, { depth: 4 })}\n`);
  }

  /** A progress bar for loading a backup; redrawn at most 10 times a second. */
  progress(label: string, done: number, total: number): void {
    if (this.quiet || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const width = 28;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    process.stderr.write(`\r${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(total)} MB`);
    this.drawn = true;
  }

  endProgress(): void {
    this.clearBlock();
    if (!this.drawn) return;
    process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }

  private readonly backups = new Map<number, BackupProgress>();
  private blockLines = 0;
  private lastBlockDraw = 0;

  /**
   * Per-backup progress while several backups load at once: one line per
   * backup being loaded and a summary line, redrawn in place (only on a
   * terminal; at most 10 times a second, and on every state change).
   */
  backupProgress(p: BackupProgress): void {
    if (this.quiet || !this.tty) return;
    const before = this.backups.get(p.index);
    this.backups.set(p.index, p);
    const now = Date.now();
    if (p.state === 'waiting') return; // every backup starts so; nothing to show yet
    if (before?.state === p.state && now - this.lastBlockDraw < 100) return;
    this.lastBlockDraw = now;
    const all = [...this.backups.values()];
    const loading = all.filter((b) => b.state === 'loading').sort((a, b) => a.index - b.index);
    const count = (s: BackupProgress['state']) => all.filter((b) => b.state === s).length;
    const width = Math.max(...loading.map((b) => basename(b.path).length), 10);
    const lines = loading.map((b) => {
      const frac = b.total > 0 ? Math.min(1, b.done / b.total) : 0;
      const bar = b.total > 0 ? `[${'#'.repeat(Math.round(frac * 20)).padEnd(20, '.')}] ${(frac * 100).toFixed(0).padStart(3)}%` : `[${'via pg_restore'.padEnd(20, '.')}]     `;
      return `  ${basename(b.path).padEnd(width)} ${bar} ${mb(b.done)} MB`;
    });
    lines.push(`loading ${all.length} backups: ${count('loaded')} loaded, ${count('loading')} loading, ${count('waiting')} waiting${count('failed') ? `, ${count('failed')} failed` : ''}`);
    this.clearBlock();
    process.stderr.write(lines.map((l) => `${l}\x1b[K\n`).join(''));
    this.blockLines = lines.length;
  }

  private clearBlock(): void {
    if (!this.blockLines) return;
    process.stderr.write(`\x1b[${this.blockLines}A\r\x1b[J`);
    this.blockLines = 0;
  }
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}
