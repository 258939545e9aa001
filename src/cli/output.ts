/** Writing to stdout (data only; notes and progress go to stderr through Console). */
import type { ExportContext } from '../export/index.js';
import type { LoadedBackup } from '../session/index.js';
import type { Scope } from '../scope.js';
import { visibleLines } from '../terminal.js';

/** Text for a person (tables, the history, inspect's lines): control characters from backups made visible (terminal.ts). */
export function writeText(s: string): Promise<void> {
  return writeStdout(visibleLines(s));
}

/** Data (JSON, CSV), exactly. */
export function writeStdout(s: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(s, (e) => (e ? reject(e) : resolve())));
}

/** Where an export's texts came from, as the files index and notes record it. */
export function exportContext(backupPath: string, b: LoadedBackup, username: string, timezone: string): ExportContext {
  return { backup: backupPath, backupFormat: b.backup.format, backupDate: b.date.value, backupDateSource: b.date.source, username, timezone };
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Runs a command's action with the run's scope, turning its failure into the exit status (program.ts). */
export type Runner = (fn: (scope: Scope) => Promise<void>) => Promise<void>;
