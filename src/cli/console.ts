/**
 * What the user sees on stderr: errors with hints, notes, and a progress bar
 * (only on a terminal). Data goes to stdout, never here.
 */
import { inspect } from 'node:util';

export class Console {
  quiet = false;
  private lastDraw = 0;
  private drawn = false;
  private readonly tty = !!process.stderr.isTTY;

  error(message: string, hint?: string): void {
    process.stderr.write(`recover-texts: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
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
    if (!this.drawn) return;
    process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

/** A plain text table, columns padded to fit. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (r: string[]) => r.map((c, k) => (k === r.length - 1 ? c : c.padEnd(widths[k]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
