/**
 * The steps that restore the lost texts, as the admin will follow them: go to
 * the folder the backups are in, build the upload with `merge --auto`, then
 * upload it for the student. Paths are given relative to that folder, so the
 * command is short enough to read (history's suggestion once was one long
 * line of absolute paths). The upload is written outside the backups' folder
 * (`out`, chosen by the command so that no file is there yet), so that it is
 * not among the backups the next run reads.
 */
import { basename, dirname, resolve } from 'node:path';
import { isS3Url, isUrl } from '../remote/index.js';
import { shellWord } from '../shell.js';

export interface RestoreSteps {
  /** The folder to run the command in, when every backup is in one; else null (paths as given). */
  folder: string | null;
  /** `recover-texts merge ...`, its paths relative to `folder`. */
  command: string;
  /** The file the command writes. */
  outFile: string;
  /** Where to upload it, and for whom. */
  upload: string;
  /** All three as lines to print. */
  lines: string[];
}

/** The upload's file name for a student, whatever the username holds (a slash, a leading dot). */
export function uploadFileName(username: string): string {
  return `${username.replace(/[^\p{L}\p{N}._-]/gu, '_').replace(/^\.+/, '_')}-upload.json`;
}

/**
 * `backups`: as given on the command line (files or folders); `current`: the
 * newest backup; `options`: more options to pass on (e.g. --since DATE); `out`:
 * where the upload goes (default: the username's file name, in the folder the command runs in).
 */
export function restoreSteps(username: string, current: string, backups: readonly string[], options: readonly string[] = [], out?: string): RestoreSteps {
  // The current backup's folder, when every backup is in it (or is that folder itself); none to cd into when one is remote (s3://, https://).
  const home = dirname(resolve(current));
  const remote = [current, ...backups].some((p) => isUrl(p) || isS3Url(p));
  const folder = !remote && backups.every((b) => resolve(b) === home || dirname(resolve(b)) === home) ? home : null;
  const rel = (p: string) => (folder === null ? p : resolve(p) === folder ? '.' : basename(p));
  // After the cd, a path from here is absolute; else as short as it can be.
  const outFile = out === undefined ? uploadFileName(username) : folder === null && dirname(resolve(out)) === resolve('.') ? basename(out) : resolve(out);
  const command = ['recover-texts merge --user', shellWord(username), '--current', shellWord(rel(current)), '--auto', ...options.map(shellWord), ...backups.map((b) => shellWord(rel(b))), '--out', shellWord(outFile)].join(' ');
  const upload = `upload ${outFile} on the race server's "Upload texts as JSON" admin page for the student ${username}`;
  const lines = [...(folder ? [`1. cd ${shellWord(folder)}`] : []), `${folder ? 2 : 1}. ${command}`, `${folder ? 3 : 2}. ${upload}`];
  return { folder, command, outFile, upload, lines };
}
