/**
 * What to tell the admin after an export meant for upload: the race server's
 * upload replaces ALL of the student's current texts with the file's
 * (race-server.md), so a file from an old backup undoes everything written
 * since. When newer backups lie beside it, `history` and `merge` restore only
 * what was lost.
 */
import { basename, dirname } from 'node:path';
import { isS3Url, s3Folder } from '../remote/index.js';
import { shellWord } from '../shell.js';

export interface ExportAdvice {
  username: string;
  texts: number;
  /** The backup's date (YYYY-MM-DD, or with a time). */
  backupDate: string;
  backupPath: string;
  /** Backups beside it that are newer, oldest first. */
  newer: readonly { path: string; date: { value: string } }[];
  /** Options the suggested history command needs to read them (an S3-compatible store's --endpoint-url). */
  options?: readonly string[];
}

export function uploadAdvice(a: ExportAdvice): string[] {
  const lines = [
    `uploading this on the race server's "Upload texts as JSON" page REPLACES ALL of ${a.username}'s current texts with these ${a.texts}: whatever ${a.username} wrote after ${a.backupDate} is deleted`,
  ];
  if (a.newer.length) {
    const newest = a.newer.at(-1)!;
    const dir = isS3Url(a.backupPath) ? s3Folder(a.backupPath) : dirname(a.backupPath);
    const history = ['recover-texts', 'history', '--user', a.username, dir, ...(a.options ?? [])].map(shellWord).join(' ');
    lines.push(
      `${a.newer.length} newer backup${a.newer.length === 1 ? ' is' : 's are'} beside it (the newest ${basename(newest.path)}, ${newest.date.value}); ` +
        `to restore only what was lost and keep later edits: ${history}, then recover-texts merge`,
    );
  }
  return lines;
}
