/**
 * The errors a damaged or unreadable archive gives: one line each, what was expected and
 * what was found, never more of the archive's content than a short hex of header bytes.
 */
import type { Stats } from 'node:fs';
import { basename } from 'node:path';
import { RecoverError } from '../errors.js';

export const HINT_TRUNCATED =
  'The backup looks incomplete (cut off while copying or still being written): copy it again from its source and check its size.';
const HINT_CORRUPT =
  'The backup is damaged or is not a pg_dump archive; try another backup, or check it with pg_restore -l.';

export function corrupt(message: string, hint: string = HINT_CORRUPT): RecoverError {
  return new RecoverError('ARCHIVE_CORRUPT', `corrupt archive: ${message}`, { hint });
}

/** A backup that ends inside its data (not its header or TOC). */
export function dataTruncated(path: string, size: number, what: string): RecoverError {
  return new RecoverError('ARCHIVE_TRUNCATED', `${path} is truncated: it ends after ${size} bytes, inside the archive's data (${what})`, {
    hint: HINT_TRUNCATED,
  });
}

/** The first bytes of a buffer as spaced hex, for messages about headers. */
export function hexOf(buf: Buffer, n = 12): string {
  return buf.subarray(0, Math.min(n, buf.length)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

/** An I/O failure on the backup: not there, or not readable. */
export function ioError(e: unknown, path: string): RecoverError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new RecoverError('BACKUP_NOT_FOUND', `expected a backup file or directory at ${path}, found nothing there`, {
      hint: 'Check the path (and that the backup share is mounted).',
      cause: e,
    });
  }
  return new RecoverError('BACKUP_UNREADABLE', `expected to read the backup at ${path}, got ${code ?? 'an I/O error'}`, {
    hint: 'Check that the file is readable by this user (permissions, a mounted share).',
    cause: e,
  });
}

/** What a file-system object is, for saying what stands where a regular file should. */
export function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return st.isFile() ? 'a regular file' : 'something other than a file';
}

/** A directory archive's toc.dat or data file that is not a regular file inside it. */
export function notRegularFile(path: string, dir: string, found: string): RecoverError {
  return corrupt(
    `expected ${basename(path)} in the directory backup ${dir} to be a regular file, found ${found}`,
    'pg_dump writes only regular files into a directory backup, and a link there could lead anywhere: replace it with the file itself (cp --remove-destination), or copy the backup again.',
  );
}
