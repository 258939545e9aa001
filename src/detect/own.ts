/**
 * Files recover-texts itself writes, found in a folder of backups: the upload
 * JSON, the CSV, a folder of files, of every student's texts or of scan's
 * uploads, the HTML report. An admin following the printed steps may well write them beside
 * the backups; they are not backups, and not worth a word each run.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { openFile } from '../archive/index.js';

/** The first bytes of each kind, as recover-texts writes them. */
const UPLOAD_JSON = /^\[\s*(\]\s*$|\{\s*"task_name"\s*:)/;
const CSV_HEADER = 'task_name,username,created_at,modified_at,is_enabled,text\n';
const HTML_REPORT = /^<!DOCTYPE html>[\s\S]*<meta name="generator" content="recover-texts">/;
/** The index a folder of files (export --format files) or of every student (export-all) holds. */
const FOLDER_INDEX = /^\{\s*"backup"\s*:[\s\S]*"backupFormat"\s*:/;
/** The first line of the README.txt that `scan --restore` writes in its folder of uploads (merge/all.ts). */
const RESTORE_README = /^\d+ uploads?, one per student who lost texts, made by recover-texts scan --restore\.\n/;

/** The folders recover-texts writes, as ownOutputKind names them. */
export const OWN_FOLDERS = {
  restore: 'a folder of uploads (scan --restore)',
  texts: 'a folder of texts',
  everyone: "a folder of every student's texts",
} as const;

/** What recover-texts output `path` is (e.g. "an upload JSON"), or null when it is none. */
export async function ownOutputKind(path: string): Promise<string | null> {
  const stat = await fs.stat(path).catch(() => null);
  if (!stat) return null;
  if (stat.isDirectory()) {
    if (RESTORE_README.test((await head(join(path, 'README.txt'))) ?? '')) return OWN_FOLDERS.restore;
    const index = await head(join(path, 'index.json'));
    if (!index || !FOLDER_INDEX.test(index)) return null;
    return (await fs.stat(join(path, 'INDEX.md')).catch(() => null)) ? OWN_FOLDERS.texts : OWN_FOLDERS.everyone;
  }
  const text = await head(path);
  if (text === null) return null;
  if (UPLOAD_JSON.test(text)) return 'an upload JSON';
  if (text.startsWith(CSV_HEADER)) return 'a CSV of texts';
  if (HTML_REPORT.test(text)) return 'an HTML report';
  return null;
}

/**
 * A file's first 2 KiB as text, or null when it cannot be read. Opened as a file inside its
 * folder is: never through a link, never waiting for a fifo's writer (an `index.json` that is a
 * named pipe would block the run forever), never anything but a regular file.
 */
async function head(path: string): Promise<string | null> {
  const file = await openFile(path, dirname(path)).catch(() => null);
  if (!file) return null;
  try {
    const buf = Buffer.alloc(2048);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return null;
  } finally {
    await file.close();
  }
}
