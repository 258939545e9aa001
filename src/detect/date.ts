/**
 * The date a backup was made, as best known, from the backup itself: the dump
 * time in an archive's header, the "Started on" line pg_dump --verbose writes
 * into a plain dump, a date in the file name, else the file's modification time.
 */
import { basename } from 'node:path';
import type { BackupFile } from './detect.js';

export interface BackupDate {
  /**
   * YYYY-MM-DD, or YYYY-MM-DD HH:MM when the backup records a time (or the
   * file's modification time is all there is). An
   * archive's time is the dumping machine's local time: pg_dump records no
   * zone (pg_backup_archiver.c WriteHead writes the struct tm fields only).
   */
  value: string;
  source: 'file name' | 'file modification time' | 'archive header' | 'pg_dump header';
}

/** What a date's source means, said the same way everywhere it is shown. */
export const DATE_SOURCE_NOTE: Record<BackupDate['source'], string> = {
  'archive header': "the dumping machine's local time, from the archive's header",
  'pg_dump header': "the dumping machine's time, from pg_dump's \"Started on\" line",
  'file name': 'the date in the file name',
  'file modification time': "the file's modification time, in UTC",
};

/** The rule, in one sentence, for wherever dates are explained (terminal, JSON, HTML). */
export const DATE_RULE =
  "the dump time in an archive's header (the dumping machine's local time: pg_dump records no zone), else pg_dump's \"Started on\" line, else a date in the file name, else the file's modification time (UTC)";

export function backupDate(backup: BackupFile): BackupDate {
  const t = backup.archive?.dumpedAt;
  if (t) {
    const p = (n: number) => String(n).padStart(2, '0');
    return { value: `${t.year}-${p(t.month)}-${p(t.day)} ${p(t.hour)}:${p(t.minute)}`, source: 'archive header' };
  }
  if (backup.startedAt) return { value: backup.startedAt, source: 'pg_dump header' };
  // A link without a date (latest.sql.gz) takes the one in the name of the backup it leads to.
  const fromName = dateFromName(backup.path) ?? (backup.target ? dateFromName(backup.target) : undefined);
  if (fromName) return { value: fromName, source: 'file name' };
  // With its time: a bare day would say the whole day's work is in it.
  return { value: backup.modifiedAt.toISOString().slice(0, 16).replace('T', ' '), source: 'file modification time' };
}

/**
 * Whether `a` was made after `b`. Within one day, only times read off the
 * same clock compare: a bare day (a date from a file name) has no time, and a
 * dump's own time is the dumping machine's local time while a modification
 * time is UTC, so a backup of the same day is not called later.
 */
export function isLater(a: BackupDate, b: BackupDate): boolean {
  const dayA = a.value.slice(0, 10);
  const dayB = b.value.slice(0, 10);
  if (dayA !== dayB) return dayA > dayB;
  const utc = (d: BackupDate) => d.source === 'file modification time';
  return a.value.length > 10 && b.value.length > 10 && utc(a) === utc(b) && a.value > b.value;
}

/**
 * A date in the file name (buggy_race_bk_20260315.sql.gz, 2026-03-15.dump).
 * Archives carry their own dump time (see the archive reader).
 */
export function dateFromName(path: string): string | undefined {
  const m = /(?:^|[^0-9])(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?:[^0-9]|$)/.exec(basename(path));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}
