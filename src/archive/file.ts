/**
 * Reading the backup file: positioned reads, and one open handle per job that is always
 * closed. Every I/O failure becomes a RecoverError.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { RecoverError } from '../errors.js';
import type { ByteSource } from './bytes.js';
import { NeedMoreBytes, type CursorLimits } from './cursor.js';
import { ioError, kindOf, notRegularFile } from './damage.js';
import { parseCore, tocTruncated } from './toc.js';
import type { ArchiveFormat, ArchiveInfo } from './types.js';

/** First read of the header and TOC; doubled (or grown to what is needed) on truncation. */
const INITIAL_READ = 64 * 1024;

/** A file inside a directory archive is opened without following a symlink, and without waiting for a fifo's writer. */
const INSIDE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Open a backup file for reading. One the admin named may be a symlink (their choice); one
 * `inside` a directory archive (toc.dat, a data file) must be a regular file there: a symlink,
 * even to a file in the same folder, a fifo or a directory in its place is refused, checked on
 * the opened descriptor itself (fstat), so nothing can be swapped in between.
 */
export async function openFile(path: string, inside?: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, inside === undefined ? 'r' : INSIDE_FLAGS);
  } catch (e) {
    if (inside !== undefined && (e as NodeJS.ErrnoException).code === 'ELOOP') throw notRegularFile(path, inside, 'a symbolic link');
    throw ioError(e, path);
  }
  if (inside === undefined) return fh;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegularFile(path, inside, kindOf(st));
    return fh;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e instanceof RecoverError ? e : ioError(e, path);
  }
}

/**
 * Open the file (see openFile), yield what fn yields with its handle and size, and close it
 * whatever happens, also when the consumer stops early; an I/O failure becomes a RecoverError.
 */
export async function* withFileStream<T>(path: string, fn: (fh: FileHandle, size: number) => AsyncGenerator<T>, inside?: string): AsyncGenerator<T> {
  const fh = await openFile(path, inside);
  try {
    yield* fn(fh, (await fh.stat()).size);
  } catch (e) {
    if (e instanceof RecoverError) throw e;
    throw ioError(e, path);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** withFileStream for one result: fn's value, the file closed before it is returned. */
export async function withFile<T>(path: string, fn: (fh: FileHandle, size: number) => Promise<T>, inside?: string): Promise<T> {
  const one = withFileStream(path, async function* (fh, size) {
    yield await fn(fh, size);
  }, inside);
  const { value } = await one.next();
  await one.return(undefined);
  return value as T;
}

/**
 * Parse the header+TOC stream that starts at byte `start` of the backup's bytes and is `size`
 * bytes long (as far as is known; unknown for a stream), reading 64 KiB first and more only
 * while the parser needs it. The info's tocEnd is counted from `start`.
 */
export async function parseFromBytes(
  src: ByteSource,
  start: number,
  size: number | undefined,
  format: ArchiveFormat,
  where: string,
): Promise<ArchiveInfo> {
  let max = size ?? Infinity;
  let buf = await src.read(start, Math.min(INITIAL_READ, max));
  if (buf.length < Math.min(INITIAL_READ, max)) max = buf.length;
  const limits: CursorLimits = size === undefined ? {} : { totalSize: size };
  for (;;) {
    const atEnd = buf.length >= max;
    try {
      return parseCore(buf, format, limits);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      if (atEnd || e.needed > max) throw tocTruncated(e, Math.min(buf.length, max), where);
      const want = Math.min(max, Math.max(buf.length * 2, e.needed + INITIAL_READ));
      const more = await src.read(start + buf.length, want - buf.length);
      if (more.length === 0) throw tocTruncated(e, buf.length, where);
      buf = Buffer.concat([buf, more]);
      if (buf.length < want) max = buf.length; // the backup ended early (e.g. a cut tar)
    }
  }
}
