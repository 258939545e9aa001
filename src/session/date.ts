/** Backups in the order of their dates (the rule itself is detect's backupDate). */
import type { BackupDate } from '../detect/index.js';

export { backupDate, type BackupDate } from '../detect/index.js';

/** Oldest first: by the backup's own date, then by path. */
export function backupOrder(a: { date: BackupDate; path: string }, b: { date: BackupDate; path: string }): number {
  return a.date.value < b.date.value ? -1 : a.date.value > b.date.value ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
