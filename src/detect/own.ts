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

type OwnFolder = (typeof OWN_FOLDERS)[keyof typeof OWN_FOLDERS];

/** The file kinds recover-texts writes, as ownOutputKind names them: what --force may replace with a file. */
export const OWN_FILES: readonly string[] = ['an upload JSON', 'a CSV of texts', 'an HTML report'];

/**
 * What `dir`, a folder of the `kind` recover-texts writes, holds that recover-texts did not write
 * there (its index or README does not list it, or it is not what it should be: a link, another
 * kind of file): --force replaces the folder only when there is nothing, so nothing of anyone
 * else's goes with it. An empty folder holds nothing. Null when `dir` is not of that kind.
 */
export async function foreignEntries(dir: string, kind: OwnFolder): Promise<string[] | null> {
  const entries = await fs.readdir(dir);
  if (!entries.length) return [];
  if ((await ownOutputKind(dir)) !== kind) return null;
  // What the folder's own record lists, each with what it must be.
  const listed = new Map<string, 'file' | 'folder of texts'>();
  if (kind === OWN_FOLDERS.restore) {
    listed.set('README.txt', 'file');
    for (const e of entries) if (e.endsWith('.json') && (await ownOutputKind(join(dir, e))) === 'an upload JSON') listed.set(e, 'file');
  } else {
    const index = await wholeJson(join(dir, 'index.json'));
    listed.set('index.json', 'file');
    if (kind === OWN_FOLDERS.texts) {
      listed.set('INDEX.md', 'file');
      for (const t of listOf(index, 'texts')) if (typeof t.file === 'string') listed.set(t.file, 'file');
    } else {
      for (const u of listOf(index, 'users')) {
        if (typeof u.file === 'string') listed.set(u.file, 'file');
        if (typeof u.folder === 'string') listed.set(u.folder, 'folder of texts');
      }
    }
  }
  const foreign: string[] = [];
  for (const e of entries) {
    const st = await fs.lstat(join(dir, e)).catch(() => null);
    const want = listed.get(e);
    if (want === 'file' && st?.isFile()) continue;
    if (want === 'folder of texts' && st?.isDirectory()) {
      // A student's folder (export-all --format files) is a folder of texts, checked the same way.
      const inner = await foreignEntries(join(dir, e), OWN_FOLDERS.texts);
      foreign.push(...(inner === null ? [e] : inner.map((x) => `${e}/${x}`)));
      continue;
    }
    foreign.push(e);
  }
  return foreign;
}

/** `index[key]` as a list of objects, [] when it is none. */
function listOf(index: unknown, key: string): Record<string, unknown>[] {
  const list = (index as Record<string, unknown> | null)?.[key];
  return Array.isArray(list) ? list.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}

/** A folder index read whole (at most 64 MiB), as JSON; null when it cannot be read or parsed. */
async function wholeJson(path: string): Promise<unknown> {
  const file = await openFile(path, dirname(path)).catch(() => null);
  if (!file) return null;
  try {
    const { size } = await file.stat();
    if (size > 64 * 2 ** 20) return null;
    return JSON.parse((await file.readFile()).toString('utf8'));
  } catch {
    return null;
  } finally {
    await file.close();
  }
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
