/**
 * A backup's date: one rule for every command. Archives carry the time
 * pg_dump started (the dumping machine's local time; no zone is recorded),
 * verbose plain dumps a "Started on" line; otherwise a date in the file name,
 * else the file's modification time.
 */
import type { BackupDate } from '../detect/index.js';

// The rule itself lives in detect, which also orders a folder's backups by it.
export { backupDate, type BackupDate } from '../detect/index.js';

/** Oldest first: by the backup's own date, then by path. */
export function backupOrder(a: { date: BackupDate; path: string }, b: { date: BackupDate; path: string }): number {
  return a.date.value < b.date.value ? -1 : a.date.value > b.date.value ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
