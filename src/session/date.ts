/**
 * A backup's date: one rule for every command. Archives carry the time
 * pg_dump started (the dumping machine's local time; no zone is recorded),
 * verbose plain dumps a "Started on" line; otherwise a date in the file name,
 * else the file's modification time.
 */
import { dateFromName, type BackupFile } from '../detect/index.js';

export interface BackupDate {
  /** YYYY-MM-DD, or YYYY-MM-DD HH:MM (dumping machine's local time) for archives. */
  value: string;
  source: 'file name' | 'file modification time' | 'archive header' | 'pg_dump header';
}

export function backupDate(backup: BackupFile): BackupDate {
  const t = backup.archive?.dumpedAt;
  if (t) {
    const p = (n: number) => String(n).padStart(2, '0');
    return { value: `${t.year}-${p(t.month)}-${p(t.day)} ${p(t.hour)}:${p(t.minute)}`, source: 'archive header' };
  }
  if (backup.startedAt) return { value: backup.startedAt, source: 'pg_dump header' };
  const fromName = dateFromName(backup.path);
  if (fromName) return { value: fromName, source: 'file name' };
  return { value: backup.modifiedAt.toISOString().slice(0, 10), source: 'file modification time' };
}

/** Oldest first: by the backup's own date, then by path. */
export function backupOrder(a: { date: BackupDate; path: string }, b: { date: BackupDate; path: string }): number {
  return a.date.value < b.date.value ? -1 : a.date.value > b.date.value ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
