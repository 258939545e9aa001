/**
 * One backup found more than once: a folder where the same night is kept in
 * several formats (.dump beside .sql.gz beside .tar) would show each night
 * twice or more. Copies are recognised by what the dumps say of themselves,
 * never by their names: the same dump time (an archive's header, pg_dump's
 * "Started on" line), to the minute. One is read, the rest set aside. A plain
 * dump without a "Started on" line (pg_dump without --verbose) carries no time
 * of its own, so it is never taken for a copy: two nights' dumps can share a
 * file-name day, and even a fixed `\restrict` key.
 */
import { basename } from 'node:path';
import type { BackupDate } from './date.js';
import type { BackupFile } from './detect.js';

interface Candidate {
  path: string;
  backup: BackupFile;
  date: BackupDate;
  named: boolean;
}

export interface BackupCopies {
  /** What makes them copies, e.g. "dumped 2026-03-12 23:30". */
  same: string;
  used: string;
  setAside: string[];
  /** Why `used` was the one read. */
  why: string;
}

/**
 * Which copy is read: one named on the command line first, then the format
 * that is quickest to read (an archive with data offsets reads only the wanted
 * tables; a tar is read through once; plain SQL is filtered line by line, and
 * gzip must be inflated too), then the first path.
 */
const FORMAT_ORDER: Record<BackupFile['format'], number> = { custom: 0, directory: 1, tar: 2, plain: 3, gzip: 4 };
const FORMAT_WHY: Record<BackupFile['format'], string> = {
  custom: 'a custom archive: only the tables needed are read',
  directory: 'a directory archive: only the tables needed are read',
  tar: 'a tar archive: quicker to read than SQL',
  plain: 'plain SQL: no gzip to inflate',
  gzip: 'the first by name',
};

/** The backups less the copies set aside, and each group of copies. */
export function setCopiesAside<T extends Candidate>(all: readonly T[]): { kept: T[]; copies: BackupCopies[] } {
  const groups = new Map<string, T[]>();
  const kept: T[] = [];
  for (const b of all) {
    const key = copyKey(b);
    if (key === null) kept.push(b);
    else groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  const copies: BackupCopies[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => Number(b.named) - Number(a.named) || FORMAT_ORDER[a.backup.format] - FORMAT_ORDER[b.backup.format] || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const [used, ...others] = group as [T, ...T[]];
    kept.push(used);
    // Two databases dumped in the same minute are not copies, when both say which they are.
    const rest = others.filter((r) => !database(r) || !database(used) || database(r) === database(used));
    kept.push(...others.filter((r) => !rest.includes(r)));
    if (!rest.length) continue;
    const sameFormat = rest.every((r) => r.backup.format === used.backup.format);
    copies.push({
      same: `dumped ${used.date.value}`,
      used: used.path,
      setAside: rest.map((r) => r.path),
      why: used.named ? 'named on the command line' : sameFormat ? 'the first by name' : FORMAT_WHY[used.backup.format],
    });
  }
  return { kept, copies };
}

/** What two copies of one backup share, or null when nothing shows it has copies. */
function copyKey(b: Candidate): string | null {
  return b.date.source === 'archive header' || b.date.source === 'pg_dump header' ? b.date.value : null;
}

function database(b: Candidate): string | undefined {
  return b.backup.archive?.database ?? b.backup.database;
}

/** One line for the admin: which file of a night was read, and which were set aside. */
export function copiesNote(c: BackupCopies): string {
  return `copies of one backup (${c.same}): read ${basename(c.used)} (${c.why}); set aside ${c.setAside.map((p) => basename(p)).join(', ')}`;
}
