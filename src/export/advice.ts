/**
 * What to tell the admin after an export meant for upload: the race server's
 * upload replaces ALL of the student's current texts with the file's
 * (race-server.md), so a file from an old backup undoes everything written
 * since. When newer backups lie beside it, `history` and `merge` restore only
 * what was lost.
 */
import { basename, dirname } from 'node:path';
import { shellWord } from '../shell.js';

export interface ExportAdvice {
  username: string;
  texts: number;
  /** The backup's date (YYYY-MM-DD, or with a time). */
  backupDate: string;
  backupPath: string;
  /** Backups beside it that are newer, oldest first. */
  newer: readonly { path: string; date: { value: string } }[];
}

export function uploadAdvice(a: ExportAdvice): string[] {
  const lines = [
    `uploading this on the race server's "Upload texts as JSON" page REPLACES ALL of ${a.username}'s current texts with these ${a.texts}: whatever ${a.username} wrote after ${a.backupDate} is deleted`,
  ];
  if (a.newer.length) {
    const newest = a.newer.at(-1)!;
    const dir = dirname(a.backupPath);
    lines.push(
      `${a.newer.length} newer backup${a.newer.length === 1 ? ' is' : 's are'} beside it (the newest ${basename(newest.path)}, ${newest.date.value}); ` +
        `to restore only what was lost and keep later edits: recover-texts history --user ${shellWord(a.username)} ${shellWord(dir)}, then recover-texts merge`,
    );
  }
  return lines;
}
